/**
 * Per-realm state, one per realm however many copies of the SDK are loaded: an app that both
 * imports (ESM) and requires (CommonJS) pandaprobe, or bundles both builds, still has one global
 * client and one carrier of scopes, as OpenTelemetry's API keeps its globals on `globalThis`.
 * Each layer owns its slot and its type; the name carries a version, so a change of shape takes a
 * new name instead of meeting an older copy's object.
 */
export function realmSlot<T extends object>(name: string, create: () => T): T {
  const key = Symbol.for(`pandaprobe.${name}`);
  return ((globalThis as { [key: symbol]: T })[key] ??= create());
}
