#!/usr/bin/env node
/**
 * `npm run bench`: builds the SDK from src/, runs the speed and heap benchmarks in fresh Node
 * processes (with --expose-gc), prints a summary and writes BENCHMARKS.md and bench/results.json.
 *
 *   node bench/run.mjs                      speed + heap, wrappers, browser (Chromium), bundle size;
 *                                           writes BENCHMARKS.md and bench/results.json
 *   node bench/run.mjs --no-write           same, prints only
 *   node bench/run.mjs --core-only          speed + heap only
 *   node bench/run.mjs --only socket        CPU per trace delivered to an endpoint in another process
 *                                           (bench/socket.mjs), printed only
 *   node bench/run.mjs --only instructions  instructions per call of the variants that record nothing,
 *                                           under Valgrind's callgrind (bench/instructions.mjs), printed only
 *   node bench/run.mjs --profile [variant] [seconds]
 *                                           CPU profile of one variant (default pandaprobe), printed
 *
 * Knobs (environment): BENCH_CALLS (1000 calls per batch), BENCH_SAMPLE_MS (400), BENCH_ROUNDS (15), BENCH_WARMUP (4),
 * BENCH_ONLY=name,name (subset of variants), BENCH_ISOLATION (process | shared), BENCH_HEAP_TRACES (200000).
 *
 * Why not `vitest bench`: Vitest would run src/ through its module runner while the peers load as
 * plain Node modules; here the SDK is bundled from src/ by Vite (as the published build will be) and
 * every variant runs as plain ESM, in interleaved rounds (see bench/speed.mjs).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const benchDir = dirname(fileURLToPath(import.meta.url));
const root = dirname(benchDir);
const buildDir = join(benchDir, ".build");
const bundle = join(buildDir, "pandaprobe.mjs");
const args = process.argv.slice(2);
const log = (msg) => process.stderr.write(`[bench] ${msg}\n`);
const onlySocket = args[0] === "--only" && args[1] === "socket";
const onlyInstructions = args[0] === "--only" && args[1] === "instructions";

// ---------------------------------------------------------------------------------------------
// 1. Peers: the OpenTelemetry SDK lives in bench/peers (see its package.json for why).

if (!onlySocket && !onlyInstructions && !existsSync(join(benchDir, "peers", "node_modules", "@langfuse", "otel"))) {
  log("installing bench/peers (OpenTelemetry SDK and Langfuse span processor for the @langfuse/tracing variants): npm ci --prefix bench/peers");
  execFileSync("npm", ["ci", "--prefix", join(benchDir, "peers"), "--no-audit", "--no-fund"], { stdio: "inherit" });
}

// ---------------------------------------------------------------------------------------------
// 2. Build the SDK from src/ into one unminified ESM file (SSR build: Node target, builtins external).

async function buildSdk() {
  const { build } = await import("vite");
  mkdirSync(buildDir, { recursive: true });
  await build({
    root,
    configFile: false,
    publicDir: false,
    logLevel: "warn",
    build: {
      ssr: join(root, "src", "index.ts"),
      outDir: buildDir,
      emptyOutDir: true,
      minify: false,
      sourcemap: true,
      target: "node20",
      rollupOptions: { output: { format: "es", entryFileNames: "pandaprobe.mjs" } },
    },
  });
  if (!existsSync(bundle)) throw new Error(`build produced no ${bundle}`);
}

/**
 * Every variant runs as a production process does (NODE_ENV=production, unless the caller set it):
 * pandaprobe's developer checks are then off, as in a production bundle; the peers read no such switch.
 */
const benchEnv = { ...process.env, NODE_ENV: process.env.NODE_ENV ?? "production" };

function runNode(script, scriptArgs, { inherit = false } = {}) {
  const r = spawnSync(process.execPath, ["--expose-gc", join(benchDir, script), ...scriptArgs], {
    cwd: root,
    stdio: inherit ? "inherit" : ["ignore", "inherit", "inherit"],
    env: benchEnv,
  });
  if (r.status !== 0) throw new Error(`${script} exited with ${r.status ?? r.signal}`);
}

log("building src/ -> bench/.build/pandaprobe.mjs");
await buildSdk();

