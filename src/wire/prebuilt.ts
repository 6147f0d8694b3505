import { SpanKind, SpanStatusCode, TraceStatus } from "./enums.js";
import { assertOneOf, assertString, describeValue } from "../base/guards.js";
import { clampName, clampShort } from "./limits.js";
import { jsonObject, snapshot } from "./serialize.js";
import { isoTime, isWireTime } from "./time.js";
import { numbersOnly, tokenCounts } from "./usage.js";
import { assertUuid, uuid } from "./ids.js";
import type { SpanData, TraceData, TraceHeader } from "./types.js";

type Time = string | Date;
type Timed<T, K extends keyof T> = Omit<T, K> & { [P in K]?: Time };

/** A span built elsewhere: only the name is required; ids and timestamps are filled in. */
export type PrebuiltSpan = Partial<Timed<SpanData, "started_at" | "ended_at" | "completion_start_time">> & {
  name: string;
};

/** A trace built elsewhere, for `logTrace`: only the name is required. */
export type PrebuiltTrace = Partial<Timed<Omit<TraceData, "spans">, "started_at" | "ended_at">> & {
  name: string;
  spans?: PrebuiltSpan[];
};

const TIME_FIELDS = ["started_at", "ended_at", "completion_start_time"] as const;
const TOKEN_COUNTS = ["prompt_tokens", "completion_tokens", "total_tokens", "reasoning_tokens", "cache_read_tokens"];

/** An ISO date and time without a zone: JavaScript reads it as local time, Python and the backend as UTC. */
const NAIVE = /^\d{4}-\d\d-\d\d[T ][\d:.]+$/;

/** An unreadable date is left out (development builds reject it first, in `checkPrebuilt`). */
function wireTime(value: Time | undefined): string | undefined {
  const ms = value == null ? NaN : new Date(value).getTime();
  return isWireTime(ms) ? isoTime(ms) : undefined;
}

/**
 * The developer's mistakes in a pre-built trace, each a TypeError naming the field: what the
 * backend (or the relay) would reject with a 422, losing the whole trace, and what it would read
 * otherwise than JavaScript does.
 */
export function checkPrebuilt(trace: PrebuiltTrace): void {
  if (trace === null || typeof trace !== "object") throw new TypeError("PandaProbe: logTrace takes a trace object.");
  const fail = (at: string, field: string, problem: string, value: unknown) => {
    throw new TypeError(`PandaProbe: ${at} ${field} ${problem}, got ${describeValue(value)}.`);
  };
  const checkTimes = (item: Record<string, unknown>, at: string) => {
    for (const field of TIME_FIELDS) {
      const value = item[field];
      if (value != null && wireTime(value as Time) === undefined) fail(at, field, "is not a valid date", value);
      if (NAIVE.test(value as string)) fail(at, field, "has no time zone (add Z for UTC, or an offset)", value);
    }
  };
  // null is absent, as in the backend's own JSON.
  const checkString = (value: unknown, what: string) => value == null || assertString(value, what);
  const checkIds = (item: Record<string, unknown>, at: string, fields: string[]) => {
    for (const field of fields) if (item[field] != null) assertUuid(item[field], `${at} ${field}`);
  };
  assertString(trace.name, "logTrace name");
  if (trace.status !== undefined) assertOneOf(trace.status, TraceStatus, "logTrace status");
  checkIds(trace, "logTrace", ["trace_id"]);
  checkString(trace.environment, "logTrace environment");
  checkString(trace.release, "logTrace release");
  checkTimes(trace, "logTrace");
  if (trace.spans === undefined) return;
  if (!Array.isArray(trace.spans)) throw new TypeError("PandaProbe: logTrace spans must be an array.");
  trace.spans.forEach((span, i) => {
    const at = `logTrace spans[${i}]`;
    assertString(span?.name, `${at}.name`);
    if (span.kind !== undefined) assertOneOf(span.kind, SpanKind, `${at}.kind`);
    if (span.status !== undefined) assertOneOf(span.status, SpanStatusCode, `${at}.status`);
    checkIds(span, at, ["span_id", "parent_span_id"]);
    checkString(span.model, `${at}.model`);
    checkString(span.error, `${at}.error`);
    const cost = (span.cost ?? {}) as Record<string, unknown>;
    for (const key in cost) if (!Number.isFinite(cost[key])) fail(at, `cost.${key}`, "must be a number", cost[key]);
    const usage = (span.token_usage ?? {}) as Record<string, unknown>;
    for (const key of TOKEN_COUNTS) {
      const count = usage[key];
      if (count !== undefined && !(Number.isInteger(count) && (count as number) >= 0)) {
        fail(at, `token_usage.${key}`, "must be a whole number of tokens", count);
      }
    }
    checkTimes(span, at);
  });
}

function prebuiltSpan(span: PrebuiltSpan, traceStart: string): SpanData {
  return {
    span_id: span.span_id ?? uuid(),
    parent_span_id: span.parent_span_id || undefined,
    name: clampName(span.name, "span"),
    kind: span.kind ?? "OTHER",
    status: span.status ?? "UNSET",
    input: snapshot(span.input),
    output: snapshot(span.output),
    model: clampShort(span.model),
    token_usage: tokenCounts(span.token_usage),
    metadata: jsonObject(span.metadata),
    started_at: wireTime(span.started_at) ?? traceStart,
    ended_at: wireTime(span.ended_at),
    error: span.error || undefined,
    completion_start_time: wireTime(span.completion_start_time),
    model_parameters: jsonObject(span.model_parameters),
    cost: numbersOnly(span.cost),
  } as SpanData;
}

/**
 * A pre-built trace on the wire: ids and timestamps filled in and normalised, limits applied,
 * values made JSON-safe. Throws on what cannot be read at all (the recorder reports it).
 */
export function normalizePrebuilt(
  trace: PrebuiltTrace,
  ids: { sessionId: string | undefined; userId: string | undefined },
): [TraceHeader, SpanData[]] {
  const started = wireTime(trace.started_at) ?? isoTime(Date.now());
  const header = {
    trace_id: trace.trace_id ?? uuid(),
    name: clampName(trace.name, "trace"),
    status: trace.status ?? "COMPLETED",
    input: snapshot(trace.input),
    output: snapshot(trace.output),
    metadata: jsonObject(trace.metadata),
    started_at: started,
    ended_at: wireTime(trace.ended_at),
    session_id: clampShort(ids.sessionId),
    user_id: clampShort(ids.userId),
    tags: Array.isArray(trace.tags) ? trace.tags.filter((t) => typeof t === "string") : undefined,
    environment: clampShort(trace.environment),
    release: clampShort(trace.release),
  } as TraceHeader;
  return [header, (Array.isArray(trace.spans) ? trace.spans : []).map((s) => prebuiltSpan(s, started))];
}
