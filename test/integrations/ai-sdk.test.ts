import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { APICallError, generateText, jsonSchema, stepCountIs, streamText, tool, wrapLanguageModel } from "ai";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { init, session, setSession, setUser, startTrace, user } from "../../src/index.js";
import { pandaprobeMiddleware, type PandaProbeMiddlewareOptions } from "../../src/integrations/ai-sdk.js";
import type { SpanData, TraceData } from "../../src/wire/types.js";
import { startFakeOpenAI, type FakeOpenAI } from "../support/fake-openai.js";
import { closeIntegration, resetIntegration, startIntegration } from "../support/integration.js";
import { byName, type Tracing } from "../support/tracing.js";

let tracing: Tracing;
let fake: FakeOpenAI;

beforeAll(async () => ({ tracing, fake } = await startIntegration(startFakeOpenAI)));
afterEach(() => resetIntegration(tracing, fake));
afterAll(() => closeIntegration(tracing, fake));

function tracedModel(options?: PandaProbeMiddlewareOptions, modelId = "fake-model") {
  const provider = createOpenAICompatible({ baseURL: fake.baseURL, name: "fake", includeUsage: true });
  return wrapLanguageModel({ model: provider(modelId), middleware: pandaprobeMiddleware(options) });
}

const weather = tool({
  description: "Current weather in a city",
  inputSchema: jsonSchema<{ city: string }>({
    type: "object",
    properties: { city: { type: "string" } },
    required: ["city"],
  }),
  execute: async ({ city }) => `18C and sunny in ${city}`,
});

function llmSpans(trace: TraceData): SpanData[] {
  return trace.spans.filter((s) => s.kind === "LLM");
}

function onlyLlmSpan(trace: TraceData): SpanData {
  const spans = llmSpans(trace);
  expect(spans).toHaveLength(1);
  return spans[0]!;
}