if (onlySocket) {
  const { runSocketBench } = await import("./socket.mjs");
  log("instructions: the variants that record nothing under callgrind (node bench/run.mjs --only instructions)");
  lines.push(await runInstructionBench(bundle), "");
  log("socket: CPU per trace delivered to an endpoint in another process (bench/socket.mjs)");
  console.log((await runSocketBench(bundle)).markdown);
  process.exit(0);
}

if (onlyInstructions) {
  const { runInstructionBench } = await import("./instructions.mjs");
  console.log(await runInstructionBench(bundle));
  process.exit(0);
}

if (args[0] === "--profile") {
  runNode("profile.mjs", [bundle, args[1] ?? "pandaprobe", args[2] ?? "8"], { inherit: true });
  process.exit(0);
}

// ---------------------------------------------------------------------------------------------
// 3. Run.

const loadBefore = os.loadavg();
const started = new Date();
log("speed: all variants, interleaved rounds (a few minutes; langsmith dominates)");
const speedOut = join(buildDir, "speed.json");
runNode("speed.mjs", [bundle, speedOut]);
log("heap: 200k traces with the endpoint down");
const heapOut = join(buildDir, "heap.json");
runNode("heap.mjs", [bundle, heapOut]);
const loadAfter = os.loadavg();
const speed = JSON.parse(readFileSync(speedOut, "utf8"));
const heap = JSON.parse(readFileSync(heapOut, "utf8"));

// ---------------------------------------------------------------------------------------------
// 4. Statistics.

const quantile = (sorted, q) => {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
};
const stats = {};
for (const v of speed.variants) {
  const ns = v.samples.map((s) => s.ns).sort((a, b) => a - b);
  stats[v.name] = {
    label: v.label,
    median: quantile(ns, 0.5),
    p25: quantile(ns, 0.25),
    p75: quantile(ns, 0.75),
    min: ns[0],
    max: ns[ns.length - 1],
    byRound: new Map(v.samples.map((s) => [s.round, s.ns])),
  };
}

/**
 * a/b taken round by round (the two samples of a round are seconds apart, so they share the machine's
 * state): the median of those paired ratios, their quartiles, and the plain ratio of the medians.
 */
function ratio(a, b) {
  if (!stats[a] || !stats[b]) return undefined;
  const perRound = [];
  for (const [round, ns] of stats[a].byRound) {
    const other = stats[b].byRound.get(round);
    if (other !== undefined) perRound.push(ns / other);
  }
  perRound.sort((x, y) => x - y);
  return {
    value: quantile(perRound, 0.5),
    p25: quantile(perRound, 0.25),
    p75: quantile(perRound, 0.75),
    ofMedians: stats[a].median / stats[b].median,
  };
}

const ratios = [
  { label: "pandaprobe / floor", a: "pandaprobe", b: "floor", target: "<= 1.5", ok: (r) => r <= 1.5 },
  { label: "pandaprobe / untraced", a: "pandaprobe", b: "untraced", target: "(no target)" },
  { label: "@langfuse/tracing / pandaprobe", a: "langfuse", b: "pandaprobe", target: ">= 5", ok: (r) => r >= 5 },
  { label: "@langfuse/tracing exporting nothing / pandaprobe", a: "langfuse-no-export", b: "pandaprobe", target: "lower bound" },
  { label: "@langfuse/tracing / floor", a: "langfuse", b: "floor", target: "context" },
  { label: "langsmith / pandaprobe", a: "langsmith", b: "pandaprobe", target: ">= 20", ok: (r) => r >= 20 },
  { label: "pandaprobe with HTTP exporter (fetch stub) / floor", a: "pandaprobe-http", b: "floor", target: "supplementary" },
  { label: "pandaprobe (wrappers) / floor", a: "pandaprobe-wrappers", b: "floor", target: "diagnostic" },
  { label: "@langfuse/tracing / pandaprobe (wrappers)", a: "langfuse", b: "pandaprobe-wrappers", target: "diagnostic" },
  { label: "langsmith / pandaprobe (wrappers)", a: "langsmith", b: "pandaprobe-wrappers", target: "diagnostic" },
  // Off means off: what records nothing, against the same code untraced in an ALS-active process.
  { label: "enabled: false / its code untraced, ALS active", a: "disabled", b: "untraced-als-shape", target: "<= 1.5", ok: (r) => r <= 1.5 },
  { label: "sampleRate: 0 / its code untraced, ALS active", a: "unsampled", b: "untraced-als-shape", target: "<= 1.5", ok: (r) => r <= 1.5 },
  { label: "enabled: false (wrappers) / untraced, ALS active", a: "disabled-wrappers", b: "untraced-als", target: "<= 1.5", ok: (r) => r <= 1.5 },
  { label: "sampleRate: 0 (wrappers) / untraced, ALS active", a: "unsampled-wrappers", b: "untraced-als", target: "<= 1.5", ok: (r) => r <= 1.5 },
  { label: "untraced, ALS active / untraced", a: "untraced-als", b: "untraced", target: "context" },
]
  .map((r) => ({ ...r, r: ratio(r.a, r.b) }))
  .filter((r) => r.r);

