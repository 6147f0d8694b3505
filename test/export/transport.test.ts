/**
 * The whole client against a real HTTP collector on 127.0.0.1: headers, flush and batching,
 * retries and what is not retried, concurrency and keep-alive, the bounded queue, debug output,
 * shutdown, scores, and the life of a Node process that traces.
 */
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import {
  Client,
  init,
  onError,
  PandaProbeError,
  score,
  ScoreDataType,
  shutdown,
  startTrace,
  type PandaProbeOptions,
} from "../../src/index.js";
import { buildNodeSdk, type BuiltSdk } from "../support/sdk-child.js";
import { startCollector, type Collector, type Reply } from "../support/collector.js";

const VERSION = (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;
const API_KEY = "sk_pp_transport_5c1e0b7a";
const PROJECT = "transport-tests";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

let collector: Collector;
const clients: Client[] = [];
const unsubscribes: (() => void)[] = [];

/** A client of this test, sending to the collector; process.env is not read. */
function client(options: PandaProbeOptions = {}): Client {
  const c = new Client(
    { apiKey: API_KEY, projectName: PROJECT, endpoint: collector.url, flushInterval: 0.05, timeout: 5, ...options },
    {},
  );
  clients.push(c);
  return c;
}

/** Collects what a client (and the module-level onError) reports. */
function errorsOf(c: Client): PandaProbeError[] {
  const errors: PandaProbeError[] = [];
  unsubscribes.push(c.onError((e) => errors.push(e as PandaProbeError)));
  return errors;
}

/** Scripts answers for `POST /traces` only, in order; later requests get the default answer. */
function scriptTraces(...replies: (() => Reply)[]) {
  let n = 0;
  collector.respond((req) => (req.path === "/traces" && n < replies.length ? replies[n++]!() : undefined));
}

const traceNames = () => collector.traces().map((t) => t.name);

beforeEach(async () => {
  collector = await startCollector();
});

afterEach(async () => {
  vi.restoreAllMocks();
  for (const off of unsubscribes.splice(0)) off();
  collector.respond();
  await Promise.all(clients.splice(0).map((c) => c.shutdown()));
  await shutdown();
  // Every body the SDK sent, in every test, met the API's contract.
  expect(collector.contractFailures).toEqual([]);
  await collector.close();
});

describe("requests", () => {
  it("carry the key, the project, JSON content type, the SDK's user agent and a fresh request id", async () => {
    const c = client();
    const t = c.startTrace("one");
    t.end();
    c.startTrace("two").end();
    c.score(t.traceId, "quality", 1);
    await c.flush();

    expect(collector.requests).toHaveLength(3);
    for (const r of collector.requests) {
      expect(r.method).toBe("POST");
      expect(r.headers["x-api-key"]).toBe(API_KEY);
      expect(r.headers["x-project-name"]).toBe(PROJECT);
      expect(r.headers["content-type"]).toBe("application/json");
      expect(r.headers["user-agent"]).toBe(`pandaprobe-js/${VERSION}`);
      expect(r.headers["x-request-id"]).toMatch(UUID);
    }
    expect(new Set(collector.requests.map((r) => r.headers["x-request-id"])).size).toBe(3);
    expect(collector.requests.map((r) => r.path).sort()).toEqual(["/evaluations/trace-scores", "/traces", "/traces"]);
  });

  it("go to the endpoint's routes whether or not it ends with a slash", async () => {
    const c = client({ endpoint: `${collector.url}/` });
    c.startTrace("slash").end();
    await c.flush();
    expect(collector.requests.map((r) => r.url)).toEqual(["/traces"]);
  });
});

describe("flush and batching", () => {
  it("flush() resolves once everything enqueued before it is delivered", async () => {
    const c = client({ batchSize: 100, flushInterval: 60 });
    const names = ["a", "b", "c", "d", "e", "f", "g"];
    for (const name of names) c.startTrace(name).end();
    expect(collector.requests).toHaveLength(0);
    await c.flush();
    // No waiting: on resolution the collector has already answered every one.
    expect(traceNames().sort()).toEqual(names);
    await expect(c.flush()).resolves.toBeUndefined();
  });

  it("flush() waits for what was queued before it, not for what comes after", async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    collector.respond(async (req) => {
      if ((req.json as { name?: string } | undefined)?.name === "late") await held;
      return undefined;
    });
    const c = client({ batchSize: 100, flushInterval: 60 });
    c.startTrace("early").end();
    const first = c.flush();
    c.startTrace("late").end();
    const second = c.flush();
    await first;
    expect(traceNames()).toEqual(["early"]);

    const state = { settled: false };
    void second.then(() => (state.settled = true));
    await collector.waitFor((rs) => rs.length === 2);
    await sleep(100);
    expect(state.settled).toBe(false);
    release();
    await second;
    expect(traceNames()).toEqual(["early", "late"]);
  });

  it("sends as soon as batchSize traces wait, without flush()", async () => {
    const c = client({ batchSize: 5, flushInterval: 60 });
    for (let i = 0; i < 4; i++) c.startTrace(`t${i}`).end();
    await sleep(200);
    expect(collector.requests).toHaveLength(0);
    c.startTrace("t4").end();
    await collector.waitFor(() => collector.traces().length === 5, 2000);
  });

  it("sends what waits every flushInterval seconds, without flush()", async () => {
    const c = client({ batchSize: 100, flushInterval: 0.05 });
    const started = Date.now();
    c.startTrace("on-interval").end();
    await collector.waitFor(() => collector.traces().length === 1, 2000);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe("retries", () => {
  it("429 with Retry-After: 1 is retried after a second, and delivered", async () => {
    scriptTraces(() => ({ status: 429, headers: { "Retry-After": "1" }, body: { detail: "Rate limit exceeded" } }));
    const c = client();
    const errors = errorsOf(c);
    c.startTrace("rate-limited").end();
    await c.flush();

    const [first, second] = collector.requests;
    expect(collector.requests).toHaveLength(2);
    expect(first!.status).toBe(429);
    expect(second!.status).toBe(202);
    expect(second!.receivedAt - first!.receivedAt).toBeGreaterThanOrEqual(950);
    expect(second!.body).toBe(first!.body);
    expect(second!.headers["x-request-id"]).not.toBe(first!.headers["x-request-id"]);
    expect(traceNames()).toEqual(["rate-limited"]);
    expect(errors).toEqual([]);
  });

  it("500 then 503 are retried, and the trace delivered", async () => {
    scriptTraces(
      () => ({ status: 500, body: { detail: "Internal Server Error" } }),
      () => ({ status: 503, body: "Service Unavailable" }),
    );
    const c = client();
    const errors = errorsOf(c);
    c.startTrace("flaky").end();
    await c.flush();
    expect(collector.requests.map((r) => r.status)).toEqual([500, 503, 202]);
    expect(traceNames()).toEqual(["flaky"]);
    expect(errors).toEqual([]);
  });

  it("a dropped connection is retried, and the trace delivered", async () => {
    scriptTraces(() => ({ drop: true }));
    const c = client();
    const errors = errorsOf(c);
    c.startTrace("dropped-once").end();
    await c.flush();
    expect(collector.requests.map((r) => r.outcome)).toEqual(["dropped", "answered"]);
    expect(traceNames()).toEqual(["dropped-once"]);
    expect(errors).toEqual([]);
  });

  it("a stalled request is abandoned after `timeout` seconds and retried", async () => {
    scriptTraces(() => ({ stall: true }));
    const c = client({ timeout: 0.3 });
    const errors = errorsOf(c);
    c.startTrace("stalled-once").end();
    await c.flush();
    const [first, second] = collector.requests;
    expect(first!.outcome).toBe("stalled");
    expect(second!.status).toBe(202);
    expect(second!.receivedAt - first!.receivedAt).toBeGreaterThanOrEqual(280);
    expect(traceNames()).toEqual(["stalled-once"]);
    expect(errors).toEqual([]);
  });

  it("422 is not retried, and reaches client.onError and the module-level onError with the field at fault", async () => {
    scriptTraces(() => ({
      status: 422,
      body: { detail: "Validation error", errors: [{ field: "name", message: "String should have at most 512 characters" }] },
    }));
    const c = client();
    const fromClient = errorsOf(c);
    const fromModule: Error[] = [];
    unsubscribes.push(onError((e) => fromModule.push(e)));
    c.startTrace("rejected").end();
    await c.flush();

    expect(collector.requests).toHaveLength(1);
    expect(fromClient).toHaveLength(1);
    expect(fromModule).toEqual(fromClient);
    const [error] = fromClient;
    expect(error).toBeInstanceOf(PandaProbeError);
    expect(error!.code).toBe("http_error");
    expect(error!.status).toBe(422);
    expect(error!.message).toContain("422");
    expect(error!.message).toContain("name: String should have at most 512 characters");
  });

  it.each([
    [401, "Invalid API key"],
    [403, "Forbidden for this project"],
  ])("%i is not retried, and is reported", async (status, detail) => {
    scriptTraces(() => ({ status, body: { detail } }));
    const c = client();
    const errors = errorsOf(c);
    c.startTrace("refused").end();
    await c.flush();
    await sleep(50);
    expect(collector.requests).toHaveLength(1);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: "http_error", status });
    expect(errors[0]!.message).toContain(detail);
  });

  it("a timeout beyond Node's timer range (1e7 s) does not abort requests at once", async () => {
    collector.respond(async () => {
      await sleep(50);
      return undefined;
    });
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on("warning", onWarning);
    try {
      const c = client({ timeout: 1e7, maxRetries: 0 });
      const errors = errorsOf(c);
      c.startTrace("patient").end();
      await c.flush();
      expect(errors.map((e) => e.message)).toEqual([]);
      expect(traceNames()).toEqual(["patient"]);
      expect(warnings.map((w) => `${w.name}: ${w.message}`)).toEqual([]);
    } finally {
      process.off("warning", onWarning);
    }
  });

  it("gives up after maxRetries, reporting the last failure", async () => {
    collector.respond(() => ({ status: 502, body: "Bad Gateway" }));
    const c = client({ maxRetries: 2 });
    const errors = errorsOf(c);
    c.startTrace("never").end();
    await c.flush();
    expect(collector.requests).toHaveLength(3);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: "http_error", status: 502 });
  });
});

