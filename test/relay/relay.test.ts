/**
 * The relay end to end over real HTTP: a browser-like `fetch` -> node:http server running the
 * WHATWG handler through `toNodeHandler` -> the fake PandaProbe collector on 127.0.0.1.
 */
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync, gzipSync } from "node:zlib";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Client } from "../../src/index.js";
import { browserPlatform } from "../../src/platform/browser.js";
import { createRelayHandler, toNodeHandler } from "../../src/relay/index.js";
import type { NodeHandler, RelayHandler, RelayOptions } from "../../src/relay/index.js";
import { SDK_VERSION } from "../../src/base/version.js";
import type { TraceData, TraceScoreData } from "../../src/wire/types.js";
import { startCollector } from "../support/collector.js";
import type { Collector } from "../support/collector.js";

const API_KEY = "sk_pp_relay_server_secret_4f9a";
const PROJECT = "relay-tests";
const MOUNT = "/api/pandaprobe";

let collector: Collector;
const servers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  collector = await startCollector({ apiKey: API_KEY, projectName: PROJECT });
});
afterEach(async () => {
  collector.reset();
  await Promise.all(servers.splice(0).map((close) => close()));
});
afterAll(async () => {
  await collector.close();
});

function fixture(name: string): TraceData {
  return JSON.parse(readFileSync(new URL(`../fixtures/${name}`, import.meta.url), "utf8")) as TraceData;
}

const score = (): TraceScoreData => ({
  trace_id: "a1b2c3d4-0007-4000-8000-000000000001",
  name: "helpfulness",
  value: "0.9",
  data_type: "NUMERIC",
  source: "PROGRAMMATIC",
});

