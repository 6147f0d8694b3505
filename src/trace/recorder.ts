import type { SpanData, TraceHeader } from "../wire/types.js";

/**
 * What a record is: a trace as it ended (all its spans, some maybe still open), spans that ended
 * after their trace (an upsert of the same trace), or a trace built elsewhere (`logTrace`).
 */
export type RecordPhase = "ended" | "late" | "prebuilt";

/** Where a trace goes when it ends: the client's pipeline to the wire. The trace layer knows no transport. */
export interface Recorder {
  /**
   * Queues a trace's wire data. `data` is called at once, in the caller's turn; what it throws is
   * reported. Never throws.
   */
  record(data: () => [TraceHeader, SpanData[]], phase: RecordPhase): void;
  /** Warns once per client about an id cut to the backend's limit; development builds only. */
  warnOnce?(key: string, message: string): void;
}
