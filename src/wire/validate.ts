/**
 * The ingestion contract (`schema/ingestion.schema.json`) as a small hand-written validator, so the
 * relay rejects what the SDK would never send without shipping a JSON-schema engine to servers.
 * A test keeps it in agreement with the schema compiled by ajv. Limits and enums are the contract's own.
 */
import { ScoreDataType, SpanKind, SpanStatusCode, TraceStatus } from "./enums.js";
import { isUuid } from "./ids.js";
import { MAX_ID_LENGTH, MAX_NAME_LENGTH, MAX_SPANS_PER_REQUEST } from "./limits.js";

/** One violation, in the backend's 422 shape: `field` is a dotted path such as `spans.0.kind`. */
export interface FieldError {
  field: string;
  message: string;
}

/** Enough errors to explain a rejection; a hostile body could otherwise produce thousands. */
const MAX_ERRORS = 100;

type Path = readonly (string | number)[];
type Check = (value: unknown, path: Path, out: FieldError[]) => void;

function report(out: FieldError[], path: Path, message: string): void {
  if (out.length < MAX_ERRORS) out.push({ field: path.length ? path.join(".") : "body", message });
}

/** A JSON object: not null, not an array. */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Length in code points, as JSON Schema (and the backend) count it: a surrogate pair is one character. */
function charCount(value: string): number {
  let count = 0;
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff && i + 1 < value.length && (value.charCodeAt(i + 1) & 0xfc00) === 0xdc00) i++;
    count++;
  }
  return count;
}

function string(min = 0, max = Infinity): Check {
  return (value, path, out) => {
    if (typeof value !== "string") return report(out, path, "must be a string");
    const length = charCount(value);
    if (length < min) report(out, path, `must be at least ${min} character(s)`);
    if (length > max) report(out, path, `must be at most ${max} characters`);
  };
}

function oneOf(values: Record<string, string>): Check {
  const allowed = Object.values(values);
  return (value, path, out) => {
    if (typeof value !== "string" || !allowed.includes(value)) report(out, path, `must be one of ${allowed.join(", ")}`);
  };
}

const uuid: Check = (value, path, out) => {
  if (!isUuid(value)) report(out, path, "must be a UUID");
};

const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.\d{3}Z$/;
const DAYS_IN_MONTH = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** A real calendar instant (RFC 3339, leap second allowed at 23:59:60Z) in `toISOString()` form. */
function isTimestamp(value: string): boolean {
  const m = TIMESTAMP.exec(value);
  if (!m) return false;
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = month === 2 && leap ? 29 : (DAYS_IN_MONTH[month] ?? 0);
  if (month < 1 || month > 12 || day < 1 || day > days) return false;
  return (hour <= 23 && minute <= 59 && second <= 59) || (hour === 23 && minute === 59 && second === 60);
}

const timestamp: Check = (value, path, out) => {
  if (typeof value !== "string" || !isTimestamp(value)) {
    report(out, path, "must be an ISO 8601 UTC timestamp with milliseconds (YYYY-MM-DDTHH:MM:SS.sssZ)");
  }
};

const notNull: Check = (value, path, out) => {
  if (value === null) report(out, path, "must be omitted rather than null");
};

const jsonObject: Check = (value, path, out) => {
  if (!isObject(value)) report(out, path, "must be an object");
};

/** An object whose every value passes `check` (any keys). */
function record(check: Check): Check {
  return (value, path, out) => {
    if (!isObject(value)) return report(out, path, "must be an object");
    for (const key of Object.keys(value)) check(value[key], [...path, key], out);
  };
}

const number: Check = (value, path, out) => {
  if (typeof value !== "number" || !Number.isFinite(value)) report(out, path, "must be a number");
};

const count: Check = (value, path, out) => {
  if (typeof value !== "number" || !Number.isInteger(value)) return report(out, path, "must be an integer");
  if (value < 0) report(out, path, "must be >= 0");
};

function array(item: Check, min: number, max: number): Check {
  return (value, path, out) => {
    if (!Array.isArray(value)) return report(out, path, "must be an array");
    if (value.length < min) report(out, path, `must have at least ${min} item(s)`);
    if (value.length > max) report(out, path, `must have at most ${max} items`);
    value.forEach((element, i) => item(element, [...path, i], out));
  };
}

/**
 * An object with exactly these fields. `open` lets unknown fields through (token usage may carry
 * provider-specific counts); otherwise they are rejected so a page cannot smuggle data upstream.
 */
function object(fields: Record<string, Check>, required: readonly string[], open = false): Check {
  return (value, path, out) => {
    if (!isObject(value)) return report(out, path, "must be an object");
    for (const name of required) {
      if (!Object.hasOwn(value, name)) report(out, [...path, name], "field required");
    }
    for (const key of Object.keys(value)) {
      // hasOwn, not `in`: a body may carry keys like "constructor" or "__proto__".
      if (Object.hasOwn(fields, key)) fields[key]!(value[key], [...path, key], out);
      else if (!open) report(out, [...path, key], "unknown field");
    }
  };
}

const tokenUsage = object(
  {
    prompt_tokens: count,
    completion_tokens: count,
    total_tokens: count,
    reasoning_tokens: count,
    cache_read_tokens: count,
  },
  [],
  true,
);

const spanCreate = object(
  {
    span_id: uuid,
    parent_span_id: uuid,
    name: string(1, MAX_NAME_LENGTH),
    kind: oneOf(SpanKind),
    status: oneOf(SpanStatusCode),
    input: notNull,
    output: notNull,
    model: string(0, MAX_ID_LENGTH),
    token_usage: tokenUsage,
    metadata: jsonObject,
    started_at: timestamp,
    ended_at: timestamp,
    error: string(),
    completion_start_time: timestamp,
    model_parameters: jsonObject,
    cost: record(number),
  },
  ["span_id", "name", "kind", "status", "started_at"],
);

const traceCreate = object(
  {
    trace_id: uuid,
    name: string(1, MAX_NAME_LENGTH),
    status: oneOf(TraceStatus),
    input: notNull,
    output: notNull,
    metadata: jsonObject,
    started_at: timestamp,
    ended_at: timestamp,
    session_id: string(0, MAX_ID_LENGTH),
    user_id: string(0, MAX_ID_LENGTH),
    tags: array(string(), 0, Infinity),
    environment: string(0, MAX_ID_LENGTH),
    release: string(0, MAX_ID_LENGTH),
    spans: array(spanCreate, 0, MAX_SPANS_PER_REQUEST),
  },
  ["trace_id", "name", "status", "started_at", "spans"],
);

const spanBatch = array(spanCreate, 1, MAX_SPANS_PER_REQUEST);

const scoreCreate = object(
  {
    trace_id: uuid,
    name: string(1),
    value: string(),
    data_type: oneOf(ScoreDataType),
    source: oneOf({ PROGRAMMATIC: "PROGRAMMATIC" }),
    reason: string(),
    metadata: jsonObject,
  },
  ["trace_id", "name", "value", "data_type", "source"],
);

/** The body each ingestion route takes. */
export type BodyKind = "trace" | "spans" | "score";

const CHECKS: Record<BodyKind, Check> = { trace: traceCreate, spans: spanBatch, score: scoreCreate };

/** The contract violations of `body` for the route `kind` (empty when valid; at most 100). */
export function validateBody(kind: BodyKind, body: unknown): FieldError[] {
  const out: FieldError[] = [];
  CHECKS[kind](body, [], out);
  return out;
}