/** Serves a Node listener on 127.0.0.1 and returns its base URL; closed after each test. */
async function listen(listener: NodeHandler): Promise<string> {
  const server = createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  servers.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A relay mounted at `/api/pandaprobe` of a Node server, forwarding to the collector. */
async function relay(options: Partial<RelayOptions> = {}): Promise<string> {
  const handler = createRelayHandler({ apiKey: API_KEY, projectName: PROJECT, endpoint: collector.url, ...options });
  return (await listen(toNodeHandler(handler))) + MOUNT;
}

/** What the browser SDK does: POST JSON, no credentials. */
function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

describe("relay: forwarding the ingestion routes", () => {
  it("forwards a trace with the server's key and project, and passes PandaProbe's 202 back", async () => {
    const handler = toNodeHandler(createRelayHandler({ apiKey: API_KEY, projectName: PROJECT, endpoint: collector.url }));
    const browserSent: Record<string, unknown>[] = [];
    const origin = await listen((req, res) => {
      browserSent.push({ ...req.headers });
      handler(req, res);
    });
    const trace = fixture("trace-summarization.json");

    const res = await post(`${origin}${MOUNT}/traces`, trace, { "x-request-id": "req-123" });

    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ trace_id: trace.trace_id, task_id: expect.stringMatching(/^task-/) });
    expect(browserSent).toHaveLength(1);
    expect(Object.keys(browserSent[0]!).filter((h) => /key|project|authorization/.test(h))).toEqual([]);
    expect(collector.requests).toHaveLength(1);
    const got = collector.requests[0]!;
    expect(got.path).toBe("/traces");
    expect(got.headers["x-api-key"]).toBe(API_KEY);
    expect(got.headers["x-project-name"]).toBe(PROJECT);
    expect(got.headers["content-type"]).toBe("application/json");
    expect(got.headers["user-agent"]).toBe(`pandaprobe-js-relay/${SDK_VERSION}`);
    expect(got.headers["x-request-id"]).toBe("req-123");
    expect(collector.traces()).toEqual([trace]);
    expect(collector.contractFailures).toEqual([]);
  });

  it("uses its own key, not one a page puts on the request", async () => {
    const base = await relay();
    const res = await post(`${base}/traces`, fixture("trace-error.json"), {
      "x-api-key": "sk_pp_someone_elses",
      "x-project-name": "other-project",
    });
    expect(res.status).toBe(202);
    expect(collector.requests[0]!.headers["x-api-key"]).toBe(API_KEY);
    expect(collector.requests[0]!.headers["x-project-name"]).toBe(PROJECT);
  });

  it("forwards a span batch to /traces/{trace_id}/spans", async () => {
    const base = await relay();
    const trace = fixture("trace-error.json");
    const spans = trace.spans;
    const res = await post(`${base}/traces/${trace.trace_id}/spans`, spans);
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ span_ids: spans.map((s) => s.span_id) });
    expect(collector.spanBatches()).toEqual([{ traceId: trace.trace_id, spans }]);
  });

  it("forwards a score to /evaluations/trace-scores", async () => {
    const base = await relay();
    const res = await post(`${base}/evaluations/trace-scores`, score());
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ trace_id: score().trace_id, name: "helpfulness", value: "0.9" });
    expect(collector.scores()).toEqual([score()]);
    expect(collector.requests[0]!.path).toBe("/evaluations/trace-scores");
  });

  it("accepts application/json with parameters, in any case", async () => {
    const base = await relay();
    const res = await post(`${base}/traces`, fixture("trace-error.json"), { "content-type": "Application/JSON; charset=utf-8" });
    expect(res.status).toBe(202);
    expect(collector.traces()).toEqual([fixture("trace-error.json")]);
  });

  it("takes the biggest body a page makes by default: a trace of 3 MB arrives truncated, not refused with 413", async () => {
    const base = await relay();
    const bodies: string[] = [];
    // A client with the browser runtime's defaults, its bodies handed to the page's POST.
    const client = new Client({
      ...browserPlatform.defaults,
      apiKey: "unused",
      projectName: "unused",
      exporter: { enqueue: (e) => void bodies.push(e.body), flush: async () => {}, shutdown: async () => {} },
    });
    client.startTrace("big-answer", undefined, (t) => {
      for (let i = 0; i < 3; i++) t.span(`chunk-${i}`, { input: "x".repeat(1_000_000) }).end();
    });
    expect(bodies.length).toBeGreaterThan(0);
    for (const body of bodies) expect((await post(`${base}/traces`, body)).status).toBe(202);
    const received = collector.traces();
    expect(received.flatMap((t) => t.spans.map((s) => s.name)).sort()).toEqual(["chunk-0", "chunk-1", "chunk-2"]);
    expect(JSON.stringify(received)).toContain("[pandaprobe: truncated to fit maxPayloadSize]");
    expect(collector.contractFailures).toEqual([]);
  });

  it("accepts a body of exactly maxBodyBytes", async () => {
    const text = JSON.stringify(fixture("trace-error.json"));
    const base = await relay({ maxBodyBytes: Buffer.byteLength(text) });
    expect((await post(`${base}/traces`, text)).status).toBe(202);
    expect(collector.traces()).toHaveLength(1);
  });

  it("works under any mount path, with or without a trailing slash, ignoring the query string", async () => {
    const handler = createRelayHandler({ apiKey: API_KEY, projectName: PROJECT, endpoint: collector.url });
    const origin = await listen(toNodeHandler(handler));
    expect((await post(`${origin}/traces`, fixture("trace-error.json"))).status).toBe(202);
    expect((await post(`${origin}/a/b/c/traces/?x=1`, fixture("trace-error.json"))).status).toBe(202);
    expect(collector.requests.map((r) => r.url)).toEqual(["/traces", "/traces"]);
  });

  it("serves under an Express-style mount (url stripped, originalUrl kept) and passes adapter failures to next", async () => {
    const inner = toNodeHandler(createRelayHandler({ apiKey: API_KEY, projectName: PROJECT, endpoint: collector.url }));
    const broken = toNodeHandler(() => Promise.reject(new Error("handler bug")));
    const nextErrors: unknown[] = [];
    const origin = await listen((req, res) => {
      const mounted = Object.assign(req, { originalUrl: req.url });
      mounted.url = (req.url ?? "/").replace(MOUNT, "") || "/";
      const next = (error?: unknown) => {
        nextErrors.push(error);
        res.writeHead(599).end();
      };
      if (mounted.originalUrl?.includes("/broken/")) broken(req, res, next);
      else inner(req, res, next);
    });
    expect((await post(`${origin}${MOUNT}/traces`, fixture("trace-error.json"))).status).toBe(202);
    expect((await post(`${origin}/broken/traces`, fixture("trace-error.json"))).status).toBe(599);
    expect(nextErrors).toEqual([new Error("handler bug")]);
  });

  it("forwards a body a parser already read (express.json(), Next.js pages' bodyParser) from req.body", async () => {
    const inner = toNodeHandler(createRelayHandler({ apiKey: API_KEY, projectName: PROJECT, endpoint: collector.url }));
    // What body-parser does: read the whole stream (inflating gzip), leave the result on req.body, call next.
    const origin = await listen((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        const raw = req.headers["content-encoding"] === "gzip" ? gunzipSync(Buffer.concat(chunks)) : Buffer.concat(chunks);
        const parsed = req.url?.endsWith("/raw") ? raw : JSON.parse(raw.toString("utf8"));
        if (req.url?.endsWith("/raw")) req.url = req.url.slice(0, -"/raw".length);
        inner(Object.assign(req, { body: parsed }), res);
      });
    });
    const trace = fixture("trace-summarization.json");
    const error = fixture("trace-error.json");
    const answer = (res: Promise<Response>) =>
      Promise.race([res.then((r) => r.status), new Promise((resolve) => setTimeout(() => resolve("no answer"), 3000))]);

    expect(await answer(post(`${origin}${MOUNT}/traces`, trace))).toBe(202);
    expect(await answer(post(`${origin}${MOUNT}/traces/${error.trace_id}/spans/raw`, error.spans))).toBe(201);
    const gzipped = fetch(`${origin}${MOUNT}/traces`, {
      method: "POST",
      headers: { "content-type": "application/json", "content-encoding": "gzip" },
      body: gzipSync(JSON.stringify(error)),
    });
    expect(await answer(gzipped)).toBe(202);
    expect(collector.traces()).toEqual([trace, error]);
    expect(collector.spanBatches()).toEqual([{ traceId: error.trace_id, spans: error.spans }]);
  });

  it("answers 500 without next when the handler fails", async () => {
    const origin = await listen(toNodeHandler(() => Promise.reject(new Error("handler bug"))));
    const res = await post(`${origin}/traces`, {});
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ detail: "Relay error" });
  });
});

