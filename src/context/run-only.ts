import type { ContextManager } from "./context-manager.js";

/** The part of AsyncLocalStorage that every runtime providing it implements (workerd has no `enterWith`). */
export interface RunOnlyStorage {
  getStore(): unknown;
  run<T>(store: unknown, fn: () => T): T;
}

/**
 * A carrier over `run` alone: scopes follow awaits, timers and promise chains, and there is no
 * `enterWith`, so imperative ids are not per async flow here (see `refuseImperativeIds`).
 */
export function runOnlyContextManager(storage: RunOnlyStorage): ContextManager {
  return {
    active: () => storage.getStore(),
    with: (value, fn) => storage.run(value, fn),
  };
}