describe("generateText", () => {
  it("records one LLM span in the active trace: messages, text, model, usage, safe settings", async () => {
    fake.script({
      text: "Paris.",
      model: "fake-model-2025",
      usage: { prompt_tokens: 14, completion_tokens: 3, reasoning_tokens: 1, cached_tokens: 6 },
    });
    const result = await startTrace("agent", undefined, () =>
      generateText({
        model: tracedModel(),
        system: "Be brief.",
        prompt: "Capital of France?",
        temperature: 0.3,
        maxOutputTokens: 40,
        headers: { "x-secret": "s" },
        maxRetries: 0,
      }),
    );
    expect(result.text).toBe("Paris.");
    const span = onlyLlmSpan(byName(await tracing.sent(), "agent"));
    expect(span).toMatchObject({
      name: "ai.generate",
      kind: "LLM",
      status: "OK",
      input: {
        messages: [
          { role: "system", content: "Be brief." },
          { role: "user", content: "Capital of France?" },
        ],
      },
      output: { messages: [{ role: "assistant", content: "Paris." }] },
      model: "fake-model-2025",
      token_usage: { prompt_tokens: 14, completion_tokens: 3, total_tokens: 17, reasoning_tokens: 1, cache_read_tokens: 6 },
      model_parameters: { temperature: 0.3, max_tokens: 40 },
    });
    expect(span.parent_span_id).toBeUndefined();
  });

  it("runs a tool loop as one trace: LLM, its TOOL call, then the LLM that read the result", async () => {
    fake.script(
      { toolCalls: [{ id: "call_w", name: "weather", arguments: { city: "Paris" } }] },
      { text: "It is 18C and sunny in Paris." },
    );
    const result = await startTrace("agent", undefined, () =>
      generateText({
        model: tracedModel(),
        prompt: "Weather in Paris?",
        tools: { weather },
        stopWhen: stepCountIs(3),
        maxRetries: 0,
      }),
    );
    expect(result.text).toBe("It is 18C and sunny in Paris.");
    expect(result.steps).toHaveLength(2);

    const trace = byName(await tracing.sent(), "agent");
    expect(trace.spans.map((s) => [s.kind, s.name])).toEqual([
      ["LLM", "ai.generate"],
      ["TOOL", "weather"],
      ["LLM", "ai.generate"],
    ]);
    const [first, toolSpan, second] = trace.spans as [SpanData, SpanData, SpanData];
    expect(toolSpan).toMatchObject({ parent_span_id: first.span_id, input: { city: "Paris" }, metadata: { tool_call_id: "call_w" } });
    expect(first.output).toEqual({
      messages: [
        {
          role: "assistant",
          content: null,
          tool_calls: [{ id: "call_w", type: "function", function: { name: "weather", arguments: '{"city":"Paris"}' } }],
        },
      ],
    });
    expect(second.input).toEqual({
      messages: [
        { role: "user", content: "Weather in Paris?" },
        {
          role: "assistant",
          content: null,
          tool_calls: [{ id: "call_w", type: "function", function: { name: "weather", arguments: '{"city":"Paris"}' } }],
        },
        { role: "tool", tool_call_id: "call_w", name: "weather", content: "18C and sunny in Paris" },
      ],
    });
    expect(second.output).toEqual({ messages: [{ role: "assistant", content: "It is 18C and sunny in Paris." }] });
    expect(Date.parse(second.started_at)).toBeGreaterThanOrEqual(Date.parse(first.ended_at!));
  });

  it("turns a provider error into an ERROR span with its message; the host gets the AI SDK's error", async () => {
    fake.script({ error: { status: 400, message: "Invalid 'messages': too long" } });
    const failure = await startTrace("agent", undefined, () =>
      generateText({ model: tracedModel(), prompt: "hi", maxRetries: 0 }),
    ).catch((e: unknown) => e);
    expect(APICallError.isInstance(failure)).toBe(true);
    expect((failure as APICallError).statusCode).toBe(400);
    expect((failure as Error).message).toContain("Invalid 'messages': too long");
    const span = onlyLlmSpan(byName(await tracing.sent(), "agent"));
    expect(span.status).toBe("ERROR");
    expect(span.error).toContain("Invalid 'messages': too long");
    expect(span.model).toBe("fake-model");
  });

  it("a typo'd or ill-typed option is a TypeError from pandaprobeMiddleware(), not calls silently untraced", () => {
    expect(() => pandaprobeMiddleware({ sesionId: "c-1" } as never)).toThrow(/unknown pandaprobeMiddleware\(\) option key "sesionId"/);
    expect(() => pandaprobeMiddleware({ sessionId: 42 as never })).toThrow(/sessionId must be a string, got a number/);
    expect(() => pandaprobeMiddleware({ userId: null as never })).toThrow(/userId must be a string, got null/);
    expect(() => pandaprobeMiddleware({ name: ["planner"] as never })).toThrow(/span name must be a string, got an array/);
  });

  it("uses the given span name", async () => {
    await startTrace("agent", undefined, () => generateText({ model: tracedModel({ name: "planner" }), prompt: "hi" }));
    expect(onlyLlmSpan(byName(await tracing.sent(), "agent")).name).toBe("planner");
  });
});

