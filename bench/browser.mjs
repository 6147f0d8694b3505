#!/usr/bin/env node
/**
 * The browser runtime's costs, measured in real Chromium (/usr/bin/chromium).
 *
 *   node bench/browser.mjs      prints a markdown report
 *
 * (a) Main-thread time of `trace.end()` for a trace of 20 spans with 2 KB of input each: the
 *     synchronous part runs on the interaction path (bar: p95 < 1 ms); serialization waits for an
 *     idle callback, and the time until the IndexedDB commit that follows is reported for information.
 * (b) Drain throughput: 1000 traces queue in IndexedDB while the collector stalls, then it answers;
 *     traces per second until all are delivered through the page's relay route.
 *
 * The page and its server are those of test/browser (test/support/chromium.ts), bundled here with
 * esbuild so this stays a plain Node script. Knobs: BENCH_END_TRACES (200), BENCH_DRAIN_TRACES (1000).
 */
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const END_BAR_MS = 1;

/** The TypeScript test support as one ESM module Node can import. */
async function loadSupport() {
  const outfile = join(root, "bench/.build/browser-support.mjs");
  mkdirSync(dirname(outfile), { recursive: true });
  await build({
    stdin: {
      contents: `export * from "./test/support/chromium.ts"; export { startCollector } from "./test/support/collector.ts";`,
      resolveDir: root,
      loader: "ts",
    },
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    outfile,
    logLevel: "silent",
  });
  return import(`${pathToFileURL(outfile).href}?t=${Date.now()}`);
}

function quantile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

function summary(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: quantile(sorted, 0.5), p95: quantile(sorted, 0.95), max: sorted[sorted.length - 1] };
}

const ms = (v) => `${v.toFixed(3)} ms`;

/** Fills the queue while every request hangs, then answers them all and times the drain. */
async function drainRate(support, browser, server, collector, count, batchSize) {
  let release;
  const gate = new Promise((resolve) => (release = resolve));
  collector.reset();
  collector.respond(async () => {
    await gate;
    return undefined;
  });
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(server.pageUrl("bench", { options: JSON.stringify({ batchSize, timeout: 120 }) }));
    for (let done = 0; done < count; done += 100) {
      await page.evaluate(([label, n]) => window.pp.makeTraces(label, n), [`drain${done}`, Math.min(100, count - done)]);
    }
    const deadline = Date.now() + 30_000;
    while ((await page.evaluate(() => window.pp.queued())) < count) {
      if (Date.now() > deadline) throw new Error("the queue did not fill");
      await new Promise((r) => setTimeout(r, 50));
    }
    const started = performance.now();
    release();
    const delivered = () => new Set(collector.traces().map((t) => t.trace_id)).size;
    await collector.waitFor(() => delivered() >= count, 120_000);
    const seconds = (performance.now() - started) / 1000;
    const errors = await page.evaluate(() => window.pp.errors);
    return { seconds, rate: count / seconds, requests: collector.requests.length, errors };
  } finally {
    collector.respond();
    await context.close();
  }
}

export async function runBrowserBench() {
  const endTraces = Number(process.env.BENCH_END_TRACES ?? 200);
  const drainTraces = Number(process.env.BENCH_DRAIN_TRACES ?? 1000);
  const support = await loadSupport();
  const collector = await support.startCollector({ apiKey: support.TEST_API_KEY, projectName: support.TEST_PROJECT });
  const server = await support.startPageServer(collector, { bench: await support.bundlePage("bench-app.ts", { minify: true }) });
  const browser = await support.launchChromium();
  try {
    // (a) trace.end() on the main thread.
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(server.pageUrl("bench"));
    // Warm-up: JIT, IndexedDB open, first requests.
    await page.evaluate(() => window.bench.timeEnd(20, 20, 2048, 25));
    const timings = await page.evaluate((n) => window.bench.timeEnd(n, 20, 2048, 25), endTraces);
    const ceiling = await page.evaluate(() => window.bench.fetchRate(500, 4, 1000));
    const endErrors = await page.evaluate(() => window.pp.errors);
    await context.close();
    const end = summary(timings.endMs);
    const persisted = summary(timings.persistedMs);

    // (b) drain throughput, at the default batch size and a larger one.
    const drains = [];
    for (const batchSize of [10, 50]) drains.push({ batchSize, ...(await drainRate(support, browser, server, collector, drainTraces, batchSize)) });

    const lines = [
      `## Browser runtime in Chromium ${browser.version()}`,
      "",
      `### trace.end() of a trace with 20 spans × 2 KB input (${endTraces} traces, one per task, 25 ms apart)`,
      "",
      `performance.now() resolution: ${timings.isolated ? "5 µs (cross-origin isolated)" : "100 µs (not isolated)"}.`,
      "",
      "| | p50 | p95 | max |",
      "|---|---:|---:|---:|",
      `| synchronous \`trace.end()\` (main thread) | ${ms(end.p50)} | **${ms(end.p95)}** | ${ms(end.max)} |`,
      `| end() returned → serialized when idle → committed to IndexedDB (wall time) | ${ms(persisted.p50)} | ${ms(persisted.p95)} | ${ms(persisted.max)} |`,
      "",
      `Bar: p95 of the synchronous part < ${END_BAR_MS} ms: **${end.p95 < END_BAR_MS ? "met" : "not met"}**.` +
        (endErrors.length ? ` Errors reported: ${endErrors.map((e) => e.code).join(", ")}.` : ""),
      "",
      `### Drain from IndexedDB to the local collector (${drainTraces} traces queued while it stalled, via the relay route)`,
      "",
      "| batchSize (maxConcurrentRequests 4) | time to deliver all | traces/s | requests |",
      "|---:|---:|---:|---:|",
      ...drains.map((d) => `| ${d.batchSize} | ${d.seconds.toFixed(2)} s | **${Math.round(d.rate)}** | ${d.requests} |`),
      "",
      `Ceiling on this machine: plain \`fetch\` of 1 KB bodies through the same relay, 4 at a time, ${Math.round(ceiling)} requests/s ` +
        "(POST /traces takes one trace per request, so a drain cannot beat it).",
    ];
    const drainErrors = drains.flatMap((d) => d.errors);
    if (drainErrors.length) lines.push("", `Errors reported while draining: ${drainErrors.map((e) => `${e.code}: ${e.message}`).join("; ")}`);
    if (collector.contractFailures.length) lines.push("", `Contract failures: ${collector.contractFailures.length}`);
    return lines.join("\n");
  } finally {
    await browser.close();
    await server.close();
    await collector.close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(await runBrowserBench());
}
