import { SpanKind, SpanStatusCode, TraceStatus } from "./enums.js";
import { assertOneOf, assertString, describeValue } from "./guards.js";
import { clampName, clampShort } from "./limits.js";
import { snapshot } from "./serialize.js";
import { isoTime } from "./time.js";
import type { TraceHeader } from "./trace.js";
import type { JsonObject, SpanData, TraceData } from "./wire.js";

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

function wireTime(value: Time | undefined, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  const ms = new Date(value).getTime();
  if (!Number.isFinite(ms)) throw new TypeError(`PandaProbe: ${field} is not a valid date: ${describeValue(value)}.`);
  return isoTime(ms);
}

function objectOrUndefined(value: unknown): JsonObject | undefined {
  const safe = snapshot(value);
  return typeof safe === "object" && safe !== null && !Array.isArray(safe) ? safe : undefined;
}

function prebuiltSpan(span: PrebuiltSpan, index: number, traceStart: string): SpanData {
  const at = `logTrace spans[${index}]`;
  assertString(span.name, `${at}.name`);
  if (span.kind !== undefined) assertOneOf(span.kind, SpanKind, `${at}.kind`);
  if (span.status !== undefined) assertOneOf(span.status, SpanStatusCode, `${at}.status`);
  return {
    span_id: span.span_id ?? crypto.randomUUID(),
    parent_span_id: span.parent_span_id,
    name: clampName(span.name, "span"),
    kind: span.kind ?? SpanKind.OTHER,
    status: span.status ?? SpanStatusCode.UNSET,
    input: snapshot(span.input),
    output: snapshot(span.output),
    model: clampShort(span.model),
    token_usage: objectOrUndefined(span.token_usage),
    metadata: objectOrUndefined(span.metadata),
    started_at: wireTime(span.started_at, `${at}.started_at`) ?? traceStart,
    ended_at: wireTime(span.ended_at, `${at}.ended_at`),
    error: span.error,
    completion_start_time: wireTime(span.completion_start_time, `${at}.completion_start_time`),
    model_parameters: objectOrUndefined(span.model_parameters),
    cost: objectOrUndefined(span.cost) as Record<string, number> | undefined,
  } as SpanData;
}

/**
 * A pre-built trace on the wire: ids and timestamps filled in and normalised, limits applied,
 * values made JSON-safe. A malformed field (a bad date or enum) is a TypeError naming it.
 */
export function normalizePrebuilt(
  trace: PrebuiltTrace,
  ids: { sessionId: string | undefined; userId: string | undefined },
  defaults: { environment: string | undefined; release: string | undefined },
): { header: TraceHeader; spans: SpanData[] } {
  assertString(trace.name, "logTrace name");
  if (trace.status !== undefined) assertOneOf(trace.status, TraceStatus, "logTrace status");
  if (trace.spans !== undefined && !Array.isArray(trace.spans)) {
    throw new TypeError("PandaProbe: logTrace spans must be an array.");
  }
  const started = wireTime(trace.started_at, "logTrace started_at") ?? isoTime(Date.now());
  const header = {
    trace_id: trace.trace_id ?? crypto.randomUUID(),
    name: clampName(trace.name, "trace"),
    status: trace.status ?? TraceStatus.COMPLETED,
    input: snapshot(trace.input),
    output: snapshot(trace.output),
    metadata: objectOrUndefined(trace.metadata),
    started_at: started,
    ended_at: wireTime(trace.ended_at, "logTrace ended_at"),
    session_id: clampShort(ids.sessionId),
    user_id: clampShort(ids.userId),
    tags: Array.isArray(trace.tags) ? trace.tags.filter((t) => typeof t === "string") : undefined,
    environment: clampShort(trace.environment ?? defaults.environment),
    release: clampShort(trace.release ?? defaults.release),
  } as TraceHeader;
  return { header, spans: (trace.spans ?? []).map((s, i) => prebuiltSpan(s, i, started)) };
}
