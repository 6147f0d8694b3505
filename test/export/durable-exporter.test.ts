/**
 * `queueDir`: traces wait in a directory until the backend acknowledged them, so a restart, a
 * crash (SIGKILL) or a burst beyond `maxQueueSize` loses nothing, and processes sharing the
 * directory send each trace once. Real files in a temp directory, a real collector on 127.0.0.1,
 * real child processes for the crash.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Client, PandaProbeError, type PandaProbeOptions } from "../../src/index.js";
import type { Envelope } from "../../src/export/types.js";
import type { TraceData } from "../../src/wire/types.js";
import { startCollector, type Collector } from "../support/collector.js";
import { buildNodeSdk, runChild, type BuiltSdk } from "../support/sdk-child.js";

let dir: string;
const collectors: Collector[] = [];
const clients: Client[] = [];

async function collector(): Promise<Collector> {
  const c = await startCollector();
  collectors.push(c);
  return c;
}

/** A client on the test's queue directory; its reports are collected. */
function client(endpoint: string, options: PandaProbeOptions = {}) {
  const c = new Client(
    { apiKey: "sk_pp_durable", projectName: "durable", endpoint, queueDir: dir, flushInterval: 0.05, ...options },
    {},
  );
  clients.push(c);
  const reports: PandaProbeError[] = [];
  c.onError((error) => reports.push(error as PandaProbeError));
  return { client: c, reports };
}

function endTraces(c: Client, names: string[]): void {
  for (const name of names) c.startTrace(name, { input: { name } }).end();
}

const names = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
/** Records in the directory, waiting or claimed. */
const records = () => readdirSync(dir).filter((name) => name.endsWith(".rec") || name.endsWith(".claim"));
/** Names of the traces answered 2xx, sorted; duplicates kept. */
const delivered = (c: Collector) => c.traces().map((t: TraceData) => t.name).sort();
const sorted = (list: string[]) => [...list].sort();

/** The size on disk of the record of a trace made by endTraces. */
function recordBytes(name: string): number {
  let bytes = 0;
  const sink = { enqueue: (e: Envelope) => (bytes = Buffer.byteLength(`${e.path}\n${e.body}`)), flush: async () => {}, shutdown: async () => {} };
  endTraces(new Client({ exporter: sink }, {}), [name]);
  return bytes;
}

/** A collector that answers every trace 503: the backend is down. */
async function downCollector(): Promise<Collector> {
  const c = await collector();
  c.respond((req) => (req.path === "/traces" ? { status: 503, body: { detail: "down" } } : undefined));
  return c;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "pandaprobe-durable-"));
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.shutdown()));
  for (const c of collectors) expect(c.contractFailures).toEqual([]);
  await Promise.all(collectors.splice(0).map((c) => c.close()));
  rmSync(dir, { recursive: true, force: true });
});

describe("a restart", () => {
  it("delivers what the previous client could not, and the previous one said how many it left", async () => {
    const down = await downCollector();
    const first = client(down.url, { maxRetries: 0 });
    endTraces(first.client, names("left", 20));
    await first.client.shutdown();
    expect(down.requests.length).toBeGreaterThan(0);
    expect(records()).toHaveLength(20);
    const left = first.reports.filter((e) => e.code === "storage");
    expect(left.map((e) => e.message)).toEqual([expect.stringMatching(/^PandaProbe: 20 trace\(s\) not delivered yet wait in /)]);

    const up = await collector();
    const next = client(up.url);
    await next.client.flush();
    expect(delivered(up)).toEqual(sorted(names("left", 20)));
    expect(records()).toEqual([]);
    expect(next.reports).toEqual([]);
  }, 60_000);

  it("sends leftovers on its own, without a flush", async () => {
    const down = await downCollector();
    const first = client(down.url, { maxRetries: 0 });
    endTraces(first.client, names("left", 5));
    await first.client.shutdown();

    const up = await collector();
    client(up.url);
    await up.waitFor(() => up.traces().length === 5, 15_000);
    expect(delivered(up)).toEqual(sorted(names("left", 5)));
  }, 60_000);

  it("deletes a trace the backend refused for good (it would fail the same way again)", async () => {
    const refusing = await collector();
    refusing.respond((req) => (req.path === "/traces" ? { status: 400, body: { detail: "no" } } : undefined));
    const first = client(refusing.url);
    endTraces(first.client, names("refused", 3));
    await first.client.flush();
    expect(refusing.requests.filter((r) => r.path === "/traces")).toHaveLength(3);
    expect(records()).toEqual([]);
    expect(first.reports.map((e) => e.code)).toEqual(["http_error", "http_error", "http_error"]);
  }, 60_000);
});

