/**
 * Where a variant spends its time: samples it with the V8 CPU profiler (node:inspector) while it
 * runs batches of CALLS calls + flush, then prints self and inclusive time per function.
 *
 *   node bench/run.mjs --profile [variant]        (builds the bundle first; default variant: pandaprobe)
 *   node --expose-gc bench/profile.mjs <bundle> <variant> [seconds] [out.cpuprofile]
 *
 * Self time: samples whose top frame is the function. Inclusive: samples with the function
 * anywhere on the stack (counted once per sample). Percentages are of all samples taken while
 * the variant ran, idle and GC included, so they add up to the wall time of the loop.
 */
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import * as V from "./variants.mjs";

const [bundlePath, name = "pandaprobe", seconds = "8", outFile] = process.argv.slice(2);
const CALLS = 1000;
const root = fileURLToPath(new URL("..", import.meta.url));

V.installFetchTripwire();
const pp = await import(pathToFileURL(bundlePath).href);
const factories = V.variantFactories(pp);
if (!factories[name]) throw new Error(`unknown variant ${name}; one of ${Object.keys(factories).join(", ")}`);
const v = await factories[name]();
await v.verify();

async function batch() {
  for (let i = 0; i < CALLS; i++) await v.call();
  await v.flush();
}
for (let i = 0; i < 5; i++) await batch(); // warm up before sampling

const session = new Session();
session.connect();
await session.post("Profiler.enable");
await session.post("Profiler.setSamplingInterval", { interval: 50 });
await session.post("Profiler.start");
const t0 = process.hrtime.bigint();
let batches = 0;
while (Number(process.hrtime.bigint() - t0) < Number(seconds) * 1e9) {
  await batch();
  batches++;
}
const wallNs = Number(process.hrtime.bigint() - t0);
const { profile } = await session.post("Profiler.stop");
session.disconnect();
if (outFile) writeFileSync(outFile, JSON.stringify(profile));

// ---- aggregate
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const where = (cf) => {
  const url = cf.url.startsWith("file://") ? relative(root, fileURLToPath(cf.url)) : cf.url;
  return url ? `${url}:${cf.lineNumber + 1}` : "";
};
const keyOf = (n) => `${n.callFrame.functionName || "(anonymous)"} ${where(n.callFrame)}`.trim();
const self = new Map();
const inclusive = new Map();
const total = profile.samples.length;
for (const id of profile.samples) {
  const top = byId.get(id);
  self.set(keyOf(top), (self.get(keyOf(top)) ?? 0) + 1);
  const seen = new Set();
  for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
    const k = keyOf(byId.get(cur));
    if (seen.has(k)) continue;
    seen.add(k);
    inclusive.set(k, (inclusive.get(k) ?? 0) + 1);
  }
}
const pct = (n) => `${((100 * n) / total).toFixed(1).padStart(5)}%`;
const top = (m, count) => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, count);

const nsPerCall = wallNs / (batches * CALLS);
console.log(`variant ${name}: ${batches} batches of ${CALLS} calls in ${(wallNs / 1e9).toFixed(1)} s = ${Math.round(nsPerCall)} ns/call (under the profiler)`);
console.log(`${total} samples\n\nSELF time (top 40):`);
for (const [k, n] of top(self, 40)) console.log(`${pct(n)}  ${k}`);
console.log(`\nINCLUSIVE time (top 60):`);
for (const [k, n] of top(inclusive, 60)) console.log(`${pct(n)}  ${k}`);
process.exit(0);
