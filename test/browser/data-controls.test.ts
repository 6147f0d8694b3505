/**
 * The browser entry's data controls: the mask runs in the page before a trace is written to the
 * IndexedDB queue, so a secret is neither stored on the device nor sent; a trace not sampled is
 * neither stored nor sent, nor is its score.
 */
import "fake-indexeddb/auto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { init, score, shutdown, span, startTrace, trace } from "../../src/index.browser.js";
import { startCollector, type Collector } from "../support/collector.js";
import { corpus, expectRedacted, redactingMask, SECRET } from "../support/secrets.js";
import { IDBFactory } from "fake-indexeddb";
import { openIdbStore } from "../../src/export/browser/idb-store.js";

/** The database the browser platform queues in. */
const QUEUE = "pandaprobe-queue";

let collector: Collector;
beforeAll(async () => {
  collector = await startCollector();
});
afterEach(async () => {
  await shutdown();
  expect(collector.contractFailures).toEqual([]);
  collector.reset();
});
afterAll(() => collector.close());

/** A new, empty IndexedDB (support/queue.ts would load the Node entry, whose platform would replace the browser's). */
const freshIndexedDB = () => (globalThis.indexedDB = new IDBFactory());

/** The bodies waiting in the queue, read through a connection of its own, as another tab would. */
async function storedBodies(): Promise<string[]> {
  const store = await openIdbStore(QUEUE, { maxCount: 1e9, maxBytes: 1e12 }, () => {});
  try {
    return (await store.oldest()).map((r) => r.body);
  } finally {
    store.close();
  }
}

const page = (options: Record<string, unknown>) =>
  init({ apiKey: "sk_pp_test", projectName: "browser", dangerouslyAllowBrowser: true, endpoint: collector.url, flushInterval: 0.05, ...options });

describe("the browser queue", () => {
  it("stores and sends only masked values", async () => {
    freshIndexedDB();
    // Nothing is accepted at first, so the traces stay in the queue where the test can read them.
    collector.respond(() => ({ status: 503, body: { detail: "down" } }));
    const { mask } = redactingMask();
    const client = page({ mask });
    const t = startTrace("turn", { input: corpus(), metadata: corpus() });
    t.span("llm", { kind: "LLM", input: corpus(), modelParameters: { stop: [SECRET] } }).setOutput(corpus()).setError(new Error(SECRET)).end();
    t.setOutput(corpus()).end();
    const retrieve = span(async (q: unknown) => ({ found: q }), { name: "retrieve" });
    await trace(async (q: unknown) => retrieve(q), { name: "decorated" })(corpus());
    score(t.traceId, "quality", 1, { metadata: corpus() });

    await collector.waitFor((requests) => requests.length > 0);
    const stored = await storedBodies();
    expect(stored.length).toBeGreaterThanOrEqual(2);
    expectRedacted(stored);

    collector.respond();
    await client.flush();
    expect(collector.traces().map((b) => b.name).sort()).toEqual(["decorated", "turn"]);
    expectRedacted(collector.requests.map((r) => r.body));
  });

  it("never sees a trace that was not sampled, nor its score", async () => {
    freshIndexedDB();
    const client = page({ sampleRate: 0 });
    const t = startTrace("dropped", { input: SECRET });
    t.span("s").end();
    t.end();
    score(t.traceId, "quality", 1);
    await client.flush();
    expect(await storedBodies()).toEqual([]);
    expect(collector.requests).toEqual([]);
  });
});
