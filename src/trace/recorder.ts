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
   * The share of traces that start here recorded (the client's `sampleRate`), each decided once,
   * by the fraction its id ends in (`idFraction`); a trace continued from another tier follows that
   * tier's decision. Absent: all.
   */
  readonly sampleRate?: number | undefined;
  /** Warns once per client about an id cut to the backend's limit; development builds only. */
  warnOnce?(key: string, message: string): void;
}

/** Where `trace(fn, { client })` finds its recorder: a `Client`, seen from the trace layer. */
export interface RecorderSource {
  recorder(): Recorder | undefined;
}
