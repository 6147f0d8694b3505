/**
 * Delivery to the real PandaProbe backend (FastAPI + Celery worker + PostgreSQL + Redis), read back
 * through its own API. Each test has its own API key (its own rate-limit window) and project.
 */
import { afterAll, describe, expect, inject, it } from "vitest";
import { resolveConfig } from "../../src/config/options.js";
import type { Exporter } from "../../src/export/types.js";
import { Client, PandaProbeError, session, setSession, setUser, user } from "../../src/index.js";
import { nodePlatform } from "../../src/platform/node.js";
import { contractCheckingFetch, freshAccount, poll, type Account } from "./kit.js";

const kit = inject("backend");
const accounts: Account[] = [];
const clients: Client[] = [];
afterAll(async () => {
  await Promise.all(clients.map((c) => c.shutdown()));
  await Promise.all(accounts.map((a) => a.revoke()));
});

async function account(name: string): Promise<Account> {
  const a = await freshAccount(kit, name);
  accounts.push(a);
  return a;
}

interface Page<T> {
  items: T[];
  total: number;
}

/** A client sending to the backend as `a`, every body checked against the contract, every report kept. */
function clientFor(a: Account, violations: string[], reports: PandaProbeError[]): Client {
  const c = new Client({ apiKey: a.apiKey, projectName: a.projectName, endpoint: kit.endpoint, fetch: contractCheckingFetch(violations) }, {});
  c.onError((error) => reports.push(error as PandaProbeError));
  clients.push(c);
  return c;
}

/** What the backend accepted, `limit` at a time. */
async function allTraces(a: Account): Promise<{ trace_id: string; name: string; session_id: string | null; user_id: string | null }[]> {
  const out = [];
  for (let offset = 0; ; offset += 200) {
    const page = await a.get<Page<{ trace_id: string; name: string; session_id: string | null; user_id: string | null }>>(
      `/traces?limit=200&offset=${offset}`,
    );
    out.push(...page.items);
    if (out.length >= page.total || page.items.length === 0) return out;
  }
}

