/**
 * The OpenAI Agents SDK (`@openai/agents`) traced by `pandaprobeTraceProcessor()`: real runs of
 * real agents against the fake OpenAI server, over the Responses API and Chat Completions.
 */
import { Agent, InputGuardrailTripwireTriggered, Runner, setTraceProcessors, setTracingDisabled, tool, type AgentInputItem } from "@openai/agents";
import { OpenAIProvider } from "@openai/agents-openai";
import { z } from "zod";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { init, session, setSession, setUser, user } from "../../src/index.js";
import { OpenAIAgentsAdapter, pandaprobeTraceProcessor, type OpenAIAgentsOptions } from "../../src/integrations/openai-agents.js";
import type { SpanData, TraceData } from "../../src/wire/types.js";
import { startFakeOpenAI, type FakeOpenAI } from "../support/fake-openai.js";
import { closeIntegration, resetIntegration, startIntegration } from "../support/integration.js";
import { type Tracing } from "../support/tracing.js";

let tracing: Tracing;
let fake: FakeOpenAI;

beforeAll(async () => {
  ({ tracing, fake } = await startIntegration(startFakeOpenAI));
  // The SDK turns its tracing off when NODE_ENV is "test".
  setTracingDisabled(false);
});
beforeEach(() => setTraceProcessors([pandaprobeTraceProcessor()]));
afterEach(() => resetIntegration(tracing, fake));
afterAll(() => closeIntegration(tracing, fake));

function runner(useResponses = true) {
  return new Runner({ modelProvider: new OpenAIProvider({ apiKey: "test", baseURL: fake.baseURL, useResponses }) });
}

function processWith(options: OpenAIAgentsOptions) {
  setTraceProcessors([pandaprobeTraceProcessor(options)]);
}

const weather = tool({
  name: "weather",
  description: "Current weather in a city",
  parameters: z.object({ city: z.string() }),
  execute: async ({ city }) => `18C and sunny in ${city}`,
});

const broken = tool({
  name: "lookup",
  description: "Always fails",
  parameters: z.object({ q: z.string() }),
  execute: async (): Promise<string> => {
    throw new Error("lookup service down");
  },
  errorFunction: (_context, error) => `lookup failed: ${(error as Error).message}`,
});

function assistant(tools = [weather]) {
  return new Agent({ name: "Assistant", instructions: "Be brief.", tools, model: "gpt-4o-mini" });
}

/** [kind, name, parent's name] per span, in the order the SDK opened them. */
function tree(trace: TraceData): [string, string, string | undefined][] {
  const byId = new Map(trace.spans.map((s) => [s.span_id, s]));
  return trace.spans.map((s) => [s.kind, s.name, s.parent_span_id && byId.get(s.parent_span_id)?.name]);
}

function only(traces: TraceData[]): TraceData {
  expect(traces).toHaveLength(1);
  return traces[0]!;
}

function spans(trace: TraceData, kind: string): SpanData[] {
  return trace.spans.filter((s) => s.kind === kind);
}

