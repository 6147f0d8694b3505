/**
 * The read routes' queries over the store, with the backend's filters, orders and pagination
 * (`GET /traces`, `/traces/users`, `/sessions`, `/sessions/{id}`). Each scans the traces in memory:
 * a few milliseconds for 10,000 traces, which a development tool can afford on every request.
 */
import type { FieldError } from "../wire/validate.js";
import type { TraceRecord } from "./records.js";
import type { Store } from "./store.js";
import { sessionSummary, traceListItem, traceResponse } from "./views.js";

/** Query-string parsing that collects the backend's 422 errors instead of throwing. */
export class Params {
  readonly errors: FieldError[] = [];
  constructor(private readonly query: URLSearchParams) {}

  string(name: string): string | undefined {
    return this.query.get(name) ?? undefined;
  }

  list(name: string): string[] {
    return this.query.getAll(name);
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const raw = this.query.get(name);
    if (raw === null) return fallback;
    const value = Number(raw);
    if (!/^\s*-?\d+\s*$/.test(raw)) this.errors.push({ field: name, message: "must be an integer" });
    else if (value < min || value > max) this.errors.push({ field: name, message: `must be between ${min} and ${max}` });
    else return value;
    return fallback;
  }

  time(name: string): number | undefined {
    const raw = this.query.get(name);
    if (raw === null) return undefined;
    const value = Date.parse(raw);
    if (Number.isNaN(value)) this.errors.push({ field: name, message: "must be a date-time" });
    return Number.isNaN(value) ? undefined : value;
  }

  choice<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const raw = this.query.get(name);
    if (raw === null) return fallback;
    if ((allowed as readonly string[]).includes(raw)) return raw as T;
    this.errors.push({ field: name, message: `must be one of ${allowed.join(", ")}` });
    return fallback;
  }

  bool(name: string): boolean | undefined {
    const raw = this.query.get(name);
    if (raw === null) return undefined;
    if (raw === "true" || raw === "false") return raw === "true";
    this.errors.push({ field: name, message: "must be true or false" });
    return undefined;
  }
}

const ms = (iso: string | null): number => (iso === null ? Number.NaN : Date.parse(iso));
const latency = (t: TraceRecord): number => ms(t.ended_at) - ms(t.started_at);

/** Ascending comparison where missing values (NaN) sort last, as PostgreSQL's NULLS LAST for ASC. */
function byNumber<T>(key: (x: T) => number): (a: T, b: T) => number {
  return (a, b) => {
    const x = key(a);
    const y = key(b);
    if (Number.isNaN(x) || Number.isNaN(y)) return Number.isNaN(x) ? (Number.isNaN(y) ? 0 : 1) : -1;
    return x - y;
  };
}

function page<T>(all: T[], params: Params, maxLimit: number, defaultLimit = 50) {
  const limit = params.int("limit", defaultLimit, 1, maxLimit);
  const offset = params.int("offset", 0, 0, Number.MAX_SAFE_INTEGER);
  return { items: all.slice(offset, offset + limit), total: all.length, limit, offset };
}

function sorted<T>(items: T[], compare: (a: T, b: T) => number, order: "asc" | "desc"): T[] {
  return items.sort(order === "asc" ? compare : (a, b) => compare(b, a));
}

const overlaps = (tags: readonly string[], wanted: readonly string[]): boolean => wanted.length === 0 || wanted.some((tag) => tags.includes(tag));

export function listTraces(store: Store, params: Params) {
  const session = params.string("session_id");
  const user = params.string("user_id");
  const status = params.string("status");
  const name = params.string("name")?.toLowerCase();
  const tags = params.list("tags");
  const after = params.time("started_after");
  const before = params.time("started_before");
  const sortBy = params.choice("sort_by", ["started_at", "ended_at", "name", "latency", "status"] as const, "started_at");
  const order = params.choice("sort_order", ["asc", "desc"] as const, "desc");
  const matches = [...store.traces.values()].filter(
    (t) =>
      (session === undefined || t.session_id === session) &&
      (user === undefined || t.user_id === user) &&
      (status === undefined || t.status === status) &&
      (!name || t.name.toLowerCase().includes(name)) &&
      overlaps(t.tags, tags) &&
      (after === undefined || ms(t.started_at) >= after) &&
      (before === undefined || ms(t.started_at) < before),
  );
  const compare =
    sortBy === "name" || sortBy === "status"
      ? (a: TraceRecord, b: TraceRecord) => (a[sortBy] < b[sortBy] ? -1 : a[sortBy] > b[sortBy] ? 1 : 0)
      : byNumber<TraceRecord>(sortBy === "latency" ? latency : (t) => ms(t[sortBy]));
  const result = page(sorted(matches, compare, order), params, 200);
  return { ...result, items: result.items.map((t) => traceListItem(store, t)) };
}