describe("concurrency and connections", () => {
  it("keeps at most maxConcurrentRequests in flight, and uses more than one", async () => {
    let active = 0;
    let peak = 0;
    collector.respond(async () => {
      peak = Math.max(peak, ++active);
      await sleep(100);
      active--;
      return undefined;
    });
    const c = client({ maxConcurrentRequests: 4, batchSize: 100, flushInterval: 60 });
    for (let i = 0; i < 12; i++) c.startTrace(`parallel-${i}`).end();
    const started = Date.now();
    await c.flush();
    expect(collector.traces()).toHaveLength(12);
    expect(peak).toBeLessThanOrEqual(4);
    expect(peak).toBeGreaterThan(1);
    // Twelve answers of 100 ms, four at a time: three rounds at least.
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    // Keep-alive: the agent holds as many connections as requests may be in flight, and reuses them.
    expect(collector.connections).toBeLessThanOrEqual(4);
    expect(collector.connections).toBeLessThan(collector.requests.length);
  });

  it("with a fetch option, keeps at most maxConcurrentRequests in flight and reuses connections", async () => {
    let active = 0;
    let peak = 0;
    collector.respond(async () => {
      peak = Math.max(peak, ++active);
      await sleep(100);
      active--;
      return undefined;
    });
    const c = client({ maxConcurrentRequests: 4, batchSize: 100, flushInterval: 60, fetch: (input, init) => fetch(input, init) });
    for (let i = 0; i < 12; i++) c.startTrace(`parallel-${i}`).end();
    await c.flush();
    expect(collector.traces()).toHaveLength(12);
    expect(peak).toBeLessThanOrEqual(4);
    // Node's fetch frees a socket a tick after its response is read, and the next request is sent
    // at once, so the second round may open fresh sockets; the pool still stops growing at twice
    // the concurrency and later rounds reuse it.
    expect(collector.connections).toBeLessThanOrEqual(8);
    expect(collector.connections).toBeLessThan(collector.requests.length);
  });

  it.each<[string, PandaProbeOptions]>([
    ["node:http (the default)", {}],
    ["a fetch option", { fetch: (input, init) => fetch(input, init) }],
  ])("delivers at once a trace that met a keep-alive connection the server had just closed, with %s", async (_how, options) => {
    // The server's idle timeout races the next request: the connection that carried the last one is gone.
    const served = new Set<number>();
    collector.respond((req) => {
      if (served.has(req.socketId)) return { drop: true };
      served.add(req.socketId);
      return undefined;
    });
    // No retries by the exporter: only the sender's own immediate one can deliver the second trace.
    const c = client({ ...options, maxRetries: 0 });
    const errors = errorsOf(c);
    c.startTrace("first").end();
    await c.flush();
    await new Promise((resolve) => setImmediate(resolve));
    c.startTrace("second").end();
    await c.flush();

    expect(collector.requests.map((r) => [r.socketId, r.outcome])).toEqual([
      [1, "answered"],
      [1, "dropped"],
      [2, "answered"],
    ]);
    expect(traceNames()).toEqual(["first", "second"]);
    expect(errors).toEqual([]);
  });

  it("reuses connections for requests sent one after another (keep-alive)", async () => {
    const c = client();
    for (let i = 0; i < 6; i++) {
      c.startTrace(`sequential-${i}`).end();
      await c.flush();
    }
    expect(collector.requests).toHaveLength(6);
    expect(collector.connections).toBeLessThan(collector.requests.length);
  });
});

