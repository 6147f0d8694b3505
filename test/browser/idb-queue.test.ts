/**
 * The browser exporter's IndexedDB queue against a real collector on 127.0.0.1: every trace is
 * written before it is sent and deleted only after a 2xx, so outages, offline spells, reloads and
 * closed tabs lose nothing; tabs share the queue; the bounds evict the oldest; without IndexedDB
 * (or when it fails) the queue lives in memory and moves back when IndexedDB works again.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createBrowserExporter, type BrowserExporterOptions } from "../../src/export/browser/exporter.js";
import { createBrowserHttpSender, type SendResult } from "../../src/export/http-sender.js";
import { openIdbStore } from "../../src/export/browser/idb-store.js";
import { memoryStore, type Bounds, type QueueStore } from "../../src/export/browser/store.js";
import type { Envelope, Exporter } from "../../src/export/types.js";
import type { PandaProbeError } from "../../src/base/errors.js";
import { startCollector, type Collector, type Reply } from "../support/collector.js";
import {
  freshIndexedDB,
  storedRecords,
  storedTraceIds,
  switchablePort,
  traceEnvelope,
  traceIds,
  windowEvents,
} from "./support/queue.js";

const ROOMY: Bounds = { maxCount: 1000, maxBytes: 8 * 1024 * 1024 };

let collector: Collector;
let dbCount = 0;
let dbName: string;
/** Exporters to shut down after the test; an abandoned "closed page" is left out on purpose. */
const running: Exporter[] = [];

beforeEach(async () => {
  freshIndexedDB();
  dbName = `pandaprobe-queue-test-${++dbCount}`;
  collector = await startCollector();
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((e) => e.shutdown()));
  expect(collector.contractFailures).toEqual([]);
  await collector.close();
  vi.restoreAllMocks();
});

interface Harness {
  exporter: Exporter;
  reports: PandaProbeError[];
  /** Every send, in call order, with what it answered once it did. */
  sends: { envelope: Envelope; keepalive: boolean; result?: SendResult }[];
}

interface HarnessOptions extends Partial<BrowserExporterOptions> {
  endpoint?: string;
  timeoutMs?: number;
  bounds?: Bounds;
  /** Runs before each send, e.g. to look into the database at that moment. */
  beforeSend?: (envelope: Envelope, keepalive: boolean) => Promise<void>;
  /** Shut down after the test (default true). */
  owned?: boolean;
}

function startExporter(options: HarnessOptions = {}): Harness {
  const { endpoint = collector.url, timeoutMs = 2000, bounds = ROOMY, beforeSend, owned = true, ...rest } = options;
  const http = createBrowserHttpSender({
    endpoint,
    headers: { "X-API-Key": "sk_pp_queue", "X-Project-Name": "idb-queue-tests" },
    timeoutMs,
  });
  const reports: PandaProbeError[] = [];
  const sends: Harness["sends"] = [];
  const exporter = createBrowserExporter({
    openStore: (onClosed) => openIdbStore(dbName, bounds, onClosed),
    memoryStore: memoryStore(bounds),
    async send(envelope, keepalive) {
      const entry: Harness["sends"][number] = { envelope, keepalive };
      sends.push(entry);
      await beforeSend?.(envelope, keepalive);
      entry.result = await http(envelope, keepalive);
      return entry.result;
    },
    name: dbName,
    batchSize: 10,
    flushIntervalMs: 20,
    maxConcurrency: 2,
    retryBaseMs: 20,
    retryMaxMs: 50,
    report: (error) => reports.push(error),
    ...rest,
  });
  if (owned) running.push(exporter);
  return { exporter, reports, sends };
}

/** Trace ids the collector accepted (2xx), each once. */
function delivered(): Set<string> {
  return new Set(traceIds(collector.traces()));
}

/**
 * The collector answers 503 while `unavailable`; Date.now runs `skew` ms ahead; the backoff jitter
 * is pinned high, so after one failed round flush() decides when sending resumes.
 */