describe("a run over the Responses API", () => {
  it("is one trace: CHAIN root, the agent, its model calls as LLM spans and its tool as a TOOL span", async () => {
    fake.script(
      { toolCalls: [{ id: "call_w", name: "weather", arguments: { city: "Paris" } }], usage: { prompt_tokens: 20, completion_tokens: 5, cached_tokens: 3 } },
      { text: "It is 18C and sunny in Paris.", usage: { prompt_tokens: 40, completion_tokens: 9, reasoning_tokens: 2 } },
    );
    const result = await runner().run(assistant(), "Weather in Paris?");
    expect(result.finalOutput).toBe("It is 18C and sunny in Paris.");

    const trace = only(await tracing.sent());
    expect(trace).toMatchObject({
      name: "OpenAIAgentsSDK",
      status: "COMPLETED",
      input: { messages: [{ role: "user", content: "Weather in Paris?" }] },
      output: { messages: [{ role: "assistant", content: "It is 18C and sunny in Paris." }] },
      metadata: { openai_trace_id: expect.stringMatching(/^trace_/) },
    });
    expect(tree(trace)).toEqual([
      ["CHAIN", "Agent workflow", undefined],
      ["OTHER", "Agent workflow", "Agent workflow"],
      ["AGENT", "Assistant", "Agent workflow"],
      ["OTHER", "Turn", "Assistant"],
      ["LLM", "gpt-4o-mini", "Turn"],
      ["TOOL", "weather", "Turn"],
      ["OTHER", "Turn", "Assistant"],
      ["LLM", "gpt-4o-mini", "Turn"],
    ]);
    const [first, second] = spans(trace, "LLM") as [SpanData, SpanData];
    expect(first).toMatchObject({
      status: "OK",
      model: "gpt-4o-mini",
      // The API echoes the instructions in its response, where the SDK reports them (the fake does not).
      input: { messages: [{ role: "user", content: "Weather in Paris?" }] },
      output: { messages: [{ role: "assistant", content: null, tool_calls: [{ id: "call_w", type: "function", function: { name: "weather", arguments: '{"city":"Paris"}' } }] }] },
      token_usage: { prompt_tokens: 20, completion_tokens: 5, total_tokens: 25, cache_read_tokens: 3 },
      model_parameters: { parallel_tool_calls: true, tool_choice: "auto" },
    });
    expect(second).toMatchObject({ token_usage: { prompt_tokens: 40, completion_tokens: 9, reasoning_tokens: 2 } });
    expect((second.input as { messages: unknown[] }).messages.slice(-2)).toEqual([
      { role: "assistant", content: null, tool_calls: [{ id: "call_w", type: "function", function: { name: "weather", arguments: '{"city":"Paris"}' } }] },
      { role: "tool", tool_call_id: "call_w", content: "18C and sunny in Paris" },
    ]);
    expect(spans(trace, "TOOL")[0]).toMatchObject({ status: "OK", input: { city: "Paris" }, output: "18C and sunny in Paris" });
    // The agent shows the conversation its model calls had: the first input, the last output.
    expect(spans(trace, "AGENT")[0]).toMatchObject({ input: first.input, output: second.output, metadata: { tools: ["weather"], output_type: "text" } });
    expect(trace.spans[0]).toMatchObject({ status: "OK", input: first.input, output: second.output });
    // The SDK's turn and task usage stays metadata: the LLM spans already count those tokens.
    expect(trace.spans[1]!.token_usage).toBeUndefined();
    expect(trace.spans[1]!.metadata).toMatchObject({ usage: { input_tokens: 60, output_tokens: 14, requests: 2 } });
  });

  it("a failing tool is an ERROR TOOL span; the model reads the error and the run completes", async () => {
    fake.script({ toolCalls: [{ id: "call_l", name: "lookup", arguments: { q: "x" } }] }, { text: "The lookup failed." });
    const result = await runner().run(assistant([broken as unknown as typeof weather]), "Look up x");
    expect(result.finalOutput).toBe("The lookup failed.");
    const trace = only(await tracing.sent());
    expect(spans(trace, "TOOL")[0]).toMatchObject({ name: "lookup", status: "ERROR", error: expect.stringContaining("lookup service down") });
    expect(trace.status).toBe("COMPLETED");
  });

  it("a provider error fails the model call, the agent and the trace; the caller gets the SDK's error", async () => {
    fake.script({ error: { status: 400, message: "model not found" } });
    await expect(runner().run(assistant(), "Hi")).rejects.toThrow("model not found");
    const trace = only(await tracing.sent());
    expect(trace.status).toBe("ERROR");
    expect(trace.spans[0]).toMatchObject({ kind: "CHAIN", status: "ERROR" });
    expect(spans(trace, "LLM")[0]).toMatchObject({ status: "ERROR", error: expect.stringContaining("model not found") });
  });

  it("a handoff is an AGENT span from one agent to the other, whose run follows", async () => {
    const spanish = new Agent({ name: "Spanish agent", instructions: "Answer in Spanish.", model: "gpt-4o-mini" });
    const triage = new Agent({ name: "Triage", instructions: "Route.", handoffs: [spanish], model: "gpt-4o-mini" });
    fake.script({ toolCalls: [{ id: "call_h", name: "transfer_to_Spanish_agent", arguments: {} }] }, { text: "¡Hola!" });
    const result = await runner().run(triage, "Hola");
    expect(result.finalOutput).toBe("¡Hola!");
    const trace = only(await tracing.sent());
    const handoff = trace.spans.find((s) => s.name === "Handoff")!;
    expect(handoff).toMatchObject({ kind: "AGENT", input: { from_agent: "Triage" }, output: { to_agent: "Spanish agent" } });
    expect(spans(trace, "AGENT").map((s) => s.name)).toEqual(["Triage", "Handoff", "Spanish agent"]);
    expect(trace.output).toEqual({ messages: [{ role: "assistant", content: "¡Hola!" }] });
  });

  it("a tripped input guardrail is recorded with its verdict; the run's exception reaches the caller", async () => {
    const guarded = new Agent({
      name: "Guarded",
      instructions: "Be brief.",
      model: "gpt-4o-mini",
      inputGuardrails: [{ name: "no_homework", execute: async () => ({ outputInfo: { reason: "homework" }, tripwireTriggered: true }) }],
    });
    fake.script({ text: "never read" });
    await expect(runner().run(guarded, "Solve my homework")).rejects.toBeInstanceOf(InputGuardrailTripwireTriggered);
    const trace = only(await tracing.sent());
    const guardrail = trace.spans.find((s) => s.name === "no_homework")!;
    expect(guardrail).toMatchObject({ kind: "OTHER", metadata: { triggered: true } });
    expect(trace.status).toBe("ERROR");
  });

  it("a streamed run is traced the same way, and its events reach the caller", async () => {
    fake.script({ text: "Streaming works fine.", chunkDelayMs: 2 });
    const stream = await runner().run(assistant(), "Stream?", { stream: true });
    let text = "";
    for await (const event of stream.toTextStream()) text += event;
    await stream.completed;
    expect(text).toBe("Streaming works fine.");
    const trace = only(await tracing.sent());
    expect(spans(trace, "LLM")[0]).toMatchObject({ output: { messages: [{ role: "assistant", content: "Streaming works fine." }] } });
    expect(trace.status).toBe("COMPLETED");
  });
});

