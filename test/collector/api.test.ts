/**
 * The collector's HTTP API against the backend's contract: the seed traces are accepted, broken
 * bodies get the backend's 422 naming the field, upserts merge as the backend merges, and the read
 * routes answer with the backend's paths and shapes.
 */
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Collector } from "../../src/collector/server.js";
import { call, freshSeeds, makeTrace, SEED_DIR, startTemp, tempDir } from "./support.js";

let collector: Collector;
let base: string;
const temp = tempDir();
beforeAll(async () => {
  collector = await startTemp(join(temp.dir, "api.jsonl"));
  base = collector.url;
});
afterAll(async () => {
  await collector.close();
  temp.remove();
});

const seeds = freshSeeds();

describe.skipIf(!seeds)(`the backend's seed traces (${SEED_DIR})`, () => {
  it("accepts every example and reads each back with all its spans", async () => {
    const traces = [...seeds!].filter(([, body]) => !Array.isArray(body));
    const [, addedSpans] = [...seeds!].find(([, body]) => Array.isArray(body))!;
    for (const [file, body] of traces) {
      const answer = await call(base, "POST", "/traces", body);
      expect({ file, ...answer }).toEqual({ file, status: 202, body: { trace_id: body.trace_id, task_id: expect.any(String) } });
    }
    // 06 adds spans to the RAG trace of 02 (their parent is 02's root span).
    const rag = seeds!.get("02_rag_pipeline.json");
    const added = await call(base, "POST", `/traces/${rag.trace_id}/spans`, addedSpans);
    expect(added).toEqual({ status: 201, body: { span_ids: addedSpans.map((s: { span_id: string }) => s.span_id) } });

    for (const [, body] of traces) {
      const { status, body: read } = await call(base, "GET", `/traces/${body.trace_id}`);
      expect(status).toBe(200);
      const extra = body === rag ? addedSpans.length : 0;
      expect(read).toMatchObject({ trace_id: body.trace_id, name: body.name, status: body.status, session_id: body.session_id ?? null, user_id: body.user_id ?? null });
      expect(read.spans.map((s: { span_id: string }) => s.span_id).sort()).toEqual(
        [...body.spans, ...(extra ? addedSpans : [])].map((s: { span_id: string }) => s.span_id).sort(),
      );
    }
  });

  it("rejects broken variants of each example with 422 naming the field, and stores none of them", async () => {
    const traces = [...seeds!.values()].filter((body) => !Array.isArray(body));
    const breakages: [string, (t: any) => void][] = [
      ["name", (t) => (t.name = "")],
      ["status", (t) => (t.status = "DONE")],
      ["started_at", (t) => (t.started_at = "yesterday")],
      ["trace_id", (t) => (t.trace_id = "not-a-uuid")],
      ["session_id", (t) => (t.session_id = "s".repeat(256))],
      ["metadata", (t) => (t.metadata = "not an object")],
      ["spans.0.kind", (t) => (t.spans[0].kind = "WIDGET")],
      ["spans.0.name", (t) => delete t.spans[0].name],
      ["spans.0.cost.total", (t) => (t.spans[0].cost = { total: "0.1" })],
      ["spans.0.token_usage.prompt_tokens", (t) => (t.spans[0].token_usage = { prompt_tokens: -1 })],
    ];
    for (const seed of traces) {
      for (const [field, breakIt] of breakages) {
        const body = structuredClone(seed);
        body.trace_id = randomUUID();
        breakIt(body);
        const answer = await call(base, "POST", "/traces", body);
        expect({ field, status: answer.status, detail: answer.body.detail }).toEqual({ field, status: 422, detail: "Validation error" });
        expect(answer.body.errors.map((e: { field: string }) => e.field)).toContain(field);
        if (field !== "trace_id") expect((await call(base, "GET", `/traces/${body.trace_id}`)).status).toBe(404);
      }
    }
  });
});

describe("validation", () => {
  it("answers a body that is not JSON, a span batch for an unknown trace and an out-of-range score as the backend does", async () => {
    const notJson = await fetch(`${base}/traces`, { method: "POST", headers: { "content-type": "application/json" }, body: "{oops" });
    expect(notJson.status).toBe(422);
    expect(await notJson.json()).toEqual({ detail: "Validation error", errors: [{ field: "body", message: "must be valid JSON" }] });

    const orphan = await call(base, "POST", `/traces/${randomUUID()}/spans`, makeTrace().spans);
    expect(orphan.status).toBe(404);
    expect(orphan.body.detail).toMatch(/not found/);
    expect((await call(base, "POST", `/traces/${randomUUID()}/spans`, [])).body.errors).toEqual([{ field: "body", message: "must have at least 1 item(s)" }]);

    const trace = makeTrace();
    await call(base, "POST", "/traces", trace);
    const score = (value: string, data_type = "NUMERIC") =>
      call(base, "POST", "/evaluations/trace-scores", { trace_id: trace.trace_id, name: "quality", value, data_type, source: "PROGRAMMATIC" });
    expect(await score("1.5")).toEqual({ status: 422, body: { detail: "Validation error", errors: [{ field: "", message: "Value error, NUMERIC score must be in [0.0, 1.0]" }] } });
    expect((await score("yes", "BOOLEAN")).status).toBe(422);
    expect((await call(base, "GET", "/traces?limit=0")).body).toEqual({ detail: "Validation error", errors: [{ field: "limit", message: "must be between 1 and 200" }] });
  });
});