function outageWithClock(): { skew: number; unavailable: boolean } {
  const outage = { skew: 0, unavailable: true };
  const realNow = Date.now;
  vi.spyOn(Date, "now").mockImplementation(() => realNow() + outage.skew);
  vi.spyOn(Math, "random").mockReturnValue(0.99);
  collector.respond(() => (outage.unavailable ? { status: 503, body: { detail: "Service Unavailable" } } : undefined));
  return outage;
}

const until = (condition: () => boolean | Promise<boolean>, timeout = 5000) =>
  vi.waitFor(async () => expect(await condition()).toBe(true), { timeout, interval: 10 });

describe("written before sent, deleted after the 2xx", () => {
  it("a record is in IndexedDB before its request leaves, stays while the request stalls, and goes after the 2xx", async () => {
    const t = traceEnvelope("stalled-then-accepted");
    const inDbAtSend: boolean[] = [];
    collector.respond(() => ({ stall: true }));
    startExporter({
      timeoutMs: 300,
      beforeSend: async (envelope) => void inDbAtSend.push((await storedRecords(dbName)).some((r) => r.body === envelope.body)),
    }).exporter.enqueue(t);

    await collector.waitFor((requests) => requests.some((r) => r.outcome === "stalled"));
    expect(inDbAtSend[0]).toBe(true);
    expect(await storedTraceIds(dbName)).toEqual([t.traceId]);

    collector.respond();
    await until(() => delivered().has(t.traceId));
    await until(async () => (await storedRecords(dbName)).length === 0);
    expect(inDbAtSend.every(Boolean)).toBe(true);
  });

  it("503 for a while, then 202: the records wait in IndexedDB and all are delivered", async () => {
    const traces = Array.from({ length: 5 }, (_, i) => traceEnvelope(`outage-${i}`));
    let unavailable = true;
    collector.respond(() => (unavailable ? { status: 503, body: { detail: "Service Unavailable" } } : undefined));
    const { exporter, reports } = startExporter({ batchSize: 2 });
    for (const t of traces) exporter.enqueue(t);

    await collector.waitFor((requests) => requests.filter((r) => r.status === 503).length >= 6);
    expect((await storedTraceIds(dbName)).sort()).toEqual(traceIds(traces.map((t) => ({ trace_id: t.traceId }))).sort());

    unavailable = false;
    await until(() => delivered().size === traces.length);
    await until(async () => (await storedRecords(dbName)).length === 0);
    expect([...delivered()].sort()).toEqual(traces.map((t) => t.traceId).sort());
    expect(reports).toEqual([]);
  });
  it("retries when the backoff timer fires before Date.now() reaches the retry time (a coarse or skewed clock)", async () => {
    // A clock that has not ticked since the failure: Date.now() rounded to 100 ms (Firefox's
    // resistFingerprinting) within one step, or a timer firing a millisecond early, as Node's do.
    vi.spyOn(Date, "now").mockReturnValue(Date.now());
    vi.spyOn(Math, "random").mockReturnValue(0.5);
    let failed = false;
    collector.respond(() => {
      if (failed) return undefined;
      failed = true;
      return { status: 503, body: { detail: "Service Unavailable" } };
    });
    const t = traceEnvelope("retried-on-time");
    startExporter().exporter.enqueue(t);
    await until(() => delivered().has(t.traceId), 2000);
    expect(collector.requests.map((r) => r.status)).toEqual([503, 202]);
  });
});

