import type { SpanData, TraceHeader } from "../wire/types.js";

/** Where a trace goes when it ends: the client's pipeline to the wire. The trace layer knows no transport. */
export interface Recorder {
  /**
   * Queues a trace's wire data: all its spans when it ends, or spans that ended after it (an
   * upsert of the same trace), or a trace built elsewhere (`logTrace`). `data` is called at once,
   * in the caller's turn; what it throws is reported. Never throws.
   */
  record(data: () => [TraceHeader, SpanData[]]): void;
  /** Warns once per client about an id cut to the backend's limit; development builds only. */
  warnOnce?(key: string, message: string): void;
}
