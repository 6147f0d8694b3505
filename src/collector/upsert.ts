/**
 * The backend's merge rules (its `ON CONFLICT DO UPDATE`), so re-sent and split traces read back
 * the same here as there: name, status, kind and started_at always take the incoming value; other
 * scalars only when the incoming one is not null; metadata is shallow-merged; tags are unioned;
 * a span's parent is the one it was first stored with. PATCH sets what is present (null clears),
 * except the columns that cannot be null.
 */
import type { SpanData, TraceData } from "../wire/types.js";
import type { JsonMap, SpanRecord, TraceRecord } from "./records.js";

const or = <T>(incoming: T | undefined | null, stored: T | null): T | null => (incoming ?? null) !== null ? (incoming as T) : stored;

export function newSpan(s: SpanData): SpanRecord {
  return {
    span_id: s.span_id,
    parent_span_id: s.parent_span_id ?? null,
    name: s.name,
    kind: s.kind,
    status: s.status,
    input: s.input ?? null,
    output: s.output ?? null,
    model: s.model ?? null,
    token_usage: s.token_usage ?? null,
    metadata: s.metadata ?? {},
    started_at: s.started_at,
    ended_at: s.ended_at ?? null,
    error: s.error ?? null,
    completion_start_time: s.completion_start_time ?? null,
    model_parameters: s.model_parameters ?? null,
    cost: s.cost ?? null,
  };
}

export function mergeSpan(stored: SpanRecord, s: SpanData): SpanRecord {
  return {
    span_id: stored.span_id,
    parent_span_id: stored.parent_span_id,
    name: s.name,
    kind: s.kind,
    status: s.status,
    input: or(s.input, stored.input),
    output: or(s.output, stored.output),
    model: or(s.model, stored.model),
    token_usage: or(s.token_usage, stored.token_usage),
    metadata: { ...stored.metadata, ...s.metadata },
    started_at: s.started_at,
    ended_at: or(s.ended_at, stored.ended_at),
    error: or(s.error, stored.error),
    completion_start_time: or(s.completion_start_time, stored.completion_start_time),
    model_parameters: or(s.model_parameters, stored.model_parameters),
    cost: or(s.cost, stored.cost),
  };
}

/** Upserts each span by `span_id` into the trace's span map. */
export function upsertSpans(trace: TraceRecord, spans: readonly SpanData[]): void {
  for (const s of spans) {
    const stored = trace.spans.get(s.span_id);
    trace.spans.set(s.span_id, stored ? mergeSpan(stored, s) : newSpan(s));
  }
}

export function newTrace(t: TraceData, receivedAt: string): TraceRecord {
  const trace: TraceRecord = {
    trace_id: t.trace_id,
    name: t.name,
    status: t.status,
    input: t.input ?? null,
    output: t.output ?? null,
    metadata: t.metadata ?? {},
    started_at: t.started_at,
    ended_at: t.ended_at ?? null,
    session_id: t.session_id ?? null,
    user_id: t.user_id ?? null,
    tags: [...new Set(t.tags ?? [])],
    environment: t.environment ?? null,
    release: t.release ?? null,
    spans: new Map(),
    created_at: receivedAt,
  };
  upsertSpans(trace, t.spans);
  return trace;
}

export function mergeTrace(stored: TraceRecord, t: TraceData): void {
  stored.name = t.name;
  stored.status = t.status;
  stored.input = or(t.input, stored.input);
  stored.output = or(t.output, stored.output);
  stored.metadata = { ...stored.metadata, ...t.metadata };
  stored.started_at = t.started_at;
  stored.ended_at = or(t.ended_at, stored.ended_at);
  stored.session_id = or(t.session_id, stored.session_id);
  stored.user_id = or(t.user_id, stored.user_id);
  stored.tags = [...new Set([...stored.tags, ...(t.tags ?? [])])];
  stored.environment = or(t.environment, stored.environment);
  stored.release = or(t.release, stored.release);
  upsertSpans(stored, t.spans);
}

/** The fields each PATCH route takes (others are ignored, as the backend's models ignore them). */
export const TRACE_PATCH_FIELDS = ["name", "status", "input", "output", "metadata", "ended_at", "session_id", "user_id", "tags", "environment", "release"] as const;
export const SPAN_PATCH_FIELDS = ["name", "kind", "status", "input", "output", "model", "token_usage", "metadata", "ended_at", "error", "completion_start_time", "model_parameters", "cost"] as const;
const NOT_NULL = new Set(["name", "status", "tags", "kind"]);

/** `target` with the patch applied: present fields set (null clears), metadata merged. */
export function patched<T extends object>(target: T, patch: JsonMap, fields: readonly string[]): T {
  const out = { ...target } as Record<string, unknown>;
  for (const key of fields) {
    if (!Object.hasOwn(patch, key)) continue;
    const value = patch[key];
    if (value === null && NOT_NULL.has(key)) continue;
    out[key] = key === "metadata" ? { ...(out.metadata as JsonMap), ...(value as JsonMap | null) } : value;
  }
  return out as T;
}
