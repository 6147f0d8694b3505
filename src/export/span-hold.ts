import { backgroundTimer } from "../base/timers.js";
import type { RecordPhase } from "../trace/recorder.js";
import type { SpanData, TraceHeader } from "../wire/types.js";

/** Where held traces go when they are let go: the pipeline's sending. */
export type SendTrace = (header: TraceHeader, spans: SpanData[]) => void;

/** Holds traces briefly so their spans share requests; see `createSpanHold`. */
export interface SpanHold {
  /** Takes a record the pipeline did not send at once; never throws. */
  take(header: TraceHeader, spans: SpanData[], phase: RecordPhase): void;
  /** Whether a record of this trace joins one held now. */
  holds(traceId: string): boolean;
  /** Sends everything held now, spans still open as they are. */
  flush(): void;
}

/** A trace waiting for its open spans, or late spans waiting for each other. */
interface Held {
  header: TraceHeader;
  /** Ended spans by id: the latest state of each. */
  ended: Map<string, SpanData>;
  /** Spans open when the trace ended, as they were then: sent only by a flush. */
  open: Map<string, SpanData>;
  /** Held since the trace ended with open spans: goes as soon as they have all ended. */
  awaitsOpen: boolean;
  timer: ReturnType<typeof setTimeout> | undefined;
}

export const isOpen = (span: SpanData): boolean => span.ended_at === undefined;

/**
 * Fewer requests, each order-proof (servers, where the process outlives a short wait):
 * - an ended trace with open spans waits up to `holdMs` for them and goes as soon as they all ended;
 * - spans that end after their trace was sent wait up to `holdMs` for each other: one upsert;
 * - a span goes out only in its final state, except by `flush()`, which sends what it holds as it
 *   is (the last chance before the process or function stops);
 * - every record of a held trace joins it: the latest header and each span's latest state win.
 */
export function createSpanHold(holdMs: number, send: SendTrace): SpanHold {
  const held = new Map<string, Held>();

  const letGo = (traceId: string, withOpen: boolean) => {
    const entry = held.get(traceId);
    if (!entry) return;
    held.delete(traceId);
    clearTimeout(entry.timer);
    const spans = [...entry.ended.values()];
    if (withOpen) spans.push(...entry.open.values());
    send(entry.header, spans);
  };

  return {
    holds: (traceId) => held.has(traceId),
    take(header, spans, phase) {
      let entry = held.get(header.trace_id);
      if (!entry) {
        entry = { header, ended: new Map(), open: new Map(), awaitsOpen: phase === "ended", timer: undefined };
        held.set(header.trace_id, entry);
        entry.timer = backgroundTimer(() => letGo(header.trace_id, false), holdMs);
      }
      entry.header = header;
      for (const span of spans) {
        if (isOpen(span)) {
          entry.open.set(span.span_id, span);
        } else {
          entry.open.delete(span.span_id);
          entry.ended.set(span.span_id, span);
        }
      }
      // The last open span ended: nothing is left to wait for.
      if (entry.awaitsOpen && entry.open.size === 0) letGo(header.trace_id, false);
    },
    flush() {
      for (const id of [...held.keys()]) letGo(id, true);
    },
  };
}