describe("the bounded queue", () => {
  it("drops the oldest beyond maxQueueSize, reports it in aggregate, and delivers the newest once the endpoint recovers", async () => {
    let recover!: () => void;
    const recovered = new Promise<void>((r) => (recover = r));
    collector.respond(async () => {
      await recovered;
      return undefined;
    });
    const c = client({ maxQueueSize: 3, batchSize: 1, maxConcurrentRequests: 1, flushInterval: 60, timeout: 10 });
    const errors = errorsOf(c);

    // The endpoint hangs on the first request: it holds the only slot, the rest queue up.
    c.startTrace("in-flight").end();
    await collector.waitFor((rs) => rs.length === 1);
    for (let i = 0; i < 10; i++) c.startTrace(`t${i}`).end();

    const overflow = () => errors.filter((e) => e.code === "queue_overflow");
    expect(overflow().length).toBeGreaterThanOrEqual(1);
    expect(overflow()[0]!.message).toMatch(/maxQueueSize 3/);

    recover();
    await c.flush();
    expect(traceNames()).toEqual(["in-flight", "t7", "t8", "t9"]);
    // Seven drops, far fewer reports; the last one accounts for all of them.
    expect(overflow().length).toBeLessThanOrEqual(2);
    expect(overflow().at(-1)!.message).toMatch(/7 in total/);
    expect(errors.filter((e) => e.code !== "queue_overflow")).toEqual([]);
  });
});