describe("upserts", () => {
  it("merge as the backend's: non-null scalars overwrite, metadata shallow-merges, tags union, spans upsert by span_id", async () => {
    const first = makeTrace({ spans: 2, session: "upsert-session" });
    const running = {
      ...first,
      status: "RUNNING",
      metadata: { a: 1, shared: "first" },
      tags: ["x"],
      ended_at: undefined,
      spans: [{ ...first.spans[1], status: "UNSET", ended_at: undefined, metadata: { step: 1 } }],
    };
    expect((await call(base, "POST", "/traces", running)).status).toBe(202);
    const completed = {
      trace_id: first.trace_id,
      name: "turn (renamed)",
      status: "COMPLETED",
      input: null,
      metadata: { b: 2, shared: "second" },
      tags: ["y", "x"],
      started_at: first.started_at,
      ended_at: first.ended_at,
      user_id: "late-user",
      spans: [{ ...first.spans[1], output: null, metadata: { done: true } }, first.spans[0]],
    };
    expect((await call(base, "POST", "/traces", completed)).status).toBe(202);

    const { body: read } = await call(base, "GET", `/traces/${first.trace_id}`);
    expect(read).toMatchObject({
      name: "turn (renamed)",
      status: "COMPLETED",
      input: first.input,
      metadata: { a: 1, b: 2, shared: "second" },
      tags: ["x", "y"],
      ended_at: first.ended_at,
      session_id: "upsert-session",
      user_id: "late-user",
    });
    expect(read.spans).toHaveLength(2);
    const llm = read.spans.find((s: { span_id: string }) => s.span_id === first.spans[1]!.span_id);
    expect(llm).toMatchObject({ status: "OK", output: first.spans[1]!.output, metadata: { step: 1, done: true }, parent_span_id: first.spans[0]!.span_id });
  });

  it("PATCH updates what it names (null clears, metadata merges) and validates the result", async () => {
    const trace = makeTrace({ session: "patch-session" });
    await call(base, "POST", "/traces", { ...trace, metadata: { keep: true } });
    const patched = await call(base, "PATCH", `/traces/${trace.trace_id}`, { status: "ERROR", session_id: null, metadata: { added: 1 }, name: null });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ status: "ERROR", session_id: null, name: "turn", metadata: { keep: true, added: 1 } });
    expect((await call(base, "PATCH", `/traces/${trace.trace_id}`, { status: "DONE" })).body.errors).toEqual([{ field: "status", message: expect.stringMatching(/one of/) }]);

    const spanId = trace.spans[1]!.span_id;
    const span = await call(base, "PATCH", `/traces/${trace.trace_id}/spans/${spanId}`, { status: "ERROR", error: "boom" });
    expect(span).toMatchObject({ status: 200, body: { span_id: spanId, status: "ERROR", error: "boom", model: "gpt-4o-mini" } });
    expect((await call(base, "PATCH", `/traces/${trace.trace_id}/spans/${randomUUID()}`, { error: "x" })).status).toBe(404);
  });
});