// ---------------------------------------------------------------------------------------------
// 5. Report.

const us = (ns) => (ns / 1000).toFixed(ns < 10_000 ? 2 : 1);
const mb = (bytes) => (bytes / 1024 / 1024).toFixed(2);
const cpu = os.cpus();
const command = "npm run bench   (= node bench/run.mjs)";
const lines = [];
lines.push("# Benchmarks");
lines.push("");
lines.push("Generated by `bench/run.mjs`; numbers from one run on the machine below. Re-run to refresh.");
lines.push("");
lines.push(`- Command: \`${command}\``);
lines.push(`- Date: ${started.toISOString()}`);
lines.push(`- SDK: built from src/ at ${gitState()}`);
lines.push(`- Node: ${process.version} (V8 ${process.versions.v8}), ${os.platform()} ${os.arch()}`);
lines.push(`- CPU: ${cpu[0]?.model ?? "unknown"} x ${cpu.length} (load average before/after: ${loadBefore.map((l) => l.toFixed(2)).join(" ")} / ${loadAfter.map((l) => l.toFixed(2)).join(" ")})`);
lines.push(`- Peers: langsmith ${pkgVersion("langsmith")}, @langfuse/tracing ${pkgVersion("@langfuse/tracing")}, @opentelemetry/api ${pkgVersion("@opentelemetry/api")}, @opentelemetry/sdk-trace-base ${pkgVersion("@opentelemetry/sdk-trace-base", join(benchDir, "peers"))}, @langfuse/otel ${pkgVersion("@langfuse/otel", join(benchDir, "peers"))}, @opentelemetry/otlp-transformer ${pkgVersion("@opentelemetry/otlp-transformer", join(benchDir, "peers"))}`);
lines.push(`- Method: a batch is ${speed.calls} sequential awaited calls (langsmith: ${speed.variants.find((v) => v.name === "langsmith")?.callsPerBatch ?? "-"}, as its calls take ~5 ms) + one awaited flush, so export work is paid inside the batch; a sample is as many batches as fill ~${speed.sampleMs} ms (calibrated per variant during warm-up, at least 1), timed as a whole and divided by the number of calls. ${speed.warmupRounds} warm-up rounds, then ${speed.rounds} measured rounds; each round takes one sample of every variant, in an order rotated per round, with no forced GC (a forced full GC slows the next few thousand calls unevenly across libraries), so each sample includes the variant's own steady-state GC work. ${speed.isolation === "shared" ? "All variants in one process." : "Each variant in its own Node process, all started together and sampled one at a time (the others idle), so no library pays for another's AsyncLocalStorage instances, timers or heap, while machine noise still hits all variants round by round."} Processes run with NODE_ENV=${benchEnv.NODE_ENV}, as in production (pandaprobe's developer argument checks off; the peers read no such switch).`);
lines.push("");
lines.push("## Time per traced call (one agent turn: root + 3 awaited children)");
lines.push("");
lines.push("| variant | median µs/call | p25 – p75 | min – max | calls × batches per sample |");
lines.push("|---|---:|---:|---:|---:|");
for (const v of speed.variants) {
  const s = stats[v.name];
  lines.push(`| ${s.label} | **${us(s.median)}** | ${us(s.p25)} – ${us(s.p75)} | ${us(s.min)} – ${us(s.max)} | ${v.callsPerBatch} × ${v.batchesPerSample} |`);
}
lines.push("");
lines.push("## Ratios");
lines.push("");
lines.push("Each ratio is taken round by round (paired samples) and summarised by its median and quartiles; the ratio of the two medians is shown for reference.");
lines.push("");
lines.push("| ratio | median of per-round ratios | p25 – p75 | ratio of medians | target | met |");
lines.push("|---|---:|---:|---:|---|---|");
for (const r of ratios) {
  const met = r.ok ? (r.ok(r.r.value) ? "yes" : "**no**") : "";
  lines.push(`| ${r.label} | **${r.r.value.toFixed(2)}x** | ${r.r.p25.toFixed(2)} – ${r.r.p75.toFixed(2)} | ${r.r.ofMedians.toFixed(2)}x | ${r.target} | ${met} |`);
}
lines.push("");
lines.push(`## Heap with the endpoint down (${heap.traces.toLocaleString("en-US")} traces, 1 span each)`);
lines.push("");
lines.push(`Endpoint \`http://127.0.0.1:1\` (connection refused), maxRetries 1, timeout 1 s, maxQueueSize ${heap.maxQueueSize}; heap after two forced GCs. Took ${heap.seconds.toFixed(1)} s.`);
lines.push("");
lines.push("| traces | heapUsed MiB | Δ vs first checkpoint | queued envelopes | dropped (total) |");
lines.push("|---:|---:|---:|---:|---:|");
const firstCheckpoint = heap.points[1] ?? heap.points[0];
for (const p of heap.points) {
  const delta = p.traces === 0 ? "(baseline, queue full)" : `${p.heapUsed >= firstCheckpoint.heapUsed ? "+" : ""}${((p.heapUsed - firstCheckpoint.heapUsed) / 1024).toFixed(0)} KiB`;
  lines.push(`| ${p.traces.toLocaleString("en-US")} | ${mb(p.heapUsed)} | ${delta} | ${p.queued ?? "?"} | ${p.dropped ?? "?"} |`);
}
const last = heap.points[heap.points.length - 1];
const perTrace = (last.heapUsed - firstCheckpoint.heapUsed) / (last.traces - firstCheckpoint.traces);
lines.push("");
lines.push(`Growth from ${firstCheckpoint.traces.toLocaleString("en-US")} to ${last.traces.toLocaleString("en-US")} traces: ${((last.heapUsed - firstCheckpoint.heapUsed) / 1024).toFixed(0)} KiB (${perTrace.toFixed(2)} bytes/trace). Errors reported to onError: ${Object.entries(heap.errors).map(([k, n]) => `${k} ${n}`).join(", ") || "none"}.`);
lines.push("");
lines.push("## What each variant does");
lines.push("");
lines.push("- Workload: `agent(messages)` awaits `retrieve(query)`, `llm(messages, docs)`, `format(answer)`; every function is async and returns at once; input is a 2-message array, outputs are short strings / a 1-element array.");
lines.push("- **pandaprobe**: `session('s', () => user('u', () => client.startTrace('agent', {input}, async t => …)))`, children `t.span(name, {kind, input}, async s => { …; s.setOutput(r) })`, `t.setOutput(out)`. Measured from the call to the serialized request body handed to a no-op transport: the client's `exporter` option receives each body and keeps nothing; `client.flush()` per sample.");
lines.push("- **pandaprobe (HTTP exporter, fetch stub)**, supplementary: the same through the built-in batching HTTP exporter with an injected `fetch` that returns `new Response('{}', {status: 202})`: one request per trace (the API takes one trace per `POST /traces`). The gap to **pandaprobe** is the cost of Node's fetch machinery per request; without a `fetch` option Node now sends over node:http (see the real-socket section below).");
lines.push("- **pandaprobe (wrappers)**: `trace(fn)` / `span(fn)` wrappers, which capture arguments and results themselves like `traceable` and `observe` do.");
lines.push("- **floor**: `AsyncLocalStorage.run` for the root and each child, 4 plain objects, `crypto.randomUUID()` for each, start and end `new Date().toISOString()` for each, one `JSON.stringify` of the assembled payload per call. No transport.");
lines.push("- **@langfuse/tracing**: `propagateAttributes({sessionId, userId}, () => agent(messages))` with `observe()`d root and children; OpenTelemetry `BasicTracerProvider` (sdk-trace-base 2.x) and `AsyncLocalStorageContextManager`, with Langfuse's own span processor (`LangfuseSpanProcessor` from @langfuse/otel, defaults: batched) whose exporter serializes each batch with `JsonTraceSerializer` (the OTLP JSON body `OTLPTraceExporter` would POST) and hands it to a no-op. Like pandaprobe's, its measure ends at the serialized body; `provider.forceFlush()` per sample.");
lines.push("- **@langfuse/tracing exporting nothing**, supplementary lower bound: the same with a span processor that only copies the propagated session/user attributes onto spans at start and does nothing with ended spans: no batching, no OTLP serialization.");
lines.push("- **langsmith**: `traceable` root (metadata session_id/user_id) and children, `tracingEnabled: true`, a `Client({autoBatchTracing: true, fetchImplementation})` whose fetch answers `/info` with `{}` and `/runs/multipart` with 202 (the multipart body is still assembled: its stream starts eagerly). Per batch: wait 1 ms for the background run updates, `client.flush()` until the queue is empty, `awaitPendingTraceBatches()` (which waits another 1 ms).");
lines.push("- **untraced**: the same functions, no tracing (and, in its own process, no AsyncLocalStorage at all).");
lines.push("");
lines.push("## Caveats");
lines.push("");
lines.push("- Every stub answers at once: no variant pays for real I/O. pandaprobe and @langfuse/tracing stop at the serialized body (pandaprobe's HTTP row shows the request cost separately), langsmith pays for its multipart assembly.");
lines.push("- What real delivery costs (a socket, an endpoint in another process) is measured in its own section below, as CPU per trace.");
lines.push("- No variant is given a faster configuration than its defaults, apart from the network stubs.");
lines.push("- This machine's speed drifts by up to ~2x over seconds (shared VM); compare ratios taken in the same round rather than absolute times across runs.");
lines.push("");
// The other measures the issues ask for: wrappers against the unwrapped client, the browser
// runtime in Chromium, and what the SDK adds to a browser bundle.
if (!args.includes("--core-only")) {
  const { runSocketBench } = await import("./socket.mjs");
  const { runInstructionBench } = await import("./instructions.mjs");
  const { runWrapperBench } = await import("./wrappers.mjs");
  const { runBrowserBench } = await import("./browser.mjs");
  const { measureSizes, sizeReport } = await import("./size.mjs");
  log("instructions: the variants that record nothing under callgrind (node bench/run.mjs --only instructions)");
  lines.push(await runInstructionBench(bundle), "");
  log("socket: CPU per trace delivered to an endpoint in another process (node bench/run.mjs --only socket)");
  lines.push((await runSocketBench(bundle)).markdown, "");
  log("wrappers: added latency to first chunk and per call (node bench/wrappers.mjs)");
  lines.push(await runWrapperBench(), "");
  log("browser: main-thread cost and drain rate in Chromium (node bench/browser.mjs)");
  lines.push(await runBrowserBench(), "");
  log("bundle size (node bench/size.mjs)");
  lines.push(sizeReport(await measureSizes()), "");
}

const report = lines.join("\n");
if (!args.includes("--no-write")) {
  const raw = { date: started.toISOString(), node: process.version, cpu: cpu[0]?.model, cores: cpu.length, speed, heap };
  writeFileSync(join(benchDir, "results.json"), JSON.stringify(raw, null, 2));
  writeFileSync(join(root, "BENCHMARKS.md"), report);
  log(`wrote ${relative(root, join(root, "BENCHMARKS.md"))} and ${relative(root, join(benchDir, "results.json"))}`);
}
console.log(report);

function gitState() {
  try {
    const head = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: root, encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--", "src"], { cwd: root, encoding: "utf8" }).trim();
    return `commit ${head}${dirty ? " + uncommitted changes in src/" : ""}`;
  } catch {
    return "(not a git checkout)";
  }
}

function pkgVersion(name, from = root) {
  try {
    return JSON.parse(readFileSync(join(from, "node_modules", name, "package.json"), "utf8")).version;
  } catch {
    return "?";
  }
}
