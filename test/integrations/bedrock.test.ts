import {
  BedrockRuntime,
  BedrockRuntimeClient,
  ConverseCommand,
  ConverseStreamCommand,
  InvokeModelCommand,
  InvokeModelWithResponseStreamCommand,
} from "@aws-sdk/client-bedrock-runtime";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { afterAll, afterEach, beforeAll, describe, expect, expectTypeOf, it } from "vitest";
import { session, setSession, setUser, startTrace } from "../../src/index.js";
import type { SpanData, TraceData } from "../../src/wire/types.js";
import { wrapBedrock } from "../../src/integrations/bedrock.js";
import type { FakeServer } from "../support/fake-http.js";
import { startFakeBedrock, type FakeBedrockReply } from "../support/fake-bedrock.js";
import { closeIntegration, resetIntegration, startIntegration } from "../support/integration.js";
import type { Tracing } from "../support/tracing.js";

let tracing: Tracing;
let fake: FakeServer<FakeBedrockReply>;

beforeAll(async () => ({ tracing, fake } = await startIntegration(startFakeBedrock)));
afterEach(() => resetIntegration(tracing, fake));
afterAll(() => closeIntegration(tracing, fake));

// The fake speaks HTTP/1.1; the client's default handler speaks HTTP/2 only.
const config = () => ({
  region: "us-east-1",
  endpoint: fake.url,
  maxAttempts: 1,
  credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "secret" },
  requestHandler: new NodeHttpHandler(),
});
const sdk = () => new BedrockRuntimeClient(config());
const question = { role: "user" as const, content: [{ text: "What is 2 + 2?" }] };
const converse = {
  modelId: "amazon.nova-lite-v1:0",
  system: [{ text: "Be terse." }],
  messages: [question],
  inferenceConfig: { maxTokens: 64, temperature: 0.2 },
};
const expectedInput = { messages: [{ role: "system", content: "Be terse." }, { role: "user", content: "What is 2 + 2?" }] };

async function onlyCall(): Promise<{ trace: TraceData; llm: SpanData }> {
  const traces = await tracing.sent();
  expect(traces).toHaveLength(1);
  const llms = traces[0]!.spans.filter((s) => s.kind === "LLM");
  expect(llms).toHaveLength(1);
  return { trace: traces[0]!, llm: llms[0]! };
}

