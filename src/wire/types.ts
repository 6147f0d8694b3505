import type { ScoreDataType, SpanKind, SpanStatusCode, TraceStatus } from "./enums.js";

/** JSON as it goes on the wire. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export interface TokenUsage {
  prompt_tokens?: number;
  completion_tokens?: number;
  total_tokens?: number;
  reasoning_tokens?: number;
  cache_read_tokens?: number;
  [key: string]: JsonValue | undefined;
}

/** `SpanCreate` of the PandaProbe API. Optional fields are omitted, never null. */
export interface SpanData {
  span_id: string;
  parent_span_id?: string;
  name: string;
  kind: SpanKind;
  status: SpanStatusCode;
  input?: JsonValue;
  output?: JsonValue;
  model?: string;
  token_usage?: TokenUsage;
  metadata?: JsonObject;
  started_at: string;
  ended_at?: string;
  error?: string;
  completion_start_time?: string;
  model_parameters?: JsonObject;
  cost?: Record<string, number>;
}

/** `TraceCreate` of the PandaProbe API: the body of `POST /traces`. */
export interface TraceData {
  trace_id: string;
  name: string;
  status: TraceStatus;
  input?: JsonValue;
  output?: JsonValue;
  metadata?: JsonObject;
  started_at: string;
  ended_at?: string;
  session_id?: string;
  user_id?: string;
  tags?: string[];
  environment?: string;
  release?: string;
  spans: SpanData[];
}

/** The wire fields of a trace, without its spans. */
export type TraceHeader = Omit<TraceData, "spans">;

/** `CreateTraceScoreRequest`: the body of `POST /evaluations/trace-scores`. */
export interface TraceScoreData {
  trace_id: string;
  name: string;
  value: string;
  data_type: ScoreDataType;
  source: "PROGRAMMATIC";
  reason?: string;
  metadata?: JsonObject;
}
