#!/usr/bin/env node
/**
 * What each provider wrapper adds to a call: wrapped vs unwrapped client of the provider's own SDK,
 * against its fake server (test/support/fake-*.ts) on 127.0.0.1 in this same process:
 *   (a) time from the streaming call to the first content chunk in the caller's hands;
 *   (b) time of one plain call, response parsed;
 * and the CPU (process.cpuUsage) each costs, per call. Wrappers: OpenAI (chat.completions.create),
 * Anthropic (messages.create), Gemini (models.generateContent / generateContentStream), Mistral
 * (chat.complete / chat.stream), Bedrock (Converse / ConverseStream).
 * Calls run outside any trace, so each wrapped call also opens and serializes its standalone trace;
 * the client's `exporter` option is a no-op sink, so nothing leaves the process but loopback HTTP.
 *
 * One sample = CALLS sequential calls of one variant, timed per call; the sample's value is the
 * median call (CPU: the sample's total over CALLS). Each round takes one sample of the unwrapped
 * and one of the wrapped client back to back (order flipped each round), and the overhead is taken
 * per round (paired), so drift hits both alike; the table shows medians over rounds.
 *
 *   node bench/wrappers.mjs [openai,anthropic,...]   prints the markdown table
 *   import { runWrapperBench }                       returns it
 *
 * Knobs (environment): BENCH_WRAPPER_ROUNDS (15), BENCH_WRAPPER_CALLS (40), BENCH_WRAPPER_WARMUP (3),
 * BENCH_WRAPPER_TRANSPORT (unset: loopback HTTP; "memory": answers replayed from memory, see replayFetch).
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
const question = "What is 2+2?";
const messages = [{ role: "user", content: question }];

/** Per wrapper: its module and fake, a client of the provider's SDK, a plain call and a stream's first chunk. */
const PROVIDERS = {
  openai: {
    integration: "openai",
    wrap: "wrapOpenAI",
    fake: "startFakeOpenAI",
    client: async (url) => new (await import("openai")).default({ apiKey: "sk-bench", baseURL: url, maxRetries: 0 }),
    plain: async (c) => (await c.chat.completions.create({ model: "gpt-4o-mini", messages })).choices[0]?.message?.content,
    stream: () => (c) => c.chat.completions.create({ model: "gpt-4o-mini", messages, stream: true }),
    content: (chunk) => chunk.choices[0]?.delta?.content,
  },
  anthropic: {
    integration: "anthropic",
    wrap: "wrapAnthropic",
    fake: "startFakeAnthropic",
    client: async (url) => new (await import("@anthropic-ai/sdk")).default({ apiKey: "test", baseURL: url, maxRetries: 0 }),
    plain: async (c) => (await c.messages.create({ model: "claude-sonnet-5-5", max_tokens: 64, messages })).content[0]?.text,
    stream: () => (c) => c.messages.create({ model: "claude-sonnet-5-5", max_tokens: 64, messages, stream: true }),
    content: (event) => event.type === "content_block_delta" && event.delta?.text,
  },
  gemini: {
    integration: "gemini",
    wrap: "wrapGemini",
    fake: "startFakeGemini",
    client: async (url) => new (await import("@google/genai")).GoogleGenAI({ apiKey: "test", httpOptions: { baseUrl: url } }),
    plain: async (c) => (await c.models.generateContent({ model: "gemini-2.0-flash", contents: question })).text,
    stream: () => (c) => c.models.generateContentStream({ model: "gemini-2.0-flash", contents: question }),
    content: (chunk) => chunk.text,
  },
  mistral: {
    integration: "mistral",
    wrap: "wrapMistral",
    fake: "startFakeMistral",
    client: async (url) => new (await import("@mistralai/mistralai")).Mistral({ apiKey: "test", serverURL: url }),
    plain: async (c) => (await c.chat.complete({ model: "mistral-small-latest", messages })).choices[0]?.message?.content,
    stream: () => (c) => c.chat.stream({ model: "mistral-small-latest", messages }),
    content: (event) => event.data?.choices[0]?.delta?.content,
  },
  bedrock: {
    integration: "bedrock",
    wrap: "wrapBedrock",
    fake: "startFakeBedrock",
    client: async (url) => {
      const { BedrockRuntimeClient } = await import("@aws-sdk/client-bedrock-runtime");
      const { NodeHttpHandler } = await import("@smithy/node-http-handler");
      // The fake speaks HTTP/1.1; the client's default handler speaks HTTP/2 only.
      const client = new BedrockRuntimeClient({ region: "us-east-1", endpoint: url, maxAttempts: 1, credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "secret" }, requestHandler: new NodeHttpHandler() });
      client.commands = await import("@aws-sdk/client-bedrock-runtime");
      return client;
    },
    plain: async (c) => (await c.send(new c.commands.ConverseCommand(converse))).output?.message?.content?.[0]?.text,
    stream: () => async (c) => (await c.send(new c.commands.ConverseStreamCommand(converse))).stream,
    content: (event) => event.contentBlockDelta?.delta?.text,
  },
};
const converse = { modelId: "amazon.nova-lite-v1:0", messages: [{ role: "user", content: [{ text: question }] }], inferenceConfig: { maxTokens: 64 } };

