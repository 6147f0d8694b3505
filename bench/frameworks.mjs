#!/usr/bin/env node
/**
 * What each agent-framework integration adds to one agent call, traced vs untraced, on the same
 * fake provider (test/support/fake-openai.ts, fake-anthropic.ts) on 127.0.0.1 in this process:
 *   - Vercel AI SDK 7: generateText, one tool loop (model → tool → model); traced = the call's
 *     `telemetry.integrations: [pandaprobeTelemetry()]`, untraced = no integration registered.
 *   - OpenAI Agents SDK: Runner.run of an agent with one tool (2 Responses calls + 1 function);
 *     traced = the SDK's tracing on with `pandaprobeTraceProcessor()` as its only processor,
 *     untraced = the Runner's `tracingDisabled: true` (so traced also pays the SDK's own span bookkeeping).
 *   - DeepAgents: invoke of a deep agent with one tool (2 chat calls + 1 tool); traced = the
 *     `DeepAgentsCallbackHandler` in `callbacks`, untraced = no callbacks.
 *   - Claude Agent SDK: one query with one MCP tool use (2 Messages calls); each query spawns the
 *     bundled CLI, so it has its own, smaller sample count.
 * The client's `exporter` option is a no-op sink: a trace is built and serialized, nothing is sent.
 * Supplementary rows take the framework's own tracing machinery with a no-op observer as the
 * baseline, to tell the framework's cost of being observed from PandaProbe's.
 *
 * Calls are paired one by one, untraced and traced, the order flipped every pair; the table shows
 * the median call of each variant and the median per-pair difference, in wall-clock time and in
 * this process's CPU time (which a loaded machine disturbs less).
 *
 *   node bench/frameworks.mjs
 *
 * Knobs (environment): BENCH_FW_ROUNDS (9), BENCH_FW_CALLS (15), BENCH_FW_WARMUP (1),
 * BENCH_FW_CLAUDE_ROUNDS (4), BENCH_FW_CLAUDE_CALLS (2).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const benchDir = dirname(fileURLToPath(import.meta.url));
const root = dirname(benchDir);
const outDir = join(benchDir, ".build-frameworks");
const ROUNDS = Number(process.env.BENCH_FW_ROUNDS ?? 9);
const CALLS = Number(process.env.BENCH_FW_CALLS ?? 15);
const WARMUP = Number(process.env.BENCH_FW_WARMUP ?? 1);
const CLAUDE_ROUNDS = Number(process.env.BENCH_FW_CLAUDE_ROUNDS ?? 4);
const CLAUDE_CALLS = Number(process.env.BENCH_FW_CLAUDE_CALLS ?? 2);

/** Bundles the SDK, the integrations and the fakes from src/ with one shared core; the frameworks stay external. */
async function buildFromSource() {
  const { build } = await import("vite");
  await build({
    root,
    configFile: false,
    publicDir: false,
    logLevel: "warn",
    resolve: {
      alias: [
        { find: /^pandaprobe$/, replacement: join(root, "src", "index.ts") },
        { find: /^pandaprobe\/integration-kit$/, replacement: join(root, "src", "integration-kit.ts") },
      ],
    },
    build: {
      ssr: true,
      outDir,
      emptyOutDir: true,
      minify: false,
      target: "node20",
      rollupOptions: {
        input: {
          pandaprobe: join(root, "src", "index.ts"),
          ai: join(root, "src", "integrations", "ai-sdk.ts"),
          "openai-agents": join(root, "src", "integrations", "openai-agents.ts"),
          "claude-agent-sdk": join(root, "src", "integrations", "claude-agent-sdk.ts"),
          deepagents: join(root, "src", "integrations", "deepagents.ts"),
          "fake-openai": join(root, "test", "support", "fake-openai.ts"),
          "fake-anthropic": join(root, "test", "support", "fake-anthropic.ts"),
        },
        // Every package is the app's; only the SDK's own sources are bundled.
        external: (id) => !id.startsWith(".") && !id.startsWith("/") && !id.startsWith("\0") && !/^pandaprobe($|\/)/.test(id),
        output: { format: "es", entryFileNames: "[name].mjs" },
      },
    },
  });
  const load = (name) => import(pathToFileURL(join(outDir, `${name}.mjs`)).href);
  const names = ["pandaprobe", "ai", "openai-agents", "claude-agent-sdk", "deepagents", "fake-openai", "fake-anthropic"];
  return Object.fromEntries(await Promise.all(names.map(async (name) => [name, await load(name)])));
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** Wall-clock and CPU (user + system, this process: the fake server's work included) milliseconds of one call. */
async function timed(call) {
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  await call();
  const wall = Number(process.hrtime.bigint() - start) / 1e6;
  const used = process.cpuUsage(cpu);
  return { wall, cpu: (used.user + used.system) / 1e3 };
}

/**
 * Calls paired one by one (untraced then traced, the order flipped every pair) so the machine's
 * drift hits both alike; the added cost is the median of the per-pair differences.
 */
async function paired(variants, { rounds, calls, warmup, before }) {
  const wall = { untraced: [], traced: [], added: [] };
  const cpu = { added: [] };
  for (let round = 0; round < warmup + rounds; round++) {
    for (let i = 0; i < calls; i++) {
      const order = (round * calls + i) % 2 ? ["traced", "untraced"] : ["untraced", "traced"];
      const pair = {};
      for (const variant of order) {
        before();
        pair[variant] = await timed(variants[variant]);
      }
      if (round < warmup) continue;
      wall.untraced.push(pair.untraced.wall);
      wall.traced.push(pair.traced.wall);
      wall.added.push(pair.traced.wall - pair.untraced.wall);
      cpu.added.push(pair.traced.cpu - pair.untraced.cpu);
    }
  }
  return { untraced: median(wall.untraced), traced: median(wall.traced), added: median(wall.added), cpuAdded: median(cpu.added) };
}

function signed(value) {
  return `${value >= 0 ? "+" : ""}${value.toFixed(2)}`;
}

function row(label, { untraced, traced, added, cpuAdded }) {
  return `| ${label} | ${untraced.toFixed(2)} | ${traced.toFixed(2)} | ${signed(added)} | ${signed(cpuAdded)} | ${((untraced + added) / untraced).toFixed(3)} |`;
}

async function vercel(mods, fakeOpenAI) {
  const { generateText, jsonSchema, stepCountIs, tool } = await import("ai7");
  const { createOpenAICompatible } = await import("openai-compatible-v3");
  const model = createOpenAICompatible({ baseURL: fakeOpenAI.baseURL, name: "fake", includeUsage: true })("fake-model");
  const weather = tool({
    description: "Weather",
    inputSchema: jsonSchema({ type: "object", properties: { city: { type: "string" } }, required: ["city"] }),
    execute: async ({ city }) => `sunny in ${city}`,
  });
  const telemetry = mods.ai.pandaprobeTelemetry();
  const call = (traced) => () =>
    generateText({ model, prompt: "Weather in Paris?", tools: { weather }, stopWhen: stepCountIs(3), maxRetries: 0, ...(traced ? { telemetry: { integrations: [telemetry] } } : {}) });
  return { main: { untraced: call(false), traced: call(true) } };
}

async function openaiAgents(mods, fakeOpenAI) {
  const { Agent, Runner, setTraceProcessors, setTracingDisabled, tool } = await import("@openai/agents");
  const { OpenAIProvider } = await import("@openai/agents-openai");
  const { z } = await import("zod");
  setTracingDisabled(false);
  setTraceProcessors([mods["openai-agents"].pandaprobeTraceProcessor()]);
  const weather = tool({ name: "weather", description: "Weather", parameters: z.object({ city: z.string() }), execute: async ({ city }) => `sunny in ${city}` });
  const agent = new Agent({ name: "Assistant", instructions: "Be brief.", tools: [weather], model: "gpt-4o-mini" });
  const modelProvider = new OpenAIProvider({ apiKey: "sk-bench", baseURL: fakeOpenAI.baseURL, useResponses: true });
  const runners = { untraced: new Runner({ modelProvider, tracingDisabled: true }), traced: new Runner({ modelProvider }) };
  const processor = mods["openai-agents"].pandaprobeTraceProcessor();
  const noop = { onTraceStart: async () => {}, onTraceEnd: async () => {}, onSpanStart: async () => {}, onSpanEnd: async () => {}, shutdown: async () => {}, forceFlush: async () => {} };
  const run = (runner, processors) => () => {
    setTraceProcessors(processors);
    return runner.run(agent, "Weather in Paris?");
  };
  return {
    main: { untraced: run(runners.untraced, []), traced: run(runners.traced, [processor]) },
    // The SDK's own tracing (spans built, a processor called) without PandaProbe, as the baseline.
    supplementary: { untraced: run(runners.traced, [noop]), traced: run(runners.traced, [processor]) },
  };
}

async function deepAgents(mods, fakeOpenAI) {
  const { ChatOpenAI } = await import("@langchain/openai");
  const { tool } = await import("@langchain/core/tools");
  const { createDeepAgent } = await import("deepagents");
  const { z } = await import("zod");
  const weather = tool(async ({ city }) => `sunny in ${city}`, { name: "weather", description: "Weather", schema: z.object({ city: z.string() }) });
  const model = new ChatOpenAI({ model: "gpt-4o-mini", apiKey: "sk-bench", maxRetries: 0, configuration: { baseURL: fakeOpenAI.baseURL } });
  const agent = createDeepAgent({ model, tools: [weather], systemPrompt: "Be brief." });
  const { BaseCallbackHandler } = await import("@langchain/core/callbacks/base");
  const handler = new mods.deepagents.DeepAgentsCallbackHandler();
  // LangChain's own cost of a callback handler: run managers, serialized inputs, awaited callbacks.
  const noop = new (class extends BaseCallbackHandler {
    name = "noop";
    awaitHandlers = true;
  })();
  const input = { messages: [{ role: "user", content: "Weather in Paris?" }] };
  return {
    main: { untraced: () => agent.invoke(input), traced: () => agent.invoke(input, { callbacks: [handler] }) },
    supplementary: { untraced: () => agent.invoke(input, { callbacks: [noop] }), traced: () => agent.invoke(input, { callbacks: [handler] }) },
  };
}

async function claudeAgent(mods, fakeAnthropic, home) {
  const { createSdkMcpServer, query, tool } = await import("@anthropic-ai/claude-agent-sdk");
  const { z } = await import("zod");
  const calc = createSdkMcpServer({
    name: "calc",
    version: "1.0.0",
    tools: [tool("add", "Adds", { a: z.number(), b: z.number() }, async ({ a, b }) => ({ content: [{ type: "text", text: String(a + b) }] }))],
  });
  const options = {
    cwd: home,
    model: "claude-fake-1",
    mcpServers: { calc },
    allowedTools: ["mcp__calc__add"],
    tools: [],
    settingSources: [],
    env: { ...process.env, ANTHROPIC_BASE_URL: fakeAnthropic.url, ANTHROPIC_API_KEY: "sk-ant-bench", CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1", HOME: home, CLAUDE_CONFIG_DIR: home },
  };
  const traced = mods["claude-agent-sdk"].wrapClaudeAgentQuery(query);
  const drain = async (messages) => {
    for await (const message of messages) if (message.type === "result" && message.is_error) throw new Error(String(message.result));
  };
  return {
    untraced: () => drain(query({ prompt: "What is 2 + 3?", options })),
    traced: () => drain(traced({ prompt: "What is 2 + 3?", options })),
  };
}

export async function runFrameworkBench() {
  const mods = await buildFromSource();
  const sdk = mods.pandaprobe;
  let exported = 0;
  sdk.init({
    apiKey: "sk_pp_bench",
    projectName: "bench",
    exporter: { enqueue: () => void exported++, flush: async () => {}, shutdown: async () => {} },
  });
  const fakeOpenAI = await mods["fake-openai"].startFakeOpenAI();
  const fakeAnthropic = await mods["fake-anthropic"].startFakeAnthropic();
  const home = mkdtempSync(join(tmpdir(), "bench-claude-"));
  const toolLoop = () => {
    fakeOpenAI.requests.length = 0;
    fakeOpenAI.script({ toolCalls: [{ id: "call_w", name: "weather", arguments: { city: "Paris" } }] }, { text: "Sunny in Paris." });
  };
  const claudeLoop = () => {
    fakeAnthropic.requests.length = 0;
    fakeAnthropic.script({ toolUses: [{ id: "toolu_add", name: "mcp__calc__add", input: { a: 2, b: 3 } }] }, { text: "5" });
  };
  try {
    const settings = { rounds: ROUNDS, calls: CALLS, warmup: WARMUP, before: toolLoop };
    const rows = [];
    for (const [label, make, baseline] of [
      ["Vercel AI SDK 7 generateText (telemetry integration)", vercel],
      ["OpenAI Agents SDK Runner.run (trace processor)", openaiAgents, "OpenAI Agents SDK, vs its tracing on with a no-op processor (supplementary)"],
      ["DeepAgents invoke (callback handler)", deepAgents, "DeepAgents, vs a no-op LangChain callback handler (supplementary)"],
    ]) {
      const before = exported;
      const variants = await make(mods, fakeOpenAI);
      rows.push(row(label, await paired(variants.main, settings)));
      if (variants.supplementary) rows.push(row(baseline, await paired(variants.supplementary, settings)));
      await sdk.flush();
      if (exported === before) throw new Error(`${label}: nothing was exported, the integration was not exercised`);
    }
    const before = exported;
    const claude = await paired(await claudeAgent(mods, fakeAnthropic, home), { rounds: CLAUDE_ROUNDS, calls: CLAUDE_CALLS, warmup: 0, before: claudeLoop });
    await sdk.flush();
    if (exported === before) throw new Error("Claude Agent SDK: nothing was exported");
    rows.push(row("Claude Agent SDK query (CLI subprocess; wrapper)", claude));
    return [
      `${ROUNDS * CALLS} paired calls per row (${CLAUDE_ROUNDS * CLAUDE_CALLS} for the Claude Agent SDK), after ${WARMUP * CALLS} warm-up pairs; Node ${process.version}; fake providers on 127.0.0.1 in the same process; one tool loop per call.`,
      "Medians of the calls, and of the per-pair differences (wall clock, and CPU time of this process).",
      "",
      "| agent call | untraced (ms) | traced (ms) | added, wall (ms) | added, CPU (ms) | ratio |",
      "| --- | ---: | ---: | ---: | ---: | ---: |",
      ...rows,
    ].join("\n");
  } finally {
    await fakeOpenAI.close();
    await fakeAnthropic.close();
    await sdk.shutdown();
    rmSync(home, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(await runFrameworkBench());
}
