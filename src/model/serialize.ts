import type { JsonObject, JsonValue } from "./wire.js";

/** Objects nested deeper than this become "[MaxDepth]"; the root object is at depth 0. */
const MAX_DEPTH = 64;

/** Returned by `callToJSON` when there is no usable `toJSON` result, so the object is walked instead. */
const NO_RESULT: unique symbol = Symbol("NO_RESULT");

const objectToString = Object.prototype.toString;

/**
 * Deep, JSON-safe snapshot of any value: `JSON.stringify` of the result never throws, and later
 * mutation of `value` does not change it. Never throws, whatever `value` is (including hostile
 * Proxies and throwing getters), because it runs on every traced call with user data.
 */
export function toJsonSafe(value: unknown): JsonValue {
  return typeof value === "object" && value !== null ? convertObject(value, [], true) : convertPrimitive(value);
}

/**
 * Cuts `s` to at most `max` UTF-16 code units, ending in a marker that says how much was cut.
 * Never splits a surrogate pair. When `max` is too small for the marker, the marker is dropped.
 */
export function truncateString(s: string, max: number): string {
  if (s.length <= max) return s;
  if (!(max > 0)) return "";
  max = Math.floor(max);
  // The digit count of s.length bounds that of the cut count, so the result never exceeds max.
  const markerLength = "…[truncated  chars]".length + String(s.length).length;
  if (markerLength > max) return s.slice(0, keepWholePairs(s, max));
  const keep = keepWholePairs(s, max - markerLength);
  return `${s.slice(0, keep)}…[truncated ${s.length - keep} chars]`;
}

