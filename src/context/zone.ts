import type { ContextManager } from "./context-manager.js";

/** The slice of zone.js this carrier uses; zone.js stays an optional peer, never imported. */
interface ZoneLike {
  get(key: string): unknown;
  fork(spec: { name: string; properties: Record<string, unknown> }): { run<T>(fn: () => T): T };
}
interface ZoneStatic {
  readonly current: ZoneLike;
}

const KEY = "pandaprobe.context";

/**
 * Browser carrier when the app loads zone.js: the value rides on forked zones through timers,
 * promise chains, event listeners and, for code compiled to ES2016 or lower, awaits.
 */
export class ZoneContextManager implements ContextManager {
  // Assigned, not a parameter property: bundles for ES2020 turn those into a helper call.
  declare private readonly zone: ZoneStatic;

  constructor(zone: ZoneStatic) {
    this.zone = zone;
  }

  active(): unknown {
    return this.zone.current.get(KEY);
  }

  with<T>(value: unknown, fn: () => T): T {
    return this.zone.current.fork({ name: "pandaprobe", properties: { [KEY]: value } }).run(fn);
  }
}

/** zone.js when the page has loaded it, else undefined. */
export function loadedZone(): ZoneStatic | undefined {
  const zone = (globalThis as { Zone?: ZoneStatic }).Zone;
  return typeof zone?.current?.fork === "function" ? zone : undefined;
}
