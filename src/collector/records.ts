/**
 * What the collector keeps: traces with their spans and scores, in the backend's read shapes, and
 * the journal entries that produce them (one per accepted write, replayed in order on start).
 */
import type { SpanData, TraceData, TraceScoreData } from "../wire/types.js";

export type Json = unknown;
export type JsonMap = Record<string, Json>;

export interface SpanRecord {
  span_id: string;
  parent_span_id: string | null;
  name: string;
  kind: string;
  status: string;
  input: Json | null;
  output: Json | null;
  model: string | null;
  token_usage: JsonMap | null;
  metadata: JsonMap;
  started_at: string;
  ended_at: string | null;
  error: string | null;
  completion_start_time: string | null;
  model_parameters: JsonMap | null;
  cost: Record<string, number> | null;
}

export interface TraceRecord {
  trace_id: string;
  name: string;
  status: string;
  input: Json | null;
  output: Json | null;
  metadata: JsonMap;
  started_at: string;
  ended_at: string | null;
  session_id: string | null;
  user_id: string | null;
  tags: string[];
  environment: string | null;
  release: string | null;
  spans: Map<string, SpanRecord>;
  /** When the collector first accepted it (the backend's `created_at`, which orders sessions by recency). */
  created_at: string;
}

export interface ScoreRecord {
  id: string;
  trace_id: string;
  name: string;
  value: string;
  status: "SUCCESS";
  source: string;
  created_at: string;
  data_type: string;
  reason: string | null;
  metadata: JsonMap;
}

/** One accepted write, as appended to the journal; `at` is when it was received. */
export type Entry =
  | { op: "trace"; at: string; body: TraceData }
  | { op: "spans"; at: string; trace_id: string; body: SpanData[] }
  | { op: "score"; at: string; id: string; body: TraceScoreData }
  | { op: "patch-trace"; at: string; trace_id: string; body: JsonMap }
  | { op: "patch-span"; at: string; trace_id: string; span_id: string; body: JsonMap };
