import { cut } from "./limits.js";
import type { JsonObject, JsonValue } from "./types.js";

const tagOf = Object.prototype.toString;

/**
 * Deep, JSON-safe snapshot of any value: `JSON.stringify` of the result never throws, and later
 * mutation of `value` does not change it. Never throws, whatever `value` is (including hostile
 * Proxies and throwing getters), because it runs on every traced call with user data.
 */
export const toJsonSafe = (value: unknown): JsonValue => walk(value, [], 0);

/** A recorded value: absent stays absent (the wire omits it rather than sending null). */
export const snapshot = (value: unknown): JsonValue | undefined => (value == null ? undefined : toJsonSafe(value));

/**
 * A snapshot that is a JSON object, else undefined: where the wire wants an object, an array or a
 * string from toJSON must not be spread into keys, and a throwing getter must not reach the host.
 */
export function jsonObject(value: unknown): JsonObject | undefined {
  const safe = snapshot(value);
  return typeof safe === "object" && safe !== null && !Array.isArray(safe) ? safe : undefined;
}

/**
 * Whatever throws while converting a value (a Proxy trap, a toJSON, an iterator) turns only that
 * value into "[Thrown: message]". `stack[0..depth-1]` holds the ancestors: only they make a
 * reference circular, so an object shared by siblings is copied each time; entries are
 * overwritten rather than popped.
 */
function walk(value: any, stack: object[], depth: number, skipToJSON?: boolean): JsonValue {
  try {
    const type = typeof value;
    if (type == "string" || type == "boolean" || value === null) return value;
    if (type == "number") return isFinite(value) ? value : null;
    if (type == "function") return `[Function ${value.name || "anonymous"}]`;
    if (type != "object") return value === undefined ? null : String(value);
    for (let i = 0; i < depth; i++) if (stack[i] === value) return "[Circular]";
    if (depth > 63) return "[MaxDepth]";
    stack[depth++] = value;
    if (Array.isArray(value)) return list(value, stack, depth);
    // What Date's toJSON does, at half its cost.
    if (value instanceof Date) return isNaN(value as any) ? null : value.toISOString();
    // URLs, Buffers and class instances may write themselves. The result's own toJSON is not
    // called, so toJSON chains cannot loop.
    if (!skipToJSON && typeof value.toJSON == "function") {
      const result = value.toJSON();
      if (result !== value) return walk(result, stack, depth, true);
    }
    const tag: string = tagOf.call(value);
    if (tag == "[object Object]") return props(value, stack, depth);
    if (tag == "[object Error]" || value instanceof Error) {
      // name, message, stack, cause and an AggregateError's errors are not own enumerable properties, so they are named.
      return props({ name: value.name, message: value.message, stack: value.stack, cause: value.cause, errors: value.errors, ...value }, stack, depth);
    }
    if (tag == "[object Set]") return list([...value], stack, depth);
    if (tag == "[object Map]") {
      const pairs = [...value].map((pair) => list(pair, stack, depth));
      // An object key cannot be a JSON object key faithfully, so such maps stay pairs.
      return pairs.some(([k]) => Object(k) === k) ? pairs : Object.fromEntries(pairs);
    }
    if (/Array]|Arg/.test(tag)) return list(value, stack, depth);
    // Other engine objects keep their data in internal slots: their string form when it says more
    // than the type (RegExp, URLSearchParams, boxed primitives), else their own data, else their type.
    const text = String(value);
    return text != tag ? text : Object.keys(value).length ? props(value, stack, depth) : `[${tag.slice(8, -1)}]`;
  } catch (error) {
    return thrown(error);
  }
}

function thrown(error: any): string {
  try {
    return `[Thrown: ${error?.message ?? error}]`;
  } catch {
    return "[Thrown]";
  }
}

/** Arrays, typed arrays, arguments: their items, holes and undefined written as null. */
function list(items: ArrayLike<unknown>, stack: object[], depth: number): JsonValue[] {
  const n = items.length;
  const out: JsonValue[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = walk(items[i], stack, depth);
  return out;
}

/** Own enumerable string keys; undefined, functions and symbols are left out, as JSON does. */
function props(obj: any, stack: object[], depth: number): JsonObject {
  let out: JsonObject = {};
  for (const key of Object.keys(obj)) {
    let value;
    try {
      value = obj[key];
    } catch (error) {
      value = thrown(error);
    }
    const type = typeof value;
    if (type == "undefined" || type == "function" || type == "symbol") continue;
    value = walk(value, stack, depth);
    // Assigning "__proto__" would replace the copy's prototype; a computed key in a literal defines it.
    if (key == "__proto__") out = { ...out, [key]: value };
    else out[key] = value;
  }
  return out;
}

/**
 * Cuts `s` to at most `max` UTF-16 code units (a non-negative integer), ending in a marker that
 * says how much was cut. Never splits a surrogate pair. When `max` is too small for the marker,
 * the marker is dropped.
 */
export function truncateString(s: string, max: number): string {
  // The digit count of s.length bounds that of the cut count, so the result never exceeds max.
  const room = max - 19 - String(s.length).length;
  if (s.length <= max || room < 0) return cut(s, max);
  const head = cut(s, room);
  return `${head}…[truncated ${s.length - head.length} chars]`;
}

/** UTF-8 byte length of `s`, as `TextEncoder` would encode it (lone surrogates count as U+FFFD). */
export const jsonByteLength = (json: string): number => new TextEncoder().encode(json).length;
