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
  /**
   * The share of traces recorded (the client's `sampleRate`), each decided from its id alone
   * (`idFraction` below the rate), so every tier and every upsert of one trace agree. Absent: all.
   */
  readonly sampleRate?: number | undefined;
  /** Warns once per client about an id cut to the backend's limit; development builds only. */
  warnOnce?(key: string, message: string): void;
}

/** Where `trace(fn, { client })` finds its recorder: a `Client`, seen from the trace layer. */
export interface RecorderSource {
  recorder(): Recorder | undefined;
}
