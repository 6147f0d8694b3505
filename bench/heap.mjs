/**
 * Heap with the endpoint down: 200k traces (one span each) through a pandaprobe Client whose
 * endpoint refuses connections (http://127.0.0.1:1, real fetch, real ECONNREFUSED). The export queue
 * is bounded (maxQueueSize, default 1000, drop-oldest), so heapUsed after a full GC must stay flat.
 *
 * Run by bench/run.mjs as `node --expose-gc bench/heap.mjs <pandaprobe bundle> <out.json>`.
 */
import { writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { MESSAGES } from "./variants.mjs";

const [bundlePath, outPath] = process.argv.slice(2);
const TOTAL = Number(process.env.BENCH_HEAP_TRACES ?? 200_000);
const CHECKPOINT = TOTAL / 4;
const YIELD_EVERY = 500; // let the exporter's fetches (and their failures) run between bursts

if (typeof globalThis.gc !== "function") throw new Error("run with --expose-gc");
const pp = await import(pathToFileURL(bundlePath).href);

// The SDK prints each kind of background error once when no handler is registered; keep the run quiet.
const warn = console.warn;
let warnings = 0;
console.warn = () => {
  warnings++;
};

const client = new pp.Client(
  { apiKey: "k", projectName: "p", endpoint: "http://127.0.0.1:1", maxRetries: 1, timeout: 1 },
  {},
);
const errors = {};
client.onError((e) => {
  errors[e.code] = (errors[e.code] ?? 0) + 1;
});

const settle = () => new Promise((r) => setImmediate(r));
async function heapNow() {
  await settle();
  globalThis.gc();
  globalThis.gc();
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers, rss: m.rss };
}
const exporter = client.exporter; // diagnostic only: queue length and drop count of the private exporter

function oneTrace(i) {
  pp.session("s", () =>
    pp.user("u", () =>
      client.startTrace("agent", { input: MESSAGES }, (t) => {
        t.span("llm", { kind: pp.SpanKind.LLM, input: MESSAGES }, (s) => s.setOutput(`answer ${i}`));
        t.setOutput(`answer ${i}`);
      }),
    ),
  );
}

const t0 = process.hrtime.bigint();
// Warm up: fill the queue once so the baseline already holds a full queue.
for (let i = 0; i < 2_000; i++) {
  oneTrace(i);
  if (i % YIELD_EVERY === 0) await settle();
}
const points = [{ traces: 0, ...(await heapNow()), queued: exporter?.queue?.length, dropped: exporter?.dropped }];
for (let i = 1; i <= TOTAL; i++) {
  oneTrace(i);
  if (i % YIELD_EVERY === 0) await settle();
  if (i % CHECKPOINT === 0) {
    points.push({ traces: i, ...(await heapNow()), queued: exporter?.queue?.length, dropped: exporter?.dropped });
  }
}
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
console.warn = warn;

writeFileSync(
  outPath,
  JSON.stringify({ traces: TOTAL, seconds, points, errors, warningsSuppressed: warnings, maxQueueSize: client.config.maxQueueSize }, null, 2),
);
// Do not wait for the queued envelopes to fail their retries: exit now.
process.exit(0);
