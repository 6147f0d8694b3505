/**
 * Hosts one or more variants in a Node process started by bench/speed.mjs and takes samples on
 * request over IPC. One process per variant by default, so no library pays for
 * another's AsyncLocalStorage instances, timers or heap; speed.mjs asks the processes in turn, so they
 * still share the machine's noise round by round.
 *
 * Messages in:  {cmd: "sample", name, batches} | {cmd: "exit"}
 * Messages out: {ready, callsPerBatch} | {ns} | {done, requests, escaped} | {error}
 */
import { pathToFileURL } from "node:url";
import * as V from "./variants.mjs";

const [bundlePath, namesArg] = process.argv.slice(2);
const CALLS = Number(process.env.BENCH_CALLS ?? 1000);

V.installFetchTripwire();
const names = namesArg.split(",");
const needsSdk = names.some((n) => n.startsWith("pandaprobe") || /^(disabled|unsampled|untraced-als-shape)/.test(n));
const pp = needsSdk ? await import(pathToFileURL(bundlePath).href) : undefined;
const factories = V.variantFactories(pp);

const variants = new Map();
try {
  for (const name of names) {
    if (!factories[name]) throw new Error(`unknown variant ${name}`);
    const v = await factories[name]();
    await v.verify();
    variants.set(name, v);
  }
} catch (error) {
  process.send({ error: String(error?.stack ?? error) });
  process.exit(1);
}

/**
 * No forced GC before a sample: the calls after a forced full GC run slower, and unevenly across
 * libraries (measured: pandaprobe 2.4x its steady pace, the floor 1.1x), which skewed the ratios.
 * Warm-up rounds and paired, interleaved samples leave every variant in its steady state, its own
 * GCs included, as in production.
 */
async function sample(v, batches) {
  const calls = v.callsPerBatch ?? CALLS;
  const t0 = process.hrtime.bigint();
  for (let b = 0; b < batches; b++) {
    for (let i = 0; i < calls; i++) await v.call();
    await v.flush();
  }
  const t1 = process.hrtime.bigint();
  return Number(t1 - t0) / (batches * calls);
}

process.on("message", async (msg) => {
  try {
    if (msg.cmd === "sample") {
      process.send({ ns: await sample(variants.get(msg.name), msg.batches) });
    } else if (msg.cmd === "exit") {
      const requests = Object.fromEntries([...variants].map(([n, v]) => [n, v.captured?.requests ?? v.captured?.envelopes]));
      process.send({ done: true, requests, escaped: V.tripwire.requests.slice(0, 5), escapedCount: V.tripwire.requests.length }, () =>
        process.exit(0),
      );
    }
  } catch (error) {
    process.send({ error: String(error?.stack ?? error) });
  }
});
process.send({ ready: names, callsPerBatch: Object.fromEntries([...variants].map(([n, v]) => [n, v.callsPerBatch ?? CALLS])) });
