/**
 * The traced process of bench/socket.mjs: hosts one variant and, on request, measures the CPU it
 * spends (process.cpuUsage, user + system) delivering a number of traces to the endpoint process.
 *
 *   node bench/socket-worker.mjs <pandaprobe bundle> <variant> <endpoint>
 *
 * Variants (one root + 3 spans per trace, as bench/variants.mjs's pandaprobe):
 *   noop   the SDK, its `exporter` option a no-op: tracing and serializing, no request
 *   sdk    the SDK with its built-in exporter and default transport (keep-alive HTTP/1.1 pool, http1-pool.ts)
 *   fetch  the SDK with the `fetch` option (Node's fetch, undici)
 *   plain  no SDK: a node:http keep-alive POST per trace of a body the SDK made (BENCH_SOCKET_BODY),
 *          as many in flight as the exporter's default maxConcurrentRequests (4)
 *   traced-plain  noop's tracing, then plain's POST of each body the no-op exporter received, in
 *          the same process: what a request costs in a traced process (diagnostic)
 *
 * A sample is `batches` batches of BATCH traces, each batch awaited to delivery (flush), so every
 * request's cost falls inside the sample that made it. No GC is forced (see bench/worker.mjs).
 *
 * Messages in:  {cmd: "sample", batches} | {cmd: "exit"}
 * Messages out: {ready, body?} | {cpuUs, wallMs, traces} | {done, traces, errors} | {error}
 */
import { randomUUID } from "node:crypto";
import { Agent, request } from "node:http";
import { pathToFileURL } from "node:url";

const [bundlePath, variant, endpoint] = process.argv.slice(2);
const BATCH = Number(process.env.BENCH_SOCKET_BATCH ?? 100);
const CONCURRENCY = 4;
let traces = 0;
const errors = [];

/** One batch of BATCH traces, awaited until every one was delivered (or given up). */
async function makeBatch() {
  if (variant === "plain") {
    const body = process.env.BENCH_SOCKET_BODY;
    if (!body) throw new Error("plain: BENCH_SOCKET_BODY is not set");
    const post = plainPost("plain");
    return { batch: () => lanes(BATCH, () => post(body)), body: () => body };
  }
  const pp = await import(pathToFileURL(bundlePath).href);
  const { pandaprobeAgentTurn } = await import("./variants.mjs");
  const post = variant === "traced-plain" ? plainPost(variant) : undefined;
  const received = [];
  let first;
  const noop = {
    enqueue(e) {
      first ??= e.body;
      if (post) received.push(e.body);
    },
    flush: async () => {},
    shutdown: async () => {},
  };
  const transport = variant === "noop" || variant === "traced-plain" ? { exporter: noop } : variant === "fetch" ? { fetch: globalThis.fetch } : {};
  const client = new pp.Client({ apiKey: "sk_pp_bench", projectName: "bench", endpoint: `${endpoint}/${variant}`, ...transport }, {});
  client.onError((e) => errors.push(String(e?.message ?? e)));
  const turn = pandaprobeAgentTurn(pp, client);
  const batch = async () => {
    for (let i = 0; i < BATCH; i++) await turn();
    await client.flush();
    if (post) await lanes(received.length, () => post(received.pop()));
  };
  return { batch, body: () => first };
}

/** `count` calls of `post`, CONCURRENCY at a time. */
async function lanes(count, post) {
  let left = count;
  const lane = async () => {
    while (left > 0) {
      left--;
      await post().catch((e) => errors.push(String(e?.message ?? e)));
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, lane));
}

/** The floor's request: the same headers as the SDK sends, a fresh X-Request-ID each. */
function plainPost(route) {
  const { hostname, port } = new URL(endpoint);
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  return (body) =>
    new Promise((resolve, reject) => {
      const req = request(
        {
          hostname,
          port,
          agent,
          method: "POST",
          path: `/${route}/traces`,
          headers: {
            "Content-Type": "application/json",
            "X-API-Key": "sk_pp_bench",
            "X-Project-Name": "bench",
            "User-Agent": "pandaprobe-js/bench",
            "X-Request-ID": randomUUID(),
            "Content-Length": Buffer.byteLength(body),
          },
        },
        (res) => {
          res.resume();
          res.on("end", () => (res.statusCode === 202 ? resolve() : reject(new Error(`${route}: HTTP ${res.statusCode}`))));
        },
      );
      req.on("error", reject);
      req.end(body);
    });
}

async function sample(batch, batches) {
  const wall = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  for (let b = 0; b < batches; b++) await batch();
  const { user, system } = process.cpuUsage(cpu);
  const wallMs = Number(process.hrtime.bigint() - wall) / 1e6;
  traces += batches * BATCH;
  return { cpuUs: user + system, wallMs, traces: batches * BATCH };
}

try {
  const { batch, body } = await makeBatch();
  // The first batch is the check: delivered without an error, and (noop) a body for the floor.
  await batch();
  traces += BATCH;
  if (errors.length > 0) throw new Error(`${variant}: ${errors.slice(0, 3).join("; ")}`);
  process.on("message", async (msg) => {
    try {
      if (msg.cmd === "sample") process.send(await sample(batch, msg.batches));
      else if (msg.cmd === "exit") process.send({ done: true, traces, errors: errors.slice(0, 5), errorCount: errors.length }, () => process.exit(0));
    } catch (error) {
      process.send({ error: String(error?.stack ?? error) });
    }
  });
  process.send({ ready: variant, batch: BATCH, body: body() });
} catch (error) {
  process.send({ error: String(error?.stack ?? error) });
  process.exit(1);
}
