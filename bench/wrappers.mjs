#!/usr/bin/env node
/**
 * What `wrapOpenAI` adds to a call, wrapped vs unwrapped OpenAI client, against the fake OpenAI
 * server (test/support/fake-openai.ts) on 127.0.0.1 in this same process:
 *   (a) time from `create({ stream: true })` to the first content chunk in the caller's hands;
 *   (b) time of one plain `create()` call, response parsed.
 * Calls run outside any trace, so each wrapped call also opens and serializes its standalone trace;
 * the client's `exporter` option is a no-op sink, so nothing leaves the process but loopback HTTP.
 *
 * One sample = CALLS sequential calls of one variant, timed per call; the sample's value is the
 * median call. Rounds alternate the variants (order flipped each round) so drift hits both alike;
 * the table shows the median over rounds.
 *
 *   node bench/wrappers.mjs        prints the markdown table
 *   import { runWrapperBench }     returns it
 *
 * Knobs (environment): BENCH_WRAPPER_ROUNDS (15), BENCH_WRAPPER_CALLS (40), BENCH_WRAPPER_WARMUP (3).
 */
import { builtinModules } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const benchDir = dirname(fileURLToPath(import.meta.url));
const root = dirname(benchDir);
const outDir = join(benchDir, ".build-wrappers");
const ROUNDS = Number(process.env.BENCH_WRAPPER_ROUNDS ?? 15);
const CALLS = Number(process.env.BENCH_WRAPPER_CALLS ?? 40);
const WARMUP = Number(process.env.BENCH_WRAPPER_WARMUP ?? 3);
const messages = [{ role: "user", content: "What is 2+2?" }];

/** Bundles the SDK, the OpenAI wrapper and the fake server from src/ with one shared core instance. */
async function buildFromSource() {
  const { build } = await import("vite");
  await build({
    root,
    configFile: false,
    publicDir: false,
    logLevel: "warn",
    resolve: { alias: [{ find: /^pandaprobe$/, replacement: join(root, "src", "index.ts") }] },
    build: {
      ssr: true,
      outDir,
      emptyOutDir: true,
      minify: false,
      target: "node20",
      rollupOptions: {
        input: {
          pandaprobe: join(root, "src", "index.ts"),
          openai: join(root, "src", "integrations", "openai.ts"),
          "fake-openai": join(root, "test", "support", "fake-openai.ts"),
        },
        external: [/^node:/, ...builtinModules, "openai", /^openai\//],
        output: { format: "es", entryFileNames: "[name].mjs" },
      },
    },
  });
  const load = (name) => import(pathToFileURL(join(outDir, `${name}.mjs`)).href);
  const [sdk, integration, fake] = await Promise.all([load("pandaprobe"), load("openai"), load("fake-openai")]);
  return { sdk, wrapOpenAI: integration.wrapOpenAI, startFakeOpenAI: fake.startFakeOpenAI };
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** Microseconds from calling create() to the first chunk carrying text; the rest is read off untimed. */
async function firstChunkMicros(client) {
  const start = process.hrtime.bigint();
  const stream = await client.chat.completions.create({ model: "gpt-4o-mini", messages, stream: true });
  let elapsed;
  for await (const chunk of stream) {
    if (elapsed === undefined && chunk.choices[0]?.delta?.content) elapsed = process.hrtime.bigint() - start;
  }
  return Number(elapsed) / 1e3;
}

async function plainCallMicros(client) {
  const start = process.hrtime.bigint();
  const completion = await client.chat.completions.create({ model: "gpt-4o-mini", messages });
  const elapsed = process.hrtime.bigint() - start;
  if (!completion.choices[0]?.message?.content) throw new Error("empty completion from the fake server");
  return Number(elapsed) / 1e3;
}

async function sample(measure, client) {
  const calls = [];
  for (let i = 0; i < CALLS; i++) calls.push(await measure(client));
  return median(calls);
}

function formatRow(label, plain, wrapped) {
  const added = wrapped - plain;
  return `| ${label} | ${plain.toFixed(1)} | ${wrapped.toFixed(1)} | ${added >= 0 ? "+" : ""}${added.toFixed(1)} | ${(wrapped / plain).toFixed(3)} |`;
}

export async function runWrapperBench() {
  const { sdk, wrapOpenAI, startFakeOpenAI } = await buildFromSource();
  const { default: OpenAI } = await import("openai");
  let exported = 0;
  sdk.init({
    apiKey: "sk_pp_bench",
    projectName: "bench",
    exporter: { enqueue: () => void exported++, flush: async () => {}, shutdown: async () => {} },
  });
  const fake = await startFakeOpenAI();
  try {
    const newClient = () => new OpenAI({ apiKey: "sk-bench", baseURL: fake.baseURL, maxRetries: 0 });
    const variants = { unwrapped: newClient(), wrapped: wrapOpenAI(newClient()) };
    const measures = { "first streamed chunk": firstChunkMicros, "plain call": plainCallMicros };
    const results = Object.fromEntries(Object.keys(measures).map((m) => [m, { unwrapped: [], wrapped: [] }]));
    for (let round = 0; round < WARMUP + ROUNDS; round++) {
      const order = round % 2 ? ["wrapped", "unwrapped"] : ["unwrapped", "wrapped"];
      for (const [name, measure] of Object.entries(measures)) {
        for (const variant of order) {
          const value = await sample(measure, variants[variant]);
          if (round >= WARMUP) results[name][variant].push(value);
        }
        fake.requests.length = 0;
      }
    }
    await sdk.flush();
    if (exported === 0) throw new Error("the wrapped client exported no trace: the wrapper was not exercised");
    const lines = [
      `Median of ${ROUNDS} interleaved rounds (each the median of ${CALLS} sequential calls), Node ${process.version}, fake OpenAI server on 127.0.0.1 in the same process.`,
      "",
      "| measure | unwrapped (µs) | wrapped (µs) | added (µs) | ratio |",
      "| --- | ---: | ---: | ---: | ---: |",
      ...Object.entries(results).map(([name, r]) => formatRow(name, median(r.unwrapped), median(r.wrapped))),
    ];
    return lines.join("\n");
  } finally {
    await fake.close();
    await sdk.shutdown();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(await runWrapperBench());
}
