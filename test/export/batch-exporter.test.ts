import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { PandaProbeError } from "../../src/base/errors.js";
import { BatchExporter, type BatchExporterOptions } from "../../src/export/batch-exporter.js";
import type { SendResult } from "../../src/export/http-sender.js";
import type { Envelope } from "../../src/export/types.js";

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