describe("clients sharing a directory", () => {
  it("deliver each trace once: the leftovers and their own", async () => {
    const down = await downCollector();
    const first = client(down.url, { maxRetries: 0 });
    endTraces(first.client, names("left", 600));
    await first.client.shutdown();
    expect(records()).toHaveLength(600);

    const up = await collector();
    const a = client(up.url, { projectName: "a", maxQueueSize: 50 });
    const b = client(up.url, { projectName: "b", maxQueueSize: 50 });
    endTraces(a.client, names("a", 100));
    endTraces(b.client, names("b", 100));
    await Promise.all([a.client.flush(), b.client.flush()]);

    expect(delivered(up)).toEqual(sorted([...names("left", 600), ...names("a", 100), ...names("b", 100)]));
    const byProject = (p: string) => up.requests.filter((r) => r.headers["x-project-name"] === p).length;
    expect(byProject("a")).toBeGreaterThan(0);
    expect(byProject("b")).toBeGreaterThan(0);
    expect(records()).toEqual([]);
  }, 60_000);
});

describe("the byte bound (maxQueueBytes)", () => {
  it("deletes the oldest waiting traces and reports queue_overflow; the rest are delivered later", async () => {
    const stalled = await collector();
    stalled.respond(() => ({ stall: true }));
    // One trace in flight (stalled), the others waiting on disk, room for about five of them.
    const first = client(stalled.url, { maxQueueSize: 1, batchSize: 1, timeout: 1, maxRetries: 0, maxQueueBytes: 5 * recordBytes("t-10") });
    endTraces(first.client, names("t", 20));
    await first.client.flush();
    const overflow = first.reports.filter((e) => e.code === "queue_overflow");
    expect(overflow.length).toBeGreaterThan(0);
    const evicted = overflow.reduce((sum, e) => sum + Number(/deleted (\d+) oldest/.exec(e.message)![1]), 0);
    expect(evicted).toBeGreaterThan(0);
    await first.client.shutdown();

    const up = await collector();
    await client(up.url).client.flush();
    const got = up.traces().map((t) => Number(t.name.slice(2)));
    // The first went out at once (in flight, never deleted); of the waiting ones, the newest were kept.
    const kept = got.filter((n) => n !== 0).sort((x, y) => x - y);
    expect(got).toContain(0);
    expect(kept).toEqual(Array.from({ length: kept.length }, (_, i) => 20 - kept.length + i));
    expect(got.length + evicted).toBe(20);
  }, 60_000);
});

describe("when the directory cannot be used", () => {
  it("sends from memory, as without queueDir, and reports storage once", async () => {
    const blocker = join(dir, "a-file");
    writeFileSync(blocker, "not a directory");
    const up = await collector();
    const { client: c, reports } = client(up.url, { queueDir: join(blocker, "queue") });
    endTraces(c, names("memory", 3));
    await c.flush();
    expect(delivered(up)).toEqual(names("memory", 3));
    expect(reports.map((e) => e.code)).toEqual(["storage"]);
    expect(reports[0]!.message).toMatch(/opening the queue directory failed/);
  }, 60_000);

  it("sends a trace it could not write from memory, when the directory vanished", async () => {
    const up = await collector();
    const { client: c, reports } = client(up.url);
    endTraces(c, ["first"]);
    await c.flush();
    rmSync(dir, { recursive: true, force: true });
    endTraces(c, ["second"]);
    await c.flush();
    expect(delivered(up)).toEqual(["first", "second"]);
    expect(reports.map((e) => e.code)).toEqual(["storage"]);
    expect(reports[0]!.message).toMatch(/writing a trace failed/);
  }, 60_000);
});

