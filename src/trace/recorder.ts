import type { Span } from "./span.js";
import type { Trace, TraceHeader } from "./trace.js";
import type { SpanData } from "../wire/types.js";

/** What a trace needs from the client that records it; the model stays free of transport. */
export interface Recorder {
  /**
   * Serializes the trace with these spans and queues it: all of them when the trace ends, one
   * that ended after its trace (an upsert of the same trace). Never throws.
   */
  recordTrace(trace: Trace, spans: readonly Span[]): void;
  /** Queues a trace built elsewhere (`logTrace`); what `data` throws is reported. Never throws. */
  recordData(data: () => [TraceHeader, SpanData[]]): void;
  /** Warns once per client about an id cut to the backend's limit; development builds only. */
  warnOnce?(key: string, message: string): void;
}