const invoke = (modelId: string, body: unknown) => ({ modelId, contentType: "application/json", body: JSON.stringify(body) });
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe("wrapBedrock: Converse", () => {
  it("keeps the client's class and type, and the aggregated client sends through it too", async () => {
    const client = sdk();
    const wrapped = wrapBedrock(client);
    expect(wrapped).toBe(client);
    expect(wrapped).toBeInstanceOf(BedrockRuntimeClient);
    expectTypeOf(wrapped).toEqualTypeOf<BedrockRuntimeClient>();
    fake.script({ text: "Four." });
    const aggregated = wrapBedrock(new BedrockRuntime(config()));
    expect((await aggregated.converse(converse)).output?.message?.content?.[0]?.text).toBe("Four.");
    expect((await onlyCall()).llm.name).toBe("bedrock-converse");
  });

  it("records Converse as an LLM span named bedrock-converse in a trace of its own", async () => {
    fake.script({ text: "Four." });
    const response = await wrapBedrock(sdk()).send(new ConverseCommand(converse));
    expect(response.output?.message?.content?.[0]?.text).toBe("Four.");
    const { trace, llm } = await onlyCall();
    expect(trace).toMatchObject({ name: "bedrock-converse", status: "COMPLETED", input: { messages: [{ role: "user", content: "What is 2 + 2?" }] } });
    expect(llm).toMatchObject({
      name: "bedrock-converse",
      kind: "LLM",
      status: "OK",
      model: "amazon.nova-lite-v1:0",
      input: expectedInput,
      output: { messages: [{ role: "assistant", content: "Four.", stop_reason: "end_turn" }] },
      token_usage: { prompt_tokens: 21, completion_tokens: 7, total_tokens: 28 },
      model_parameters: { maxTokens: 64, temperature: 0.2 },
    });
  });

  it("records tool uses as TOOL spans, plain and streamed", async () => {
    fake.script({ toolUses: [{ id: "t1", name: "add", input: { a: 2, b: 2 } }] }, { toolUses: [{ id: "t2", name: "mul", input: { a: 3, b: 4 } }] });
    const client = wrapBedrock(sdk());
    await client.send(new ConverseCommand(converse));
    const { stream } = await client.send(new ConverseStreamCommand(converse));
    for await (const event of stream!) expect(Object.keys(event)).toHaveLength(1);
    const tools = (await tracing.sent()).flatMap((t) => t.spans.filter((s) => s.kind === "TOOL"));
    expect(tools.map((t) => [t.name, t.input, t.metadata])).toEqual(
      expect.arrayContaining([
        ["add", { a: 2, b: 2 }, { tool_call_id: "t1" }],
        ["mul", { a: 3, b: 4 }, { tool_call_id: "t2" }],
      ]),
    );
  });

  it("streams: the SDK's own event stream, every event unchanged, the answer and time to first token recorded", async () => {
    fake.script({ text: "Two plus two is four." });
    const response = await wrapBedrock(sdk()).send(new ConverseStreamCommand(converse));
    const pieces: string[] = [];
    const kinds = new Set<string>();
    for await (const event of response.stream!) {
      for (const key of Object.keys(event)) kinds.add(key);
      if (event.contentBlockDelta?.delta?.text) pieces.push(event.contentBlockDelta.delta.text);
    }
    expect(pieces.join("")).toBe("Two plus two is four.");
    expect([...kinds]).toEqual(["messageStart", "contentBlockDelta", "contentBlockStop", "messageStop", "metadata"]);
    const { llm } = await onlyCall();
    expect(llm.output).toEqual({ messages: [{ role: "assistant", content: "Two plus two is four.", stop_reason: "end_turn" }] });
    expect(llm.token_usage).toEqual({ prompt_tokens: 21, completion_tokens: 7, total_tokens: 28 });
    expect(llm.completion_start_time! >= llm.started_at).toBe(true);
  });

  it("closes the span of an abandoned stream with what had arrived", async () => {
    fake.script({ text: "one two three four five" });
    const { stream } = await wrapBedrock(sdk()).send(new ConverseStreamCommand(converse));
    for await (const event of stream!) if (event.contentBlockDelta) break;
    const { llm } = await onlyCall();
    expect(llm).toMatchObject({ status: "OK", metadata: { abandoned: true }, output: { messages: [{ role: "assistant", content: "one " }] } });
  });

  it("records a refused call and a stream failing midway as ERROR with the provider's message", async () => {
    fake.script({ error: { status: 400, type: "ValidationException", message: "The model id is invalid." } }, { text: "one two three", failAfter: 2 });
    const client = wrapBedrock(sdk());
    await expect(client.send(new ConverseCommand(converse))).rejects.toMatchObject({ name: "ValidationException", message: "The model id is invalid." });
    const { stream } = await client.send(new ConverseStreamCommand(converse));
    await expect(
      (async () => {
        for await (const _ of stream!);
      })(),
    ).rejects.toThrow(/The model stream failed/);
    const llms = (await tracing.sent()).flatMap((t) => t.spans);
    expect(llms.map((s) => [s.status, s.error])).toEqual([
      ["ERROR", expect.stringMatching(/The model id is invalid/)],
      ["ERROR", expect.stringMatching(/The model stream failed/)],
    ]);
    expect(llms[1]!.output).toEqual({ messages: [{ role: "assistant", content: "one " }] });
  });
});

