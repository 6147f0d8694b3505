import { assertFunction } from "../base/guards.js";
import { shared } from "../shared.js";

export type ErrorHandler = (error: Error) => void;

/** Registers a handler for every client's background errors; returns a function that removes it. */
export function onError(handler: ErrorHandler): () => void {
  assertFunction(handler, "onError handler");
  shared.handlers.add(handler);
  return () => shared.handlers.delete(handler);
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
  const handlers = [...clientHandlers, ...shared.handlers];
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
