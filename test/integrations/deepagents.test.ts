/**
 * DeepAgents (`deepagents`) traced by `DeepAgentsCallbackHandler` (the LangGraph handler, named
 * for deep agents): real deep agents on ChatOpenAI against the fake OpenAI server.
 */
import { tool } from "@langchain/core/tools";
import { MemorySaver } from "@langchain/langgraph";
import { ChatOpenAI } from "@langchain/openai";
import { createDeepAgent } from "deepagents";
import { z } from "zod";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { init, session, setSession, setUser, user } from "../../src/index.js";
import { DeepAgentsCallbackHandler, type DeepAgentsHandlerOptions } from "../../src/integrations/deepagents.js";
import type { SpanData, TraceData } from "../../src/wire/types.js";
import { startFakeOpenAI, type FakeOpenAI } from "../support/fake-openai.js";
import { closeIntegration, resetIntegration, startIntegration } from "../support/integration.js";
import { byName, type Tracing } from "../support/tracing.js";

let tracing: Tracing;
let fake: FakeOpenAI;

beforeAll(async () => ({ tracing, fake } = await startIntegration(startFakeOpenAI)));
afterEach(() => resetIntegration(tracing, fake));
afterAll(() => closeIntegration(tracing, fake));

function model(streaming = false) {
  return new ChatOpenAI({ model: "gpt-4o-mini", apiKey: "test", maxRetries: 0, streaming, configuration: { baseURL: fake.baseURL } });
}

const weather = tool(async ({ city }) => `18C and sunny in ${city}`, {
  name: "weather",
  description: "Current weather in a city",
  schema: z.object({ city: z.string() }),
});

const broken = tool(
  async (): Promise<string> => {
    throw new Error("lookup service down");
  },
  { name: "lookup", description: "Always fails", schema: z.object({ q: z.string() }) },
);

function deepAgent(options: { streaming?: boolean; name?: string; checkpointer?: MemorySaver } = {}) {
  return createDeepAgent({
    model: model(options.streaming),
    tools: [weather, broken],
    systemPrompt: "Be brief.",
    name: options.name,
    checkpointer: options.checkpointer,
    subagents: [{ name: "researcher", description: "Researches facts", systemPrompt: "You research.", tools: [weather] }],
  });
}

function handler(options?: DeepAgentsHandlerOptions) {
  return new DeepAgentsCallbackHandler(options);
}

function only(traces: TraceData[]): TraceData {
  expect(traces).toHaveLength(1);
  return traces[0]!;
}

function parentOf(trace: TraceData, span: SpanData): SpanData | undefined {
  return trace.spans.find((s) => s.span_id === span.parent_span_id);
}

function named(trace: TraceData, name: string, kind?: string): SpanData[] {
  return trace.spans.filter((s) => s.name === name && (kind === undefined || s.kind === kind));
}