describe("relay: what it refuses (nothing reaches PandaProbe)", () => {
  afterEach(() => {
    expect(collector.requests).toEqual([]);
  });

  it.each(["/projects", "/traces/a1b2c3d4-0007-4000-8000-000000000001", "/traces/spans", "/evaluations", "/"])(
    "404 for the unknown route %s",
    async (path) => {
      const base = await relay();
      const res = await post(`${base}${path}`, {});
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ detail: "Not Found" });
    },
  );

  it.each(["GET", "PUT", "PATCH", "DELETE"])("405 with Allow: POST for %s on a known route", async (method) => {
    const base = await relay();
    const res = await fetch(`${base}/traces`, { method });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("POST");
  });

  it("422 for a span batch whose trace id is not a UUID", async () => {
    const base = await relay();
    const res = await post(`${base}/traces/..%2F..%2Fadmin/spans`, fixture("trace-error.json").spans);
    expect(res.status).toBe(422);
    expect(await res.json()).toEqual({ detail: "Validation error", errors: [{ field: "trace_id", message: "must be a UUID" }] });
  });

  it.each([undefined, "text/plain", "application/x-www-form-urlencoded", "application/jsonp"])(
    "415 for Content-Type %s",
    async (contentType) => {
      const base = await relay();
      const res = await fetch(`${base}/traces`, {
        method: "POST",
        headers: contentType ? { "content-type": contentType } : {},
        body: new Blob([JSON.stringify(fixture("trace-error.json"))]),
      });
      expect(res.status).toBe(415);
      expect(await res.json()).toEqual({ detail: "Content-Type must be application/json" });
    },
  );

  it("415 for a compressed body", async () => {
    const base = await relay();
    const res = await post(`${base}/traces`, "{}", { "content-encoding": "gzip" });
    expect(res.status).toBe(415);
  });

  it.each(["{not json", "", '{"a":1}{', "\u00ff"])("400 for the body %j", async (text) => {
    const base = await relay();
    const res = await post(`${base}/traces`, text);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ detail: "Body is not valid JSON" });
  });

  it("400 for bytes that are not UTF-8", async () => {
    const base = await relay();
    const res = await fetch(`${base}/traces`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: new Uint8Array([0x22, 0xc3, 0x28, 0x22]),
    });
    expect(res.status).toBe(400);
  });

  it("422 with the backend's error shape for a body that breaks the contract", async () => {
    const base = await relay();
    const trace = fixture("trace-summarization.json") as TraceData & Record<string, unknown>;
    trace.spans[0]!.kind = "BOGUS" as never;
    trace.name = "";
    trace["page_secret"] = "smuggled";

    const res = await post(`${base}/traces`, trace);

    expect(res.status).toBe(422);
    expect(await res.json()).toEqual({
      detail: "Validation error",
      errors: [
        { field: "name", message: "must be at least 1 character(s)" },
        { field: "spans.0.kind", message: "must be one of AGENT, TOOL, LLM, RETRIEVER, CHAIN, EMBEDDING, OTHER" },
        { field: "page_secret", message: "unknown field" },
      ],
    });
  });

  it("422 for a span batch of 501 and for an invalid score", async () => {
    const base = await relay();
    const span = fixture("trace-error.json").spans[0]!;
    const batch = await post(`${base}/traces/${fixture("trace-error.json").trace_id}/spans`, Array(501).fill(span));
    expect(batch.status).toBe(422);
    expect(((await batch.json()) as { errors: unknown[] }).errors).toEqual([{ field: "body", message: "must have at most 500 items" }]);
    const bad = await post(`${base}/evaluations/trace-scores`, { ...score(), value: 0.9, source: "ANNOTATION" });
    expect(bad.status).toBe(422);
    expect(((await bad.json()) as { errors: { field: string }[] }).errors.map((e) => e.field)).toEqual(["value", "source"]);
  });

  it("413 when Content-Length announces too much, before reading", async () => {
    const base = await relay({ maxBodyBytes: 1024 });
    const res = await post(`${base}/traces`, JSON.stringify({ pad: "x".repeat(2000) }));
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ detail: "Body exceeds 1024 bytes" });
  });

  it("413 for a streamed body without Content-Length, reading no more than needed", async () => {
    const base = await relay({ maxBodyBytes: 64 * 1024 });
    const chunk = new TextEncoder().encode(`{"pad":"${"x".repeat(16 * 1024 - 9)}`);
    const total = 256 * 1024 * 1024;
    let produced = 0;
    // A body of up to 256 MiB, made on demand: only what the server pulls is produced.
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (produced >= total) return controller.close();
        produced += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });

    const res = await fetch(`${base}/traces`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
      duplex: "half",
    } as RequestInit);

    expect(res.status).toBe(413);
    // The rest of the upload is not worth a kept-alive connection.
    expect(res.headers.get("connection")).toBe("close");
    expect(await res.json()).toEqual({ detail: "Body exceeds 65536 bytes" });
    // Far below the 256 MiB on offer: the relay stopped reading (socket buffers hold the rest).
    expect(produced).toBeLessThan(total / 8);
  });
});