describe("a run over Chat Completions", () => {
  it("records generation spans: messages in and out, model and usage", async () => {
    fake.script({ toolCalls: [{ id: "call_w", name: "weather", arguments: { city: "Rome" } }] }, { text: "Warm in Rome.", usage: { prompt_tokens: 30, completion_tokens: 4 } });
    const result = await runner(false).run(assistant(), "Rome?");
    expect(result.finalOutput).toBe("Warm in Rome.");
    const trace = only(await tracing.sent());
    const [, second] = spans(trace, "LLM") as [SpanData, SpanData];
    expect(second).toMatchObject({
      name: "gpt-4o-mini",
      model: "gpt-4o-mini",
      output: { messages: [{ role: "assistant", content: "Warm in Rome." }] },
      token_usage: { prompt_tokens: 30, completion_tokens: 4 },
    });
    expect((second.input as { messages: { role: string }[] }).messages.map((m) => m.role)).toEqual(["system", "user", "assistant", "tool"]);
    expect(spans(trace, "TOOL")[0]).toMatchObject({ name: "weather", input: { city: "Rome" }, output: "18C and sunny in Rome" });
  });
});

describe("sessions and users", () => {
  it("prefers explicit ids over scoped ones over imperative ones", async () => {
    setSession("imperative-s");
    setUser("imperative-u");
    await runner().run(assistant(), "one");
    await session("scoped-s", () => user("scoped-u", () => runner().run(assistant(), "two")));
    processWith({ sessionId: "explicit-s", userId: "explicit-u" });
    await session("scoped-s", () => runner().run(assistant(), "three"));
    const traces = await tracing.sent();
    const ids = (input: string) => {
      const trace = traces.find((t) => JSON.stringify(t.input).includes(`"${input}"`))!;
      return [trace.session_id, trace.user_id];
    };
    expect(ids("one")).toEqual(["imperative-s", "imperative-u"]);
    expect(ids("two")).toEqual(["scoped-s", "scoped-u"]);
    expect(ids("three")).toEqual(["explicit-s", "explicit-u"]);
  });

  it("a multi-turn conversation is one trace per turn, all in the session", async () => {
    processWith({ tags: ["chat"], name: "support-agent" });
    fake.script({ text: "Hello!" }, { text: "Reset it in Settings." });
    let history: AgentInputItem[] = [];
    await session("conv-1", () =>
      user("user-1", async () => {
        for (const input of ["Hi!", "How do I reset my password?"]) {
          const result = await runner().run(assistant(), [...history, { role: "user", content: input }]);
          history = result.history;
        }
      }),
    );
    const traces = await tracing.sent();
    expect(traces.map((t) => [t.name, t.session_id, t.user_id, t.tags])).toEqual([
      ["support-agent", "conv-1", "user-1", ["chat"]],
      ["support-agent", "conv-1", "user-1", ["chat"]],
    ]);
    expect(traces.map((t) => [t.input, t.output])).toEqual([
      [{ messages: [{ role: "user", content: "Hi!" }] }, { messages: [{ role: "assistant", content: "Hello!" }] }],
      [{ messages: [{ role: "user", content: "How do I reset my password?" }] }, { messages: [{ role: "assistant", content: "Reset it in Settings." }] }],
    ]);
  });

  it("a typo'd or ill-typed option is a TypeError where the processor is made", () => {
    expect(() => pandaprobeTraceProcessor({ session: "x" } as OpenAIAgentsOptions)).toThrow(TypeError);
    expect(() => new OpenAIAgentsAdapter({ userId: 1 } as unknown as OpenAIAgentsOptions)).toThrow(TypeError);
  });
});

describe("registration", () => {
  it("the adapter's instrument() adds the processor to the SDK's own", async () => {
    setTraceProcessors([]);
    expect(await new OpenAIAgentsAdapter({ sessionId: "adapter-s" }).instrument()).toBe(true);
    await runner().run(assistant(), "Hi");
    expect(only(await tracing.sent())).toMatchObject({ name: "OpenAIAgentsSDK", session_id: "adapter-s" });
  });
});

describe("with tracing disabled", () => {
  it("runs untouched and sends nothing", async () => {
    init({ enabled: false });
    fake.script({ toolCalls: [{ id: "c", name: "weather", arguments: { city: "Oslo" } }] }, { text: "Cold." });
    const result = await runner().run(assistant(), "Oslo?");
    expect(result.finalOutput).toBe("Cold.");
    await tracing.client.flush();
    expect(tracing.collector.traces()).toEqual([]);
  });
});
