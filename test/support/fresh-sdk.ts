/**
 * What `vi.resetModules()` cannot reset: the SDK keeps its global client, carrier of scopes and
 * error handlers on `globalThis`, shared by every copy of it in the realm. A test that re-imports
 * the SDK as a fresh page or process would load it forgets them first.
 */
export function forgetSdkGlobals(): void {
  const realm = globalThis as Record<symbol, unknown>;
  for (const key of Object.getOwnPropertySymbols(realm)) {
    if (Symbol.keyFor(key)?.startsWith("pandaprobe.")) delete realm[key];
  }
}
