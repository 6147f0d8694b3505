/**
 * The masking corpus: a secret in every shape a recorded value takes (a plain string, nested in
 * objects and arrays, inside a longer text, as an object key's value named like a credential),
 * and a mask that redacts it wherever it is.
 */
import { expect } from "vitest";
import type { JsonValue, MaskField } from "../../src/index.js";

export const SECRET = "sk-live-7Hq2xSECRET";
export const REDACTED = "[REDACTED]";

export const corpus = () => ({
  note: `my key is ${SECRET}`,
  password: SECRET,
  nested: [{ token: `Bearer ${SECRET}` }, [SECRET]],
});

export const redact = (value: JsonValue): JsonValue => {
  if (typeof value === "string") return value.replaceAll(SECRET, REDACTED);
  if (Array.isArray(value)) return value.map(redact);
  if (value !== null && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redact(v)]));
  return value;
};

/** A mask that redacts the secret and notes which fields it saw. */
export function redactingMask() {
  const seen = new Set<MaskField>();
  const mask = (value: JsonValue, field: MaskField) => {
    seen.add(field);
    return redact(value);
  };
  return { mask, seen };
}

/** No body carries the secret, and the bodies did carry values (redacted ones). */
export function expectRedacted(bodies: string[]): void {
  expect(bodies.length).toBeGreaterThan(0);
  for (const body of bodies) expect(body).not.toContain(SECRET);
  expect(bodies.join("\n")).toContain(REDACTED);
}