describe("relay: authorize", () => {
  it("false -> 401, nothing forwarded", async () => {
    const base = await relay({ authorize: () => false });
    const res = await post(`${base}/traces`, fixture("trace-error.json"));
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ detail: "Not authorized" });
    expect(collector.requests).toEqual([]);
  });

  it("a Response is answered as is (403 here), nothing forwarded", async () => {
    const base = await relay({
      authorize: (req) =>
        req.headers.get("cookie") === "session=ok" ? true : Response.json({ detail: "Sign in first" }, { status: 403 }),
    });
    const denied = await post(`${base}/traces`, fixture("trace-error.json"));
    expect(denied.status).toBe(403);
    expect(await denied.json()).toEqual({ detail: "Sign in first" });
    expect(collector.requests).toEqual([]);

    const allowed = await post(`${base}/traces`, fixture("trace-error.json"), { cookie: "session=ok" });
    expect(allowed.status).toBe(202);
    expect(collector.traces()).toHaveLength(1);
  });

  it("is asked before the body is read: an unauthorized oversized body is a 401, not a 413", async () => {
    const base = await relay({ authorize: async () => false, maxBodyBytes: 10 });
    expect((await post(`${base}/traces`, fixture("trace-error.json"))).status).toBe(401);
  });

  it("{ userId } stamps every trace with the server's user, whatever the page claimed", async () => {
    const base = await relay({ authorize: async (req) => ({ userId: `user-${req.headers.get("cookie")?.slice(4)}` }) });
    const claimed = { ...fixture("trace-error.json"), user_id: "user-mallory" };
    const { user_id: _none, ...unclaimed } = fixture("trace-summarization.json");

    expect((await post(`${base}/traces`, claimed, { cookie: "uid=alice" })).status).toBe(202);
    expect((await post(`${base}/traces`, unclaimed, { cookie: "uid=alice" })).status).toBe(202);
    expect((await post(`${base}/evaluations/trace-scores`, score(), { cookie: "uid=alice" })).status).toBe(201);

    expect(collector.traces().map((t) => [t.trace_id, t.user_id])).toEqual([
      [claimed.trace_id, "user-alice"],
      [unclaimed.trace_id, "user-alice"],
    ]);
    expect(collector.traces()[0]).toEqual({ ...claimed, user_id: "user-alice" });
    expect(collector.scores()).toEqual([score()]);
  });

  it("{ userId: undefined } (no signed-in user, as in the README's example) drops the user_id a page claims", async () => {
    const sessions: Record<string, { userId: string }> = { "sid=alice": { userId: "user-alice" } };
    const base = await relay({ authorize: (req) => ({ userId: sessions[req.headers.get("cookie") ?? ""]?.userId }) });
    const { user_id: _none, ...anonymous } = fixture("trace-error.json");

    expect((await post(`${base}/traces`, { ...anonymous, user_id: "user-alice" })).status).toBe(202);
    expect((await post(`${base}/traces`, { ...anonymous, user_id: "user-mallory" }, { cookie: "sid=alice" })).status).toBe(202);

    expect(collector.traces()).toEqual([anonymous, { ...anonymous, user_id: "user-alice" }]);
  });

  it("true and {} accept without touching user_id", async () => {
    for (const answer of [true, {}] as const) {
      const base = await relay({ authorize: () => answer });
      expect((await post(`${base}/traces`, fixture("trace-error.json"))).status).toBe(202);
    }
    expect(collector.traces().map((t) => t.user_id)).toEqual(["user-sarah-chen-1104", "user-sarah-chen-1104"]);
  });

  it("a throwing authorize -> 500 with a generic message, nothing forwarded", async () => {
    const base = await relay({
      authorize: () => {
        throw new Error("db password hunter2 rejected");
      },
    });
    const res = await post(`${base}/traces`, fixture("trace-error.json"));
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({ detail: "Relay authorization failed" });
    expect(text).not.toContain("hunter2");
    expect(collector.requests).toEqual([]);
  });

  it("an answer it does not understand fails closed (500)", async () => {
    const base = await relay({ authorize: (() => undefined) as unknown as RelayOptions["authorize"] });
    expect((await post(`${base}/traces`, fixture("trace-error.json"))).status).toBe(500);
    const numeric = await relay({ authorize: () => ({ userId: 42 as unknown as string }) });
    expect((await post(`${numeric}/traces`, fixture("trace-error.json"))).status).toBe(500);
    // Looks like a rejection to a hurried reader; accepting it would fail open.
    const statusObject = await relay({ authorize: () => ({ status: 403 }) as unknown as boolean });
    expect((await post(`${statusObject}/traces`, fixture("trace-error.json"))).status).toBe(500);
    // A Response from another fetch implementation is not a Response of this runtime.
    const responseLike = await relay({ authorize: () => Object.create({ status: 403, headers: new Headers() }) });
    expect((await post(`${responseLike}/traces`, fixture("trace-error.json"))).status).toBe(500);
    expect(collector.requests).toEqual([]);
  });

  it("a userId over the 255-character limit is reported as a user_id error, not forwarded", async () => {
    const base = await relay({ authorize: () => ({ userId: "u".repeat(256) }) });
    const res = await post(`${base}/traces`, fixture("trace-error.json"));
    expect(res.status).toBe(422);
    expect(((await res.json()) as { errors: { field: string }[] }).errors.map((e) => e.field)).toEqual(["user_id"]);
    expect(collector.requests).toEqual([]);
  });
});

