import type { Span } from "./span.js";
import type { Trace } from "./trace.js";

/** What a trace needs from the client that records it; the model stays free of transport. */
export interface Recorder {
  readonly environment: string | undefined;
  readonly release: string | undefined;
  /** Serializes the ended trace with all its spans and queues it. Never throws. */
  recordTrace(trace: Trace): void;
  /** A span that ended after its trace: sent as an upsert of the same trace. Never throws. */
  recordLateSpan(trace: Trace, span: Span): void;
  /** Warns once per client about an id cut to the backend's limit. */
  warnOnce(key: string, message: string): void;
}
