/**
 * The collector's HTTP API, independent of the server: the backend's ingestion routes (validated
 * by the contract's own validator after the backend's leniencies, lenient.ts; answered only once
 * the write is on disk) and its read routes.
 */
import { randomUUID } from "node:crypto";
import { isUuid } from "../wire/ids.js";
import type { SpanData, TraceData, TraceScoreData } from "../wire/types.js";
import { isObject, validateBody, type FieldError } from "../wire/validate.js";
import type { Journal } from "./journal.js";
import { lenientScore, lenientSpans, lenientTrace } from "./lenient.js";
import { getSession, listSessions, listTraces, listUsers, Params } from "./queries.js";
import type { Entry, JsonMap } from "./records.js";
import type { Store } from "./store.js";
import { SPAN_PATCH_FIELDS, TRACE_PATCH_FIELDS, patched } from "./upsert.js";
import { scoreResponse, spanResponse, traceResponse } from "./views.js";

export interface ApiRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  /** The body's JSON, or `undefined` when there was none or it did not parse. */
  json: unknown;
}

export interface ApiResponse {
  status: number;
  body: unknown;
}

const ok = (body: unknown, status = 200): ApiResponse => ({ status, body });
const notFound = (detail: string): ApiResponse => ({ status: 404, body: { detail } });
const invalid = (errors: FieldError[]): ApiResponse => ({ status: 422, body: { detail: "Validation error", errors } });

/** What the backend refuses of a score beyond its shape (same messages, `field` empty as there). */
function scoreValueError(score: TraceScoreData): FieldError | undefined {
  if (score.data_type === "NUMERIC") {
    const value = Number(score.value);
    if (score.value.trim() === "" || Number.isNaN(value)) return { field: "", message: "Value error, NUMERIC score must be a valid number" };
    if (value < 0 || value > 1) return { field: "", message: "Value error, NUMERIC score must be in [0.0, 1.0]" };
  }
  if (score.data_type === "BOOLEAN" && score.value !== "true" && score.value !== "false") {
    return { field: "", message: "Value error, BOOLEAN score must be 'true' or 'false'" };
  }
  return undefined;
}

/** A stored record with its nulls dropped: the shape the contract validates (it refuses nulls). */
function withoutNulls(record: object): JsonMap {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== null && value !== undefined));
}

export class Api {
  constructor(
    private readonly store: Store,
    private readonly journal: Journal,
  ) {}

  /** The answer to an API route, or undefined when the path is none of them. */
  async handle(req: ApiRequest): Promise<ApiResponse | undefined> {
    const parts = req.path.split("/").filter(Boolean).map(decodeURIComponent);
    const { method } = req;
    if (parts[0] === "traces") {
      if (parts.length === 1) return method === "POST" ? this.postTrace(req.json) : method === "GET" ? this.read(req, (p) => ok(listTraces(this.store, p))) : undefined;
      if (parts.length === 2 && parts[1] === "users" && method === "GET") return this.read(req, (p) => ok(listUsers(this.store, p)));
      const traceId = parts[1]!;
      if (!isUuid(traceId)) return invalid([{ field: "trace_id", message: "must be a UUID" }]);
      if (parts.length === 2 && method === "GET") return this.getTrace(traceId);
      if (parts.length === 2 && method === "PATCH") return this.patchTrace(traceId, req.json);
      if (parts.length === 3 && parts[2] === "spans" && method === "POST") return this.postSpans(traceId, req.json);
      if (parts.length === 4 && parts[2] === "spans" && method === "PATCH") {
        if (!isUuid(parts[3])) return invalid([{ field: "span_id", message: "must be a UUID" }]);
        return this.patchSpan(traceId, parts[3], req.json);
      }
    }
    if (parts[0] === "sessions" && method === "GET") {
      if (parts.length === 1) return this.read(req, (p) => ok(listSessions(this.store, p)));
      if (parts.length === 2) {
        const id = parts[1]!;
        return this.read(req, (p) => {
          const session = getSession(this.store, id, p);
          return session ? ok(session) : notFound(`Session ${id} not found.`);
        });
      }
    }
    if (parts[0] === "evaluations" && parts[1] === "trace-scores") {
      if (parts.length === 2 && method === "POST") return this.postScore(req.json);
      if (parts.length === 3 && method === "GET") {
        if (!isUuid(parts[2])) return invalid([{ field: "trace_id", message: "must be a UUID" }]);
        const trace = this.store.traces.get(parts[2]);
        return ok((this.store.scores.get(parts[2]) ?? []).map((s) => scoreResponse(s, trace?.environment ?? null)));
      }
    }
    return undefined;
  }

