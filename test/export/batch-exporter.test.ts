import { randomUUID } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { PandaProbeError } from "../../src/base/errors.js";
import { BatchExporter, DEFAULT_SHUTDOWN_TIMEOUT_MS, type BatchExporterOptions } from "../../src/export/batch-exporter.js";
import { createHttpSender, type SendResult } from "../../src/export/http-sender.js";
import { Pacer, routeOf, type Reservation } from "../../src/wire/pacer.js";
import type { Envelope, SettleOutcome } from "../../src/export/types.js";
import { contractErrors, type ContractKind } from "../support/contract.js";
import { sendJson, startFakeServer } from "../support/fake-http.js";

const env = (n: number): Envelope => ({ path: "/traces", body: JSON.stringify({ n }) });
const ids = (envelopes: Envelope[]) => envelopes.map((e) => (JSON.parse(e.body) as { n: number }).n);

const OK: SendResult = { ok: true, status: 202 };
function failed(status: number, retryable: boolean, retryAfterMs?: number): SendResult {
  const error = new PandaProbeError("http_error", `POST /traces: HTTP ${status}`, { status });
  return { ok: false, retryable, status, error, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
}
const networkError = (): SendResult => ({
  ok: false,
  retryable: true,
  error: new PandaProbeError("network_error", "POST /traces: network error: fetch failed"),
});

/** A `send` whose every call stays pending until the test answers it; records the peak of calls in flight. */
function manualSend() {
  const pending: { envelope: Envelope; answer: (result: SendResult) => void }[] = [];
  const sent: Envelope[] = [];
  let inFlight = 0;
  let peak = 0;
  const send = vi.fn((envelope: Envelope) => {
    sent.push(envelope);
    peak = Math.max(peak, ++inFlight);
    return new Promise<SendResult>((resolve) =>
      pending.push({
        envelope,
        answer: (result) => {
          inFlight--;
          resolve(result);
        },
      }),
    );
  });
  /** Answers the oldest unanswered call. */
  const answerNext = (result: SendResult = OK) => {
    const call = pending.shift();
    if (!call) throw new Error("no pending send");
    call.answer(result);
  };
  return { send, sent, pending, answerNext, peak: () => peak };
}

/** Lets the exporter's promise chains run (answers, settlement, dispatch of the next envelope). */
async function tick(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

function track<T>(promise: Promise<T>) {
  const state = { done: false };
  void promise.then(() => (state.done = true));
  return state;
}

function makeExporter(overrides: Partial<BatchExporterOptions> & Pick<BatchExporterOptions, "send">) {
  const reports: PandaProbeError[] = [];
  const logs: string[] = [];
  const exporter = new BatchExporter({
    batchSize: 100,
    flushIntervalMs: 60_000,
    maxQueueSize: 1_000,
    maxRetries: 3,
    maxConcurrency: 10,
    report: (err) => reports.push(err),
    log: (msg) => logs.push(msg),
    ...overrides,
  });
  return { exporter, reports, logs };
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe("BatchExporter: when sending starts", () => {
  it("sends as soon as batchSize envelopes are queued, not before", () => {
    const fake = manualSend();
    const { exporter } = makeExporter({ send: fake.send, batchSize: 3 });

    exporter.enqueue(env(1));
    exporter.enqueue(env(2));
    expect(fake.send).not.toHaveBeenCalled();

    exporter.enqueue(env(3));
    expect(ids(fake.sent)).toEqual([1, 2, 3]);

    exporter.enqueue(env(4));
    expect(fake.send).toHaveBeenCalledTimes(3);
  });

  it("sends a partial batch when the flush interval elapses", async () => {
    const fake = manualSend();
    const { exporter } = makeExporter({ send: fake.send, batchSize: 100, flushIntervalMs: 1_000 });

    exporter.enqueue(env(1));
    exporter.enqueue(env(2));
    await vi.advanceTimersByTimeAsync(999);
    expect(fake.send).not.toHaveBeenCalled();

    await vi.advanceTimersByTimeAsync(1);
    expect(ids(fake.sent)).toEqual([1, 2]);
  });

  it("arms the interval timer only while something is queued", async () => {
    const fake = manualSend();
    const { exporter } = makeExporter({ send: fake.send, flushIntervalMs: 1_000 });
    expect(vi.getTimerCount()).toBe(0);

    exporter.enqueue(env(1));
    expect(vi.getTimerCount()).toBe(1);

    await vi.advanceTimersByTimeAsync(1_000);
    fake.answerNext();
    await tick();
    expect(vi.getTimerCount()).toBe(0);
  });

  it("sends everything queued on flush()", async () => {
    const fake = manualSend();
    const { exporter } = makeExporter({ send: fake.send });
    exporter.enqueue(env(1));
    exporter.enqueue(env(2));

    const flushed = exporter.flush();
    expect(ids(fake.sent)).toEqual([1, 2]);
    fake.answerNext();
    fake.answerNext();
    await expect(flushed).resolves.toBeUndefined();
  });
});

describe("BatchExporter: concurrency", () => {
  it("never has more than maxConcurrency requests in flight, and still delivers everything", async () => {
    vi.useRealTimers();
    let inFlight = 0;
    let peak = 0;
    const delivered: number[] = [];
    const send = async (envelope: Envelope): Promise<SendResult> => {
      peak = Math.max(peak, ++inFlight);
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 5));
      inFlight--;
      delivered.push(...ids([envelope]));
      return OK;
    };
    const { exporter } = makeExporter({ send, batchSize: 7, maxConcurrency: 3 });

    for (let i = 0; i < 50; i++) exporter.enqueue(env(i));
    await exporter.flush();

    expect(peak).toBe(3);
    expect(delivered.sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it("keeps the slot of an envelope sleeping in backoff", async () => {
    vi.spyOn(Math, "random").mockReturnValue(0.5);
    const fake = manualSend();
    const { exporter } = makeExporter({ send: fake.send, maxConcurrency: 1, retryBaseMs: 1_000 });
    exporter.enqueue(env(1));
    exporter.enqueue(env(2));
    void exporter.flush();

    fake.answerNext(failed(503, true));
    await vi.advanceTimersByTimeAsync(499);
    // Envelope 1 is waiting to retry; envelope 2 must not take its place meanwhile.
    expect(ids(fake.sent)).toEqual([1]);

    await vi.advanceTimersByTimeAsync(1);
    expect(ids(fake.sent)).toEqual([1, 1]);
    fake.answerNext();
    await tick();
    expect(ids(fake.sent)).toEqual([1, 1, 2]);
  });
});

describe("BatchExporter: retries", () => {
  it("retries retryable failures with exponential backoff, then succeeds without reporting", async () => {
    vi.spyOn(Math, "random").mockReturnValue(0.5); // full jitter pinned to half the ceiling
    const fake = manualSend();
    const { exporter, reports, logs } = makeExporter({ send: fake.send, retryBaseMs: 100, maxRetries: 3 });
    exporter.enqueue(env(1));
    const flushed = track(exporter.flush());

    fake.answerNext(failed(503, true));
    await vi.advanceTimersByTimeAsync(49);
    expect(fake.send).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1); // 0.5 * 100 ms
    expect(fake.send).toHaveBeenCalledTimes(2);

    fake.answerNext(networkError());
    await vi.advanceTimersByTimeAsync(99);
    expect(fake.send).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(1); // 0.5 * 200 ms
    expect(fake.send).toHaveBeenCalledTimes(3);

    expect(flushed.done).toBe(false);
    fake.answerNext(OK);
    await tick();
    expect(flushed.done).toBe(true);
    expect(reports).toEqual([]);
    expect(logs).toContain("retry in 50 ms /traces");
    expect(logs).toContain("retry in 100 ms /traces");
  });

  it("gives up after maxRetries retries and reports the last error", async () => {
    const fake = manualSend();
    const { exporter, reports } = makeExporter({ send: fake.send, retryBaseMs: 10, maxRetries: 2 });
    exporter.enqueue(env(1));
    const flushed = track(exporter.flush());

    fake.answerNext(failed(500, true));
    await vi.advanceTimersByTimeAsync(20);
    fake.answerNext(failed(502, true));
    await vi.advanceTimersByTimeAsync(40);
    const last = failed(504, true);
    fake.answerNext(last);
    await vi.runAllTimersAsync();

    expect(fake.send).toHaveBeenCalledTimes(3); // first attempt + 2 retries
    expect(reports).toHaveLength(1);
    expect(reports[0]).toBe((last as { error: PandaProbeError }).error);
    expect(flushed.done).toBe(true);
  });

  it("waits exactly as long as Retry-After says, instead of its own backoff", async () => {
    const fake = manualSend();
    const { exporter } = makeExporter({ send: fake.send, retryBaseMs: 10 });
    exporter.enqueue(env(1));
    void exporter.flush();

    fake.answerNext(failed(429, true, 2_000));
    await vi.advanceTimersByTimeAsync(1_999);
    expect(fake.send).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(fake.send).toHaveBeenCalledTimes(2);
  });

  it("caps Retry-After at 60 seconds", async () => {
    const fake = manualSend();
    const { exporter } = makeExporter({ send: fake.send });
    exporter.enqueue(env(1));
    void exporter.flush();

    fake.answerNext(failed(429, true, 3_600_000));
    await vi.advanceTimersByTimeAsync(59_999);
    expect(fake.send).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(fake.send).toHaveBeenCalledTimes(2);
  });

  it.each([401, 403, 422])("does not retry %i and reports it at once", async (status) => {
    const fake = manualSend();
    const { exporter, reports } = makeExporter({ send: fake.send, maxRetries: 5 });
    exporter.enqueue(env(1));
    const flushed = exporter.flush();

    fake.answerNext(failed(status, false));
    await flushed;
    await vi.runAllTimersAsync();

    expect(fake.send).toHaveBeenCalledTimes(1);
    expect(reports).toHaveLength(1);
    expect(reports[0]!.code).toBe("http_error");
    expect(reports[0]!.status).toBe(status);
  });
});

describe("BatchExporter: bounded queue", () => {
  it("drops the oldest queued envelope when full and counts it", async () => {
    const fake = manualSend();
    const { exporter, reports } = makeExporter({ send: fake.send, maxQueueSize: 3, maxConcurrency: 1 });
    exporter.enqueue(env(0));
    void exporter.flush(); // 0 holds the only slot: the endpoint is slow

    for (let i = 1; i <= 5; i++) exporter.enqueue(env(i));
    expect(exporter.dropped).toBe(2);

    const flushed = exporter.flush();
    for (let i = 0; i < 4; i++) {
      fake.answerNext();
      await tick();
    }
    await flushed;
    expect(ids(fake.sent)).toEqual([0, 3, 4, 5]);
    expect(reports.every((r) => r.code === "queue_overflow")).toBe(true);
  });

  it("reports the first drop at once and aggregates the rest into one report per cycle", async () => {
    const send = vi.fn(() => new Promise<SendResult>(() => {})); // endpoint hangs: nothing ever leaves
    const { exporter, reports } = makeExporter({ send, maxQueueSize: 10, maxConcurrency: 1, flushIntervalMs: 1_000 });

    exporter.enqueue(env(0));
    void exporter.flush(); // envelope 0 occupies the only slot
    for (let i = 1; i <= 10; i++) exporter.enqueue(env(i));
    expect(reports).toHaveLength(0);

    exporter.enqueue(env(11));
    expect(reports).toHaveLength(1);
    expect(reports[0]!.code).toBe("queue_overflow");
    expect(reports[0]!.message).toContain("dropped 1 oldest");

    for (let i = 12; i < 200_011; i++) exporter.enqueue(env(i));
    expect(exporter.dropped).toBe(200_000);
    expect(reports).toHaveLength(1);

    await vi.advanceTimersByTimeAsync(1_000);
    expect(reports).toHaveLength(2);
    expect(reports[1]!.message).toContain("dropped 199999 oldest");
    expect(reports[1]!.message).toContain("200000 in total");

    // A cycle without drops re-arms the immediate report for the next drop.
    await vi.advanceTimersByTimeAsync(1_000);
    expect(reports).toHaveLength(2);
    exporter.enqueue(env(-1));
    expect(reports).toHaveLength(3);
    expect(reports[2]!.message).toContain("dropped 1 oldest");
  });
});

describe("BatchExporter: flush()", () => {
  it("resolves at once when nothing was enqueued", async () => {
    const fake = manualSend();
    const { exporter } = makeExporter({ send: fake.send });
    await expect(exporter.flush()).resolves.toBeUndefined();
    expect(fake.send).not.toHaveBeenCalled();
  });

  it("does not wait for envelopes enqueued after it was called", async () => {
    const fake = manualSend();
    const { exporter } = makeExporter({ send: fake.send });
    exporter.enqueue(env(1));
    const first = track(exporter.flush());
    exporter.enqueue(env(2));

    fake.answerNext();
    await tick();

    expect(first.done).toBe(true);
    expect(ids(fake.sent)).toEqual([1]); // envelope 2 is still queued, flush did not wait for it
  });

  it("supports concurrent flushes, each waiting for its own earlier envelopes", async () => {
    const fake = manualSend();
    const { exporter } = makeExporter({ send: fake.send });
    exporter.enqueue(env(1));
    const first = track(exporter.flush());
    exporter.enqueue(env(2));
    const second = track(exporter.flush());
    expect(ids(fake.sent)).toEqual([1, 2]);

    fake.pending[1]!.answer(OK); // envelope 2 delivered first
    await tick();
    expect(first.done).toBe(false);
    expect(second.done).toBe(false);

    fake.pending[0]!.answer(OK);
    await tick();
    expect(first.done).toBe(true);
    expect(second.done).toBe(true);
  });

  it("counts an envelope dropped from the queue as given up", async () => {
    const fake = manualSend();
    const { exporter } = makeExporter({ send: fake.send, maxQueueSize: 1, maxConcurrency: 1 });
    exporter.enqueue(env(1));
    void exporter.flush(); // 1 in flight
    exporter.enqueue(env(2));
    const flushed = track(exporter.flush()); // waits for 1 and 2
    exporter.enqueue(env(3)); // queue full: 2 is dropped

    fake.answerNext();
    await tick();

    expect(flushed.done).toBe(true);
    // 2 was given up; 3 came after the flush and goes out once the slot is free.
    expect(ids(fake.sent)).toEqual([1, 3]);
  });

  it("never rejects, even when send throws, rejects or report throws", async () => {
    let call = 0;
    const send = vi.fn((): Promise<SendResult> => {
      if (++call === 1) throw new Error("sync boom");
      return Promise.reject(new Error("async boom"));
    });
    const reported: PandaProbeError[] = [];
    const { exporter } = makeExporter({
      send,
      report: (err) => {
        reported.push(err);
        throw new Error("handler bug");
      },
    });
    exporter.enqueue(env(1));
    exporter.enqueue(env(2));

    await expect(exporter.flush()).resolves.toBeUndefined();
    expect(reported.map((e) => e.code)).toEqual(["internal", "internal"]);
    expect(reported[0]!.message).toContain("sync boom");
    expect(reported[1]!.message).toContain("async boom");
  });
});

describe("BatchExporter: shutdown()", () => {
  it("flushes, clears timers and ignores later enqueues", async () => {
    const fake = manualSend();
    const { exporter, logs } = makeExporter({ send: fake.send, flushIntervalMs: 1_000 });
    exporter.enqueue(env(1));
    const stopped = track(exporter.shutdown());

    expect(ids(fake.sent)).toEqual([1]);
    exporter.enqueue(env(2)); // during shutdown: already refused
    fake.answerNext();
    await tick();
    expect(stopped.done).toBe(true);
    expect(vi.getTimerCount()).toBe(0);

    exporter.enqueue(env(3));
    await vi.advanceTimersByTimeAsync(10_000);
    await exporter.flush();
    expect(ids(fake.sent)).toEqual([1]);
    expect(logs.filter((l) => l.includes("ignored"))).toHaveLength(2);
  });

  it("is idempotent", async () => {
    const fake = manualSend();
    const { exporter } = makeExporter({ send: fake.send });
    exporter.enqueue(env(1));

    const first = exporter.shutdown();
    const second = exporter.shutdown();
    expect(second).toBe(first);
    fake.answerNext();
    await first;
    await expect(exporter.shutdown()).resolves.toBeUndefined();
    expect(fake.send).toHaveBeenCalledTimes(1);
  });
});

describe("BatchExporter: debug log", () => {
  it("logs short lines for enqueue, sending, response, retry and drops", async () => {
    vi.spyOn(Math, "random").mockReturnValue(0.5);
    const fake = manualSend();
    const { exporter, logs } = makeExporter({ send: fake.send, maxQueueSize: 1, maxConcurrency: 1, retryBaseMs: 100 });
    exporter.enqueue(env(1));
    void exporter.flush();
    exporter.enqueue(env(2));
    exporter.enqueue(env(3)); // drops 2

    fake.answerNext(failed(503, true));
    await vi.advanceTimersByTimeAsync(50);
    fake.answerNext();
    await tick();

    expect(logs).toEqual(
      expect.arrayContaining([
        "enqueued /traces (queued 1)",
        "sending 1",
        "dropped 1 (queue full)",
        "response 503 /traces",
        "retry in 50 ms /traces",
        "response 202 /traces",
      ]),
    );
  });
});

/* ----- Against a fake of the backend's delivery rules, on 127.0.0.1 ----- */

interface Answer {
  path: string;
  traceId: string;
  status: number;
}

/**
 * The backend's rules that matter for delivery: `POST /traces` limited to `limit` per fixed window
 * of `windowMs` from the window's first request, answered 429 without Retry-After; traces persisted
 * `persistMs` after their 202; a score for a trace not persisted yet answers 500, spans 404.
 * Every body is checked against the ingestion contract (a violation answers 422 and is recorded).
 */
async function startFakeBackend({ limit = Infinity, windowMs = 60_000, persistMs = 0 } = {}) {
  let windowEnd = 0;
  let count = 0;
  const persisted = new Set<string>();
  const answers: Answer[] = [];
  const contractFailures: string[] = [];
  const server = await startFakeServer<null>(null, (req, res) => {
    const spans = /^\/traces\/([^/]+)\/spans$/.exec(req.path);
    const kind: ContractKind = req.path === "/traces" ? "trace" : spans ? "spans" : "score";
    const body: unknown = kind === "spans" ? (req.body as { items: unknown }).items : req.body;
    const traceId = spans?.[1] ?? String(req.body["trace_id"]);
    const answer = (status: number, json: unknown) => {
      answers.push({ path: req.path, traceId, status });
      sendJson(res, status, json);
    };
    const errors = contractErrors(kind, body);
    if (errors.length > 0) {
      contractFailures.push(...errors);
      return answer(422, { detail: "Validation error" });
    }
    if (kind === "trace") {
      const now = Date.now();
      if (now >= windowEnd) [windowEnd, count] = [now + windowMs, 0];
      if (++count > limit) return answer(429, { error: `Rate limit exceeded: ${limit} per window` });
      setTimeout(() => persisted.add(traceId), persistMs);
      return answer(202, { trace_id: traceId, task_id: randomUUID() });
    }
    if (!persisted.has(traceId)) return answer(kind === "spans" ? 404 : 500, { detail: "trace not persisted" });
    return answer(201, {});
  });
  return {
    url: server.url,
    answers,
    contractFailures,
    /** The trace exists as if another process had sent it. */
    persist: (traceId: string) => persisted.add(traceId),
    statuses: (path: string) => answers.filter((a) => a.path === path).map((a) => a.status),
    close: () => server.close(),
  };
}

/** The spans route takes a JSON array; the fake server's parser keeps objects, so arrays travel wrapped. */
function httpSend(url: string) {
  const send = createHttpSender({ endpoint: url, headers: { "X-API-Key": "sk_pp_test", "X-Project-Name": "unit" }, timeoutMs: 5_000 });
  return (envelope: Envelope) =>
    send(envelope.path.endsWith("/spans") ? { ...envelope, body: `{"items":${envelope.body}}` } : envelope);
}

const now = () => new Date().toISOString();
type Settled = (outcome: SettleOutcome) => void;
const traceEnvelope = (traceId: string, settled?: Settled, name = "t"): Envelope => ({
  path: "/traces",
  traceId,
  body: JSON.stringify({ trace_id: traceId, name, status: "COMPLETED", started_at: now(), spans: [] }),
  ...(settled ? { settled } : {}),
});
const scoreEnvelope = (traceId: string, settled?: Settled): Envelope => ({
  path: "/evaluations/trace-scores",
  traceId,
  body: JSON.stringify({ trace_id: traceId, name: "quality", value: "1", data_type: "NUMERIC", source: "PROGRAMMATIC" }),
  ...(settled ? { settled } : {}),
});
const spansEnvelope = (traceId: string, settled?: Settled): Envelope => ({
  path: `/traces/${traceId}/spans`,
  traceId,
  body: JSON.stringify([{ span_id: randomUUID(), name: "late span", kind: "TOOL", status: "OK", started_at: now() }]),
  ...(settled ? { settled } : {}),
});

/** Outcomes by envelope, to check each envelope is settled exactly once. */
function outcomes() {
  const all: SettleOutcome[][] = [];
  return {
    all,
    hook(): Settled {
      const mine: SettleOutcome[] = [];
      all.push(mine);
      return (outcome) => mine.push(outcome);
    },
  };
}

describe("BatchExporter: pacing to a rate limit that answers 429 without Retry-After", () => {
  it("delivers a burst beyond the limit in full, with 429s only in the first window and no retry used", async () => {
    vi.useRealTimers();
    const backend = await startFakeBackend({ limit: 5, windowMs: 300 });
    const settled = outcomes();
    const { exporter, reports } = makeExporter({
      send: httpSend(backend.url),
      batchSize: 1,
      maxConcurrency: 4,
      maxRetries: 0, // a 429 is waited out, never counted as a retry
      rateWindowMs: 300,
    });
    const ids = Array.from({ length: 23 }, () => randomUUID());
    for (const id of ids) exporter.enqueue(traceEnvelope(id, settled.hook()));
    await exporter.flush();
    await backend.close();

    expect(settled.all).toEqual(ids.map(() => ["delivered"]));
    const accepted = backend.answers.filter((a) => a.status === 202).map((a) => a.traceId);
    expect(accepted.sort()).toEqual([...ids].sort());
    // Once the first window's overflow (at most the requests in flight) taught the limit, no 429 again.
    const rejected = backend.statuses("/traces").filter((s) => s === 429);
    expect(rejected.length).toBeGreaterThan(0);
    expect(rejected.length).toBeLessThanOrEqual(4);
    expect(reports.length).toBeGreaterThan(0);
    expect(reports.every((r) => r.code === "http_error" && r.status === 429 && r.message.includes("delayed"))).toBe(true);
    expect(reports.some((r) => r.message.includes("HTTP 429 without Retry-After"))).toBe(true);
    expect(reports.some((r) => r.message.includes("pacing to the"))).toBe(true);
    expect(backend.contractFailures).toEqual([]);
  });

  it("evicts from a full queue while paced, and says so; the paced envelope itself is kept", async () => {
    const fake = manualSend();
    const settled = outcomes();
    const { exporter, reports, logs } = makeExporter({ send: fake.send, maxQueueSize: 2, maxConcurrency: 1, rateWindowMs: 1_000 });
    const ids = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    exporter.enqueue(traceEnvelope(ids[0]!, settled.hook()));
    void exporter.flush();
    fake.answerNext(failed(429, true));
    await tick();
    for (const id of ids.slice(1)) exporter.enqueue(traceEnvelope(id, settled.hook())); // the third evicts the second

    expect(reports.map((r) => r.code)).toEqual(["http_error", "queue_overflow"]);
    expect(reports[0]!.message).toMatch(/POST \/traces delayed by 2 s \(HTTP 429 without Retry-After\); 1 envelope\(s\) waiting/);
    expect(reports[1]!.message).toContain("sending held back by the backend's rate limit");
    expect(logs.some((l) => l.startsWith("delayed /traces"))).toBe(true);
    expect(settled.all).toEqual([[], ["abandoned"], [], []]);

    const flushed = exporter.flush();
    await vi.advanceTimersByTimeAsync(1_010); // a whole window (plus its margin): nothing was accepted in it
    for (let i = 0; i < 3; i++) {
      fake.answerNext();
      await tick();
    }
    await flushed;
    expect(fake.sent.map((e) => e.traceId)).toEqual([ids[0], ids[0], ids[2], ids[3]]);
    expect(settled.all).toEqual([["delivered"], ["abandoned"], ["delivered"], ["delivered"]]);
  });
});

describe("Pacer", () => {
  const WINDOW = 1_000;
  const MARGIN = 10; // a hundredth of the window
  function pacer() {
    let t = 0;
    const p = new Pacer(WINDOW, () => t);
    return { p, at: (ms: number) => (t = ms) };
  }
  const ticket = (r: Reservation) => {
    if (!("ticket" in r)) throw new Error(`expected a ticket, got a delay of ${r.ms} ms`);
    return r.ticket;
  };

  it("learns the limit from a 429, waits for the window to end, then sends that many per window", () => {
    const { p, at } = pacer();
    const tickets = [0, 1, 2].map(() => ticket(p.reserve("/traces")));
    at(5);
    for (const t of tickets) p.answered("/traces", t, 202); // the window counts from the first answer
    const fourth = ticket(p.reserve("/traces"));
    at(6);
    p.answered("/traces", fourth, 429);

    expect(p.limit("/traces")).toBe(3);
    expect(p.reserve("/traces")).toEqual({ ms: 5 + WINDOW + MARGIN - 6, until: 5 + WINDOW + MARGIN, reason: "rate-limited", limit: 3 });
    at(5 + WINDOW + MARGIN);
    [0, 1, 2].forEach(() => ticket(p.reserve("/traces")));
    expect(p.reserve("/traces")).toMatchObject({ reason: "paced", limit: 3 });
    // Other routes have their own limits.
    ticket(p.reserve("/evaluations/trace-scores"));
  });

  it("waits a whole window from now after a 429 when nothing was accepted in the window", () => {
    const { p, at } = pacer();
    const first = ticket(p.reserve("/traces"));
    at(100);
    p.answered("/traces", first, 429);
    expect(p.limit("/traces")).toBeUndefined();
    expect(p.reserve("/traces")).toMatchObject({ until: 100 + WINDOW + MARGIN, reason: "rate-limited" });
  });

  it("waits exactly a 429's Retry-After, which wins over its own estimate", () => {
    const { p, at } = pacer();
    const first = ticket(p.reserve("/traces"));
    at(50);
    p.answered("/traces", first, 429, 200);
    expect(p.reserve("/traces")).toEqual({ ms: 200, until: 250, reason: "retry-after" });
    at(250);
    ticket(p.reserve("/traces"));
  });

  it("counts the spans of every trace as one route", () => {
    expect(routeOf(`/traces/${randomUUID()}/spans`)).toBe("/traces/{id}/spans");
    expect(routeOf("/traces")).toBe("/traces");
  });
});

describe("BatchExporter: scores and spans follow their trace", () => {
  it("sends each score and spans only after its trace's 2xx, and retries them until the trace is persisted", async () => {
    vi.useRealTimers();
    const backend = await startFakeBackend({ persistMs: 80 });
    const settled = outcomes();
    const { exporter, reports } = makeExporter({ send: httpSend(backend.url), batchSize: 1, retryBaseMs: 20, retryMaxMs: 200 });
    const ids = Array.from({ length: 8 }, () => randomUUID());
    for (const id of ids) {
      exporter.enqueue(traceEnvelope(id, settled.hook()));
      exporter.enqueue(scoreEnvelope(id, settled.hook()));
      exporter.enqueue(spansEnvelope(id, settled.hook()));
    }
    await exporter.flush();
    await backend.close();

    expect(settled.all).toEqual(ids.flatMap(() => [["delivered"], ["delivered"], ["delivered"]]));
    for (const id of ids) {
      const mine = backend.answers.filter((a) => a.traceId === id);
      // The trace's 202 came before anything else of it reached the server.
      expect(mine[0]).toMatchObject({ path: "/traces", status: 202 });
      expect(mine.filter((a) => a.status === 201).map((a) => a.path).sort()).toEqual(["/evaluations/trace-scores", `/traces/${id}/spans`]);
    }
    expect(backend.statuses("/evaluations/trace-scores")).toContain(500); // persistence lagged, and was waited for
    expect(reports).toEqual([]);
    expect(backend.contractFailures).toEqual([]);
  });

  it("sends a score for a trace it did not queue at once, with the same patience", async () => {
    vi.useRealTimers();
    const backend = await startFakeBackend();
    const settled = outcomes();
    const { exporter, reports } = makeExporter({ send: httpSend(backend.url), batchSize: 1, retryBaseMs: 20, retryMaxMs: 100 });
    const id = randomUUID();
    exporter.enqueue(scoreEnvelope(id, settled.hook()));
    const flushed = exporter.flush();
    // Far more 500s than maxRetries (3): the trace arrives from elsewhere, late.
    await vi.waitFor(() => expect(backend.statuses("/evaluations/trace-scores").length).toBeGreaterThanOrEqual(6), 10_000);
    backend.persist(id);
    await flushed;
    await backend.close();

    expect(settled.all).toEqual([["delivered"]]);
    expect(backend.statuses("/evaluations/trace-scores").at(-1)).toBe(201);
    expect(reports).toEqual([]);
  });

  it("gives a score up as abandoned once traceWaitMs of 500s has passed, and reports the last answer", async () => {
    vi.useRealTimers();
    const backend = await startFakeBackend();
    const settled = outcomes();
    const { exporter, reports } = makeExporter({ send: httpSend(backend.url), retryBaseMs: 10, retryMaxMs: 40, traceWaitMs: 300 });
    exporter.enqueue(scoreEnvelope(randomUUID(), settled.hook()));
    await exporter.flush();
    await backend.close();

    expect(settled.all).toEqual([["abandoned"]]);
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ code: "http_error", status: 500 });
  });

  it("does not send the score of a refused trace: it is refused along with it", async () => {
    vi.useRealTimers();
    const backend = await startFakeBackend();
    const settled = outcomes();
    const { exporter, reports } = makeExporter({ send: httpSend(backend.url) });
    const id = randomUUID();
    exporter.enqueue(traceEnvelope(id, settled.hook(), "")); // an empty name: 422
    exporter.enqueue(scoreEnvelope(id, settled.hook()));
    await exporter.flush();
    await backend.close();

    expect(settled.all).toEqual([["refused"], ["refused"]]);
    expect(backend.answers.map((a) => a.path)).toEqual(["/traces"]);
    expect(reports.map((r) => r.message)).toEqual([
      expect.stringContaining("HTTP 422"),
      `POST /evaluations/trace-scores not sent: its trace ${id} was refused`,
    ]);
    expect(backend.contractFailures).not.toEqual([]); // the refused trace, on purpose
  });

  it("takes its trace's outcome along even when the trace left before the score got a slot", async () => {
    const fake = manualSend();
    const settled = outcomes();
    const { exporter } = makeExporter({ send: fake.send, maxConcurrency: 1, maxRetries: 0 });
    const id = randomUUID();
    exporter.enqueue(traceEnvelope(id, settled.hook()));
    exporter.enqueue(scoreEnvelope(id, settled.hook()));
    void exporter.flush();
    // The only slot sends the trace; it fails for good before the score is looked at.
    fake.answerNext(failed(503, true));
    await tick();
    await exporter.flush();

    expect(settled.all).toEqual([["abandoned"], ["abandoned"]]);
    expect(fake.sent.map((e) => e.path)).toEqual(["/traces"]);
  });
});

describe("BatchExporter: deadlines", () => {
  it("shutdown(timeoutMs) gives up what is left at the deadline with the endpoint down, and reports the count", async () => {
    vi.useRealTimers();
    const backend = await startFakeBackend();
    const url = backend.url;
    await backend.close(); // connection refused from now on
    const settled = outcomes();
    // Backoff of up to a minute per retry: without the deadline this would take minutes.
    const { exporter, reports } = makeExporter({ send: httpSend(url), retryBaseMs: 60_000, retryMaxMs: 60_000, maxRetries: 5 });
    for (let i = 0; i < 100; i++) exporter.enqueue(traceEnvelope(randomUUID(), settled.hook()));
    await exporter.shutdown(300);

    expect(settled.all).toEqual(Array.from({ length: 100 }, () => ["abandoned"]));
    expect(reports.map((r) => r.message)).toEqual([
      "shutdown: deadline of 300 ms passed with 100 envelope(s) not delivered; given up",
    ]);
  });

  it("shutdown() waits 10 s by default", async () => {
    const fake = manualSend();
    const settled = outcomes();
    const { exporter, reports } = makeExporter({ send: fake.send });
    exporter.enqueue(traceEnvelope(randomUUID(), settled.hook()));
    const stopped = track(exporter.shutdown());

    await vi.advanceTimersByTimeAsync(DEFAULT_SHUTDOWN_TIMEOUT_MS - 1);
    expect(stopped.done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(stopped.done).toBe(true);
    expect(DEFAULT_SHUTDOWN_TIMEOUT_MS).toBe(10_000);
    expect(settled.all).toEqual([["abandoned"]]);
    expect(reports[0]!.message).toContain("1 envelope(s) not delivered");

    fake.answerNext(); // the request outlived the deadline: its answer changes nothing
    await tick();
    expect(settled.all).toEqual([["abandoned"]]);
  });

  it("flush(timeoutMs) stops waiting at the deadline and gives nothing up: delivery goes on", async () => {
    const fake = manualSend();
    const settled = outcomes();
    const { exporter, reports } = makeExporter({ send: fake.send, maxConcurrency: 1 });
    exporter.enqueue(traceEnvelope(randomUUID(), settled.hook()));
    const flushed = track(exporter.flush(1_000));
    exporter.enqueue(traceEnvelope(randomUUID(), settled.hook()));

    await vi.advanceTimersByTimeAsync(1_000);
    expect(flushed.done).toBe(true);
    expect(settled.all).toEqual([[], []]);
    expect(reports).toEqual([]);

    fake.answerNext(); // the first request returns and frees its slot for the second
    await tick();
    const second = exporter.flush();
    fake.answerNext();
    await second;
    expect(settled.all).toEqual([["delivered"], ["delivered"]]);
  });

  it("cuts a wait for the rate-limit window short at the deadline", async () => {
    const fake = manualSend();
    const settled = outcomes();
    const { exporter } = makeExporter({ send: fake.send });
    exporter.enqueue(traceEnvelope(randomUUID(), settled.hook()));
    const stopped = track(exporter.shutdown(500));
    fake.answerNext(failed(429, true)); // nothing accepted: a whole minute to wait
    await vi.advanceTimersByTimeAsync(500);
    expect(stopped.done).toBe(true);
    expect(settled.all).toEqual([["abandoned"]]);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe("BatchExporter: settled hook", () => {
  it("is called exactly once per envelope with how it left, and a throwing hook changes nothing", async () => {
    const fake = manualSend();
    const calls: [number, SettleOutcome][] = [];
    const envelope = (n: number): Envelope => ({
      ...env(n),
      settled(outcome) {
        calls.push([n, outcome]);
        throw new Error("hook bug");
      },
    });
    const { exporter, reports } = makeExporter({ send: fake.send, maxRetries: 0, maxQueueSize: 3, maxConcurrency: 3 });
    for (const n of [1, 2, 3]) exporter.enqueue(envelope(n));
    void exporter.flush();
    for (const n of [4, 5, 6, 7]) exporter.enqueue(envelope(n)); // the queue holds 3: 4 is evicted

    fake.answerNext(OK);
    fake.answerNext(failed(422, false));
    fake.answerNext(failed(503, true)); // no retry left
    await tick();
    const flushed = exporter.flush();
    for (let i = 0; i < 3; i++) {
      fake.answerNext();
      await tick();
    }
    await flushed;
    await exporter.shutdown();
    exporter.enqueue(envelope(8)); // after shutdown

    expect(calls.sort(([a], [b]) => a - b)).toEqual([
      [1, "delivered"],
      [2, "refused"],
      [3, "abandoned"],
      [4, "abandoned"],
      [5, "delivered"],
      [6, "delivered"],
      [7, "delivered"],
      [8, "abandoned"],
    ]);
    expect(reports.map((r) => r.code).sort()).toEqual(["http_error", "http_error", "queue_overflow"]);
  });
});

describe("BatchExporter: bodies made after the caller's turn (enqueueLater)", () => {
  beforeEach(() => {
    vi.useRealTimers();
  });

  it("makes the envelopes of one turn together once it is over, then sends them", async () => {
    const fake = manualSend();
    const { exporter } = makeExporter({ send: fake.send, batchSize: 2 });
    const made: number[] = [];
    const later = (n: number) => () => (made.push(n), [env(n)]);

    exporter.enqueueLater(later(1));
    exporter.enqueueLater(later(2));
    expect(made).toEqual([]);

    await new Promise((resolve) => setImmediate(resolve));
    expect(made).toEqual([1, 2]);
    expect(ids(fake.sent)).toEqual([1, 2]);
  });

  it("flush() makes what waits at once and resolves once it is delivered", async () => {
    const fake = manualSend();
    const { exporter } = makeExporter({ send: fake.send });

    exporter.enqueueLater(() => [env(1), env(2)]);
    const flushed = track(exporter.flush());
    expect(ids(fake.sent)).toEqual([1, 2]);

    fake.answerNext();
    fake.answerNext();
    await tick();
    expect(flushed.done).toBe(true);
  });

  it("shutdown() delivers what waits to be made, and ignores what comes after", async () => {
    const fake = manualSend();
    const { exporter } = makeExporter({ send: fake.send });
    const outcomes: SettleOutcome[] = [];

    exporter.enqueueLater(() => [{ ...env(1), settled: (o) => outcomes.push(o) }]);
    const done = track(exporter.shutdown());
    exporter.enqueueLater(() => [{ ...env(2), settled: (o) => outcomes.push(o) }]);
    fake.answerNext();
    await new Promise((resolve) => setImmediate(resolve));

    expect(done.done).toBe(true);
    expect(ids(fake.sent)).toEqual([1]);
    expect(outcomes).toEqual(["delivered", "abandoned"]);
  });
});