describe("relay: upstream answers", () => {
  it("passes a 429 back with its Retry-After", async () => {
    const base = await relay();
    collector.respond(() => ({ status: 429, headers: { "Retry-After": "7" }, body: { detail: "Rate limit exceeded" } }));
    const res = await post(`${base}/traces`, fixture("trace-error.json"));
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("7");
    expect(await res.json()).toEqual({ detail: "Rate limit exceeded" });
  });

  it("turns PandaProbe's 429 without Retry-After into one that says how long the window lasts, and answers for it meanwhile", async () => {
    const base = await relay();
    let accepted = 0;
    // PandaProbe's limiter: a fixed window, 429 with no Retry-After once it is used up.
    collector.respond(() => (++accepted <= 3 ? undefined : { status: 429, body: { error: "Rate limit exceeded: 3 per 1 minute" } }));
    for (let i = 0; i < 3; i++) expect((await post(`${base}/traces`, fixture("trace-error.json"))).status).toBe(202);
    const limited = await post(`${base}/traces`, fixture("trace-error.json"));
    expect(limited.status).toBe(429);
    const wait = Number(limited.headers.get("retry-after"));
    // The rest of the minute that opened with the first request, and never 0 (an immediate retry).
    expect(wait).toBeGreaterThanOrEqual(55);
    expect(wait).toBeLessThanOrEqual(61);

    const upstreamBefore = collector.requests.length;
    const paced = await post(`${base}/traces`, fixture("trace-error.json"));
    expect(paced.status).toBe(429);
    expect(Number(paced.headers.get("retry-after"))).toBeLessThanOrEqual(wait);
    expect(await paced.json()).toEqual({ detail: "Rate limit exceeded: waiting for PandaProbe's window" });
    expect(collector.requests).toHaveLength(upstreamBefore);
    // Other routes have their own limits.
    collector.respond(() => undefined);
    expect((await post(`${base}/evaluations/trace-scores`, score())).status).toBe(201);
  });

  it("holds its route for at most a minute however long PandaProbe's Retry-After asks", async () => {
    const base = await relay();
    collector.respond(() => ({ status: 429, headers: { "retry-after": "3600" }, body: { detail: "Rate limit exceeded" } }));
    const first = await post(`${base}/traces`, fixture("trace-error.json"));
    expect(first.headers.get("retry-after")).toBe("3600");
    const held = await post(`${base}/traces`, fixture("trace-error.json"));
    expect(held.status).toBe(429);
    expect(Number(held.headers.get("retry-after"))).toBeLessThanOrEqual(60);
  });

  it("waits a whole window after a 429 to its first request (another process used the key's minute)", async () => {
    const base = await relay();
    collector.respond(() => ({ status: 429, body: { error: "Rate limit exceeded: 100 per 1 minute" } }));
    const limited = await post(`${base}/traces`, fixture("trace-error.json"));
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(60);
    expect(Number(limited.headers.get("retry-after"))).toBeLessThanOrEqual(61);
  });

  it("passes PandaProbe's own 422 and 404 back as they are", async () => {
    const base = await relay();
    const upstream422 = { detail: "Validation error", errors: [{ field: "name", message: "too long for the server" }] };
    collector.respond(() => ({ status: 422, body: upstream422 }));
    const res = await post(`${base}/traces`, fixture("trace-error.json"));
    expect(res.status).toBe(422);
    expect(await res.json()).toEqual(upstream422);

    const trace = fixture("trace-error.json");
    collector.respond(() => ({ status: 404, body: { detail: `Trace ${trace.trace_id} not found` } }));
    const spans = await post(`${base}/traces/${trace.trace_id}/spans`, trace.spans);
    expect(spans.status).toBe(404);
    expect(await spans.json()).toEqual({ detail: `Trace ${trace.trace_id} not found` });
  });

  it("passes a 5xx through so the browser retries", async () => {
    const base = await relay();
    collector.respond(() => ({ status: 503, headers: { "retry-after": "2" }, body: { detail: "Service Unavailable" } }));
    const res = await post(`${base}/traces`, fixture("trace-error.json"));
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("2");
    expect(await res.json()).toEqual({ detail: "Service Unavailable" });
  });

  it("does not follow an upstream redirect (it would carry the key elsewhere): 502", async () => {
    const base = await relay();
    collector.respond(() => ({ status: 307, headers: { location: "http://127.0.0.1:9/steal" } }));
    const res = await post(`${base}/traces`, fixture("trace-error.json"));
    expect(res.status).toBe(502);
    expect(collector.requests).toHaveLength(1);
  });

  it("502 with a JSON detail when PandaProbe stalls past timeoutMs", async () => {
    const base = await relay({ timeoutMs: 300 });
    collector.respond(() => ({ stall: true }));
    const started = Date.now();
    const res = await post(`${base}/traces`, fixture("trace-error.json"));
    const elapsed = Date.now() - started;
    expect(res.status).toBe(502);
    expect(await res.json()).toEqual({ detail: "PandaProbe API did not answer within 300 ms" });
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(3000);
  });

  it("502 when PandaProbe is unreachable, without naming the upstream host", async () => {
    const closed = await startCollector();
    const endpoint = closed.url;
    await closed.close();
    const base = await relay({ endpoint });
    const res = await post(`${base}/traces`, fixture("trace-error.json"));
    expect(res.status).toBe(502);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({ detail: "PandaProbe API is unreachable" });
    expect(text).not.toContain("127.0.0.1");
  });
});

