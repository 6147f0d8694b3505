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
