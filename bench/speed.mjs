/**
 * Per-call cost of one traced agent turn for every variant, in interleaved rounds.
 * Run by bench/run.mjs as `node bench/speed.mjs <pandaprobe bundle> <out.json>`.
 *
 * One batch = CALLS (1000; langsmith 200, see variants.mjs) sequential awaited calls of a variant +
 * one awaited flush(). One sample = as
 * many batches as fill about SAMPLE_MS (calibrated per variant in the warm-up rounds, at least one),
 * timed as a whole with process.hrtime.bigint() and divided by the number of calls. No GC is forced
 * before a sample (see worker.mjs): warm-up rounds bring every variant to its steady state. Each round takes one sample of every variant, in an order rotated each round, so drift and machine
 * noise hit all variants alike.
 *
 * Isolation (BENCH_ISOLATION): "process" (default) hosts each variant in its own Node process
 * (bench/worker.mjs), idle while the others are sampled. In Node 20 every enabled AsyncLocalStorage
 * adds work to every promise of the process, so hosting all libraries together slows each variant by
 * the others' instances (the cheap ones most). "shared" hosts them all in one process, for comparison.
 */
import { fork } from "node:child_process";
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const [bundlePath, outPath] = process.argv.slice(2);
const CALLS = Number(process.env.BENCH_CALLS ?? 1000);
const WARMUP_ROUNDS = Number(process.env.BENCH_WARMUP ?? 4);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
const SAMPLE_MS = Number(process.env.BENCH_SAMPLE_MS ?? 400);
const ISOLATION = process.env.BENCH_ISOLATION ?? "process";
/** Off means off: tracing that records nothing (disabled, not sampled) beside the untraced code in an ALS-active process. */
const OFF = ["untraced-als", "untraced-als-shape", "disabled", "unsampled", "disabled-wrappers", "unsampled-wrappers"];
const ALL = ["untraced", "floor", "pandaprobe", "pandaprobe-http", "pandaprobe-wrappers", "langfuse", "langfuse-no-export", "langsmith", ...OFF];
const names = process.env.BENCH_ONLY ? ALL.filter((n) => process.env.BENCH_ONLY.split(",").includes(n)) : ALL;
const workerPath = fileURLToPath(new URL("./worker.mjs", import.meta.url));
const log = (msg) => process.stderr.write(`[speed] ${msg}\n`);

/** A worker process and a way to ask it one thing at a time. */
function startWorker(hosted) {
  const child = fork(workerPath, [bundlePath, hosted.join(",")], {
    env: { ...process.env, BENCH_CALLS: String(CALLS) },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  let pending;
  child.on("message", (msg) => {
    const p = pending;
    pending = undefined;
    if (!p) return;
    if (msg.error) p.reject(new Error(`worker ${hosted.join(",")}: ${msg.error}`));
    else p.resolve(msg);
  });
  child.on("exit", (code) => {
    if (pending && code !== 0) pending.reject(new Error(`worker ${hosted.join(",")} exited with ${code}`));
  });
  const next = () => new Promise((resolve, reject) => (pending = { resolve, reject }));
  return {
    hosted,
    ready: next(),
    ask(msg) {
      const answer = next();
      child.send(msg);
      return answer;
    },
  };
}

const workers = ISOLATION === "shared" ? [startWorker(names)] : names.map((n) => startWorker([n]));
// Verification and imports run in parallel; sampling never does.
const callsPerBatch = Object.assign({}, ...(await Promise.all(workers.map((w) => w.ready))).map((r) => r.callsPerBatch));
log(`verified ${names.join(", ")} (${ISOLATION === "shared" ? "one shared process" : "one process each"})`);
const workerOf = new Map(workers.flatMap((w) => w.hosted.map((n) => [n, w])));

const batchesPerSample = new Map(names.map((n) => [n, 1]));
const samples = Object.fromEntries(names.map((n) => [n, []]));
const warmup = Object.fromEntries(names.map((n) => [n, []]));
const total = WARMUP_ROUNDS + ROUNDS;
for (let round = 0; round < total; round++) {
  if (round === WARMUP_ROUNDS) {
    for (const n of names) {
      const ns = Math.min(...warmup[n].slice(-2));
      batchesPerSample.set(n, Math.max(1, Math.round((SAMPLE_MS * 1e6) / (ns * callsPerBatch[n]))));
    }
    log(`batches per sample: ${JSON.stringify(Object.fromEntries(batchesPerSample))}`);
  }
  const shift = round % names.length;
  const order = [...names.slice(shift), ...names.slice(0, shift)];
  for (const n of order) {
    const { ns } = await workerOf.get(n).ask({ cmd: "sample", name: n, batches: batchesPerSample.get(n) });
    if (round >= WARMUP_ROUNDS) samples[n].push({ round, ns });
    else warmup[n].push(ns);
  }
  log(`round ${round + 1}/${total}${round < WARMUP_ROUNDS ? " (warm-up)" : ""}`);
}

const requests = {};
for (const w of workers) {
  const done = await w.ask({ cmd: "exit" });
  if (done.escapedCount > 0) throw new Error(`network requests escaped the stubs in ${w.hosted}: ${done.escaped.join(", ")}`);
  Object.assign(requests, done.requests);
}

const labels = {
  untraced: "untraced (same async shape, no tracing)",
  floor: "floor (ALS.run x4 + 4 objects + 4 randomUUID + 8 ISO stamps + 1 JSON.stringify)",
  pandaprobe: "**pandaprobe**: session(user(startTrace(cb))) + 3 x t.span(name, {kind,input}, cb) + setOutput; body to a no-op transport",
  "pandaprobe-http": "pandaprobe as above through the built-in HTTP exporter, fetch stubbed (supplementary)",
  "pandaprobe-wrappers": "pandaprobe: session(user(trace(fn))) + 3 x span(fn) wrappers; body to a no-op transport",
  langfuse: "**@langfuse/tracing** observe + propagateAttributes; LangfuseSpanProcessor, OTLP JSON body to a no-op exporter",
  "langfuse-no-export": "@langfuse/tracing as above with a processor that exports nothing (supplementary lower bound)",
  langsmith: "**langsmith** traceable, autoBatchTracing, fetch stub",
  "untraced-als": "untraced, in a process where an AsyncLocalStorage is active (Node 20's promise hooks)",
  "untraced-als-shape": "the pandaprobe agent turn's code with the SDK replaced by no-ops, ALS active",
  disabled: "pandaprobe agent turn (startTrace + t.span) through a client with enabled: false",
  unsampled: "pandaprobe agent turn (startTrace + t.span) through a client with sampleRate: 0",
  "disabled-wrappers": "pandaprobe wrapper turn (trace(fn) + span(fn)) with enabled: false",
  "unsampled-wrappers": "pandaprobe wrapper turn (trace(fn) + span(fn)) with sampleRate: 0",
};
writeFileSync(
  outPath,
  JSON.stringify(
    {
      isolation: ISOLATION,
      calls: CALLS,
      warmupRounds: WARMUP_ROUNDS,
      rounds: ROUNDS,
      sampleMs: SAMPLE_MS,
      variants: names.map((n) => ({
        name: n,
        label: labels[n],
        callsPerBatch: callsPerBatch[n],
        batchesPerSample: batchesPerSample.get(n),
        samples: samples[n],
      })),
      requests,
    },
    null,
    2,
  ),
);