describe("relay: the API key never reaches the browser", () => {
  it("is absent from every answer, even an upstream one that quotes it", async () => {
    const answers: Response[] = [];
    const base = await relay({ maxBodyBytes: 4096, timeoutMs: 200 });
    const trace = fixture("trace-error.json");
    answers.push(await post(`${base}/traces`, trace));
    answers.push(await post(`${base}/nope`, trace));
    answers.push(await fetch(`${base}/traces`));
    answers.push(await post(`${base}/traces`, "{", { "content-type": "text/plain" }));
    answers.push(await post(`${base}/traces`, "{"));
    answers.push(await post(`${base}/traces`, { ...trace, name: "" }));
    answers.push(await post(`${base}/traces`, { pad: "x".repeat(5000) }));
    collector.respond(() => ({ status: 401, body: { detail: `Invalid API key ${API_KEY}` } }));
    answers.push(await post(`${base}/traces`, trace));
    collector.respond(() => ({ status: 429, headers: { "retry-after": "1", "x-echo": API_KEY }, body: API_KEY }));
    answers.push(await post(`${base}/traces`, trace));
    collector.respond(() => ({ stall: true }));
    // A new relay: this one holds /traces for the second the 429 asked.
    answers.push(await post(`${await relay({ timeoutMs: 200 })}/traces`, trace));
    const failing = await relay({ authorize: () => Promise.reject(new Error(API_KEY)) });
    answers.push(await post(`${failing}/traces`, trace));

    expect(answers.map((r) => r.status)).toEqual([202, 404, 405, 415, 400, 422, 413, 401, 429, 502, 500]);
    for (const answer of answers) {
      const headers = [...answer.headers].map(([k, v]) => `${k}: ${v}`).join("\n");
      const text = await answer.text();
      expect(headers).not.toContain(API_KEY);
      expect(text).not.toContain(API_KEY);
    }
    // ...while every request that did go upstream carried it.
    expect(collector.requests.map((r) => r.headers["x-api-key"])).toEqual([API_KEY, API_KEY, API_KEY, API_KEY]);
  });
});

