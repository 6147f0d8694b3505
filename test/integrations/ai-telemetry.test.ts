/**
 * The Vercel AI SDK 7 (installed as `ai7`, see package.json) traced by `pandaprobeTelemetry()`,
 * against the fake OpenAI-compatible server; and the v6 middleware under ai 7.
 */
import { createOpenAICompatible } from "openai-compatible-v3";
import { generateObject, generateText, jsonSchema, registerTelemetry, stepCountIs, streamText, tool, ToolLoopAgent, wrapLanguageModel } from "ai7";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { init, session, setSession, setUser, startTrace, user } from "../../src/index.js";
import { pandaprobeMiddleware } from "../../src/integrations/ai-sdk.js";
import { pandaprobeTelemetry, type PandaProbeTelemetryOptions } from "../../src/integrations/ai-telemetry.js";
import type { SpanData, TraceData } from "../../src/wire/types.js";
import { startFakeOpenAI, type FakeOpenAI } from "../support/fake-openai.js";
import { closeIntegration, resetIntegration, startIntegration } from "../support/integration.js";
import { byName, type Tracing } from "../support/tracing.js";

let tracing: Tracing;
let fake: FakeOpenAI;

beforeAll(async () => ({ tracing, fake } = await startIntegration(startFakeOpenAI)));
afterEach(() => resetIntegration(tracing, fake));
afterAll(() => closeIntegration(tracing, fake));

function model(modelId = "fake-model") {
  return createOpenAICompatible({ baseURL: fake.baseURL, name: "fake", includeUsage: true })(modelId);
}

/** Per-call integrations replace the global ones, so each test chooses its options. */
function telemetry(options?: PandaProbeTelemetryOptions, functionId?: string) {
  return { integrations: [pandaprobeTelemetry(options)], functionId };
}

const weather = tool({
  description: "Current weather in a city",
  inputSchema: jsonSchema<{ city: string }>({ type: "object", properties: { city: { type: "string" } }, required: ["city"] }),
  execute: async ({ city }) => `18C and sunny in ${city}`,
});

const failing = tool({
  description: "Always fails",
  inputSchema: jsonSchema<{ q: string }>({ type: "object", properties: { q: { type: "string" } }, required: ["q"] }),
  execute: async (): Promise<string> => {
    throw new Error("lookup service down");
  },
});

function tree(trace: TraceData): [string, string, string | undefined][] {
  const byId = new Map(trace.spans.map((s) => [s.span_id, s]));
  return trace.spans.map((s) => [s.kind, s.name, s.parent_span_id && byId.get(s.parent_span_id)?.name]);
}

function only(traces: TraceData[]): TraceData {
  expect(traces).toHaveLength(1);
  return traces[0]!;
}

function span(trace: TraceData, kind: string, index = 0): SpanData {
  return trace.spans.filter((s) => s.kind === kind)[index]!;
}