describe("the bounded queue, with an endpoint that keeps up", () => {
  it("loses nothing when maxQueueSize is below batchSize: a full queue is sent, not dropped", async () => {
    // Nothing is slow here: every slot is free and the collector answers at once. The queue only
    // fills because batchSize (10, the default) is larger than maxQueueSize.
    const c = client({ maxQueueSize: 3, flushInterval: 60 });
    const errors = errorsOf(c);
    const names = ["q0", "q1", "q2", "q3", "q4", "q5"];
    for (const name of names) c.startTrace(name).end();
    await c.flush();
    expect(errors.map((e) => e.message)).toEqual([]);
    expect(traceNames().sort()).toEqual(names);
  });
});

describe("debug output", () => {
  it("says what the SDK does, and never prints the API key", async () => {
    const secret = "sk_pp_SECRET_do_not_print_8d1f4e";
    const out = (["debug", "warn", "log", "error", "info"] as const).map((m) => vi.spyOn(console, m).mockImplementation(() => {}));
    const [debug] = out;
    // The server echoes the key back in its rejection; even that must not come out.
    collector.respond((req) =>
      (req.json as { name?: string } | undefined)?.name === "echoed"
        ? { status: 401, body: { detail: `Invalid API key ${secret}` } }
        : undefined,
    );
    const c = new Client(
      { apiKey: secret, projectName: PROJECT, endpoint: collector.url, debug: true, flushInterval: 0.05, maxRetries: 0 },
      {},
    );
    clients.push(c);
    const t = c.startTrace("visible");
    t.span("step").end();
    t.end();
    c.score(t.traceId, "quality", 0.5);
    c.startTrace("echoed").end();
    await c.flush();
    await c.shutdown();

    const lines = debug!.mock.calls.map((args) => args.map(String).join(" "));
    expect(lines.some((l) => /queued|enqueued/.test(l))).toBe(true);
    expect(lines.some((l) => /send|response 202/.test(l))).toBe(true);
    const warned = out[1]!.mock.calls.map((args) => args.map(String).join(" "));
    // The rejection is reported, with the echoed key scrubbed out of it.
    expect(warned.some((l) => l.includes("401") && l.includes("[redacted]"))).toBe(true);

    for (const spy of out) {
      for (const args of spy.mock.calls) {
        for (const arg of args) expect(typeof arg === "string" ? arg : JSON.stringify(arg) ?? String(arg)).not.toContain(secret);
      }
    }
  });

  it("scrubs a key read with a trailing newline (a mounted secret file), which fetch sends trimmed", async () => {
    const secret = "sk_pp_SECRET_from_a_file_51a0c2";
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    collector.respond((req) => ({ status: 401, body: { detail: `Invalid API key ${req.headers["x-api-key"]}` } }));
    const c = client({ apiKey: `${secret}\n`, maxRetries: 0 });
    const errors = errorsOf(c);
    c.startTrace("echoed").end();
    await c.flush();
    expect(collector.requests[0]!.headers["x-api-key"]).toBe(secret);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toContain("401");
    expect(errors[0]!.message).toContain("[redacted]");
    expect(errors[0]!.message).not.toContain(secret);
    expect(warn).not.toHaveBeenCalled();
  });

  it("is silent without debug when everything goes well", async () => {
    const out = (["debug", "warn", "log", "error", "info"] as const).map((m) => vi.spyOn(console, m));
    const c = client();
    c.startTrace("quiet").end();
    await c.flush();
    for (const spy of out) expect(spy).not.toHaveBeenCalled();
  });
});