describe("relay: CORS", () => {
  const PAGE = "https://app.example.com";

  it("answers a preflight from a listed origin with 204 and POST only", async () => {
    const base = await relay({ allowedOrigins: [PAGE] });
    const res = await fetch(`${base}/traces`, {
      method: "OPTIONS",
      headers: { origin: PAGE, "access-control-request-method": "POST", "access-control-request-headers": "content-type" },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe(PAGE);
    expect(res.headers.get("access-control-allow-methods")).toBe("POST");
    expect(res.headers.get("access-control-allow-headers")).toBe("Content-Type, X-Request-ID, X-Project-Name");
    expect(res.headers.get("vary")).toBe("Origin");
  });

  it("refuses a preflight from any other origin, and sends no CORS headers by default", async () => {
    const listed = await relay({ allowedOrigins: [PAGE] });
    const other = await fetch(`${listed}/traces`, { method: "OPTIONS", headers: { origin: "https://evil.example" } });
    expect(other.status).toBe(403);
    expect(other.headers.get("access-control-allow-origin")).toBeNull();

    const sameOriginOnly = await relay();
    const res = await fetch(`${sameOriginOnly}/traces`, { method: "OPTIONS", headers: { origin: PAGE } });
    expect(res.status).toBe(403);
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
    const posted = await post(`${sameOriginOnly}/traces`, fixture("trace-error.json"), { origin: PAGE });
    expect(posted.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("lets a listed origin's script read Retry-After (not a CORS-safelisted header), so the page waits as told", async () => {
    const base = await relay({ allowedOrigins: [PAGE] });
    collector.respond(() => ({ status: 429, headers: { "retry-after": "30" }, body: { detail: "Rate limit exceeded" } }));
    const res = await post(`${base}/traces`, fixture("trace-error.json"), { origin: PAGE });
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("30");
    const exposed = (res.headers.get("access-control-expose-headers") ?? "").split(",").map((h) => h.trim().toLowerCase());
    expect(exposed).toContain("retry-after");

    const other = await post(`${base}/traces`, fixture("trace-error.json"), { origin: "https://evil.example" });
    expect(other.headers.get("access-control-expose-headers")).toBeNull();
  });

  it("lets a listed origin read a refusal authorize answers with its own Response", async () => {
    const base = await relay({
      allowedOrigins: [PAGE],
      authorize: () => Response.json({ detail: "Sign in first" }, { status: 403, headers: { "x-app": "kept" } }),
    });
    const res = await post(`${base}/traces`, fixture("trace-error.json"), { origin: PAGE });
    // Without CORS headers the page sees a network error (retried) instead of a 403 (not retried).
    expect(res.status).toBe(403);
    expect(res.headers.get("access-control-allow-origin")).toBe(PAGE);
    expect(res.headers.get("x-app")).toBe("kept");
    expect(await res.json()).toEqual({ detail: "Sign in first" });
    expect(collector.requests).toEqual([]);
  });

  it("lets a listed origin read the answers (forwarded and refused alike)", async () => {
    const base = await relay({ allowedOrigins: [PAGE, "http://localhost:5173"] });
    const ok = await post(`${base}/traces`, fixture("trace-error.json"), { origin: PAGE });
    expect(ok.status).toBe(202);
    expect(ok.headers.get("access-control-allow-origin")).toBe(PAGE);
    const refused = await post(`${base}/traces`, "{", { origin: "http://localhost:5173" });
    expect(refused.status).toBe(400);
    expect(refused.headers.get("access-control-allow-origin")).toBe("http://localhost:5173");
  });
});

describe("relay: as an edge runtime calls it", () => {
  it("handles a WHATWG Request directly, without the Node adapter", async () => {
    const handler: RelayHandler = createRelayHandler({ apiKey: API_KEY, projectName: PROJECT, endpoint: collector.url });
    const trace = fixture("trace-summarization.json");
    const res = await handler(
      new Request("https://app.example.com/api/pandaprobe/traces", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(trace),
      }),
    );
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ trace_id: trace.trace_id });
    expect(collector.traces()).toEqual([trace]);
    expect(collector.requests[0]!.headers["x-api-key"]).toBe(API_KEY);

    const notFound = await handler(new Request("https://app.example.com/api/pandaprobe/admin", { method: "POST" }));
    expect(notFound.status).toBe(404);
  });
});