describe("read routes", () => {
  const alice = `alice-${randomUUID()}`;
  const bob = `bob-${randomUUID()}`;
  const chat = `chat-${randomUUID()}`;
  const other = `other-${randomUUID()}`;
  const t0 = Date.UTC(2030, 5, 1);
  const turns = [0, 1, 2].map((i) => makeTrace({ session: chat, user: alice, spans: 3, name: `chat-turn-${i}`, at: t0 + i * 60_000 }));
  const failing = { ...makeTrace({ session: other, user: bob, name: "failing-turn", at: t0 + 10 * 60_000 }), status: "ERROR", tags: ["flaky"] };

  beforeAll(async () => {
    // Out of order on purpose: the session lists its traces by start time, not arrival.
    for (const body of [turns[2], turns[0], failing, turns[1]]) expect((await call(base, "POST", "/traces", body)).status).toBe(202);
  });

  it("GET /traces/{id}: the trace with its spans, total_tokens and time to first token", async () => {
    const { body } = await call(base, "GET", `/traces/${turns[0]!.trace_id}`);
    expect(body).toMatchObject({ trace_id: turns[0]!.trace_id, project_id: expect.any(String), total_tokens: 30, total_cost: 0.002 });
    expect(body.spans.map((s: { name: string }) => s.name)).toEqual(["agent", "llm-1", "llm-2"]);
    expect(body.spans[1]).toMatchObject({ trace_id: turns[0]!.trace_id, latency_ms: 889, time_to_first_token_ms: 200 });
    expect((await call(base, "GET", `/traces/${randomUUID()}`)).status).toBe(404);
  });

  it("GET /traces filters by session, user, name, status and tags, and pages", async () => {
    const bySession = await call(base, "GET", `/traces?session_id=${chat}&sort_order=asc`);
    expect(bySession.body.total).toBe(3);
    expect(bySession.body.items.map((t: { name: string }) => t.name)).toEqual(["chat-turn-0", "chat-turn-1", "chat-turn-2"]);
    expect(bySession.body.items[0]).toMatchObject({ span_count: 3, total_tokens: 30, latency_ms: 1000, user_id: alice });
    expect((await call(base, "GET", `/traces?user_id=${bob}`)).body.items.map((t: { name: string }) => t.name)).toEqual(["failing-turn"]);
    expect((await call(base, "GET", `/traces?user_id=${alice}&name=TURN-1`)).body.total).toBe(1);
    expect((await call(base, "GET", `/traces?user_id=${bob}&status=ERROR&tags=flaky&tags=other`)).body.total).toBe(1);
    const paged = await call(base, "GET", `/traces?session_id=${chat}&limit=2&offset=2`);
    expect(paged.body).toMatchObject({ total: 3, limit: 2, offset: 2, items: [{ name: "chat-turn-0" }] });
  });

  it("GET /sessions and /sessions/{id}: summaries, a user's sessions, and one session's traces oldest first", async () => {
    const { body } = await call(base, "GET", `/sessions?user_id=${alice}`);
    expect(body.items).toEqual([
      expect.objectContaining({ session_id: chat, trace_count: 3, has_error: false, user_id: alice, total_span_count: 9, total_tokens: 90, total_latency_ms: 3000 }),
    ]);
    expect((await call(base, "GET", `/sessions?has_error=true&user_id=${bob}`)).body.items.map((s: { session_id: string }) => s.session_id)).toEqual([other]);
    const detail = await call(base, "GET", `/sessions/${chat}`);
    expect(detail.body).toMatchObject({ session_id: chat, trace_count: 3, first_trace_at: turns[0]!.started_at, last_trace_at: turns[2]!.ended_at });
    expect(detail.body.traces.map((t: { name: string; spans: unknown[] }) => [t.name, t.spans.length])).toEqual([
      ["chat-turn-0", 3],
      ["chat-turn-1", 3],
      ["chat-turn-2", 3],
    ]);
    expect((await call(base, "GET", `/sessions/no-such-session`)).status).toBe(404);
  });

  it("GET /traces/users: each user's trace and error counts", async () => {
    const { body } = await call(base, "GET", "/traces/users?limit=200");
    const users = Object.fromEntries(body.items.map((u: { user_id: string }) => [u.user_id, u]));
    expect(users[alice]).toMatchObject({ trace_count: 3, error_count: 0, first_seen: turns[0]!.started_at, last_seen: turns[2]!.started_at });
    expect(users[bob]).toMatchObject({ trace_count: 1, error_count: 1 });
  });

  it("POST and GET /evaluations/trace-scores: the trace's scores with their value as a string", async () => {
    const posted = await call(base, "POST", "/evaluations/trace-scores", {
      trace_id: turns[1]!.trace_id,
      name: "helpful",
      value: "true",
      data_type: "BOOLEAN",
      source: "PROGRAMMATIC",
      reason: "user clicked thumbs up",
    });
    expect(posted).toMatchObject({ status: 201, body: { id: expect.any(String), value: "true", status: "SUCCESS" } });
    const { body } = await call(base, "GET", `/evaluations/trace-scores/${turns[1]!.trace_id}`);
    expect(body).toEqual([expect.objectContaining({ name: "helpful", value: "true", data_type: "BOOLEAN", source: "PROGRAMMATIC", reason: "user clicked thumbs up", metadata: {} })]);
    const orphan = await call(base, "POST", "/evaluations/trace-scores", { trace_id: randomUUID(), name: "helpful", value: "0.5", data_type: "NUMERIC", source: "PROGRAMMATIC" });
    expect(orphan.status).toBe(404);
  });
});
