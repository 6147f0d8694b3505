/**
 * continueTrace on a server: the work of a request that carries a PandaProbe trace context joins
 * that trace as spans under the caller's span, sent to `POST /traces/{id}/spans` only, so the
 * caller's trace fields are never touched; the session and user in scope are the server's own
 * where it has them, else the caller's. instrumentFetch adds the context to outgoing requests.
 */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  Client,
  continueTrace,
  getCurrentSpan,
  getCurrentTrace,
  getUserId,
  instrumentFetch,
  span,
  startTrace,
  traceHeaders,
  user,
  type SpanData,
} from "../../src/index.js";
import { traceToCollector, type Tracing } from "../support/tracing.js";

let tracing: Tracing;
beforeAll(async () => {
  tracing = await traceToCollector();
});
afterAll(() => tracing.close());
afterEach(() => tracing.reset());

/** A page's turn, ended, and the headers its fetch would carry from inside its `answer` span. */
function pageTurn(ids: { sessionId?: string; userId?: string } = {}) {
  let headers: Record<string, string> = {};
  let answerSpanId = "";
  const t = startTrace("chat-turn", { input: "hi", ...ids });
  t.span("answer", undefined, (s) => {
    answerSpanId = s.spanId;
    headers = traceHeaders();
  });
  t.end();
  return { traceId: t.traceId, answerSpanId, headers };
}

async function serverSpans(traceId: string): Promise<SpanData[]> {
  await tracing.client.flush();
  return tracing.collector
    .spanBatches()
    .filter((b) => b.traceId === traceId)
    .flatMap((b) => b.spans);
}