describe("generateText", () => {
  it("is one trace: a CHAIN root, an LLM span per step and a TOOL span with arguments and result", async () => {
    fake.script(
      { toolCalls: [{ id: "call_w", name: "weather", arguments: { city: "Paris" } }], usage: { prompt_tokens: 20, completion_tokens: 5, cached_tokens: 4 } },
      { text: "It is 18C and sunny in Paris.", usage: { prompt_tokens: 30, completion_tokens: 9, reasoning_tokens: 2 } },
    );
    const result = await generateText({
      model: model(),
      system: "Be brief.",
      prompt: "Weather in Paris?",
      tools: { weather },
      stopWhen: stepCountIs(3),
      temperature: 0.2,
      maxRetries: 0,
      telemetry: telemetry(undefined, "weather-agent"),
    });
    expect(result.text).toBe("It is 18C and sunny in Paris.");

    const trace = only(await tracing.sent());
    expect(trace).toMatchObject({
      name: "weather-agent",
      status: "COMPLETED",
      input: { messages: [{ role: "user", content: "Weather in Paris?" }] },
      output: { messages: [{ role: "assistant", content: "It is 18C and sunny in Paris." }] },
    });
    expect(tree(trace)).toEqual([
      ["CHAIN", "weather-agent", undefined],
      ["LLM", "fake-model", "weather-agent"],
      ["TOOL", "weather", "weather-agent"],
      ["LLM", "fake-model", "weather-agent"],
    ]);
    const [root, first, toolSpan, second] = trace.spans as [SpanData, SpanData, SpanData, SpanData];
    expect(root).toMatchObject({ status: "OK", metadata: { operation: "ai.generateText", model: "fake-model" } });
    expect(first).toMatchObject({
      status: "OK",
      model: "fake-model",
      input: { messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "Weather in Paris?" }] },
      output: {
        messages: [{ role: "assistant", content: null, tool_calls: [{ id: "call_w", type: "function", function: { name: "weather", arguments: '{"city":"Paris"}' } }] }],
      },
      token_usage: { prompt_tokens: 20, completion_tokens: 5, total_tokens: 25, cache_read_tokens: 4 },
      model_parameters: { temperature: 0.2 },
    });
    expect(first.completion_start_time).toBeUndefined();
    expect(toolSpan).toMatchObject({ status: "OK", input: { city: "Paris" }, output: "18C and sunny in Paris", metadata: { tool_call_id: "call_w" } });
    expect(second).toMatchObject({
      output: { messages: [{ role: "assistant", content: "It is 18C and sunny in Paris." }] },
      token_usage: { prompt_tokens: 30, completion_tokens: 9, total_tokens: 39, reasoning_tokens: 2 },
    });
    expect((second.input as { messages: unknown[] }).messages.slice(-1)).toEqual([
      { role: "tool", tool_call_id: "call_w", name: "weather", content: "18C and sunny in Paris" },
    ]);
  });

  it("inside a current trace, the call is a CHAIN subtree of it, not a trace of its own", async () => {
    fake.script({ text: "Paris." });
    await startTrace("my-app", undefined, () => generateText({ model: model(), prompt: "Capital of France?", maxRetries: 0, telemetry: telemetry() }));
    const trace = only(await tracing.sent());
    expect(tree(trace)).toEqual([
      ["CHAIN", "ai.generateText", undefined],
      ["LLM", "fake-model", "ai.generateText"],
    ]);
    expect(trace.name).toBe("my-app");
  });

  it("a failing tool is an ERROR TOOL span; the run goes on and completes", async () => {
    fake.script({ toolCalls: [{ id: "call_f", name: "failing", arguments: { q: "x" } }] }, { text: "Sorry, the lookup failed." });
    await generateText({ model: model(), prompt: "Look up x", tools: { failing }, stopWhen: stepCountIs(3), maxRetries: 0, telemetry: telemetry() });
    const trace = only(await tracing.sent());
    expect(span(trace, "TOOL")).toMatchObject({ name: "failing", status: "ERROR", error: expect.stringContaining("lookup service down") });
    expect(trace.status).toBe("COMPLETED");
  });

  it("a provider error fails the LLM span, the root and the trace; the host gets the AI SDK's error", async () => {
    fake.script({ error: { status: 400, message: "model not found" } });
    await expect(generateText({ model: model(), prompt: "Hi", maxRetries: 0, telemetry: telemetry() })).rejects.toThrow("model not found");
    const trace = only(await tracing.sent());
    expect(trace.status).toBe("ERROR");
    expect(span(trace, "CHAIN")).toMatchObject({ status: "ERROR", error: expect.stringContaining("model not found") });
    expect(span(trace, "LLM")).toMatchObject({ status: "ERROR", error: expect.stringContaining("model not found") });
  });

  it("a tool that calls generateText nests that call's subtree under its TOOL span", async () => {
    const researcher = tool({
      description: "Ask a sub-agent",
      inputSchema: jsonSchema<{ question: string }>({ type: "object", properties: { question: { type: "string" } }, required: ["question"] }),
      execute: async ({ question }) => (await generateText({ model: model("sub-model"), prompt: question, maxRetries: 0, telemetry: telemetry(undefined, "researcher") })).text,
    });
    fake.script({ toolCalls: [{ id: "call_r", name: "researcher", arguments: { question: "Why?" } }] }, { text: "Because." }, { text: "Done: because." });
    await generateText({ model: model(), prompt: "Research", tools: { researcher }, stopWhen: stepCountIs(3), maxRetries: 0, telemetry: telemetry(undefined, "lead") });
    const trace = only(await tracing.sent());
    expect(tree(trace)).toEqual([
      ["CHAIN", "lead", undefined],
      ["LLM", "fake-model", "lead"],
      ["TOOL", "researcher", "lead"],
      ["CHAIN", "researcher", "researcher"],
      ["LLM", "sub-model", "researcher"],
      ["LLM", "fake-model", "lead"],
    ]);
    const inner = trace.spans.find((s) => s.kind === "CHAIN" && s.name === "researcher")!;
    expect(inner.parent_span_id).toBe(span(trace, "TOOL").span_id);
  });
});

