/**
 * Off means off, counted in CPU instructions rather than time: each variant that records nothing
 * (and the untraced code it is held against) runs under Valgrind's callgrind, which counts every
 * instruction executed. This machine's speed drifts by up to ~2x over seconds; an instruction count
 * does not, so these ratios move by a fraction of a percent between runs where the timed ones move
 * by tenths.
 *
 * Per call = (count after N2 calls - count after N1 calls) / (N2 - N1), both after the same warm-up
 * in the same kind of process, so start-up, the warm-up and exit cancel out. V8 runs with
 * --predictable (single-threaded, fixed seeds: callgrind counts every thread, and background
 * compiles landing in one count and not the other moved a per-call figure by 10x between runs) and
 * a 64 MiB young generation (a scavenge more or less in one window moved the wrapper variants by
 * 12%); so set, two runs give the same count to within 0.01%. Instructions are not time (a cache
 * miss costs more than an add), so the timed ratios stay the measure of record.
 *
 *   node bench/run.mjs --only instructions      (builds the bundle first)
 *   node bench/instructions.mjs <bundle> [--worker <variant> <calls>]
 */
import { execFileSync, spawn } from "node:child_process";
import { fileURLToPath, pathToFileURL } from "node:url";

const WARMUP = 20_000;
const N1 = 20_000;
const N2 = 60_000;
const PAIRS = [
  ["enabled: false / its code untraced, ALS active", "disabled", "untraced-als-shape"],
  ["sampleRate: 0 / its code untraced, ALS active", "unsampled", "untraced-als-shape"],
  ["enabled: false (wrappers) / untraced, ALS active", "disabled-wrappers", "untraced-als"],
  ["sampleRate: 0 (wrappers) / untraced, ALS active", "unsampled-wrappers", "untraced-als"],
];

export function valgrindVersion() {
  try {
    return execFileSync("valgrind", ["--version"], { encoding: "utf8" }).trim();
  } catch {
    return undefined;
  }
}

/** Instructions one process executed: warm-up, then `calls` calls of the variant. */
function count(bundle, variant, calls) {
  const self = fileURLToPath(import.meta.url);
  const args = ["--tool=callgrind", "--callgrind-out-file=/dev/null", process.execPath, "--predictable", "--max-semi-space-size=64", self, bundle, "--worker", variant, String(calls)];
  return new Promise((resolve, reject) => {
    const child = spawn("valgrind", args, { env: { ...process.env, NODE_ENV: "production" }, stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr.on("data", (d) => (err += d));
    child.on("exit", (code) => {
      const m = /Collected : (\d+)/.exec(err);
      if (code === 0 && m) resolve(Number(m[1]));
      else reject(new Error(`callgrind ${variant} x${calls} exited ${code}: ${err.slice(-400)}`));
    });
  });
}

export async function runInstructionBench(bundle) {
  const version = valgrindVersion();
  const lines = ["## Off means off, in instructions (callgrind)", ""];
  if (!version) {
    lines.push("Skipped: `valgrind` is not installed (`apt-get install -y valgrind`).");
    return lines.join("\n");
  }
  const names = [...new Set(PAIRS.flatMap(([, a, b]) => [a, b]))];
  const perCall = {};
  // Two processes at a time: callgrind runs each on one core.
  for (const name of names) {
    const [a, b] = await Promise.all([count(bundle, name, N1), count(bundle, name, N2)]);
    perCall[name] = (b - a) / (N2 - N1);
  }
  lines.push(
    `${version}; each variant's instructions per call = (count after ${N2.toLocaleString("en-US")} calls - count after ${N1.toLocaleString("en-US")}) / ${(N2 - N1).toLocaleString("en-US")}, both after ${WARMUP.toLocaleString("en-US")} warm-up calls, V8 with --predictable (single-threaded, fixed seeds) and a 64 MiB young generation (\`bench/instructions.mjs\`). Deterministic where the timed ratios above drift with the machine; but an instruction is not a unit of time, so the timed ratios stay the measure of record.`,
    "",
    "| variant | instructions per call |",
    "|---|---:|",
    ...names.map((n) => `| ${n} | ${Math.round(perCall[n]).toLocaleString("en-US")} |`),
    "",
    "| ratio | instructions | target |",
    "|---|---:|---|",
    ...PAIRS.map(([label, a, b]) => `| ${label} | **${(perCall[a] / perCall[b]).toFixed(2)}x** | <= 1.5 |`),
  );
  return lines.join("\n");
}

async function worker(bundle, name, calls) {
  const V = await import("./variants.mjs");
  V.installFetchTripwire();
  const pp = await import(pathToFileURL(bundle).href);
  const v = await V.variantFactories(pp)[name]();
  await v.verify();
  for (let i = 0; i < WARMUP; i++) await v.call();
  for (let i = 0; i < calls; i++) await v.call();
  await v.flush();
}

const [bundleArg, flag, variant, calls] = process.argv.slice(2);
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (flag === "--worker") await worker(bundleArg, variant, Number(calls));
  else console.log(await runInstructionBench(bundleArg));
}
