#!/usr/bin/env node
/**
 * What a trace costs the traced process when it is really delivered: CPU (process.cpuUsage, user +
 * system) per trace of one root + 3 spans, sent to an HTTP endpoint on 127.0.0.1 that runs in
 * another process (bench/socket-server.mjs), so only the sender's side is counted.
 *
 *   (a) noop   the SDK with a no-op exporter: tracing and serializing only
 *   (b) sdk    the SDK with its built-in exporter (Node's default transport: the keep-alive HTTP/1.1 pool)
 *   (c) fetch  the SDK with the `fetch` option (Node's fetch, undici)
 *   (d) plain  a plain node:http keep-alive POST of the same body per trace: what a request costs
 *   (e) traced-plain  (a), then (d)'s POST of each body, in one process: what a request costs in a
 *              traced process, so (b)/(e) is the SDK's export path alone (diagnostic)
 *
 * Each variant in its own process (bench/socket-worker.mjs), sampled one at a time in rounds whose
 * order rotates, so machine noise hits them alike; ratios are taken round by round. No GC is forced.
 *
 *   node bench/run.mjs --only socket          builds the SDK from src/, prints this section
 *   node bench/socket.mjs <pandaprobe bundle> the same with a bundle built before
 *   import { runSocketBench }                 returns the markdown section (npm run bench)
 *
 * Knobs (environment): BENCH_SOCKET_ROUNDS (12), BENCH_SOCKET_WARMUP (3), BENCH_SOCKET_SAMPLE_MS
 * (1000: CPU ms per sample, calibrated per variant in the warm-up), BENCH_SOCKET_BATCH (100 traces per flush).
 */
import { fork } from "node:child_process";
import { execFileSync } from "node:child_process";
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const benchDir = dirname(fileURLToPath(import.meta.url));
const ROUNDS = Number(process.env.BENCH_SOCKET_ROUNDS ?? 12);
const WARMUP = Number(process.env.BENCH_SOCKET_WARMUP ?? 3);
const SAMPLE_MS = Number(process.env.BENCH_SOCKET_SAMPLE_MS ?? 1000);
const VARIANTS = ["noop", "sdk", "fetch", "plain", "traced-plain"];
const LABELS = {
  noop: "(a) SDK, no-op exporter (tracing + serializing, no request)",
  sdk: "(b) **SDK, built-in exporter** (default transport: keep-alive HTTP/1.1 pool on node:net)",
  fetch: "(c) SDK, `fetch` option (Node's fetch, undici)",
  plain: "(d) plain node:http keep-alive POST of the same body (floor of a request)",
  "traced-plain": "(e) (a) + (d)'s POST of each body, in the same process (diagnostic)",
};
const log = (msg) => process.stderr.write(`[socket] ${msg}\n`);

/** A child process and a way to ask it one thing at a time. */
function child(script, args, env) {
  // As in production, like the other benchmarks: pandaprobe's developer checks off.
  const base = { ...process.env, NODE_ENV: process.env.NODE_ENV ?? "production" };
  const proc = fork(join(benchDir, script), args, { env: { ...base, ...env }, stdio: ["ignore", "inherit", "inherit", "ipc"] });
  let pending;
  proc.on("message", (msg) => {
    const p = pending;
    pending = undefined;
    if (!p) return;
    if (msg.error) p.reject(new Error(`${script} ${args[1] ?? ""}: ${msg.error}`));
    else p.resolve(msg);
  });
  proc.on("exit", (code) => pending?.reject(new Error(`${script} ${args[1] ?? ""} exited with ${code}`)));
  const next = () => new Promise((resolve, reject) => (pending = { resolve, reject }));
  const ready = next();
  return {
    ready,
    ask(msg) {
      const answer = next();
      proc.send(msg);
      return answer;
    },
    kill: () => proc.kill(),
  };
}

