import { assertFunction } from "../base/guards.js";
import { realmSlot } from "../base/realm.js";

export type ErrorHandler = (error: Error) => void;

/** The global handlers, one set per realm (see realmSlot). */
const globalHandlers = realmSlot<Set<ErrorHandler>>("error-handlers.v1", () => new Set());

/** Registers a handler for every client's background errors; returns a function that removes it. */
export function onError(handler: ErrorHandler): () => void {
  assertFunction(handler, "onError handler");
  globalHandlers.add(handler);
  return () => globalHandlers.delete(handler);
}

/**
 * Hands an error to the client's and the global handlers. With none registered, each kind of
 * error is printed once (every time in debug mode), so a silent loss is never invisible.
 */
export function dispatchError(
  error: Error & { code?: string },
  clientHandlers: Set<ErrorHandler>,
  printed: Set<string>,
  debug: boolean,
): void {
  const handlers = [...clientHandlers, ...globalHandlers];
  for (const handler of handlers) {
    try {
      handler(error);
    } catch {
      // A failing handler must not stop the others nor reach the host.
    }
  }
  const kind = error.code ?? "error";
  if (debug || (handlers.length === 0 && !printed.has(kind))) {
    printed.add(kind);
    console.warn(`[pandaprobe] ${error.message}`);
  }
}
