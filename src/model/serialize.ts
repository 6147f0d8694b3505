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
  return convertValue(value, []);
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
      // The result is converted without calling its own toJSON, so toJSON chains cannot loop.
      if (result !== NO_RESULT) return isObject(result) ? convertObject(result, stack, false) : convertPrimitive(result);
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

const isObject = (value: unknown): value is object => typeof value === "object" && value !== null;

/** Arrays, and typed arrays: their numbers and bigints convert as primitives do. */
function convertArray(array: ArrayLike<unknown>, stack: object[]): JsonValue[] {
  const n = array.length;
  const out = new Array<JsonValue>(n);
  for (let i = 0; i < n; i++) out[i] = convertValue(array[i], stack);
  return out;
}

type Constructor = abstract new (...args: never[]) => object;
/** Written as a size: their bytes say nothing a trace reader needs. */
const BINARY: (Constructor | undefined)[] = [DataView, ArrayBuffer, globalThis.SharedArrayBuffer];
/** Written as their string form. */
const STRINGIFIED: (Constructor | undefined)[] = [RegExp, globalThis.URL, globalThis.URLSearchParams];
/** Written as their type: their contents cannot be read. */
const OPAQUE: Constructor[] = [Promise, WeakMap, WeakSet];
/** Boxed primitives, unwrapped as JSON.stringify does. */
const BOXED: Constructor[] = [Number, String, Boolean];

/** A loop, not Array#find: this runs for every class instance a trace records. */
function find(obj: object, types: (Constructor | undefined)[]): Constructor | undefined {
  for (const type of types) if (type && obj instanceof type) return type;
  return undefined;
}

/** Engine types whose data is not in their own enumerable properties. */
function convertBuiltin(obj: object, stack: object[]): JsonValue | typeof NO_RESULT {
  if (obj instanceof Date) return Number.isNaN(obj.getTime()) ? null : obj.toISOString();
  if (obj instanceof Map) return convertMap(obj, stack);
  if (obj instanceof Set) return convertArray([...obj], stack);
  let type = find(obj, BINARY);
  if (type) return `[${type.name} ${(obj as ArrayBuffer).byteLength} bytes]`;
  if (ArrayBuffer.isView(obj)) return convertArray(obj as unknown as ArrayLike<unknown>, stack);
  if (find(obj, STRINGIFIED)) return String(obj);
  if ((type = find(obj, OPAQUE))) return `[${type.name}]`;
  if (find(obj, BOXED)) return convertPrimitive(obj.valueOf());
  return NO_RESULT;
}

/** Object keys cannot be written as JSON object keys faithfully, so such maps become entry pairs. */
function convertMap(map: Map<unknown, unknown>, stack: object[]): JsonValue {
  const entries = [...map];
  if (entries.some(([key]) => isObject(key) || typeof key === "function")) {
    return entries.map(([key, value]) => [convertValue(key, stack), convertValue(value, stack)]);
  }
  const out: JsonObject = {};
  for (const [key, value] of entries) setProperty(out, String(key), convertValue(value, stack));
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
    const message = isObject(error) && typeof (error as Error).message === "string" ? (error as Error).message : String(error);
    return `[Thrown: ${message}]`;
  } catch {
    return "[Thrown]";
  }
}

/** A recorded value: absent stays absent (the wire omits it rather than sending null). */
export function snapshot(value: unknown): JsonValue | undefined {
  return value === undefined || value === null ? undefined : toJsonSafe(value);
}
