/**
 * What the backend accepts and the SDK's contract (wire/validate.ts) does not, applied to a body
 * before that validator checks it: `null` for an optional field means "not given" (the upsert
 * keeps the stored value either way), omitted fields take the backend's defaults, and a timestamp
 * may carry any zone offset and precision (stored as `toISOString()`). Everything else, unknown
 * fields included, is left for the validator to judge.
 */
import { uuid } from "../wire/ids.js";
import { isObject } from "../wire/validate.js";

const TRACE_OPTIONAL = ["input", "output", "ended_at", "session_id", "user_id", "environment", "release"];
const SPAN_OPTIONAL = ["parent_span_id", "input", "output", "model", "token_usage", "ended_at", "error", "completion_start_time", "model_parameters", "cost"];
const TRACE_TIMES = ["started_at", "ended_at"];
const SPAN_TIMES = ["started_at", "ended_at", "completion_start_time"];
const ZONED = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i;

function lenient(body: Record<string, unknown>, optional: string[], times: string[], defaults: Record<string, () => unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) {
    if (value === null && optional.includes(key)) continue;
    out[key] = typeof value === "string" && times.includes(key) && ZONED.test(value) && !Number.isNaN(Date.parse(value)) ? new Date(value).toISOString() : value;
  }
  for (const [key, make] of Object.entries(defaults)) if (!Object.hasOwn(out, key)) out[key] = make();
  return out;
}

export function lenientSpan(body: unknown): unknown {
  if (!isObject(body)) return body;
  return lenient(body, SPAN_OPTIONAL, SPAN_TIMES, { span_id: uuid, kind: () => "OTHER", status: () => "UNSET" });
}

export function lenientSpans(body: unknown): unknown {
  return Array.isArray(body) ? body.map(lenientSpan) : body;
}

export function lenientTrace(body: unknown): unknown {
  if (!isObject(body)) return body;
  const trace = lenient(body, TRACE_OPTIONAL, TRACE_TIMES, { trace_id: uuid, status: () => "COMPLETED", spans: () => [] });
  return { ...trace, spans: lenientSpans(trace.spans) };
}

export function lenientScore(body: unknown): unknown {
  if (!isObject(body)) return body;
  return lenient(body, ["reason"], [], { data_type: () => "NUMERIC" });
}
