/**
 * Checks at the API boundary. A developer's mistake (a number where an id goes, a typo'd kind)
 * is a TypeError right where it was made; data, however odd, is never rejected.
 */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "string" ? `the string ${JSON.stringify(value)}` : `a ${typeof value}`;
}

export function assertString(value: unknown, what: string): asserts value is string {
  if (typeof value !== "string") {
    throw new TypeError(`PandaProbe: ${what} must be a string, got ${describeValue(value)}.`);
  }
}

export function assertOptionalString(value: unknown, what: string): asserts value is string | undefined {
  if (value !== undefined) assertString(value, what);
}

/** Explicit session and user ids, checked where a developer passes them. */
export function assertIds(ids: { sessionId?: unknown; userId?: unknown } | undefined): void {
  assertOptionalString(ids?.sessionId, "sessionId");
  assertOptionalString(ids?.userId, "userId");
}

export function assertTags(tags: unknown): asserts tags is string[] {
  if (!Array.isArray(tags)) throw new TypeError("PandaProbe: tags must be an array of strings.");
  for (const tag of tags) assertString(tag, "a tag");
}

export function assertFunction(value: unknown, what: string): asserts value is (...args: never[]) => unknown {
  if (typeof value !== "function") {
    throw new TypeError(`PandaProbe: ${what} must be a function, got ${describeValue(value)}.`);
  }
}

export function assertPlainObject(value: unknown, what: string): asserts value is Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new TypeError(`PandaProbe: ${what} must be an object, got ${describeValue(value)}.`);
  }
}

export function assertOneOf<T extends string>(value: unknown, allowed: Record<string, T>, what: string): asserts value is T {
  if (typeof value !== "string" || !Object.prototype.hasOwnProperty.call(allowed, value)) {
    throw new TypeError(
      `PandaProbe: ${what} must be one of ${Object.values(allowed).join(", ")}, got ${describeValue(value)}.`,
    );
  }
}

/** Checks an options object's keys against the ones a function takes, so a typo is not silently ignored. */
export function assertKnownKeys(value: object | undefined, known: readonly string[], what: string): void {
  if (value === undefined) return;
  assertPlainObject(value, what);
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      throw new TypeError(`PandaProbe: unknown ${what} key "${key}"; expected one of ${known.join(", ")}.`);
    }
  }
}