/** Traces grouped by session id, each group oldest first. */
function sessions(store: Store, keep: (t: TraceRecord) => boolean): Map<string, TraceRecord[]> {
  const groups = new Map<string, TraceRecord[]>();
  for (const t of store.traces.values()) {
    if (t.session_id === null || !keep(t)) continue;
    const group = groups.get(t.session_id);
    if (group) group.push(t);
    else groups.set(t.session_id, [t]);
  }
  for (const group of groups.values()) group.sort(byNumber((t) => ms(t.started_at)));
  return groups;
}

export function listSessions(store: Store, params: Params) {
  const user = params.string("user_id");
  const hasError = params.bool("has_error");
  const after = params.time("started_after");
  const before = params.time("started_before");
  const tags = params.list("tags");
  const query = params.string("query")?.toLowerCase();
  const sortBy = params.choice("sort_by", ["recent", "trace_count", "latency", "cost"] as const, "recent");
  const order = params.choice("sort_order", ["asc", "desc"] as const, "desc");
  const groups = sessions(
    store,
    (t) =>
      (user === undefined || t.user_id === user) &&
      overlaps(t.tags, tags) &&
      (!query || t.session_id!.toLowerCase().includes(query)) &&
      (after === undefined || ms(t.started_at) >= after) &&
      (before === undefined || ms(t.started_at) < before),
  );
  const rows = [...groups]
    .map(([id, traces]) => ({ id, traces, recent: Math.max(...traces.map((t) => ms(t.created_at))) }))
    .filter((r) => hasError === undefined || r.traces.some((t) => t.status === "ERROR") === hasError);
  type Row = (typeof rows)[number];
  // Latency and cost need every session's summary; recency and size do not, so only a page is summarised.
  const summaries = new Map<Row, ReturnType<typeof sessionSummary>>();
  const summary = (r: Row) => summaries.get(r) ?? summaries.set(r, sessionSummary(store, r.id, r.traces)).get(r)!;
  const key = {
    recent: (r: Row) => r.recent,
    trace_count: (r: Row) => r.traces.length,
    latency: (r: Row) => summary(r).total_latency_ms ?? Number.NaN,
    cost: (r: Row) => summary(r).total_cost,
  }[sortBy];
  const result = page(sorted(rows, byNumber(key), order), params, 200);
  return { ...result, items: result.items.map(summary) };
}

/** `GET /sessions/{id}`: the summary over all its traces, and a page of them in full, oldest first; undefined when unknown. */
export function getSession(store: Store, sessionId: string, params: Params) {
  const traces = sessions(store, (t) => t.session_id === sessionId).get(sessionId);
  const window = page(traces ?? [], params, 1000, 200);
  if (!traces) return undefined;
  return { ...sessionSummary(store, sessionId, traces), traces: window.items.map((t) => traceResponse(store, t)) };
}

export function listUsers(store: Store, params: Params) {
  const users = new Map<string, { user_id: string; trace_count: number; first: number; last: number; error_count: number }>();
  for (const t of store.traces.values()) {
    if (t.user_id === null) continue;
    const at = ms(t.started_at);
    const user = users.get(t.user_id) ?? { user_id: t.user_id, trace_count: 0, first: at, last: at, error_count: 0 };
    user.trace_count++;
    user.first = Math.min(user.first, at);
    user.last = Math.max(user.last, at);
    if (t.status === "ERROR") user.error_count++;
    users.set(t.user_id, user);
  }
  const result = page(sorted([...users.values()], byNumber((u) => u.last), "desc"), params, 200);
  return {
    ...result,
    items: result.items.map(({ first, last, ...u }) => ({
      ...u,
      first_seen: new Date(first).toISOString(),
      last_seen: new Date(last).toISOString(),
    })),
  };
}
