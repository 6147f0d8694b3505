import { assertString, describeValue } from "../base/guards.js";

/** Ids on the wire (trace, span) are UUIDs; the backend refuses a request with any other. */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const isUuid = (value: unknown): value is string => typeof value === "string" && UUID_PATTERN.test(value);

/**
 * A v4 UUID. `crypto.randomUUID` exists only in secure contexts: a page served over plain http
 * (a LAN dev server) has just `getRandomValues`, and tracing must not throw there.
 */
export function uuid(): string {
  return (
    crypto.randomUUID?.() ??
    "10000000-1000-4000-8000-100000000000".replace(/[018]/g, (c) =>
      (+c ^ (crypto.getRandomValues(new Uint8Array(1))[0]! & (15 >> (+c / 4)))).toString(16),
    )
  );
}

const HEX = "0123456789abcdef";
const TWO_32 = 4294967296;

/**
 * A trace id as a number in [0, 1): its last 8 hex digits, which are random in a v4 UUID and a W3C
 * trace id alike, and the same in both forms (a UUID and the 32 digits of a traceparent), in any
 * case. Sampling decides from it, so every tier and every upsert of one trace agree. A trace that
 * starts here decides before it has an id, from the draw its id will end in (`uuidWithDraw`).
 */
export function idFraction(id: string): number {
  const n = parseInt(id.slice(-8), 16);
  return Number.isNaN(n) ? 0 : n / TWO_32;
}

/** A random draw for a trace not built yet: a 32-bit number whose fraction decides its sampling. */
export const drawForId = (): number => (Math.random() * TWO_32) >>> 0;

export const drawFraction = (draw: number): number => draw / TWO_32;

/** A v4 UUID whose last 8 hex digits are draw: `idFraction` reads back the fraction its trace was sampled by. */
export function uuidWithDraw(draw: number): string {
  let tail = "";
  for (let shift = 28; shift >= 0; shift -= 4) tail += HEX[(draw >>> shift) & 15];
  return uuid().slice(0, 28) + tail;
}

/** A developer's id that is no UUID would have the backend reject the whole request. */
export function assertUuid(value: unknown, what: string): asserts value is string {
  assertString(value, what);
  if (!UUID_PATTERN.test(value)) throw new TypeError(`PandaProbe: ${what} must be a UUID, got ${describeValue(value)}.`);
}
