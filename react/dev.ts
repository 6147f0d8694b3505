let warned = false;

/** Bundlers replace `process.env.NODE_ENV`; where nothing did and there is no `process`, it is production. */
function isDev(): boolean {
  try {
    return process.env.NODE_ENV !== "production";
  } catch {
    return false;
  }
}

/** Hooks work without a provider; in development they say once what that costs. */
export function warnWithoutProvider(hook: string): void {
  if (warned || !isDev()) return;
  warned = true;
  console.warn(
    `[pandaprobe] ${hook}() is used outside <PandaProbeProvider>: it traces with the global client ` +
      "(init(); none in a browser until it is called) and without session or user ids from the tree.",
  );
}

function describeValue(value: unknown): string {
  if (value === null) return "null";
  const type = typeof value;
  return `${/^[aeiou]/.test(type) ? "an" : "a"} ${type}`;
}

/**
 * An id given to the tree: a string, or undefined to inherit. Anything else (a numeric database
 * id) is a TypeError in development where it is written, and passed over in production, as the
 * core passes over a non-string id, so the outer id still applies.
 */
export function treeId(id: unknown, what: string): string | undefined {
  if (id === undefined || typeof id === "string") return id;
  if (isDev()) throw new TypeError(`PandaProbe: ${what} must be a string, got ${describeValue(id)}.`);
  return undefined;
}