describe("streamText", () => {
  it("records the streamed steps with time to first token, and the text reaches the caller unchanged", async () => {
    fake.script({ text: "One two three.", chunkDelayMs: 5 });
    const result = streamText({ model: model(), prompt: "Count", maxRetries: 0, telemetry: telemetry() });
    let text = "";
    for await (const delta of result.textStream) text += delta;
    expect(text).toBe("One two three.");
    const trace = only(await tracing.sent());
    expect(trace).toMatchObject({ name: "ai.streamText", status: "COMPLETED", output: { messages: [{ role: "assistant", content: "One two three." }] } });
    const llm = span(trace, "LLM");
    expect(llm).toMatchObject({ output: { messages: [{ role: "assistant", content: "One two three." }] }, model_parameters: { stream: true } });
    expect(llm.token_usage).toMatchObject({ prompt_tokens: 11, completion_tokens: 7 });
    expect(Date.parse(llm.completion_start_time!)).toBeGreaterThanOrEqual(Date.parse(llm.started_at));
    expect(Date.parse(llm.completion_start_time!)).toBeLessThanOrEqual(Date.parse(llm.ended_at!));
  });

  it("an abort mid-stream closes the run as abandoned, not failed", async () => {
    fake.script({ text: "a b c d e f g h i j k l", chunkDelayMs: 30 });
    const controller = new AbortController();
    const result = streamText({ model: model(), prompt: "Long", abortSignal: controller.signal, maxRetries: 0, telemetry: telemetry() });
    for await (const delta of result.textStream) {
      if (delta) controller.abort();
    }
    const trace = only(await tracing.sent());
    expect(trace).toMatchObject({ status: "COMPLETED", metadata: { abandoned: true } });
    expect(span(trace, "CHAIN")).toMatchObject({ status: "OK", metadata: expect.objectContaining({ abandoned: true }) });
    expect(span(trace, "LLM")).toMatchObject({ metadata: { abandoned: true } });
  });
});

describe("generateObject and agents", () => {
  it("generateObject: one LLM span with the JSON text as output; the trace output is the object", async () => {
    fake.script({ text: '{"city":"Paris"}' });
    const { object } = await generateObject({
      model: model(),
      prompt: "Pick a city",
      schema: jsonSchema<{ city: string }>({ type: "object", properties: { city: { type: "string" } }, required: ["city"] }),
      maxRetries: 0,
      telemetry: telemetry(),
    });
    expect(object).toEqual({ city: "Paris" });
    const trace = only(await tracing.sent());
    expect(tree(trace)).toEqual([
      ["CHAIN", "ai.generateObject", undefined],
      ["LLM", "fake-model", "ai.generateObject"],
    ]);
    expect(span(trace, "LLM")).toMatchObject({ output: { messages: [{ role: "assistant", content: '{"city":"Paris"}' }] }, token_usage: { prompt_tokens: 11 } });
    expect(trace.output).toEqual({ messages: [{ role: "assistant", content: '{"city":"Paris"}' }] });
  });

  it("a ToolLoopAgent call is one trace like generateText", async () => {
    fake.script({ toolCalls: [{ id: "call_w", name: "weather", arguments: { city: "Oslo" } }] }, { text: "Cold." });
    const agent = new ToolLoopAgent({ model: model(), tools: { weather }, instructions: "You are a weather bot.", telemetry: telemetry(undefined, "weather-bot") });
    const result = await agent.generate({ prompt: "Oslo?" });
    expect(result.text).toBe("Cold.");
    const trace = only(await tracing.sent());
    expect(tree(trace).map(([kind, name]) => [kind, name])).toEqual([
      ["CHAIN", "weather-bot"],
      ["LLM", "fake-model"],
      ["TOOL", "weather"],
      ["LLM", "fake-model"],
    ]);
  });
});