describe("continueTrace", () => {
  it("sends the server's spans under the caller's span to POST /traces/{id}/spans, never the trace itself", async () => {
    const turn = pageTurn({ sessionId: "conv-1" });
    const tool = span(async (q: string) => `found ${q}`, { name: "lookup", kind: "TOOL" });
    const result = await continueTrace({ method: "POST", url: "/api/chat?x=1", headers: turn.headers }, async () => {
      getCurrentTrace()!.setOutput("set on the server: not sent");
      return tool("docs");
    });
    expect(result).toBe("found docs");

    const spans = await serverSpans(turn.traceId);
    const server = spans.find((s) => s.name === "POST /api/chat")!;
    expect(server).toMatchObject({ parent_span_id: turn.answerSpanId, kind: "OTHER", status: "OK" });
    expect(spans.find((s) => s.name === "lookup")).toMatchObject({ parent_span_id: server.span_id, output: "found docs" });
    // The caller's trace body is the only one for this trace id: the server sent no trace fields.
    expect(tracing.collector.traces().filter((t) => t.trace_id === turn.traceId).map((t) => t.name)).toEqual(["chat-turn"]);
    expect(JSON.stringify(spans)).not.toContain("set on the server");
  });

  it("reads Fetch Headers and Requests, Node's header objects and plain records alike", async () => {
    const turn = pageTurn();
    const carriers = [
      new Headers(turn.headers),
      new Request("http://app.test/api/chat", { method: "PUT", headers: turn.headers }),
      { "TraceParent": turn.headers.traceparent!, tracestate: [turn.headers.tracestate!] },
    ];
    for (const carrier of carriers) continueTrace(carrier, () => getCurrentTrace()?.span("step").end());
    const spans = await serverSpans(turn.traceId);
    expect(spans.filter((s) => s.parent_span_id === turn.answerSpanId).map((s) => s.name)).toEqual(["server", "PUT /api/chat", "server"]);
  });

  it("takes the caller's session and user where the server has none, and the server's own where it has them", async () => {
    const turn = pageTurn({ sessionId: "conv-2", userId: "mallory" });
    const seen = {
      caller: continueTrace(turn.headers, () => getUserId()),
      scoped: user("alice", () => continueTrace(turn.headers, () => getUserId())),
      explicit: continueTrace(turn.headers, () => getCurrentTrace()!.userId, { userId: "bob" }),
      pinnedNone: continueTrace(turn.headers, () => getCurrentTrace()!.userId, { userId: undefined }),
      session: continueTrace(turn.headers, () => getCurrentTrace()!.sessionId),
    };
    expect(seen).toEqual({ caller: "mallory", scoped: "alice", explicit: "bob", pinnedNone: undefined, session: "conv-2" });
  });

  it("records what fn throws on the server's span and rethrows it unchanged", async () => {
    const turn = pageTurn();
    const error = new Error("model down");
    await expect(continueTrace(turn.headers, async () => Promise.reject(error), { name: "chat" })).rejects.toBe(error);
    const [server] = await serverSpans(turn.traceId);
    expect(server).toMatchObject({ name: "chat", status: "ERROR" });
    expect(server!.error).toContain("model down");
  });

  it("runs fn as it is without a PandaProbe context, or with one that does not parse", async () => {
    const garbage = [undefined, null, {}, { traceparent: "00-nonsense" }, { traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169204331-01" }];
    for (const carrier of garbage) expect(continueTrace(carrier, () => getCurrentTrace())).toBeUndefined();
    await tracing.client.flush();
    expect(tracing.collector.requests).toEqual([]);
  });

  it("hands the context on from inside a continued trace: a third tier hangs under the server's span", () => {
    const turn = pageTurn({ userId: "u" });
    const { onward, serverSpan } = continueTrace(turn.headers, () => ({ onward: traceHeaders(), serverSpan: getCurrentSpan()! }));
    expect(onward.traceparent).toContain(turn.headers.traceparent!.slice(3, 35));
    expect(onward.tracestate).toBe(`pandaprobe=${serverSpan.spanId.replace(/-/g, "")}`);
    expect(onward.baggage).toBe("pandaprobe.user_id=u");
  });

  it("gives no headers outside a trace", () => {
    expect(traceHeaders()).toEqual({});
  });
});

describe("sampling across tiers", () => {
  const pageClient = (options: { sampleRate?: number; enabled?: boolean }) =>
    new Client({ apiKey: "sk_pp_test", projectName: "page", endpoint: tracing.collector.url, ...options }, {});

  it("a trace the page sampled out hands its decision on: the server, sampling everything, records none of it, nor the tiers after it", async () => {
    const page = pageClient({ sampleRate: 0 });
    const t = page.startTrace("chat-turn");
    const headers = traceHeaders(t);
    expect(headers).toEqual({ traceparent: `00-${t.traceId.replace(/-/g, "")}-${t.traceId.replace(/-/g, "").slice(0, 16)}-00`, tracestate: "pandaprobe=t" });

    const tool = span(async (q: string) => `found ${q}`, { name: "lookup", kind: "TOOL" });
    const seen = await continueTrace(headers, async () => ({
      recording: getCurrentTrace()!.recording,
      result: await tool("docs"),
      onward: traceHeaders(),
    }));
    expect(seen.recording).toBe(false);
    expect(seen.result).toBe("found docs");
    expect(seen.onward).toEqual(headers);
    await Promise.all([tracing.client.flush(), page.shutdown()]);
    expect(tracing.collector.requests).toEqual([]);
  });

  it("a trace the page kept is kept by the server too, whatever the server's own rate", async () => {
    const server = new Client({ apiKey: "sk_pp_test", projectName: "server", endpoint: tracing.collector.url, sampleRate: 0 }, {});
    const turn = pageTurn();
    const onward = continueTrace(turn.headers, () => traceHeaders(), { client: server });
    expect(onward.traceparent).toMatch(/-01$/);
    // A trace that starts on the server is its own rate's to decide.
    expect(server.startTrace("own").recording).toBe(false);
    await server.shutdown();
    const spans = await serverSpans(turn.traceId);
    expect(spans.map((s) => [s.name, s.parent_span_id])).toEqual([["server", turn.answerSpanId]]);
    const projects = tracing.collector.requests.filter((r) => r.path.endsWith("/spans")).map((r) => r.headers["x-project-name"]);
    expect(projects).toEqual(["server"]);
  });

  it("a trace of a page whose tracing is off hands nothing on: the server traces on its own", async () => {
    const t = pageClient({ enabled: false }).startTrace("chat-turn");
    expect(traceHeaders(t)).toEqual({});
    expect(continueTrace(traceHeaders(t), () => getCurrentTrace())).toBeUndefined();
  });
});

describe("instrumentFetch on a server", () => {
  let server: Server;
  let base: string;
  const received: IncomingHttpHeaders[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      received.push(req.headers);
      res.end("ok");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("adds the headers only to the origins named, keeps the app's own, and undoes cleanly", async () => {
    const original = globalThis.fetch;
    const undo = instrumentFetch({ propagateTo: [base] });
    try {
      const patched = globalThis.fetch;
      instrumentFetch(); // a second call changes nothing
      expect(globalThis.fetch).toBe(patched);
      received.length = 0;
      await startTrace("outgoing", undefined, async (t) => {
        await t.span("call", undefined, async () => {
          await fetch(`${base}/a`, { headers: { baggage: "app=1" } });
          await fetch(new Request(`${base}/b`, { headers: { traceparent: "00-11111111111111111111111111111111-2222222222222222-01" } }));
          await fetch(`http://localhost:${new URL(base).port}/c`);
        });
      });
      await fetch(`${base}/outside`);
    } finally {
      undo();
    }
    expect(globalThis.fetch).toBe(original);
    const [a, b, c, outside] = received;
    expect(a!.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(a!.tracestate).toMatch(/^pandaprobe=[0-9a-f]{32}$/);
    expect(a!.baggage).toBe("app=1");
    expect(b!.traceparent).toBe("00-11111111111111111111111111111111-2222222222222222-01");
    expect(b!.tracestate).toBeUndefined();
    expect(c!.traceparent).toBeUndefined();
    expect(outside!.traceparent).toBeUndefined();
  });
});
