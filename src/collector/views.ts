/**
 * The backend's read shapes (openapi.json: TraceResponse, SpanResponse, TraceListItem,
 * SessionSummary, SessionDetail, UserSummary, TraceScoreResponse) built from stored records.
 * Timestamps are returned as they were sent; the backend reformats them (`+00:00`), so a reader
 * comparing instants should parse them.
 */
import type { ScoreRecord, SpanRecord, TraceRecord } from "./records.js";
import type { Store } from "./store.js";

/** The collector has one project; reads and writes under any `X-Project-Name` share it. */
export const PROJECT_ID = "00000000-0000-4000-8000-000000000000";

const ms = (iso: string): number => Date.parse(iso);
const between = (from: string, to: string | null): number | null => (to === null ? null : ms(to) - ms(from));

export function spanResponse(traceId: string, s: SpanRecord) {
  return {
    ...s,
    trace_id: traceId,
    latency_ms: between(s.started_at, s.ended_at),
    time_to_first_token_ms: between(s.started_at, s.completion_start_time),
  };
}

/** Spans in start order (the order a timeline reads), ties in arrival order. */
export function orderedSpans(trace: TraceRecord): SpanRecord[] {
  return [...trace.spans.values()].sort((a, b) => ms(a.started_at) - ms(b.started_at));
}

export function traceResponse(store: Store, t: TraceRecord) {
  const { spans: _spans, created_at: _created, ...fields } = t;
  const { total_tokens, total_cost } = store.statsOf(t);
  return {
    ...fields,
    project_id: PROJECT_ID,
    spans: orderedSpans(t).map((s) => spanResponse(t.trace_id, s)),
    total_tokens,
    total_cost,
  };
}

export function traceListItem(store: Store, t: TraceRecord) {
  return {
    trace_id: t.trace_id,
    name: t.name,
    status: t.status,
    started_at: t.started_at,
    ended_at: t.ended_at,
    session_id: t.session_id,
    user_id: t.user_id,
    tags: t.tags,
    environment: t.environment,
    release: t.release,
    latency_ms: between(t.started_at, t.ended_at),
    ...store.statsOf(t),
  };
}

/** A session's summary over the given traces (all of one session_id, oldest first). */
export function sessionSummary(store: Store, sessionId: string, traces: readonly TraceRecord[]) {
  let lastEnded: string | null = null;
  let latency: number | null = null;
  let spanCount = 0;
  let tokens = 0;
  let cost = 0;
  for (const t of traces) {
    if (t.ended_at !== null && (lastEnded === null || ms(t.ended_at) > ms(lastEnded))) lastEnded = t.ended_at;
    const took = between(t.started_at, t.ended_at);
    if (took !== null) latency = (latency ?? 0) + took;
    const stats = store.statsOf(t);
    spanCount += stats.span_count;
    tokens += stats.total_tokens;
    cost += stats.total_cost;
  }
  return {
    session_id: sessionId,
    trace_count: traces.length,
    first_trace_at: traces[0]!.started_at,
    last_trace_at: lastEnded,
    total_latency_ms: latency,
    has_error: traces.some((t) => t.status === "ERROR"),
    user_id: traces.find((t) => t.user_id !== null)?.user_id ?? null,
    tags: [...new Set(traces.flatMap((t) => t.tags))],
    total_span_count: spanCount,
    total_tokens: tokens,
    total_cost: cost,
  };
}

export function scoreResponse(score: ScoreRecord, environment: string | null) {
  return {
    ...score,
    project_id: PROJECT_ID,
    eval_run_id: null,
    author_user_id: null,
    environment,
    config_id: null,
    updated_at: score.created_at,
  };
}