describe("Retry-After", () => {
  it("a wait the backend asks for is honoured up to 60 s, as the core transport does, not for hours", async () => {
    // A rate limit window of an hour, or an HTTP-date read by a client whose clock runs behind.
    const outage = outageWithClock();
    collector.respond(() => (outage.unavailable ? { status: 429, headers: { "Retry-After": "3600" }, body: { detail: "Too Many Requests" } } : undefined));
    const first = traceEnvelope("rate-limited");
    const logged: string[] = [];
    const { exporter, sends } = startExporter({ flushIntervalMs: 60_000, log: (message) => logged.push(message) });
    exporter.enqueue(first);
    // The wait is set from the clock when the failed round ends, before the clock moves on.
    await until(() => logged.some((m) => m.startsWith("send failed")));

    // Within the minute, a new trace waits with the queue.
    const second = traceEnvelope("within-the-minute");
    outage.skew = 30_000;
    outage.unavailable = false;
    exporter.enqueue(second);
    await until(async () => (await storedRecords(dbName)).length === 2);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(sends).toHaveLength(1);

    // A minute on, the next trace sends the queue, as it would an hour on.
    const third = traceEnvelope("after-the-minute");
    outage.skew = 61_000;
    exporter.enqueue(third);
    await until(() => delivered().size === 3);
    expect(await storedRecords(dbName)).toEqual([]);
  });
});

describe("a backoff and a later Retry-After", () => {
  it("the backoff's timer does not cut short the wait a later 429 asked for", async () => {
    vi.spyOn(Math, "random").mockReturnValue(0.99);
    const answers: Reply[] = [
      { status: 503, body: { detail: "Service Unavailable" } },
      { status: 429, headers: { "Retry-After": "1" }, body: { detail: "Too Many Requests" } },
    ];
    collector.respond(() => answers.shift());
    const { exporter } = startExporter({ flushIntervalMs: 60_000, retryBaseMs: 100, retryMaxMs: 100 });
    const t = traceEnvelope("backoff-then-rate-limit");
    exporter.enqueue(t);
    await collector.waitFor((requests) => requests.some((r) => r.status === 503));
    // Before the backoff's ~100 ms timer fires, a flush sends again and is asked to wait a second.
    await exporter.flush();
    await until(() => delivered().has(t.traceId), 3000);

    const [, limited, accepted] = collector.requests;
    expect([limited!.status, accepted!.status]).toEqual([429, 202]);
    expect(accepted!.receivedAt - limited!.receivedAt).toBeGreaterThanOrEqual(900);
  });
});