describe("shutdown", () => {
  it("is idempotent, delivers what was ended before, and sends nothing after", async () => {
    const c = client({ batchSize: 100, flushInterval: 60 });
    const ended = ["x", "y", "z"];
    for (const name of ended) c.startTrace(name).end();
    const first = c.shutdown();
    const second = c.shutdown();
    await expect(Promise.all([first, second])).resolves.toEqual([undefined, undefined]);
    expect(traceNames().sort()).toEqual(ended);
    await expect(c.shutdown()).resolves.toBeUndefined();

    const late = c.startTrace("after-shutdown");
    late.end();
    c.score(late.traceId, "quality", 1);
    await expect(c.flush()).resolves.toBeUndefined();
    await sleep(150);
    expect(collector.requests).toHaveLength(3);
  });
});

describe("tracing never throws into the host", () => {
  it("with the API failing, traced code returns its values and flush() resolves", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => {});
    collector.respond(() => ({ status: 500, body: { detail: "down" } }));
    const c = client({ maxRetries: 1 });
    // A broken handler of the app's is no reason to throw either.
    unsubscribes.push(
      c.onError(() => {
        throw new Error("handler bug");
      }),
    );
    const sync = c.trace((x: number) => x + 1, { name: "sync" });
    const async_ = c.trace(async (x: number) => x * 2, { name: "async" });
    expect(sync(1)).toBe(2);
    await expect(async_(21)).resolves.toBe(42);
    expect(c.startTrace("with-fn", undefined, () => "value")).toBe("value");
    const t = c.startTrace("manual");
    t.span("child", undefined, () => undefined);
    t.end();
    c.score(t.traceId, "quality", 1);

    await expect(c.flush()).resolves.toBeUndefined();
    // Four traces, each tried twice (maxRetries 1), none accepted; the score is not sent for a
    // trace that never reached the backend (it would fail on the missing trace).
    expect(collector.requests).toHaveLength(8);
    expect(collector.requests.every((r) => r.path === "/traces")).toBe(true);
    expect(collector.traces()).toEqual([]);
  });
});