describe("a deep agent run", () => {
  it("is one trace with a CHAIN root; the task tool's sub-agent is an AGENT nested under the TOOL call", async () => {
    fake.script(
      { toolCalls: [{ id: "call_task", name: "task", arguments: { description: "Find the weather in Paris", subagent_type: "researcher" } }] },
      { toolCalls: [{ id: "call_w", name: "weather", arguments: { city: "Paris" } }], usage: { prompt_tokens: 50, completion_tokens: 6 } },
      { text: "Paris: 18C and sunny." },
      { text: "It is 18C and sunny in Paris." },
    );
    const result = await deepAgent().invoke({ messages: [{ role: "user", content: "Weather in Paris?" }] }, { callbacks: [handler()] });
    expect(result.messages.at(-1)?.content).toBe("It is 18C and sunny in Paris.");

    const trace = only(await tracing.sent());
    expect(trace).toMatchObject({
      name: "DeepAgents",
      status: "COMPLETED",
      input: { messages: [{ role: "user", content: "Weather in Paris?" }] },
      output: { messages: [expect.objectContaining({ role: "assistant", content: "It is 18C and sunny in Paris." })] },
    });
    const root = trace.spans.find((s) => s.parent_span_id === undefined)!;
    expect(root).toMatchObject({ name: "DeepAgents", kind: "CHAIN", status: "OK" });

    const task = named(trace, "task", "TOOL")[0]!;
    expect(task).toMatchObject({ status: "OK", input: { description: "Find the weather in Paris", subagent_type: "researcher" }, metadata: { tool_call_id: "call_task" } });
    const researcher = named(trace, "researcher", "AGENT")[0]!;
    expect(researcher.parent_span_id).toBe(task.span_id);
    // The sub-agent's own model call and tool live inside it.
    const subTool = named(trace, "weather", "TOOL")[0]!;
    expect(subTool).toMatchObject({ input: { city: "Paris" }, output: { role: "tool", content: "18C and sunny in Paris", tool_call_id: "call_w" } });
    let ancestor = parentOf(trace, subTool);
    while (ancestor && ancestor !== researcher) ancestor = parentOf(trace, ancestor);
    expect(ancestor).toBe(researcher);

    const llms = trace.spans.filter((s) => s.kind === "LLM");
    expect(llms).toHaveLength(4);
    expect(llms.map((s) => s.model)).toEqual(["gpt-4o-mini", "gpt-4o-mini", "gpt-4o-mini", "gpt-4o-mini"]);
    expect(llms[1]).toMatchObject({ token_usage: { prompt_tokens: 50, completion_tokens: 6, total_tokens: 56 } });
    expect((llms[0]!.input as { messages: { role: string }[] }).messages[0]).toMatchObject({ role: "system" });
  });

  it("a named agent names its trace and root", async () => {
    fake.script({ text: "Hi." });
    await deepAgent({ name: "support-agent" }).invoke({ messages: [{ role: "user", content: "Hi" }] }, { callbacks: [handler()] });
    const trace = only(await tracing.sent());
    expect(trace.name).toBe("support-agent");
    expect(trace.spans.find((s) => s.parent_span_id === undefined)).toMatchObject({ name: "support-agent", kind: "CHAIN" });
  });

  it("a streamed run records each model call's time to first token; the tokens reach the caller", async () => {
    fake.script({ text: "Streaming the answer now.", chunkDelayMs: 3 });
    const tokens: string[] = [];
    const stream = await deepAgent({ streaming: true }).stream({ messages: [{ role: "user", content: "Stream" }] }, { callbacks: [handler()], streamMode: "messages" });
    for await (const [chunk] of stream) if (typeof chunk.content === "string" && chunk.content) tokens.push(chunk.content);
    expect(tokens.join("")).toBe("Streaming the answer now.");
    const llm = only(await tracing.sent()).spans.find((s) => s.kind === "LLM")!;
    expect(llm.output).toMatchObject({ role: "assistant", content: "Streaming the answer now." });
    expect(Date.parse(llm.completion_start_time!)).toBeGreaterThanOrEqual(Date.parse(llm.started_at));
    expect(Date.parse(llm.completion_start_time!)).toBeLessThanOrEqual(Date.parse(llm.ended_at!));
  });

  it("a failing tool is an ERROR TOOL span, and the run's failure fails the trace", async () => {
    // Deep agents do not turn tool exceptions into tool messages: the run throws.
    fake.script({ toolCalls: [{ id: "call_l", name: "lookup", arguments: { q: "x" } }] }, { text: "never read" });
    await expect(deepAgent().invoke({ messages: [{ role: "user", content: "Look up x" }] }, { callbacks: [handler()] })).rejects.toThrow("lookup service down");
    const trace = only(await tracing.sent());
    expect(named(trace, "lookup", "TOOL")[0]).toMatchObject({ status: "ERROR", error: expect.stringContaining("lookup service down") });
    expect(trace.status).toBe("ERROR");
  });

  it("a provider error fails the LLM span and the trace; the caller gets the error", async () => {
    fake.script({ error: { status: 400, message: "model not found" } });
    await expect(deepAgent().invoke({ messages: [{ role: "user", content: "Hi" }] }, { callbacks: [handler()] })).rejects.toThrow("model not found");
    const trace = only(await tracing.sent());
    expect(trace.status).toBe("ERROR");
    expect(trace.spans.find((s) => s.kind === "LLM")).toMatchObject({ status: "ERROR", error: expect.stringContaining("model not found") });
  });

  it("an abort ends the trace instead of leaving it open; the caller gets the abort", async () => {
    fake.script({ text: "a b c d e f g h i j k l m n o p", chunkDelayMs: 25 });
    const controller = new AbortController();
    const run = async () => {
      const stream = await deepAgent().stream({ messages: [{ role: "user", content: "Long" }] }, { callbacks: [handler()], streamMode: "messages", signal: controller.signal });
      for await (const [chunk] of stream) if (chunk.content) controller.abort();
    };
    await expect(run()).rejects.toThrow(/abort/i);
    const trace = only(await tracing.sent());
    expect(trace.ended_at).toBeDefined();
    expect(trace.spans.every((s) => s.ended_at !== undefined)).toBe(true);
  });
});

