import { Mistral } from "@mistralai/mistralai";
import { afterAll, afterEach, beforeAll, describe, expect, expectTypeOf, it } from "vitest";
import { setSession, setUser, startTrace } from "../../src/index.js";
import type { SpanData, TraceData } from "../../src/wire/types.js";
import { wrapMistral } from "../../src/integrations/mistral.js";
import type { FakeServer } from "../support/fake-http.js";
import { startFakeMistral, type FakeMistralReply } from "../support/fake-mistral.js";
import { closeIntegration, resetIntegration, startIntegration } from "../support/integration.js";
import type { Tracing } from "../support/tracing.js";

let tracing: Tracing;
let fake: FakeServer<FakeMistralReply>;

beforeAll(async () => ({ tracing, fake } = await startIntegration(startFakeMistral)));
afterEach(() => resetIntegration(tracing, fake));
afterAll(() => closeIntegration(tracing, fake));

const sdk = () => new Mistral({ apiKey: "test", serverURL: fake.url });
const question = { role: "user" as const, content: "What is 2 + 2?" };
const request = { model: "mistral-small", messages: [question], temperature: 0.1, maxTokens: 32 };

async function onlyCall(): Promise<{ trace: TraceData; llm: SpanData }> {
  const traces = await tracing.sent();
  expect(traces).toHaveLength(1);
  const llms = traces[0]!.spans.filter((s) => s.kind === "LLM");
  expect(llms).toHaveLength(1);
  return { trace: traces[0]!, llm: llms[0]! };
}

describe("wrapMistral", () => {
  it("keeps the client's class and type", () => {
    const client = sdk();
    const wrapped = wrapMistral(client);
    expect(wrapped).toBe(client);
    expect(wrapped).toBeInstanceOf(Mistral);
    expectTypeOf(wrapped).toEqualTypeOf<Mistral>();
  });

  it("records chat.complete as an LLM span named mistral-chat in a trace of its own", async () => {
    fake.script({ text: "Four." });
    const response = await wrapMistral(sdk()).chat.complete(request);
    expect(response.choices[0]?.message?.content).toBe("Four.");
    expect(fake.requests[0]!.body).toMatchObject({ model: "mistral-small", temperature: 0.1, max_tokens: 32 });
    const { trace, llm } = await onlyCall();
    expect(trace).toMatchObject({ name: "mistral-chat", status: "COMPLETED", input: { messages: [question] } });
    expect(llm).toMatchObject({
      name: "mistral-chat",
      kind: "LLM",
      status: "OK",
      model: "mistral-small-2501",
      input: { messages: [question] },
      output: { messages: [{ role: "assistant", content: "Four.", finish_reason: "stop" }] },
      token_usage: { prompt_tokens: 11, completion_tokens: 5, total_tokens: 16 },
      model_parameters: { temperature: 0.1, maxTokens: 32 },
    });
  });

  it("records tool calls as TOOL spans, plain and streamed", async () => {
    fake.script({ toolCalls: [{ name: "add", arguments: { a: 2, b: 2 } }] }, { toolCalls: [{ name: "mul", arguments: { a: 3 } }] });
    const client = wrapMistral(sdk());
    await client.chat.complete(request);
    for await (const event of await client.chat.stream(request)) expect(event.data.object).toBe("chat.completion.chunk");
    const traces = await tracing.sent();
    const tools = traces.flatMap((t) => t.spans.filter((s) => s.kind === "TOOL"));
    expect(tools.map((t) => [t.name, t.input, t.metadata])).toEqual(
      expect.arrayContaining([
        ["add", { a: 2, b: 2 }, { tool_call_id: "call0" }],
        ["mul", { a: 3 }, { tool_call_id: "call0" }],
      ]),
    );
  });

  it("streams: the SDK's own EventStream, every event unchanged, the answer and time to first token recorded", async () => {
    fake.script({ text: "Two plus two is four." });
    const stream = await wrapMistral(sdk()).chat.stream(request);
    expect(stream).toBeInstanceOf(ReadableStream);
    const texts: string[] = [];
    for await (const event of stream) texts.push(String(event.data.choices[0]!.delta.content ?? ""));
    expect(texts.join("")).toBe("Two plus two is four.");
    const { llm } = await onlyCall();
    expect(llm.output).toEqual({ messages: [{ role: "assistant", content: "Two plus two is four.", finish_reason: "stop" }] });
    expect(llm.token_usage).toEqual({ prompt_tokens: 11, completion_tokens: 5, total_tokens: 16 });
    expect(llm.completion_start_time! >= llm.started_at).toBe(true);
  });

  it("closes the span of an abandoned stream with what had arrived", async () => {
    fake.script({ text: "one two three four five" });
    const stream = await wrapMistral(sdk()).chat.stream(request);
    let seen = "";
    for await (const event of stream) {
      seen += String(event.data.choices[0]!.delta.content ?? "");
      if (seen) break;
    }
    const { llm } = await onlyCall();
    expect(llm).toMatchObject({ status: "OK", metadata: { abandoned: true }, output: { messages: [{ role: "assistant", content: "one " }] } });
  });

  it("records a refused call as ERROR with the provider's message", async () => {
    fake.script({ error: { status: 401, message: "Unauthorized key" } });
    await expect(wrapMistral(sdk()).chat.complete(request)).rejects.toThrow(/Unauthorized key/);
    const { trace, llm } = await onlyCall();
    expect(trace.status).toBe("ERROR");
    expect(llm).toMatchObject({ status: "ERROR" });
    expect(llm.error).toMatch(/Unauthorized key/);
  });

  it("nests in the current trace, and outside one takes explicit over scoped over imperative ids", async () => {
    const client = wrapMistral(sdk(), { sessionId: "explicit-session" });
    await startTrace("turn", {}, () => client.chat.complete(request));
    setSession("imperative-session");
    setUser("imperative-user");
    await client.chat.complete(request);
    const traces = await tracing.sent();
    expect(traces.find((t) => t.name === "turn")!.spans.map((s) => s.name)).toEqual(["mistral-chat"]);
    expect(traces.find((t) => t.name === "mistral-chat")).toMatchObject({ session_id: "explicit-session", user_id: "imperative-user" });
  });
});
