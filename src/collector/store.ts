/**
 * The collector's state in memory: every trace (with spans) and score, rebuilt from the journal on
 * start and changed only by applying journal entries, so what is served is exactly what was made durable.
 */
import type { Entry, ScoreRecord, SpanRecord, TraceRecord } from "./records.js";
import { mergeTrace, newTrace, patched, SPAN_PATCH_FIELDS, TRACE_PATCH_FIELDS, upsertSpans } from "./upsert.js";

/** What a change touched, for live viewers. */
export interface Change {
  op: Entry["op"];
  trace_id: string;
  session_id: string | null;
  user_id: string | null;
}

/** Per-trace figures, computed as the backend does (tokens = prompt + completion, cost = cost.total). */
export interface TraceStats {
  span_count: number;
  total_tokens: number;
  total_cost: number;
}

const num = (value: unknown): number => (typeof value === "number" && Number.isFinite(value) ? value : 0);

function entryTraceId(entry: Entry): string {
  return entry.op === "trace" || entry.op === "score" ? entry.body.trace_id : entry.trace_id;
}

export class Store {
  readonly traces = new Map<string, TraceRecord>();
  readonly scores = new Map<string, ScoreRecord[]>();
  private readonly stats = new WeakMap<TraceRecord, TraceStats>();
  private readonly listeners = new Set<(change: Change) => void>();

  /** Applies one accepted write; returns false for an entry that no longer applies (a replayed patch of a span never stored). */
  apply(entry: Entry): boolean {
    const id = entryTraceId(entry);
    const trace = this.traces.get(id);
    switch (entry.op) {
      case "trace":
        if (trace) mergeTrace(trace, entry.body);
        else this.traces.set(entry.body.trace_id, newTrace(entry.body, entry.at));
        break;
      case "spans":
        if (!trace) return false;
        upsertSpans(trace, entry.body);
        break;
      case "patch-trace":
        if (!trace) return false;
        Object.assign(trace, patched(trace, entry.body, TRACE_PATCH_FIELDS));
        break;
      case "patch-span": {
        const span = trace?.spans.get(entry.span_id);
        if (!trace || !span) return false;
        trace.spans.set(entry.span_id, patched<SpanRecord>(span, entry.body, SPAN_PATCH_FIELDS));
        break;
      }
      case "score": {
        if (!trace) return false;
        const { body } = entry;
        const score: ScoreRecord = {
          id: entry.id,
          trace_id: body.trace_id,
          name: body.name,
          value: body.value,
          status: "SUCCESS",
          source: body.source,
          created_at: entry.at,
          data_type: body.data_type,
          reason: body.reason ?? null,
          metadata: body.metadata ?? {},
        };
        this.scores.set(body.trace_id, [...(this.scores.get(body.trace_id) ?? []), score]);
        break;
      }
    }
    const stored = this.traces.get(id)!;
    this.stats.delete(stored);
    const change: Change = { op: entry.op, trace_id: stored.trace_id, session_id: stored.session_id, user_id: stored.user_id };
    for (const listener of this.listeners) listener(change);
    return true;
  }

  statsOf(trace: TraceRecord): TraceStats {
    let stats = this.stats.get(trace);
    if (!stats) {
      stats = { span_count: trace.spans.size, total_tokens: 0, total_cost: 0 };
      for (const span of trace.spans.values()) {
        stats.total_tokens += num(span.token_usage?.prompt_tokens) + num(span.token_usage?.completion_tokens);
        stats.total_cost += num(span.cost?.total);
      }
      this.stats.set(trace, stats);
    }
    return stats;
  }

  onChange(listener: (change: Change) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
