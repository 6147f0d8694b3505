import type { TraceHeader } from "../wire/types.js";

/**
 * Marks the header of a trace continued from another tier (continuation.ts): the pipeline sends
 * its spans to `POST /traces/{id}/spans` and never the header. A registered symbol, so that the ESM
 * and CommonJS copies of the SDK in one process agree on it; JSON.stringify skips it.
 */
export const CONTINUED = Symbol.for("pandaprobe.continued.v1");

export const isContinued = (header: TraceHeader): boolean => (header as { [CONTINUED]?: true })[CONTINUED] === true;
