import { GoogleGenAI } from "@google/genai";
import { afterAll, afterEach, beforeAll, describe, expect, expectTypeOf, it } from "vitest";
import { session, setSession, setUser, startTrace } from "../../src/index.js";
import type { SpanData, TraceData } from "../../src/wire/types.js";
import { wrapGemini } from "../../src/integrations/gemini.js";
import { startFakeGemini, type FakeGemini } from "../support/fake-gemini.js";
import { closeIntegration, resetIntegration, startIntegration } from "../support/integration.js";
import type { Tracing } from "../support/tracing.js";

let tracing: Tracing;
let fake: FakeGemini;

beforeAll(async () => ({ tracing, fake } = await startIntegration(startFakeGemini)));
afterEach(() => resetIntegration(tracing, fake));
afterAll(() => closeIntegration(tracing, fake));

const sdk = () => new GoogleGenAI({ apiKey: "test", httpOptions: { baseUrl: fake.url } });
const request = {
  model: "gemini-test",
  contents: "What is 2 + 2?",
  config: { systemInstruction: "Be terse.", temperature: 0.3, maxOutputTokens: 64 },
};

async function onlyCall(): Promise<{ trace: TraceData; llm: SpanData }> {
  const traces = await tracing.sent();
  expect(traces).toHaveLength(1);
  const llms = traces[0]!.spans.filter((s) => s.kind === "LLM");
  expect(llms).toHaveLength(1);
  return { trace: traces[0]!, llm: llms[0]! };
}

describe("wrapGemini", () => {
  it("keeps the client's class and type", () => {
    const ai = sdk();
    const wrapped = wrapGemini(ai);
    expect(wrapped).toBe(ai);
    expect(wrapped).toBeInstanceOf(GoogleGenAI);
    expectTypeOf(wrapped).toEqualTypeOf<GoogleGenAI>();
  });

  it("records generateContent as an LLM span named gemini-generate in a trace of its own", async () => {
    fake.script({ text: "Four.", thought: "Add them." });
    const response = await wrapGemini(sdk()).models.generateContent(request);
    expect(response.text).toBe("Four.");
    const { trace, llm } = await onlyCall();
    expect(trace).toMatchObject({ name: "gemini-generate", status: "COMPLETED", input: { messages: [{ role: "user", content: "What is 2 + 2?" }] } });
    expect(trace.output).toMatchObject({ messages: [{ role: "assistant", content: "Four." }] });
    expect(llm).toMatchObject({
      name: "gemini-generate",
      kind: "LLM",
      status: "OK",
      model: "gemini-test-001",
      input: { messages: [{ role: "system", content: "Be terse." }, { role: "user", content: "What is 2 + 2?" }] },
      output: { messages: [{ role: "assistant", content: "Four.", thinking: "Add them.", finish_reason: "STOP" }] },
      token_usage: { prompt_tokens: 9, completion_tokens: 4, total_tokens: 13 },
      model_parameters: { temperature: 0.3, maxOutputTokens: 64 },
    });
  });

  it("records the function calls the model asked for as TOOL spans", async () => {
    fake.script({ calls: [{ name: "add", args: { a: 2, b: 2 } }] });
    const response = await wrapGemini(sdk()).models.generateContent(request);
    expect(response.functionCalls?.[0]?.name).toBe("add");
    const { trace, llm } = await onlyCall();
    const tool = trace.spans.find((s) => s.kind === "TOOL")!;
    expect(tool).toMatchObject({ name: "add", input: { a: 2, b: 2 }, parent_span_id: llm.span_id });
    expect(llm.output).toMatchObject({ messages: [{ role: "assistant", content: null, tool_calls: [{ type: "function", function: { name: "add", arguments: '{"a":2,"b":2}' } }] }] });
  });

  it("streams: the SDK's own generator, every chunk unchanged, the answer and time to first token recorded", async () => {
    fake.script({ text: "Two plus two is four." });
    const stream = await wrapGemini(sdk()).models.generateContentStream(request);
    // The SDK's generator object itself (the one its chats iterate), not a wrapper around it.
    expect(stream[Symbol.asyncIterator]()).toBe(stream);
    expect(Object.getPrototypeOf(stream)).toBe(Object.getPrototypeOf(await sdk().models.generateContentStream(request)));
    const texts: string[] = [];
    for await (const chunk of stream) texts.push(chunk.text ?? "");
    expect(texts.join("")).toBe("Two plus two is four.");
    const { llm } = await onlyCall();
    expect(llm.output).toEqual({ messages: [{ role: "assistant", content: "Two plus two is four.", finish_reason: "STOP" }] });
    expect(llm.token_usage).toEqual({ prompt_tokens: 9, completion_tokens: 4, total_tokens: 13 });
    expect(llm.completion_start_time! >= llm.started_at).toBe(true);
  });

  it("closes the span of an abandoned stream with what had arrived", async () => {
    fake.script({ text: "one two three four five" });
    const stream = await wrapGemini(sdk()).models.generateContentStream(request);
    for await (const chunk of stream) {
      expect(chunk.text).toBe("one ");
      break;
    }
    const { llm } = await onlyCall();
    expect(llm).toMatchObject({ status: "OK", metadata: { abandoned: true }, output: { messages: [{ role: "assistant", content: "one " }] } });
  });

  it("records a refused call as ERROR with the provider's message, and the caller gets the SDK's error", async () => {
    fake.script({ error: { status: 400, message: "API key not valid." } });
    await expect(wrapGemini(sdk()).models.generateContent(request)).rejects.toThrow(/API key not valid/);
    const { trace, llm } = await onlyCall();
    expect(trace.status).toBe("ERROR");
    expect(llm.status).toBe("ERROR");
    expect(llm.error).toMatch(/API key not valid/);
  });

  it("traces chat turns (sendMessage, sendMessageStream) through the wrapped models", async () => {
    fake.script({ text: "Hello!" }, { text: "Still here." });
    const chat = wrapGemini(sdk()).chats.create({ model: "gemini-test" });
    expect((await chat.sendMessage({ message: "Hi" })).text).toBe("Hello!");
    const chunks: string[] = [];
    for await (const chunk of await chat.sendMessageStream({ message: "Are you there?" })) chunks.push(chunk.text ?? "");
    expect(chunks.join("")).toBe("Still here.");
    const traces = await tracing.sent();
    expect(traces).toHaveLength(2);
    const second = traces.map((t) => t.spans[0]!).find((s) => JSON.stringify(s.input).includes("Are you there?"))!;
    expect(second.input).toEqual({
      messages: [
        { role: "user", content: "Hi" },
        { role: "assistant", content: "Hello!" },
        { role: "user", content: "Are you there?" },
      ],
    });
    expect(second.output).toMatchObject({ messages: [{ role: "assistant", content: "Still here." }] });
  });

  it("nests in the current trace, and outside one takes explicit over scoped over imperative ids", async () => {
    const ai = wrapGemini(sdk(), { userId: "explicit-user" });
    await startTrace("turn", {}, async () => {
      await ai.models.generateContent(request);
    });
    setSession("imperative-session");
    setUser("imperative-user");
    await session("scoped-session", () => ai.models.generateContent(request));
    const traces = await tracing.sent();
    const turn = traces.find((t) => t.name === "turn")!;
    expect(turn.spans.map((s) => s.name)).toEqual(["gemini-generate"]);
    const standalone = traces.find((t) => t.name === "gemini-generate")!;
    expect(standalone).toMatchObject({ session_id: "scoped-session", user_id: "explicit-user" });
  });
});