describe("against the real backend", () => {
  it("a burst of 150 traces from one key (limit: 100 per minute) is persisted in full", async () => {
    const a = await account("burst");
    const violations: string[] = [];
    const reports: PandaProbeError[] = [];
    const c = clientFor(a, violations, reports);

    const started = performance.now();
    const names = Array.from({ length: 150 }, (_, i) => `burst-${i}`);
    for (const name of names) c.startTrace(name).end();
    await c.flush();
    const seconds = (performance.now() - started) / 1000;
    console.log(`[test:backend] 150-trace burst against 100 POST /traces per minute: all accepted after ${seconds.toFixed(1)} s`);

    const persisted = await poll(
      async () => {
        const traces = await allTraces(a);
        return traces.length >= names.length ? traces : undefined;
      },
      60_000,
      "150 traces persisted",
    );
    expect(persisted.map((t) => t.name).sort()).toEqual([...names].sort());
    // Only delays were reported: the rate limit was waited out, nothing given up.
    expect(reports.filter((r) => !(r.status === 429 && r.message.includes("delayed")))).toEqual([]);
    expect(reports.length).toBeGreaterThan(0);
    expect(violations).toEqual([]);
  });

  it("a score sent right after each of 20 traces is persisted, every one", async () => {
    const a = await account("scores");
    const violations: string[] = [];
    const reports: PandaProbeError[] = [];
    const options = { apiKey: a.apiKey, projectName: a.projectName, endpoint: kit.endpoint, fetch: contractCheckingFetch(violations) };
    // The Node exporter, given each envelope's trace id from its body (what the client is to set itself).
    const inner = nodePlatform.createExporter(resolveConfig(options, undefined, undefined), {
      report: (e) => reports.push(e),
      log: undefined,
    });
    const exporter: Exporter = {
      enqueue: (e) => inner.enqueue({ ...e, traceId: (JSON.parse(e.body) as { trace_id: string }).trace_id }),
      flush: (timeoutMs) => inner.flush(timeoutMs),
      shutdown: (timeoutMs) => inner.shutdown(timeoutMs),
    };
    const c = new Client({ exporter }, {});
    clients.push(c);

    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const t = c.startTrace(`scored-${i}`);
      t.end();
      c.score(t.traceId, "quality", i % 2 === 0 ? 1 : 0.5, { reason: `trace ${i}` });
      ids.push(t.traceId);
    }
    await c.flush();

    for (const [i, id] of ids.entries()) {
      const scores = await poll(
        async () => {
          const found = await a.get<{ name: string; value: string; reason: string }[]>(`/evaluations/trace-scores/${id}`);
          return found.length > 0 ? found : undefined;
        },
        30_000,
        `the score of trace ${i} persisted`,
      );
      expect(scores).toEqual([expect.objectContaining({ name: "quality", reason: `trace ${i}` })]);
      expect(Number(scores[0]!.value)).toBe(i % 2 === 0 ? 1 : 0.5);
    }
    expect(reports).toEqual([]);
    expect(violations).toEqual([]);
  });

  it("a trace of 600 spans is persisted with all of them", async () => {
    const a = await account("spans");
    const violations: string[] = [];
    const reports: PandaProbeError[] = [];
    const c = clientFor(a, violations, reports);

    const t = c.startTrace("six-hundred");
    for (let i = 0; i < 600; i++) t.span(`step-${i}`).end();
    t.end();
    await c.flush();

    const stored = await poll(
      async () => {
        const trace = await a.get<{ name: string; spans: { name: string }[] }>(`/traces/${t.traceId}`);
        return trace.spans.length >= 600 ? trace : undefined;
      },
      60_000,
      "600 spans persisted",
    );
    expect(stored.name).toBe("six-hundred");
    expect(new Set(stored.spans.map((s) => s.name)).size).toBe(600);
    expect(reports).toEqual([]);
    expect(violations).toEqual([]);
  });

  it("session and user: explicit ids win over session()/user(), which win over setSession/setUser", async () => {
    const a = await account("ids");
    const violations: string[] = [];
    const reports: PandaProbeError[] = [];
    const c = clientFor(a, violations, reports);

    setSession("session-set");
    setUser("user-set");
    try {
      c.startTrace("imperative").end();
      session("session-scoped", () =>
        user("user-scoped", () => {
          c.startTrace("scoped").end();
          c.startTrace("explicit", { sessionId: "session-explicit", userId: "user-explicit" }).end();
        }),
      );
    } finally {
      setSession(undefined);
      setUser(undefined);
    }
    await c.flush();

    const traces = await poll(
      async () => {
        const all = await allTraces(a);
        return all.length >= 3 ? all : undefined;
      },
      30_000,
      "3 traces persisted",
    );
    const ids = Object.fromEntries(traces.map((t) => [t.name, [t.session_id, t.user_id]]));
    expect(ids).toEqual({
      imperative: ["session-set", "user-set"],
      scoped: ["session-scoped", "user-scoped"],
      explicit: ["session-explicit", "user-explicit"],
    });

    const sessions = await a.get<Page<{ session_id: string; trace_count: number }>>("/sessions?limit=50");
    expect(sessions.items.map((s) => [s.session_id, s.trace_count]).sort()).toEqual([
      ["session-explicit", 1],
      ["session-scoped", 1],
      ["session-set", 1],
    ]);
    const users = await a.get<Page<{ user_id: string; trace_count: number }>>("/traces/users?limit=50");
    expect(users.items.map((u) => [u.user_id, u.trace_count]).sort()).toEqual([
      ["user-explicit", 1],
      ["user-scoped", 1],
      ["user-set", 1],
    ]);
    expect(reports).toEqual([]);
    expect(violations).toEqual([]);
  });
});
