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

/** A developer's id that is no UUID would have the backend reject the whole request. */
export function assertUuid(value: unknown, what: string): asserts value is string {
  assertString(value, what);
  if (!UUID_PATTERN.test(value)) throw new TypeError(`PandaProbe: ${what} must be a UUID, got ${describeValue(value)}.`);
}