describe("streamText", () => {
  it("passes every text delta through and records the text, usage and time to first token", async () => {
    fake.script({ text: "Streaming from the fake model.", usage: { prompt_tokens: 5, completion_tokens: 6 } });
    const deltas: string[] = [];
    await startTrace("agent", undefined, async () => {
      const result = streamText({ model: tracedModel(), prompt: "Say something", maxRetries: 0 });
      for await (const delta of result.textStream) deltas.push(delta);
    });
    expect(deltas.join("")).toBe("Streaming from the fake model.");
    expect(deltas.length).toBeGreaterThan(1);
    const span = onlyLlmSpan(byName(await tracing.sent(), "agent"));
    expect(span).toMatchObject({
      name: "ai.stream",
      status: "OK",
      output: { messages: [{ role: "assistant", content: "Streaming from the fake model." }] },
      token_usage: { prompt_tokens: 5, completion_tokens: 6, total_tokens: 11 },
      model_parameters: { stream: true },
      model: "fake-model",
    });
    const first = Date.parse(span.completion_start_time!);
    expect(first).toBeGreaterThanOrEqual(Date.parse(span.started_at));
    expect(first).toBeLessThanOrEqual(Date.parse(span.ended_at!));
  });

  it("runs a streamed tool loop as LLM, TOOL, LLM in one trace", async () => {
    fake.script(
      { text: "Let me check.", toolCalls: [{ id: "call_s", name: "weather", arguments: { city: "Oslo" } }] },
      { text: "Oslo: 18C and sunny." },
    );
    const text = await startTrace("agent", undefined, async () => {
      const result = streamText({ model: tracedModel(), prompt: "Weather in Oslo?", tools: { weather }, stopWhen: stepCountIs(3) });
      return result.text;
    });
    expect(text).toBe("Oslo: 18C and sunny.");
    const trace = byName(await tracing.sent(), "agent");
    expect(trace.spans.map((s) => [s.kind, s.name, s.status])).toEqual([
      ["LLM", "ai.stream", "OK"],
      ["TOOL", "weather", "OK"],
      ["LLM", "ai.stream", "OK"],
    ]);
    const [first, toolSpan] = trace.spans as [SpanData, SpanData];
    expect(toolSpan.parent_span_id).toBe(first.span_id);
    expect(toolSpan.input).toEqual({ city: "Oslo" });
    expect(first.output).toEqual({
      messages: [
        {
          role: "assistant",
          content: "Let me check.",
          tool_calls: [{ id: "call_s", type: "function", function: { name: "weather", arguments: '{"city":"Oslo"}' } }],
        },
      ],
    });
  });

  it("closes the span as abandoned when the caller aborts mid-stream", async () => {
    fake.script({ text: "one two three four five six seven eight", chunkDelayMs: 25 });
    const abort = new AbortController();
    const deltas: string[] = [];
    await startTrace("agent", undefined, async () => {
      const result = streamText({ model: tracedModel(), prompt: "count", abortSignal: abort.signal, onError: () => {} });
      for await (const delta of result.textStream) {
        deltas.push(delta);
        if (deltas.length === 2) abort.abort();
      }
    });
    const span = onlyLlmSpan(byName(await tracing.sent(), "agent"));
    expect(span.status).toBe("OK");
    expect(span.metadata).toEqual({ abandoned: true });
    expect((span.output as { messages: { content: string }[] }).messages[0]!.content).toMatch(/^one two /);
  });

  it("closes the span as abandoned when the reader cancels the model's stream", async () => {
    fake.script({ text: "a b c d e f", chunkDelayMs: 20 });
    await startTrace("agent", undefined, async () => {
      const { stream } = await tracedModel().doStream({ prompt: [{ role: "user", content: [{ type: "text", text: "go" }] }] });
      const reader = stream.getReader();
      let text = "";
      while (!text.includes("b")) {
        const { value } = await reader.read();
        if (value?.type === "text-delta") text += value.delta;
      }
      await reader.cancel();
    });
    const span = onlyLlmSpan(byName(await tracing.sent(), "agent"));
    expect(span.metadata).toEqual({ abandoned: true });
    expect(span.output).toEqual({ messages: [{ role: "assistant", content: "a b " }] });
    await expect.poll(() => fake.requests[0]!.aborted).toBe(true);
  });

  it("records a failed stream request as an ERROR span with the provider's message", async () => {
    fake.script({ error: { status: 500, message: "The server had an error" } });
    const errors: unknown[] = [];
    await startTrace("agent", undefined, async () => {
      const result = streamText({ model: tracedModel(), prompt: "hi", maxRetries: 0, onError: ({ error }) => void errors.push(error) });
      for await (const _ of result.textStream) void _;
    });
    expect(errors).toHaveLength(1);
    expect(APICallError.isInstance(errors[0])).toBe(true);
    const span = onlyLlmSpan(byName(await tracing.sent(), "agent"));
    expect(span.status).toBe("ERROR");
    expect(span.error).toContain("The server had an error");
  });
});