const quantile = (sorted, q) => {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
};
const summary = (values) => {
  const s = [...values].sort((x, y) => x - y);
  return { median: quantile(s, 0.5), p25: quantile(s, 0.25), p75: quantile(s, 0.75), min: s[0], max: s[s.length - 1] };
};

export async function runSocketBench(bundlePath) {
  const started = new Date();
  const loadBefore = os.loadavg();
  const server = child("socket-server.mjs", []);
  const { port } = await server.ready;
  const endpoint = `http://127.0.0.1:${port}`;
  const workers = {};
  try {
    for (const v of ["noop", "sdk", "fetch", "traced-plain"]) workers[v] = child("socket-worker.mjs", [bundlePath, v, endpoint]);
    const noop = await workers.noop.ready;
    workers.plain = child("socket-worker.mjs", [bundlePath, "plain", endpoint], { BENCH_SOCKET_BODY: noop.body });
    const batch = {};
    for (const v of VARIANTS) batch[v] = (await workers[v].ready).batch;
    log(`verified ${VARIANTS.join(", ")}; endpoint process on port ${port}; body ${Buffer.byteLength(noop.body)} bytes`);

    const batches = Object.fromEntries(VARIANTS.map((v) => [v, 1]));
    const samples = Object.fromEntries(VARIANTS.map((v) => [v, []]));
    for (let round = 0; round < WARMUP + ROUNDS; round++) {
      const shift = round % VARIANTS.length;
      const order = [...VARIANTS.slice(shift), ...VARIANTS.slice(0, shift)];
      for (const v of order) {
        const s = await workers[v].ask({ cmd: "sample", batches: batches[v] });
        const perTrace = s.cpuUs / s.traces;
        if (round < WARMUP) batches[v] = Math.max(1, Math.round((SAMPLE_MS * 1000) / (perTrace * batch[v])));
        else samples[v].push({ round, perTrace, wallPerTrace: (s.wallMs * 1000) / s.traces, traces: s.traces });
      }
      log(`round ${round + 1}/${WARMUP + ROUNDS}${round < WARMUP ? " (warm-up)" : ""}`);
    }

    const sent = {};
    for (const v of VARIANTS) {
      const done = await workers[v].ask({ cmd: "exit" });
      if (done.errorCount > 0) throw new Error(`${v}: ${done.errorCount} errors, e.g. ${done.errors.join("; ")}`);
      sent[v] = done.traces;
    }
    const { counts } = await server.ask({ cmd: "counts" });
    for (const v of ["sdk", "fetch", "plain", "traced-plain"]) {
      const got = counts[v] ?? { ok: 0, bad: 0 };
      if (got.ok !== sent[v] || got.bad !== 0) throw new Error(`${v}: ${sent[v]} traces made, the endpoint accepted ${got.ok} (${got.bad} refused)`);
    }
    const raw = { date: started.toISOString(), rounds: ROUNDS, warmup: WARMUP, sampleMs: SAMPLE_MS, batches, batch, samples, counts, loadBefore, loadAfter: os.loadavg() };
    return { raw, markdown: report(raw) };
  } finally {
    for (const w of Object.values(workers)) w.kill();
    server.kill();
  }
}

/** a/b round by round (b may be a sum of variants): median and quartiles of the paired ratios, and the ratio of the medians. */
function pairedRatio(samples, a, b) {
  const parts = [b].flat();
  const byRound = (v) => new Map(samples[v].map((s) => [s.round, s.perTrace]));
  const [num, ...dens] = [a, ...parts].map(byRound);
  const rounds = [...num.keys()].filter((k) => dens.every((d) => d.has(k)));
  const ratios = rounds.map((k) => num.get(k) / dens.reduce((sum, d) => sum + d.get(k), 0));
  const median = (v) => summary(samples[v].map((s) => s.perTrace)).median;
  return { ...summary(ratios), ofMedians: median(a) / parts.reduce((sum, v) => sum + median(v), 0) };
}