/** UTF-8 byte length of `s`, as `TextEncoder` would encode it (lone surrogates count as U+FFFD). */
export function jsonByteLength(json: string): number {
  let bytes = 0;
  const n = json.length;
  for (let i = 0; i < n; i++) {
    const c = json.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if ((c & 0xfc00) === 0xd800 && i + 1 < n && (json.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/** Largest prefix length <= `end` that does not end between the halves of a surrogate pair. */
function keepWholePairs(s: string, end: number): number {
  return end > 0 && (s.charCodeAt(end - 1) & 0xfc00) === 0xd800 ? end - 1 : end;
}

/** Non-objects, in a position where JSON would write null (top level, array element). */
function convertPrimitive(value: unknown): JsonValue {
  switch (typeof value) {
    case "string":
    case "boolean":
      return value;
    case "number":
      return Number.isFinite(value) ? value : null;
    case "bigint":
      return value.toString();
    case "symbol":
      return value.toString();
    case "function":
      return describeFunction(value);
    default:
      return null;
  }
}

function convertValue(value: unknown, stack: object[]): JsonValue {
  return typeof value === "object" && value !== null ? convertObject(value, stack, true) : convertPrimitive(value);
}

/**
 * `stack` holds the ancestors of `obj`: only they make a reference circular, so an object shared
 * by siblings is copied each time. Searching a stack of at most MAX_DEPTH entries is cheaper than
 * allocating a WeakSet per call.
 */
function convertObject(obj: object, stack: object[], useToJSON: boolean): JsonValue {
  if (stack.includes(obj)) return "[Circular]";
  if (stack.length >= MAX_DEPTH) return "[MaxDepth]";
  stack.push(obj);
  try {
    if (Array.isArray(obj)) return convertArray(obj, stack);
    const proto: unknown = Object.getPrototypeOf(obj);
    if (proto !== Object.prototype && proto !== null) {
      const builtin = convertBuiltin(obj, stack);
      if (builtin !== NO_RESULT) return builtin;
    }
    if (useToJSON) {
      const result = callToJSON(obj);
      if (result !== NO_RESULT) {
        // The result is converted without calling its own toJSON, so toJSON chains cannot loop.
        return typeof result === "object" && result !== null
          ? convertObject(result, stack, false)
          : convertPrimitive(result);
      }
    }
    if (obj instanceof Error || objectToString.call(obj) === "[object Error]") return convertError(obj as Error, stack);
    return convertProperties(obj, stack, {});
  } catch (error) {
    // Proxies whose traps throw, revoked Proxies, throwing iterators: the object becomes a message.
    return describeThrown(error);
  } finally {
    stack.pop();
  }
}

function convertArray(array: readonly unknown[], stack: object[]): JsonValue[] {
  const n = array.length;
  const out = new Array<JsonValue>(n);
  for (let i = 0; i < n; i++) out[i] = convertValue(array[i], stack);
  return out;
}

/** Engine types whose data is not in their own enumerable properties. */
function convertBuiltin(obj: object, stack: object[]): JsonValue | typeof NO_RESULT {
  if (obj instanceof Date) return Number.isNaN(obj.getTime()) ? null : obj.toISOString();
  if (obj instanceof Map) return convertMap(obj, stack);
  if (obj instanceof Set) {
    const out: JsonValue[] = [];
    for (const item of obj) out.push(convertValue(item, stack));
    return out;
  }
  if (ArrayBuffer.isView(obj)) {
    if (obj instanceof DataView) return `[DataView ${obj.byteLength} bytes]`;
    return convertTypedArray(obj as unknown as ArrayLike<number | bigint>);
  }
  if (obj instanceof ArrayBuffer) return `[ArrayBuffer ${obj.byteLength} bytes]`;
  if (typeof SharedArrayBuffer === "function" && obj instanceof SharedArrayBuffer) {
    return `[SharedArrayBuffer ${obj.byteLength} bytes]`;
  }
  if (obj instanceof RegExp) return String(obj);
  if (typeof URL === "function" && obj instanceof URL) return obj.href;
  if (typeof URLSearchParams === "function" && obj instanceof URLSearchParams) return obj.toString();
  if (obj instanceof Promise) return "[Promise]";
  if (obj instanceof WeakMap) return "[WeakMap]";
  if (obj instanceof WeakSet) return "[WeakSet]";
  // Boxed primitives, unwrapped as JSON.stringify does.
  if (obj instanceof Number || obj instanceof String || obj instanceof Boolean) return convertPrimitive(obj.valueOf());
  return NO_RESULT;
}

/** Object keys cannot be written as JSON object keys faithfully, so such maps become entry pairs. */
function convertMap(map: Map<unknown, unknown>, stack: object[]): JsonValue {
  let objectKeys = false;
  for (const key of map.keys()) {
    if ((typeof key === "object" && key !== null) || typeof key === "function") {
      objectKeys = true;
      break;
    }
  }
  if (objectKeys) {
    const pairs: JsonValue[] = [];
    for (const [key, value] of map) pairs.push([convertValue(key, stack), convertValue(value, stack)]);
    return pairs;
  }
  const out: JsonObject = {};
  for (const [key, value] of map) setProperty(out, String(key), convertValue(value, stack));
  return out;
}

function convertTypedArray(view: ArrayLike<number | bigint>): JsonValue[] {
  const n = view.length;
  const out = new Array<JsonValue>(n);
  for (let i = 0; i < n; i++) {
    const item = view[i]!;
    out[i] = typeof item === "bigint" ? item.toString() : Number.isFinite(item) ? item : null;
  }
  return out;
}

function convertError(error: Error, stack: object[]): JsonObject {
  const out: JsonObject = {
    name: readString(error, "name"),
    message: readString(error, "message"),
  };
  const errorStack = readProperty(error, "stack");
  if (typeof errorStack === "string") out.stack = errorStack;
  // `cause` is usually own but non-enumerable, so the property walk below would miss it.
  const cause = readProperty(error, "cause");
  if (cause !== undefined) out.cause = convertValue(cause, stack);
  return convertProperties(error, stack, out);
}

/** Own enumerable string keys; undefined, functions and symbols are omitted, as JSON does. */
function convertProperties(obj: object, stack: object[], out: JsonObject): JsonObject {
  const keys = Object.keys(obj);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    let value: unknown;
    try {
      value = (obj as Record<string, unknown>)[key];
    } catch (error) {
      setProperty(out, key, describeThrown(error));
      continue;
    }
    const type = typeof value;
    if (type === "undefined" || type === "function" || type === "symbol") continue;
    setProperty(out, key, convertValue(value, stack));
  }
  return out;
}

/** Assigning "__proto__" would replace the copy's prototype instead of adding a key. */
function setProperty(out: JsonObject, key: string, value: JsonValue): void {
  if (key === "__proto__") Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  else out[key] = value;
}

function callToJSON(obj: object): unknown {
  try {
    const toJSON = (obj as { toJSON?: unknown }).toJSON;
    if (typeof toJSON !== "function") return NO_RESULT;
    const result: unknown = toJSON.call(obj, "");
    // `toJSON() { return this }` would otherwise be reported as circular.
    return result === obj ? NO_RESULT : result;
  } catch {
    return NO_RESULT;
  }
}

function readProperty(obj: object, key: string): unknown {
  try {
    return (obj as Record<string, unknown>)[key];
  } catch (error) {
    return describeThrown(error);
  }
}

function readString(obj: object, key: string): string {
  const value = readProperty(obj, key);
  if (typeof value === "string") return value;
  try {
    return String(value);
  } catch (error) {
    return describeThrown(error);
  }
}

function describeFunction(fn: unknown): string {
  try {
    const name = (fn as { name?: unknown }).name;
    return `[Function ${typeof name === "string" && name !== "" ? name : "anonymous"}]`;
  } catch {
    return "[Function anonymous]";
  }
}

function describeThrown(error: unknown): string {
  try {
    const message =
      typeof error === "object" && error !== null && typeof (error as { message?: unknown }).message === "string"
        ? (error as { message: string }).message
        : String(error);
    return `[Thrown: ${message}]`;
  } catch {
    return "[Thrown]";
  }
}

/** A recorded value: absent stays absent (the wire omits it rather than sending null). */
export function snapshot(value: unknown): JsonValue | undefined {
  return value === undefined || value === null ? undefined : toJsonSafe(value);
}