describe("sessions and users", () => {
  it("prefers explicit ids over scoped ones over imperative ones", async () => {
    setSession("imperative-s");
    setUser("imperative-u");
    const call = (options?: PandaProbeTelemetryOptions, functionId?: string) =>
      generateText({ model: model(), prompt: "Hi", maxRetries: 0, telemetry: telemetry(options, functionId) });
    await call(undefined, "imperative");
    await session("scoped-s", () => user("scoped-u", () => call(undefined, "scoped")));
    await session("scoped-s", () => call({ sessionId: "explicit-s", userId: "explicit-u" }, "explicit"));
    const traces = await tracing.sent();
    expect(byName(traces, "imperative")).toMatchObject({ session_id: "imperative-s", user_id: "imperative-u" });
    expect(byName(traces, "scoped")).toMatchObject({ session_id: "scoped-s", user_id: "scoped-u" });
    expect(byName(traces, "explicit")).toMatchObject({ session_id: "explicit-s", user_id: "explicit-u" });
  });

  it("a registered integration traces a multi-turn conversation as one trace per turn, all in the session", async () => {
    registerTelemetry(pandaprobeTelemetry({ tags: ["chat"] }));
    fake.script({ text: "Hello!" }, { text: "Reset it in Settings." });
    const history: { role: "user" | "assistant"; content: string }[] = [];
    await session("conv-1", () =>
      user("user-1", async () => {
        for (const input of ["Hi!", "How do I reset my password?"]) {
          history.push({ role: "user", content: input });
          const { text } = await generateText({ model: model(), messages: history, maxRetries: 0 });
          history.push({ role: "assistant", content: text });
        }
      }),
    );
    registerTelemetry();
    const traces = await tracing.sent();
    expect(traces).toHaveLength(2);
    expect(traces.map((t) => [t.session_id, t.user_id, t.tags])).toEqual([
      ["conv-1", "user-1", ["chat"]],
      ["conv-1", "user-1", ["chat"]],
    ]);
    expect(traces.map((t) => [t.input, t.output])).toEqual([
      [{ messages: [{ role: "user", content: "Hi!" }] }, { messages: [{ role: "assistant", content: "Hello!" }] }],
      [{ messages: [{ role: "user", content: "How do I reset my password?" }] }, { messages: [{ role: "assistant", content: "Reset it in Settings." }] }],
    ]);
    expect((span(traces[1]!, "LLM").input as { messages: unknown[] }).messages).toHaveLength(3);
  });

  it("a typo'd or ill-typed option is a TypeError from pandaprobeTelemetry(), not calls silently untraced", () => {
    expect(() => pandaprobeTelemetry({ sesionId: "x" } as PandaProbeTelemetryOptions)).toThrow(TypeError);
    expect(() => pandaprobeTelemetry({ userId: 7 } as unknown as PandaProbeTelemetryOptions)).toThrow(TypeError);
  });
});

/**
 * The middleware's declared type is the `ai` peer's own `LanguageModelMiddleware`: an app on ai 7
 * sees ai 7's type. This repository type-checks against ai 6, so the test names ai 7's type itself.
 */
function v7Middleware(): Parameters<typeof wrapLanguageModel>[0]["middleware"] {
  return pandaprobeMiddleware() as unknown as Parameters<typeof wrapLanguageModel>[0]["middleware"];
}

describe("the language-model middleware under ai 7", () => {
  it("records each model call of a tool loop as an LLM span with its TOOL call, as under ai 6", async () => {
    fake.script({ toolCalls: [{ id: "call_w", name: "weather", arguments: { city: "Rome" } }] }, { text: "Warm." });
    const wrapped = wrapLanguageModel({ model: model(), middleware: v7Middleware() });
    await startTrace("agent", undefined, () =>
      generateText({ model: wrapped, prompt: "Rome?", tools: { weather }, stopWhen: stepCountIs(3), maxRetries: 0, telemetry: { isEnabled: false } }),
    );
    const trace = only(await tracing.sent());
    expect(trace.spans.map((s) => [s.kind, s.name])).toEqual([
      ["LLM", "ai.generate"],
      ["TOOL", "weather"],
      ["LLM", "ai.generate"],
    ]);
    expect(trace.spans[2]).toMatchObject({ output: { messages: [{ role: "assistant", content: "Warm." }] }, token_usage: { prompt_tokens: 11, completion_tokens: 7 } });
  });

  it("streams through the middleware with time to first token", async () => {
    fake.script({ text: "Streamed under seven.", chunkDelayMs: 5 });
    const wrapped = wrapLanguageModel({ model: model(), middleware: v7Middleware() });
    const result = streamText({ model: wrapped, prompt: "Go", maxRetries: 0, telemetry: { isEnabled: false } });
    let text = "";
    for await (const delta of result.textStream) text += delta;
    expect(text).toBe("Streamed under seven.");
    const llm = span(only(await tracing.sent()), "LLM");
    expect(llm).toMatchObject({ name: "ai.stream", output: { messages: [{ role: "assistant", content: "Streamed under seven." }] } });
    expect(llm.completion_start_time).toBeDefined();
  });
});

describe("with tracing disabled", () => {
  it("passes calls straight through, tools included, and sends nothing", async () => {
    init({ enabled: false });
    fake.script({ toolCalls: [{ id: "c", name: "weather", arguments: { city: "Paris" } }] }, { text: "Sunny." });
    const result = await generateText({ model: model(), prompt: "Paris?", tools: { weather }, stopWhen: stepCountIs(3), maxRetries: 0, telemetry: telemetry() });
    expect(result.text).toBe("Sunny.");
    expect(result.steps).toHaveLength(2);
    await tracing.client.flush();
    expect(tracing.collector.traces()).toEqual([]);
  });
});