describe("aborted by the caller before the answer arrived", () => {
  /** A model whose request is under way when the caller's signal aborts it. */
  function abortedModel(abort: AbortController) {
    const provider = createOpenAICompatible({
      baseURL: fake.baseURL,
      name: "fake",
      fetch: (url, init) => {
        const pending = fetch(url, init);
        abort.abort();
        return pending;
      },
    });
    return wrapLanguageModel({ model: provider("fake-model"), middleware: pandaprobeMiddleware() });
  }

  async function abandonedSpan(): Promise<SpanData> {
    const span = onlyLlmSpan(byName(await tracing.sent(), "agent"));
    expect(span).toMatchObject({ status: "OK", metadata: { abandoned: true } });
    expect(span.error).toBeUndefined();
    expect(span.output).toBeUndefined();
    return span;
  }

  it("generateText: the span is abandoned, not failed, and the host gets the abort error", async () => {
    const abort = new AbortController();
    const failure = await startTrace("agent", undefined, () =>
      generateText({ model: abortedModel(abort), prompt: "hi", abortSignal: abort.signal, maxRetries: 0 }),
    ).catch((e: unknown) => e);
    expect((failure as Error).name).toBe("AbortError");
    await abandonedSpan();
  });

  it("streamText: the span is abandoned, as when the caller aborts mid-stream", async () => {
    const abort = new AbortController();
    const aborted: boolean[] = [];
    await startTrace("agent", undefined, async () => {
      const result = streamText({ model: abortedModel(abort), prompt: "hi", abortSignal: abort.signal, onAbort: () => void aborted.push(true) });
      for await (const _ of result.textStream) void _;
    });
    expect(aborted).toEqual([true]);
    await abandonedSpan();
  });

  it("outside a trace, the call's own trace completes", async () => {
    const abort = new AbortController();
    await generateText({ model: abortedModel(abort), prompt: "hi", abortSignal: abort.signal, maxRetries: 0 }).catch(() => {});
    const trace = byName(await tracing.sent(), "ai.generate");
    expect(trace.status).toBe("COMPLETED");
    expect(onlyLlmSpan(trace).metadata).toEqual({ abandoned: true });
  });
});

describe("standalone traces and ids", () => {
  it("outside a trace, each model call is a trace with the last user message in and the answer out", async () => {
    fake.script({ text: "Hello!" });
    await generateText({ model: tracedModel(), prompt: "Hi there" });
    const trace = byName(await tracing.sent(), "ai.generate");
    expect(trace).toMatchObject({
      status: "COMPLETED",
      input: { messages: [{ role: "user", content: "Hi there" }] },
      output: { messages: [{ role: "assistant", content: "Hello!" }] },
    });
  });

  it("prefers explicit ids over scoped ones over imperative ones", async () => {
    setSession("imperative-session");
    setUser("imperative-user");
    const explicit = tracedModel({ sessionId: "explicit-session", userId: "explicit-user" }, "explicit");
    await session("scoped-session", () => generateText({ model: explicit, prompt: "1" }));
    await session("scoped-session", () => generateText({ model: tracedModel(undefined, "scoped"), prompt: "2" }));
    await generateText({ model: tracedModel(undefined, "imperative"), prompt: "3" });
    const traces = await tracing.sent();
    const ids = (model: string) => {
      const trace = traces.find((t) => t.spans.some((s) => s.model === model))!;
      return [trace.session_id, trace.user_id];
    };
    expect(ids("explicit")).toEqual(["explicit-session", "explicit-user"]);
    expect(ids("scoped")).toEqual(["scoped-session", "imperative-user"]);
    expect(ids("imperative")).toEqual(["imperative-session", "imperative-user"]);
  });

  it("runs a multi-turn conversation as one trace per turn, all in one session", async () => {
    const turns = ["Hi!", "What's 2+2?"];
    fake.script({ text: "Hello." }, { text: "4." });
    const model = tracedModel();
    const history: { role: "user" | "assistant"; content: string }[] = [];
    await session("conversation-123", () =>
      user("user-abc", async () => {
        for (const content of turns) {
          history.push({ role: "user", content });
          const { text } = await generateText({ model, messages: history });
          history.push({ role: "assistant", content: text });
        }
      }),
    );
    const traces = (await tracing.sent()).sort((a, b) => a.started_at.localeCompare(b.started_at));
    expect(traces.map((t) => [t.session_id, t.user_id])).toEqual([
      ["conversation-123", "user-abc"],
      ["conversation-123", "user-abc"],
    ]);
    expect(traces.map((t) => t.input)).toEqual(turns.map((content) => ({ messages: [{ role: "user", content }] })));
    expect(traces.map((t) => t.output)).toEqual([
      { messages: [{ role: "assistant", content: "Hello." }] },
      { messages: [{ role: "assistant", content: "4." }] },
    ]);
  });
});

describe("with tracing disabled", () => {
  it("passes generate and stream calls straight through", async () => {
    init({ enabled: false });
    fake.script({ text: "plain" }, { text: "streamed text" });
    const { text } = await generateText({ model: tracedModel(), prompt: "hi" });
    expect(text).toBe("plain");
    const streamed = await streamText({ model: tracedModel(), prompt: "hi" }).text;
    expect(streamed).toBe("streamed text");
    expect(fake.requests).toHaveLength(2);
    await tracing.client.flush();
    expect(tracing.collector.traces()).toEqual([]);
  });
});