describe("score()", () => {
  it("sends PROGRAMMATIC scores with the value as a string and the data type inferred or given", async () => {
    const c = client({ maxConcurrentRequests: 1 });
    const t = c.startTrace("scored");
    t.end();
    const id = t.traceId;
    c.score(id, "relevance", 0.85, { reason: "on topic" });
    c.score(id, "resolved", true);
    c.score(id, "confidence", "0.9");
    c.score(id, "verdict", "PASS");
    c.score(id, "level", "3", { dataType: ScoreDataType.CATEGORICAL });
    c.score(id, "tagged", 1, { metadata: { grader: "unit-test" } });
    await c.flush();

    const scores = collector.scores();
    expect(collector.requests.filter((r) => r.path === "/evaluations/trace-scores")).toHaveLength(6);
    expect(scores.map((s) => [s.name, s.value, s.data_type])).toEqual([
      ["relevance", "0.85", "NUMERIC"],
      ["resolved", "true", "BOOLEAN"],
      ["confidence", "0.9", "NUMERIC"],
      ["verdict", "PASS", "CATEGORICAL"],
      ["level", "3", "CATEGORICAL"],
      ["tagged", "1", "NUMERIC"],
    ]);
    for (const s of scores) {
      expect(s.trace_id).toBe(id);
      expect(s.source).toBe("PROGRAMMATIC");
    }
    expect(scores[0]!.reason).toBe("on topic");
    expect(scores[1]).not.toHaveProperty("reason");
    expect(scores[5]!.metadata).toEqual({ grader: "unit-test" });
  });

  it("the module-level score() sends through the global client", async () => {
    init({ apiKey: API_KEY, projectName: PROJECT, endpoint: collector.url, flushInterval: 0.05 });
    const t = startTrace("global");
    t.end();
    score(t.traceId, "helpful", false, { reason: "no" });
    await shutdown();
    expect(collector.scores()).toMatchObject([
      { trace_id: t.traceId, name: "helpful", value: "false", data_type: "BOOLEAN", source: "PROGRAMMATIC", reason: "no" },
    ]);
  });

  it("refuses bad input with a TypeError at the call, and sends nothing for it", async () => {
    const c = client();
    const id = "0b6f3c52-7f7e-4a8e-9d6b-2f1e3c4d5a6b";
    expect(() => c.score(42 as unknown as string, "n", 1)).toThrow(TypeError);
    expect(() => c.score(42 as unknown as string, "n", 1)).toThrow(/traceId must be a string/);
    expect(() => c.score(id, undefined as unknown as string, 1)).toThrow(TypeError);
    expect(() => c.score(id, "n", { v: 1 } as unknown as number)).toThrow(TypeError);
    expect(() => c.score(id, "n", { v: 1 } as unknown as number)).toThrow(/value must be a number, boolean or string/);
    expect(() => c.score(id, "n", 1, { reasn: "typo" } as never)).toThrow(TypeError);
    expect(() => c.score(id, "n", 1, { reasn: "typo" } as never)).toThrow(/"reasn"/);
    expect(() => c.score(id, "n", 1, { dataType: "NUMBER" as never })).toThrow(TypeError);
    expect(() => c.score(id, "n", 1, { reason: 5 as unknown as string })).toThrow(TypeError);
    expect(() => score(42 as unknown as string, "n", 1)).toThrow(TypeError);
    await c.flush();
    expect(collector.requests).toHaveLength(0);
  });
});