function report(raw) {
  const { samples } = raw;
  const us = (x) => x.toFixed(x < 10 ? 2 : 1);
  const cpu = os.cpus();
  const lines = [
    "## CPU per trace delivered over a real socket (root + 3 spans, endpoint in another process)",
    "",
    `- Command: \`node bench/run.mjs --only socket\` (part of \`npm run bench\`)`,
    `- Date: ${raw.date}; SDK built from src/ at ${gitState()}; Node ${process.version}; ${cpu[0]?.model ?? "unknown"} x ${cpu.length} (load average before/after: ${raw.loadBefore.map((l) => l.toFixed(2)).join(" ")} / ${raw.loadAfter.map((l) => l.toFixed(2)).join(" ")})`,
    `- Method: each variant in its own Node process; the endpoint (node:http, answers 202 after reading and checking the body) in another, so its work is not counted. A sample is a number of batches of ${raw.batch.sdk} traces, each batch awaited to delivery (\`client.flush()\`; the floor: its ${raw.batch.plain} POSTs, 4 in flight), calibrated in ${raw.warmup} warm-up rounds to ~${raw.sampleMs} ms of CPU; CPU is \`process.cpuUsage()\` (user + system, all threads of the traced process) over the sample, divided by its traces. ${raw.rounds} measured rounds, each one sample per variant in an order rotated per round; no forced GC. SDK defaults otherwise (batchSize 10, maxConcurrentRequests 4). The endpoint accepted every trace sent (checked).`,
    "",
    "| variant | median CPU µs/trace | p25 – p75 | min – max | wall µs/trace (median) | traces per sample |",
    "|---|---:|---:|---:|---:|---:|",
  ];
  for (const v of VARIANTS) {
    const s = summary(samples[v].map((x) => x.perTrace));
    const wall = summary(samples[v].map((x) => x.wallPerTrace));
    lines.push(`| ${LABELS[v]} | **${us(s.median)}** | ${us(s.p25)} – ${us(s.p75)} | ${us(s.min)} – ${us(s.max)} | ${us(wall.median)} | ${samples[v][0]?.traces ?? "-"} |`);
  }
  lines.push("", "Ratios taken round by round (paired samples): median of the per-round ratios, their quartiles, and the ratio of the medians.", "");
  lines.push("| ratio | median of per-round ratios | p25 – p75 | ratio of medians | target | met |", "|---|---:|---:|---:|---|---|");
  const rows = [
    ["(b) SDK / (d) plain request", "sdk", "plain", "<= 1.2", (r) => r <= 1.2],
    ["(c) SDK over fetch / (d) plain request", "fetch", "plain", "context"],
    ["(c) SDK over fetch / (b) SDK", "fetch", "sdk", "context"],
    ["(b) SDK / (e) the same tracing + plain request, one process: the SDK's export path", "sdk", "traced-plain", "diagnostic"],
    ["(e) / (a) + (d): a request in a traced process against one in a bare process", "traced-plain", ["noop", "plain"], "diagnostic"],
  ];
  for (const [label, a, b, target, ok] of rows) {
    const r = pairedRatio(samples, a, b);
    lines.push(`| ${label} | **${r.median.toFixed(2)}x** | ${r.p25.toFixed(2)} – ${r.p75.toFixed(2)} | ${r.ofMedians.toFixed(2)}x | ${target} | ${ok ? (ok(r.median) ? "yes" : "**no**") : ""} |`);
  }
  return lines.join("\n");
}

function gitState() {
  try {
    const cwd = dirname(benchDir);
    const head = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd, encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--", "src"], { cwd, encoding: "utf8" }).trim();
    return `commit ${head}${dirty ? " + uncommitted changes in src/" : ""}`;
  } catch {
    return "(not a git checkout)";
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [bundlePath] = process.argv.slice(2);
  if (!bundlePath) throw new Error("usage: node bench/socket.mjs <pandaprobe bundle> (or: node bench/run.mjs --only socket)");
  console.log((await runSocketBench(bundlePath)).markdown);
}