  /** Runs a read with the request's query string; a malformed parameter makes it a 422. */
  private read(req: ApiRequest, query: (params: Params) => ApiResponse): ApiResponse {
    const params = new Params(req.query);
    const result = query(params);
    return params.errors.length ? invalid(params.errors) : result;
  }

  private async commit(entry: Entry): Promise<void> {
    await this.journal.append(entry);
    this.store.apply(entry);
  }

  private async postTrace(json: unknown): Promise<ApiResponse> {
    const body = lenientTrace(json) as TraceData;
    const errors = validateBody("trace", body);
    if (errors.length) return invalid(errors);
    await this.commit({ op: "trace", at: new Date().toISOString(), body });
    return ok({ trace_id: body.trace_id, task_id: randomUUID() }, 202);
  }

  private async postSpans(traceId: string, json: unknown): Promise<ApiResponse> {
    const body = lenientSpans(json) as SpanData[];
    const errors = validateBody("spans", body);
    if (errors.length) return invalid(errors);
    if (!this.store.traces.has(traceId)) return notFound(`Trace ${traceId} not found.`);
    await this.commit({ op: "spans", at: new Date().toISOString(), trace_id: traceId, body });
    return ok({ span_ids: body.map((s) => s.span_id) }, 201);
  }

  private async postScore(json: unknown): Promise<ApiResponse> {
    const body = lenientScore(json) as TraceScoreData;
    const errors = validateBody("score", body);
    if (errors.length) return invalid(errors);
    const valueError = scoreValueError(body);
    if (valueError) return invalid([valueError]);
    if (!this.store.traces.has(body.trace_id)) return notFound(`Trace ${body.trace_id} not found.`);
    const entry: Entry = { op: "score", at: new Date().toISOString(), id: randomUUID(), body };
    await this.commit(entry);
    const score = this.store.scores.get(body.trace_id)!.find((s) => s.id === entry.id)!;
    return ok(scoreResponse(score, this.store.traces.get(body.trace_id)!.environment), 201);
  }

  private getTrace(traceId: string): ApiResponse {
    const trace = this.store.traces.get(traceId);
    return trace ? ok(traceResponse(this.store, trace)) : notFound(`Trace ${traceId} not found.`);
  }

  /** A PATCH is checked by validating the record it would produce, with the contract's validator. */
  private async patchTrace(traceId: string, json: unknown): Promise<ApiResponse> {
    if (!isObject(json)) return invalid([{ field: "body", message: "must be an object" }]);
    const trace = this.store.traces.get(traceId);
    if (!trace) return notFound(`Trace ${traceId} not found.`);
    const { spans: _spans, created_at: _created, ...fields } = patched(trace, json, TRACE_PATCH_FIELDS);
    const errors = validateBody("trace", { ...withoutNulls(fields), spans: [] });
    if (errors.length) return invalid(errors);
    await this.commit({ op: "patch-trace", at: new Date().toISOString(), trace_id: traceId, body: json });
    return this.getTrace(traceId);
  }

  private async patchSpan(traceId: string, spanId: string, json: unknown): Promise<ApiResponse> {
    if (!isObject(json)) return invalid([{ field: "body", message: "must be an object" }]);
    const span = this.store.traces.get(traceId)?.spans.get(spanId);
    if (!span) return notFound(`Span ${spanId} not found.`);
    const errors = validateBody("spans", [withoutNulls(patched(span, json, SPAN_PATCH_FIELDS))]);
    if (errors.length) return invalid(errors.map((e) => ({ ...e, field: e.field.replace(/^0\./, "") })));
    await this.commit({ op: "patch-span", at: new Date().toISOString(), trace_id: traceId, span_id: spanId, body: json });
    return ok(spanResponse(traceId, this.store.traces.get(traceId)!.spans.get(spanId)!));
  }
}