/** Bundles the SDK, the wrappers and the fake servers from src/ with one shared core instance. */
async function buildFromSource(names) {
  const { build } = await import("vite");
  const input = { pandaprobe: join(root, "src", "index.ts") };
  for (const name of names) {
    const p = PROVIDERS[name];
    input[p.integration] = join(root, "src", "integrations", `${p.integration}.ts`);
    input[`fake-${name}`] = join(root, "test", "support", `fake-${name}.ts`);
  }
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
        input,
        external: [/^node:/, ...builtinModules, /^openai(\/|$)/, /^@anthropic-ai\//, /^@google\/genai/, /^@mistralai\//, /^@aws-sdk\//, /^@smithy\//],
        output: { format: "es", entryFileNames: "[name].mjs" },
      },
    },
  });
  return (name) => import(pathToFileURL(join(outDir, `${name}.mjs`)).href);
}

/**
 * BENCH_WRAPPER_TRANSPORT=memory: the SDKs that call the global fetch (all but Bedrock's, which keeps
 * its socket to the fake server) get each distinct request's answer from memory, fetched once from
 * the fake server: what is left to measure is the SDK and the wrapper, without the loopback's noise.
 */
function replayFetch(realFetch) {
  const answers = new Map();
  return async (input, init) => {
    const request = input instanceof Request ? input : undefined;
    const url = request ? request.url : String(input);
    const method = init?.method ?? request?.method ?? "GET";
    const body = typeof init?.body === "string" ? init.body : request && method !== "GET" ? await request.text() : undefined;
    const key = `${method} ${url} ${body ?? ""}`;
    let answer = answers.get(key);
    if (!answer) {
      const headers = new Headers(request?.headers ?? init?.headers);
      const response = await realFetch(url, { method, headers, body });
      answer = { status: response.status, headers: [...response.headers], bytes: new Uint8Array(await response.arrayBuffer()) };
      answers.set(key, answer);
    }
    return new Response(answer.bytes.slice(), { status: answer.status, headers: answer.headers });
  };
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** Microseconds from the streaming call to the first chunk carrying text; the rest is read off untimed. */
async function firstChunkMicros(provider, client) {
  const start = process.hrtime.bigint();
  const stream = await provider.openStream(client);
  let elapsed;
  for await (const chunk of stream) {
    if (elapsed === undefined && provider.content(chunk)) elapsed = process.hrtime.bigint() - start;
  }
  if (elapsed === undefined) throw new Error(`${provider.integration}: a stream without content from the fake server`);
  return Number(elapsed) / 1e3;
}

async function plainCallMicros(provider, client) {
  const start = process.hrtime.bigint();
  const content = await provider.plain(client);
  const elapsed = process.hrtime.bigint() - start;
  if (!content) throw new Error(`${provider.integration}: an empty answer from the fake server`);
  return Number(elapsed) / 1e3;
}

/** The median call's wall time and the mean CPU per call over CALLS sequential calls. */
async function sample(measure, provider, client) {
  const calls = [];
  const cpu = process.cpuUsage();
  for (let i = 0; i < CALLS; i++) calls.push(await measure(provider, client));
  // The last call's body is made after its turn (see the exporter in runWrapperBench): counted here.
  await new Promise((resolve) => setImmediate(resolve));
  const { user, system } = process.cpuUsage(cpu);
  return { wall: median(calls), cpu: (user + system) / CALLS };
}

const fmt = (x) => `${x >= 0 ? "+" : ""}${x.toFixed(1)}`;

export async function runWrapperBench(names = Object.keys(PROVIDERS)) {
  const load = await buildFromSource(names);
  const sdk = await load("pandaprobe");
  let exported = 0;
  sdk.init({
    apiKey: "sk_pp_bench",
    projectName: "bench",
    // Bodies are made after the caller's turn, as BatchExporter's enqueueLater does (setImmediate), so
    // the wall times see what a real exporter leaves on the caller's path; the CPU samples still count them.
    exporter: { enqueue: () => void exported++, enqueueLater: (make) => void setImmediate(() => (exported += make().length)), flush: async () => {}, shutdown: async () => {} },
  });
  const rows = [];
  const realFetch = globalThis.fetch;
  if (process.env.BENCH_WRAPPER_TRANSPORT === "memory") globalThis.fetch = replayFetch(realFetch);
  try {
    for (const name of names) {
      const provider = { ...PROVIDERS[name] };
      provider.openStream = provider.stream();
      const wrap = (await load(provider.integration))[provider.wrap];
      const fake = await (await load(`fake-${name}`))[provider.fake]();
      try {
        const variants = { unwrapped: await provider.client(fake.baseURL ?? fake.url), wrapped: wrap(await provider.client(fake.baseURL ?? fake.url)) };
        const measures = { "first streamed chunk": firstChunkMicros, "plain call": plainCallMicros };
        const before = exported;
        for (const [measureName, measure] of Object.entries(measures)) {
          const rounds = [];
          for (let round = 0; round < WARMUP + ROUNDS; round++) {
            const order = round % 2 ? ["wrapped", "unwrapped"] : ["unwrapped", "wrapped"];
            const got = {};
            for (const variant of order) got[variant] = await sample(measure, provider, variants[variant]);
            if (round >= WARMUP) rounds.push(got);
            fake.requests.length = 0;
          }
          const m = (f) => median(rounds.map(f));
          rows.push(
            `| ${name} | ${measureName} | ${m((r) => r.unwrapped.wall).toFixed(1)} | ${m((r) => r.wrapped.wall).toFixed(1)} | **${fmt(m((r) => r.wrapped.wall - r.unwrapped.wall))}** | ${m((r) => r.wrapped.wall / r.unwrapped.wall).toFixed(3)} | ${m((r) => r.unwrapped.cpu).toFixed(1)} | **${fmt(m((r) => r.wrapped.cpu - r.unwrapped.cpu))}** |`,
          );
          process.stderr.write(`[wrappers] ${name}: ${measureName} done\n`);
        }
        await sdk.flush();
        if (exported === before) throw new Error(`${name}: the wrapped client exported no trace: the wrapper was not exercised`);
      } finally {
        await fake.close();
      }
    }
    const lines = [
      `Per wrapper: median over ${ROUNDS} rounds of the per-round (paired) values; each round one sample unwrapped and one wrapped, each sample ${CALLS} sequential calls (wall: the median call; CPU: process.cpuUsage over the sample / ${CALLS}, the fake server's share included alike in both). Node ${process.version}, ${process.env.BENCH_WRAPPER_TRANSPORT === "memory" ? "answers replayed from memory (fetched once from the fake servers; Bedrock over loopback)" : "fake servers on 127.0.0.1 in the same process"}, a no-op exporter, calls outside any trace (each wrapped call opens its own trace).`,
      "",
      "| wrapper | measure | unwrapped wall (µs) | wrapped wall (µs) | added wall (µs) | ratio | unwrapped CPU (µs/call) | added CPU (µs/call) |",
      "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
      ...rows,
    ];
    return lines.join("\n");
  } finally {
    globalThis.fetch = realFetch;
    await sdk.shutdown();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const names = process.argv[2]?.split(",");
  console.log(await runWrapperBench(names));
}