describe("configuration", () => {
  it("reads queueDir and maxQueueBytes from PANDAPROBE_QUEUE_DIR and PANDAPROBE_MAX_QUEUE_BYTES", () => {
    const c = new Client(
      { apiKey: "k", projectName: "p", enabled: false },
      { PANDAPROBE_QUEUE_DIR: "/var/lib/app/traces", PANDAPROBE_MAX_QUEUE_BYTES: "1048576" },
    );
    expect(c.config).toMatchObject({ queueDir: "/var/lib/app/traces", maxQueueBytes: 1048576 });
  });

  it("defaults to no directory and 256 MiB", () => {
    const c = new Client({ apiKey: "k", projectName: "p", enabled: false }, {});
    expect(c.config.queueDir).toBeUndefined();
    expect(c.config.maxQueueBytes).toBe(256 * 1024 * 1024);
  });

  it.each([
    [{ queueDir: "" }, /option "queueDir" must be a non-empty string, got ""/],
    [{ queueDir: 42 }, /option "queueDir" must be a non-empty string, got 42/],
    [{ maxQueueBytes: 0 }, /option "maxQueueBytes" must be a positive integer, got 0/],
  ])("refuses %o", (options, message) => {
    expect(() => new Client({ apiKey: "k", projectName: "p", ...(options as PandaProbeOptions) }, {})).toThrow(message);
  });
});

describe("a burst larger than the memory queue", () => {
  it("delivers all of 5,000 traces with maxQueueSize 100, the rest waiting on disk meanwhile", async () => {
    const up = await collector();
    const { client: c, reports } = client(up.url, { maxQueueSize: 100 });
    endTraces(c, names("burst", 5000));
    await c.flush();
    const got = delivered(up);
    expect(got).toHaveLength(5000);
    expect(new Set(got).size).toBe(5000);
    expect(reports).toEqual([]);
    expect(records()).toEqual([]);
  }, 120_000);
});

describe("processes that end", () => {
  let sdk: BuiltSdk;
  const fixture = resolve("test/fixtures/durable-child.mjs");

  beforeAll(async () => {
    sdk = await buildNodeSdk();
  }, 60_000);

  afterAll(() => sdk?.remove());

  const child = (env: Record<string, string>) => runChild(fixture, { SDK_URL: sdk.url, QUEUE_DIR: dir, ...env });

  async function until(predicate: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  it("killed with SIGKILL, leaves its 1,000 waiting traces to the next process, which delivers all of them", async () => {
    const backend = await collector();
    backend.respond(() => ({ stall: true }));
    const producer = child({ MODE: "produce", COUNT: "1000", MAX_QUEUE_SIZE: "100", COLLECTOR_URL: backend.url });
    await until(() => producer.stdout().includes("ended") && records().length === 1000, "1,000 records on disk");
    await backend.waitFor((reqs) => reqs.some((r) => r.outcome === "stalled"));
    producer.proc.kill("SIGKILL");
    expect(await producer.exited).toEqual({ code: null, signal: "SIGKILL" });
    expect(producer.stderr()).toBe("");
    // Some were claimed by the dead process (being sent), the others waiting.
    const claimedByDead = records().filter((name) => name.includes(`@${producer.proc.pid}_`));
    expect(claimedByDead.length).toBeGreaterThan(0);
    expect(records()).toHaveLength(1000);
    expect(backend.traces()).toEqual([]);

    backend.reset();
    const deliverer = child({ MODE: "deliver", COLLECTOR_URL: backend.url });
    expect(await deliverer.exited).toEqual({ code: 0, signal: null });
    expect(deliverer.stderr()).toBe("");
    expect(JSON.parse(deliverer.stdout())).toEqual({ reports: [] });
    expect(delivered(backend)).toEqual(sorted(names("t", 1000)));
    expect(records()).toEqual([]);
  }, 90_000);

  it("ends on its own while the backend is down, leaving its traces on disk, and the next delivers them", async () => {
    const backend = await collector();
    backend.respond((req) => (req.path === "/traces" ? { status: 503, body: { detail: "down" } } : undefined));
    const producer = child({ MODE: "produce-and-exit", COUNT: "50", COLLECTOR_URL: backend.url });
    expect(await producer.exited).toEqual({ code: 0, signal: null });
    expect(records()).toHaveLength(50);
    expect(backend.traces()).toEqual([]);

    backend.respond();
    const deliverer = child({ MODE: "deliver", COLLECTOR_URL: backend.url });
    expect(await deliverer.exited).toEqual({ code: 0, signal: null });
    expect(delivered(backend)).toEqual(sorted(names("t", 50)));
    expect(records()).toEqual([]);
  }, 90_000);
});
