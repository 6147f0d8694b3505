/**
 * Reading the demo's traces back through the read routes the local collector and the real backend
 * share (`GET /sessions`, `/sessions/{id}`, `/traces/{id}`, `/traces/users`), the same way for
 * both: only the base URL and the headers differ. The collector echoes timestamps as they were
 * sent; the backend reformats them (`+00:00`), so they are compared as instants, never as text.
 */
import type { SpanData, TraceData } from "../../src/wire/types.js";

export interface ReadApi {
  get<T>(path: string): Promise<T>;
}

/** The read routes at `base`, with the headers that choose the key and project. */
export function readApi(base: string, headers: Record<string, string> = {}): ReadApi {
  return {
    async get<T>(path: string): Promise<T> {
      const answer = await fetch(base + path, { headers });
      if (!answer.ok) throw new Error(`GET ${path} answered ${answer.status}: ${await answer.text()}`);
      return (await answer.json()) as T;
    },
  };
}

export interface SessionRead {
  session_id: string;
  trace_count: number;
  user_id: string | null;
  has_error: boolean;
}

export interface UserRead {
  user_id: string;
  trace_count: number;
  error_count: number;
}

/** A span as the read routes return it: what was sent, and the durations derived from it. */
export type SpanRead = SpanData & { latency_ms: number | null; time_to_first_token_ms: number | null };
export type TraceRead = Omit<TraceData, "spans"> & { spans: SpanRead[] };

export interface ReadBack {
  /** `GET /sessions`: every session of the project. */
  sessions: SessionRead[];
  /** `GET /sessions/{id}`: each asked-for session's trace ids, in the order it lists them. */
  sessionTraces: Record<string, string[]>;
  /** `GET /traces/{id}` of each of them. */
  traces: TraceRead[];
  /** `GET /traces/users`. */
  users: UserRead[];
}

const page = <T>(api: ReadApi, path: string) => api.get<{ items: T[]; total: number }>(`${path}?limit=100`);

/** Everything the project holds of these sessions now; throws while a session is not readable yet. */
export async function readBack(api: ReadApi, sessionIds: readonly string[]): Promise<ReadBack> {
  const [sessions, users, details] = await Promise.all([
    page<SessionRead>(api, "/sessions"),
    page<UserRead>(api, "/traces/users"),
    Promise.all(sessionIds.map((id) => api.get<{ traces: { trace_id: string }[] }>(`/sessions/${encodeURIComponent(id)}`))),
  ]);
  const sessionTraces = Object.fromEntries(sessionIds.map((id, i) => [id, details[i]!.traces.map((t) => t.trace_id)]));
  const traces = await Promise.all(Object.values(sessionTraces).flat().map((id) => api.get<TraceRead>(`/traces/${id}`)));
  return { sessions: sessions.items, sessionTraces, traces, users: users.items };
}

/**
 * Reads until `check` passes (the backend persists asynchronously; a demo flushes every second),
 * and returns what passed; past the deadline, the last failure is thrown.
 */
export async function readUntil(read: () => Promise<ReadBack>, check: (read: ReadBack) => void, timeoutMs: number): Promise<ReadBack> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const result = await read();
      check(result);
      return result;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}