describe("wrapBedrock: InvokeModel", () => {
  it("reads each model family's body: Claude (with tool uses), Titan, Llama", async () => {
    fake.script(
      {
        body: {
          type: "message",
          role: "assistant",
          model: "claude-3-haiku",
          content: [{ type: "text", text: "Let me add." }, { type: "tool_use", id: "toolu_1", name: "add", input: { a: 2, b: 2 } }],
          stop_reason: "tool_use",
          usage: { input_tokens: 15, output_tokens: 9 },
        },
      },
      { body: { inputTextTokenCount: 6, results: [{ tokenCount: 3, outputText: "Four.", completionReason: "FINISH" }] } },
      { body: { generation: "Four.", prompt_token_count: 8, generation_token_count: 2, stop_reason: "stop" } },
    );
    const client = wrapBedrock(sdk());
    const claude = await client.send(
      new InvokeModelCommand(invoke("anthropic.claude-3-haiku", { anthropic_version: "bedrock-2023-05-31", max_tokens: 100, system: "Be terse.", messages: [{ role: "user", content: "Add 2 and 2" }] })),
    );
    expect(JSON.parse(text(claude.body)).content[0].text).toBe("Let me add.");
    await client.send(new InvokeModelCommand(invoke("amazon.titan-text-lite-v1", { inputText: "2 + 2?", textGenerationConfig: { maxTokenCount: 20 } })));
    await client.send(new InvokeModelCommand(invoke("meta.llama3-8b-instruct-v1:0", { prompt: "2 + 2?", max_gen_len: 20 })));
    const llms = (await tracing.sent()).flatMap((t) => t.spans.filter((s) => s.kind === "LLM"));
    const byModel = (model: string) => llms.find((s) => s.model === model)!;
    expect(byModel("claude-3-haiku")).toMatchObject({
      name: "bedrock-invoke-model",
      input: { messages: [{ role: "system", content: "Be terse." }, { role: "user", content: "Add 2 and 2" }] },
      output: { messages: [{ role: "assistant", content: "Let me add.", tool_calls: [{ id: "toolu_1", function: { name: "add" } }] }] },
      token_usage: { prompt_tokens: 15, completion_tokens: 9, total_tokens: 24 },
      model_parameters: { max_tokens: 100 },
    });
    expect(byModel("amazon.titan-text-lite-v1")).toMatchObject({
      input: { messages: [{ role: "user", content: "2 + 2?" }] },
      output: { messages: [{ role: "assistant", content: "Four." }] },
      token_usage: { prompt_tokens: 6, completion_tokens: 3 },
    });
    expect(byModel("meta.llama3-8b-instruct-v1:0")).toMatchObject({
      output: { messages: [{ role: "assistant", content: "Four." }] },
      token_usage: { prompt_tokens: 8, completion_tokens: 2 },
      model_parameters: { max_gen_len: 20 },
    });
    const tool = (await tracing.sent()).flatMap((t) => t.spans).find((s) => s.kind === "TOOL")!;
    expect(tool).toMatchObject({ name: "add", input: { a: 2, b: 2 }, parent_span_id: byModel("claude-3-haiku").span_id });
  });

  it("streams Claude's events and a text family's chunks as the caller reads them, with Bedrock's invocation metrics", async () => {
    const metrics = { "amazon-bedrock-invocationMetrics": { inputTokenCount: 10, outputTokenCount: 4 } };
    fake.script(
      {
        chunks: [
          { type: "message_start", message: { model: "claude-3-haiku", role: "assistant", content: [], usage: { input_tokens: 10, output_tokens: 1 } } },
          { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
          { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Fo" } },
          { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "ur." } },
          { type: "content_block_stop", index: 0 },
          { type: "message_delta", delta: { stop_reason: "end_turn" }, usage: { output_tokens: 4 } },
          { type: "message_stop", ...metrics },
        ],
      },
      { chunks: [{ generation: "Fo" }, { generation: "ur.", stop_reason: "stop", ...metrics }] },
    );
    const client = wrapBedrock(sdk());
    const read = async (modelId: string) => {
      const { body } = await client.send(new InvokeModelWithResponseStreamCommand(invoke(modelId, { prompt: "2 + 2?" })));
      const chunks: unknown[] = [];
      for await (const event of body!) chunks.push(JSON.parse(text(event.chunk!.bytes!)));
      return chunks;
    };
    expect(await read("anthropic.claude-3-haiku")).toHaveLength(7);
    expect(await read("meta.llama3-8b-instruct-v1:0")).toEqual([{ generation: "Fo" }, { generation: "ur.", stop_reason: "stop", ...metrics }]);
    const llms = (await tracing.sent()).flatMap((t) => t.spans);
    expect(llms.map((s) => s.name)).toEqual(["bedrock-invoke-model-stream", "bedrock-invoke-model-stream"]);
    for (const llm of llms) {
      expect(llm.output).toMatchObject({ messages: [{ role: "assistant", content: "Four." }] });
      expect(llm.token_usage).toMatchObject({ prompt_tokens: 10, completion_tokens: 4 });
      expect(llm.completion_start_time).toBeDefined();
    }
  });
});

describe("wrapBedrock: where the span goes", () => {
  it("nests in the current trace, and outside one takes explicit over scoped over imperative ids", async () => {
    const client = wrapBedrock(sdk(), { userId: "explicit-user" });
    await startTrace("turn", {}, () => client.send(new ConverseCommand(converse)));
    setSession("imperative-session");
    setUser("imperative-user");
    await session("scoped-session", () => client.send(new ConverseCommand(converse)));
    const traces = await tracing.sent();
    expect(traces.find((t) => t.name === "turn")!.spans.map((s) => s.name)).toEqual(["bedrock-converse"]);
    expect(traces.find((t) => t.name === "bedrock-converse")).toMatchObject({ session_id: "scoped-session", user_id: "explicit-user" });
  });
});