describe("the life of a Node process that traces", () => {
  let sdk: BuiltSdk;

  beforeAll(async () => {
    sdk = await buildNodeSdk();
  });

  afterAll(() => sdk?.remove());

  interface Exit {
    code: number | null;
    signal: NodeJS.Signals | null;
    ms: number;
    stdout: string;
    stderr: string;
  }

  /** Runs an ESM script that imports the bundled SDK as `sdk`; kills it after `killAfterMs`. */
  function runScript(body: string, env: Record<string, string> = {}, killAfterMs = 10_000): Promise<Exit> {
    const file = join(sdk.dir, `script-${Math.random().toString(36).slice(2)}.mjs`);
    writeFileSync(file, `import * as sdk from ${JSON.stringify(sdk.url)};\n${body}\n`);
    const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("PANDAPROBE_")));
    return new Promise((resolve, reject) => {
      const started = Date.now();
      const child = spawn(process.execPath, [file], { env: { ...cleanEnv, ...env }, stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      const killer = setTimeout(() => child.kill("SIGKILL"), killAfterMs);
      child.on("error", reject);
      child.on("close", (code, signal) => {
        clearTimeout(killer);
        resolve({ code, signal, ms: Date.now() - started, stdout, stderr });
      });
    });
  }

  it("delivers a trace the script ended but never flushed, then exits on its own", async () => {
    const exit = await runScript(
      `sdk.init({ apiKey: "sk_pp_child", projectName: "child", endpoint: process.env.COLLECTOR_URL, flushInterval: 30 });
       sdk.startTrace("ended-before-exit", { input: "hi" }).end();`,
      { COLLECTOR_URL: collector.url },
    );
    expect(exit.stderr).toBe("");
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(exit.ms).toBeLessThan(5000);
    expect(traceNames()).toEqual(["ended-before-exit"]);
    expect(collector.traces()[0]).toMatchObject({ status: "COMPLETED", input: "hi" });
  });

  it("at exit, delivers a trace that was answered 429 and waits in backoff (Retry-After: 1)", async () => {
    let n = 0;
    collector.respond((req) => (req.path === "/traces" && n++ === 0 ? { status: 429, headers: { "Retry-After": "1" } } : undefined));
    const exit = await runScript(
      `sdk.init({ apiKey: "sk_pp_child", projectName: "child", endpoint: process.env.COLLECTOR_URL });
       sdk.startTrace("rate-limited-at-exit").end();`,
      { COLLECTOR_URL: collector.url },
    );
    expect(exit).toMatchObject({ code: 0, signal: null, stderr: "" });
    expect(traceNames()).toEqual(["rate-limited-at-exit"]);
    expect(exit.ms).toBeLessThan(5000);
  });

  it("exits cleanly when a custom exporter's flush throws or rejects at exit", async () => {
    const exit = await runScript(
      `const sink = (flush) => ({ exporter: { enqueue() {}, flush, shutdown: async () => {} } });
       new sdk.Client(sink(() => Promise.reject(new Error("sink down"))), {}).startTrace("a").end();
       new sdk.Client(sink(() => { throw new Error("sink broken"); }), {}).startTrace("b").end();`,
    );
    expect(exit).toMatchObject({ code: 0, signal: null, stderr: "" });
  });

  it("exits within seconds when the endpoint refuses connections, and says why the trace was lost", async () => {
    const exit = await runScript(
      `sdk.init({ apiKey: "sk_pp_child_refused", projectName: "child", endpoint: "http://127.0.0.1:1", maxRetries: 0 });
       sdk.startTrace("lost").end();`,
    );
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(exit.ms).toBeLessThan(5000);
    expect(exit.stderr).toMatch(/network error/);
    expect(exit.stderr).not.toContain("sk_pp_child_refused");
  });

  it("exits within seconds when the endpoint is down, once its retries are spent, and says why the trace was lost", async () => {
    const exit = await runScript(
      `sdk.init({ apiKey: "sk_pp_child", projectName: "child", endpoint: "http://127.0.0.1:1" });
       sdk.startTrace("lost").end();`,
    );
    expect(exit).toMatchObject({ code: 0, signal: null });
    // Backoff of 3 retries: at most 0.5 + 1 + 2 s.
    expect(exit.ms).toBeLessThan(6000);
    expect(exit.stderr).toMatch(/network error/);
  });

  it("exits once `timeout` passes when the endpoint accepts but never answers", async () => {
    collector.respond(() => ({ stall: true }));
    const exit = await runScript(
      `sdk.init({ apiKey: "sk_pp_child", projectName: "child", endpoint: process.env.COLLECTOR_URL, timeout: 0.5, maxRetries: 0 });
       sdk.startTrace("stalled").end();`,
      { COLLECTOR_URL: collector.url },
    );
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(exit.ms).toBeLessThan(5000);
    expect(collector.requests).toHaveLength(1);
  });

  it("exits at once when it only called init(): no timer holds the process", async () => {
    const exit = await runScript(
      `sdk.init({ apiKey: "sk_pp_child", projectName: "child", endpoint: process.env.COLLECTOR_URL });`,
      { COLLECTOR_URL: collector.url },
    );
    expect(exit).toMatchObject({ code: 0, signal: null, stderr: "" });
    // The default flushInterval is 5 s: a timer armed by init() would show here.
    expect(exit.ms).toBeLessThan(2000);
    expect(collector.requests).toHaveLength(0);
  });
});