describe("sessions and users", () => {
  it("prefers explicit ids over scoped ones over imperative ones", async () => {
    setSession("imperative-s");
    setUser("imperative-u");
    const ask = (content: string, options?: DeepAgentsHandlerOptions) =>
      deepAgent({ name: content }).invoke({ messages: [{ role: "user", content }] }, { callbacks: [handler(options)] });
    await ask("one");
    await session("scoped-s", () => user("scoped-u", () => ask("two")));
    await session("scoped-s", () => ask("three", { sessionId: "explicit-s", userId: "explicit-u" }));
    const traces = await tracing.sent();
    expect(byName(traces, "one")).toMatchObject({ session_id: "imperative-s", user_id: "imperative-u" });
    expect(byName(traces, "two")).toMatchObject({ session_id: "scoped-s", user_id: "scoped-u" });
    expect(byName(traces, "three")).toMatchObject({ session_id: "explicit-s", user_id: "explicit-u" });
  });

  it("a multi-turn conversation on one thread is one trace per turn, all in the session", async () => {
    fake.script({ text: "Hello!" }, { text: "Reset it in Settings." });
    const agent = deepAgent({ checkpointer: new MemorySaver() });
    const tracer = handler({ sessionId: "conv-1", userId: "user-1", tags: ["chat"] });
    for (const content of ["Hi!", "How do I reset my password?"]) {
      await agent.invoke({ messages: [{ role: "user", content }] }, { callbacks: [tracer], configurable: { thread_id: "thread-1" } });
    }
    const traces = await tracing.sent();
    expect(traces.map((t) => [t.name, t.session_id, t.user_id, t.tags])).toEqual([
      ["DeepAgents", "conv-1", "user-1", ["chat"]],
      ["DeepAgents", "conv-1", "user-1", ["chat"]],
    ]);
    expect(traces.map((t) => [t.input, (t.output as { messages: { content: string }[] }).messages[0]!.content])).toEqual([
      [{ messages: [{ role: "user", content: "Hi!" }] }, "Hello!"],
      [{ messages: [{ role: "user", content: "How do I reset my password?" }] }, "Reset it in Settings."],
    ]);
    // The second turn's model call saw the whole thread.
    const secondLlm = traces[1]!.spans.find((s) => s.kind === "LLM")!;
    expect((secondLlm.input as { messages: unknown[] }).messages.length).toBeGreaterThanOrEqual(4);
  });
});

describe("with tracing disabled", () => {
  it("runs untouched and sends nothing", async () => {
    init({ enabled: false });
    fake.script({ text: "plain" });
    const result = await deepAgent().invoke({ messages: [{ role: "user", content: "Hi" }] }, { callbacks: [handler()] });
    expect(result.messages.at(-1)?.content).toBe("plain");
    await tracing.client.flush();
    expect(tracing.collector.traces()).toEqual([]);
  });
});