describe("offline spells, reloads and tabs", () => {
  it("network down, then up: the queue is delivered on the online event", async () => {
    const events = windowEvents();
    const port = await switchablePort();
    try {
      // Backoff after the failure is long (about a minute): only the online event can explain a delivery.
      vi.spyOn(Math, "random").mockReturnValue(0.99);
      const t = traceEnvelope("offline");
      const { exporter, sends } = startExporter({ endpoint: port.url, retryBaseMs: 60_000, retryMaxMs: 60_000 });
      exporter.enqueue(t);
      await until(() => sends.some((s) => s.result?.ok === false));
      expect(sends[0]!.result).toMatchObject({ ok: false, retryable: true, error: { code: "network_error" } });
      expect(await storedTraceIds(dbName)).toEqual([t.traceId]);

      await port.up(collector.port);
      events.dispatch("online");
      await until(() => delivered().has(t.traceId), 3000);
      await until(async () => (await storedRecords(dbName)).length === 0);
    } finally {
      await port.close();
      events.restore();
    }
  });

  it("a reload: what a closed page left in IndexedDB is delivered by the next page on startup", async () => {
    const traces = Array.from({ length: 3 }, (_, i) => traceEnvelope(`left-behind-${i}`));
    collector.respond(() => ({ stall: true }));
    let pageOpen = true;
    // Page A: once closed, nothing of it runs any more (its requests never come back).
    const pageA = startExporter({
      owned: false,
      timeoutMs: 60_000,
      beforeSend: () => (pageOpen ? Promise.resolve() : new Promise(() => {})),
    });
    for (const t of traces) pageA.exporter.enqueue(t);
    await collector.waitFor((requests) => requests.some((r) => r.outcome === "stalled"));
    expect(await storedRecords(dbName)).toHaveLength(3);
    pageOpen = false;

    collector.respond();
    const pageB = startExporter({ flushIntervalMs: 60_000 });
    await until(() => delivered().size === 3);
    expect([...delivered()].sort()).toEqual(traces.map((t) => t.traceId).sort());
    expect(new Set(pageB.sends.map((s) => s.envelope.body))).toEqual(new Set(traces.map((t) => t.body)));
    await until(async () => (await storedRecords(dbName)).length === 0);
  });

  it("two tabs sharing the queue, both producing: every trace is delivered", async () => {
    const tabs = [startExporter({ batchSize: 3 }), startExporter({ batchSize: 3 })];
    const produced: string[] = [];
    for (let i = 0; i < 20; i++) {
      for (const [n, tab] of tabs.entries()) {
        const t = traceEnvelope(`tab-${n}-trace-${i}`);
        produced.push(t.traceId);
        tab.exporter.enqueue(t);
      }
      if (i % 4 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await Promise.all(tabs.map((tab) => tab.exporter.flush()));
    await until(() => delivered().size === produced.length);
    expect([...delivered()].sort()).toEqual(produced.sort());
    await until(async () => (await storedRecords(dbName)).length === 0);
    expect(tabs.flatMap((tab) => tab.reports)).toEqual([]);
  });
});

describe("bounds", () => {
  /**
   * Queues `traces` under `bounds` while the backend refuses them (the queue only fills): the two
   * oldest are evicted with one queue_overflow report, and once it accepts, the rest are delivered.
   */
  async function expectTwoOldestEvicted(traces: ReturnType<typeof traceEnvelope>[], bounds: Bounds): Promise<void> {
    collector.respond(() => ({ status: 503, body: { detail: "Service Unavailable" } }));
    const { exporter, reports } = startExporter({ batchSize: 100, bounds });
    for (const t of traces) exporter.enqueue(t);
    await until(() => reports.length > 0);
    expect(reports.map((r) => [r.code, r.message])).toEqual([["queue_overflow", expect.stringContaining("evicted the 2 oldest")]]);
    const newest = traces.slice(2).map((t) => t.traceId);
    expect(await storedTraceIds(dbName)).toEqual(newest);
    collector.respond();
    await exporter.flush();
    expect(traceIds(collector.traces()).sort()).toEqual(newest.sort());
  }

  it("maxCount evicts the oldest, with a queue_overflow report", async () => {
    const traces = Array.from({ length: 5 }, (_, i) => traceEnvelope(`count-${i}`));
    await expectTwoOldestEvicted(traces, { maxCount: 3, maxBytes: ROOMY.maxBytes });
  });

  it("maxBytes evicts the oldest, with a queue_overflow report", async () => {
    const traces = Array.from({ length: 4 }, (_, i) => traceEnvelope(`bytes-${i}`));
    const bytes = traces.map((t) => Buffer.byteLength(t.body));
    // Room for the two newest, not for a third.
    const maxBytes = bytes[2]! + bytes[3]! + Math.min(...bytes) - 1;
    await expectTwoOldestEvicted(traces, { maxCount: 1000, maxBytes });
  });
});

describe("when IndexedDB cannot be used", () => {
  it("unavailable: one storage report, and the memory queue still delivers", async () => {
    const indexedDB = globalThis.indexedDB;
    Reflect.deleteProperty(globalThis, "indexedDB");
    try {
      const traces = Array.from({ length: 3 }, (_, i) => traceEnvelope(`no-idb-${i}`));
      const { exporter, reports } = startExporter();
      for (const t of traces) {
        exporter.enqueue(t);
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      await exporter.flush();
      expect([...delivered()].sort()).toEqual(traces.map((t) => t.traceId).sort());
      expect(reports.map((r) => r.code)).toEqual(["storage"]);
      expect(reports[0]!.message).toMatch(/IndexedDB unavailable \(Error: IndexedDB is not available\); queueing traces in memory/);
    } finally {
      globalThis.indexedDB = indexedDB;
    }
  });

  it("a write that fails: the batch goes to memory, one storage report, and it is delivered", async () => {
    let failNextAdd = true;
    const { exporter, reports } = startExporter({
      openStore: async (onClosed) => {
        const store = await openIdbStore(dbName, ROOMY, onClosed);
        return Object.assign(Object.create(store) as QueueStore, {
          add(records: Parameters<QueueStore["add"]>[0]) {
            if (!failNextAdd) return store.add(records);
            failNextAdd = false;
            return Promise.reject(new DOMException("quota exceeded", "QuotaExceededError"));
          },
        });
      },
    });
    const t = traceEnvelope("write-failed");
    exporter.enqueue(t);
    await exporter.flush();
    expect(delivered()).toEqual(new Set([t.traceId]));
    expect(reports.map((r) => r.code)).toEqual(["storage"]);
    expect(reports[0]!.message).toContain("QuotaExceededError");
    expect(await storedRecords(dbName)).toEqual([]);
  });

  it("a connection the browser closes: memory meanwhile, then after 30 s back to IndexedDB with what waited", async () => {
    let closeConnection!: () => void;
    const outage = outageWithClock();
    const inDbAtSend: boolean[] = [];
    const { exporter, reports, sends } = startExporter({
      retryBaseMs: 60_000,
      retryMaxMs: 60_000,
      openStore: (onClosed) => {
        closeConnection = onClosed;
        return openIdbStore(dbName, ROOMY, onClosed);
      },
      beforeSend: async (envelope) => void inDbAtSend.push((await storedRecords(dbName)).some((r) => r.body === envelope.body)),
    });
    await exporter.flush();
    closeConnection();
    expect(reports.map((r) => r.code)).toEqual(["storage"]);

    const traces = [traceEnvelope("waited-in-memory-1"), traceEnvelope("waited-in-memory-2")];
    for (const t of traces) exporter.enqueue(t);
    await until(() => sends.length === 2 && sends.every((s) => s.result?.ok === false));
    expect(await storedRecords(dbName)).toEqual([]);
    expect(inDbAtSend).toEqual([false, false]);

    outage.skew = 31_000;
    outage.unavailable = false;
    await exporter.flush();
    expect([...delivered()].sort()).toEqual(traces.map((t) => t.traceId).sort());
    // Sent from IndexedDB again (written before sent), and deleted there after the 2xx.
    expect(inDbAtSend).toEqual([false, false, true, true]);
    expect(await storedRecords(dbName)).toEqual([]);
    expect(reports.map((r) => r.code)).toEqual(["storage"]);
  });

  it("a page closing while what waited in memory moves back to IndexedDB sends it with keepalive", async () => {
    const events = windowEvents();
    try {
      let closeConnection!: () => void;
      const outage = outageWithClock();
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      let opens = 0;
      const { exporter, sends } = startExporter({
        retryBaseMs: 60_000,
        retryMaxMs: 60_000,
        openStore: async (onClosed) => {
          closeConnection = onClosed;
          const store = await openIdbStore(dbName, ROOMY, onClosed);
          if (++opens === 1) return store;
          // The connection opened 30 s later writes slowly: the move back is still in flight.
          return { ...store, add: async (records) => (await gate, store.add(records)) };
        },
      });
      await exporter.flush();
      closeConnection();
      const t = traceEnvelope("moving-back");
      exporter.enqueue(t);
      await until(() => sends.length === 1 && sends[0]!.result?.ok === false);

      outage.skew = 31_000;
      const flushed = exporter.flush();
      await until(() => opens === 2);
      await new Promise((resolve) => setTimeout(resolve, 20));
      events.dispatch("pagehide");
      await until(() => sends.some((s) => s.keepalive && s.envelope.body === t.body));

      outage.unavailable = false;
      release();
      await flushed;
      await exporter.flush();
      expect(delivered().has(t.traceId)).toBe(true);
    } finally {
      events.restore();
    }
  });
});

describe("a page going away", () => {
  it("pagehide before the write: the record leaves with keepalive, is written as well, and goes once that request is answered", async () => {
    const events = windowEvents();
    try {
      const t = traceEnvelope("leaving");
      const { exporter, sends } = startExporter({ flushIntervalMs: 60_000 });
      exporter.enqueue(t);
      events.dispatch("pagehide");
      expect(sends.map((s) => [s.envelope.body, s.keepalive])).toEqual([[t.body, true]]);
      await until(() => delivered().has(t.traceId));
      expect(collector.requests[0]!.status).toBe(202);
      // The page lived on: the keepalive request's 2xx acknowledges the stored record, which is not sent again.
      await until(async () => (await storedRecords(dbName)).length === 0);
      await exporter.flush();
      expect(sends.map((s) => s.keepalive)).toEqual([true]);
    } finally {
      events.restore();
    }
  });

  it("visibilitychange to hidden does the same; back to visible, traces are sent the ordinary way, each once", async () => {
    const document = Object.assign(new EventTarget(), { visibilityState: "visible" });
    Object.defineProperty(globalThis, "document", { value: document, configurable: true, writable: true });
    const setVisibility = (state: "hidden" | "visible") => {
      document.visibilityState = state;
      document.dispatchEvent(new Event("visibilitychange"));
    };
    try {
      const hidden = traceEnvelope("hidden");
      const { exporter, sends } = startExporter({ flushIntervalMs: 60_000 });
      exporter.enqueue(hidden);
      setVisibility("hidden");
      expect(sends.map((s) => [s.envelope.body, s.keepalive])).toEqual([[hidden.body, true]]);
      await until(async () => delivered().has(hidden.traceId) && (await storedRecords(dbName)).length === 0);

      setVisibility("visible");
      const visible = traceEnvelope("visible-again");
      exporter.enqueue(visible);
      await until(() => delivered().has(visible.traceId));
      expect(sends.map((s) => [s.envelope.body, s.keepalive])).toEqual([
        [hidden.body, true],
        [visible.body, false],
      ]);
    } finally {
      Reflect.deleteProperty(globalThis, "document");
    }
  });

  it("a page restored from the back/forward cache (pageshow) sends the ordinary way again", async () => {
    const events = windowEvents();
    try {
      const { exporter, sends } = startExporter();
      events.dispatch("pagehide");
      events.dispatch("pageshow");
      const t = traceEnvelope("restored");
      exporter.enqueue(t);
      await until(() => delivered().has(t.traceId));
      expect(sends.map((s) => [s.envelope.body, s.keepalive])).toEqual([[t.body, false]]);
    } finally {
      events.restore();
    }
  });

  it("a tab hidden for long: what keepalive requests carried and were answered for is budget again when the page closes", async () => {
    const document = Object.assign(new EventTarget(), { visibilityState: "visible" });
    Object.defineProperty(globalThis, "document", { value: document, configurable: true, writable: true });
    const events = windowEvents();
    try {
      const traces = Array.from({ length: 3 }, (_, i) => traceEnvelope(`hidden-tab-${i}`));
      // Room for one trace's request at a time, as 64 KiB is for a few large ones.
      const keepaliveBudget = Math.max(...traces.map((t) => Buffer.byteLength(t.body))) + 10;
      const { exporter, sends } = startExporter({ flushIntervalMs: 60_000, keepaliveBudget });
      document.visibilityState = "hidden";
      document.dispatchEvent(new Event("visibilitychange"));
      // An agent run goes on in the background tab: each trace leaves with keepalive, answered before the next.
      for (const t of traces.slice(0, 2)) {
        exporter.enqueue(t);
        await until(async () => delivered().has(t.traceId) && (await storedRecords(dbName)).every((r) => r.body !== t.body));
      }
      // Its last trace ends in the app's pagehide listener as the user closes the tab.
      exporter.enqueue(traces[2]!);
      events.dispatch("pagehide");
      expect(sends.filter((s) => s.keepalive).map((s) => s.envelope.body)).toEqual(traces.map((t) => t.body));
      await until(() => delivered().size === 3);
    } finally {
      events.restore();
      Reflect.deleteProperty(globalThis, "document");
    }
  });

  it("a page closing while a request is in flight sends that record again with keepalive", async () => {
    const events = windowEvents();
    try {
      collector.respond(() => ({ stall: true }));
      const t = traceEnvelope("in-flight");
      const { exporter, sends } = startExporter({ timeoutMs: 300 });
      exporter.enqueue(t);
      await collector.waitFor((requests) => requests.some((r) => r.outcome === "stalled"));
      expect(sends.map((s) => [s.envelope.body, s.keepalive])).toEqual([[t.body, false]]);

      collector.respond();
      events.dispatch("pagehide");
      expect(sends.map((s) => [s.envelope.body, s.keepalive])).toEqual([
        [t.body, false],
        [t.body, true],
      ]);
      await until(() => delivered().has(t.traceId));
    } finally {
      events.restore();
    }
  });
});

describe("shutdown", () => {
  it("delivers what was queued, and a flush() or a retry timer afterwards reports nothing", async () => {
    let refuse = true;
    collector.respond(() => (refuse ? ((refuse = false), { status: 503, body: { detail: "Service Unavailable" } }) : undefined));
    const { exporter, reports } = startExporter({ owned: false, retryBaseMs: 100, retryMaxMs: 100 });
    const t = traceEnvelope("before-shutdown");
    exporter.enqueue(t);
    await collector.waitFor((requests) => requests.some((r) => r.status === 503));
    await exporter.shutdown();
    expect(delivered().has(t.traceId)).toBe(true);

    await exporter.flush();
    // The retry the 503 scheduled fires after shutdown.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(reports).toEqual([]);
  });
});

describe("sending", () => {
  it("a trace is sent as soon as it is written, not at the next interval", async () => {
    const t = traceEnvelope("at-once");
    startExporter({ flushIntervalMs: 60_000 }).exporter.enqueue(t);
    await until(() => delivered().has(t.traceId), 1000);
    await until(async () => (await storedRecords(dbName)).length === 0);
  });
});

describe("serialization off the interaction path", () => {
  it("envelopes handed over to make later are made when the page is idle, not in the task that ended the trace", async () => {
    const t = traceEnvelope("idle");
    const { exporter } = startExporter({ flushIntervalMs: 20 });
    let made = 0;
    exporter.enqueueLater!(() => (made++, [t]));
    await Promise.resolve();
    expect(made).toBe(0);
    await until(() => delivered().has(t.traceId));
    expect(made).toBe(1);
  });

  it("flush makes them at once and delivers them", async () => {
    const t = traceEnvelope("flushed-later");
    const { exporter } = startExporter({ flushIntervalMs: 60_000 });
    exporter.enqueueLater!(() => [t]);
    await exporter.flush();
    expect(delivered().has(t.traceId)).toBe(true);
    expect(await storedRecords(dbName)).toEqual([]);
  });

  it("a page going away makes them at once and sends them with keepalive, before and after pagehide", async () => {
    const events = windowEvents();
    try {
      const before = traceEnvelope("made-on-leave");
      const after = traceEnvelope("ended-in-pagehide");
      const { exporter, sends } = startExporter({ flushIntervalMs: 60_000 });
      exporter.enqueueLater!(() => [before]);
      events.dispatch("pagehide");
      exporter.enqueueLater!(() => [after]);
      expect(sends.map((s) => [s.envelope.body, s.keepalive])).toEqual([
        [before.body, true],
        [after.body, true],
      ]);
      await until(() => delivered().has(before.traceId) && delivered().has(after.traceId));
    } finally {
      events.restore();
    }
  });
});
