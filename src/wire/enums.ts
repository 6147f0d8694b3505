/** The wire enums, as const objects so they work both as values and as types. */
export const SpanKind = {
  AGENT: "AGENT",
  TOOL: "TOOL",
  LLM: "LLM",
  RETRIEVER: "RETRIEVER",
  CHAIN: "CHAIN",
  EMBEDDING: "EMBEDDING",
  OTHER: "OTHER",
} as const;
export type SpanKind = (typeof SpanKind)[keyof typeof SpanKind];

export const SpanStatusCode = { UNSET: "UNSET", OK: "OK", ERROR: "ERROR" } as const;
export type SpanStatusCode = (typeof SpanStatusCode)[keyof typeof SpanStatusCode];

export const TraceStatus = {
  PENDING: "PENDING",
  RUNNING: "RUNNING",
  COMPLETED: "COMPLETED",
  ERROR: "ERROR",
} as const;
export type TraceStatus = (typeof TraceStatus)[keyof typeof TraceStatus];

export const ScoreDataType = { NUMERIC: "NUMERIC", BOOLEAN: "BOOLEAN", CATEGORICAL: "CATEGORICAL" } as const;
export type ScoreDataType = (typeof ScoreDataType)[keyof typeof ScoreDataType];
