/**
 * Data controls through every wrapper and integration (OpenAI, Anthropic, Gemini, Mistral,
 * Bedrock, the AI SDK middleware, LangChain), each against its fake provider: the client's mask
 * sees what they record, their own `recordInputs` / `recordOutputs` switches hold, their `client`
 * option sends to that client's project (not the global one), and inside a trace that was not
 * sampled they record nothing and open no trace of their own.
 */
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import Anthropic from "@anthropic-ai/sdk";
import { BedrockRuntimeClient, ConverseCommand } from "@aws-sdk/client-bedrock-runtime";
import { GoogleGenAI } from "@google/genai";
import { ChatOpenAI } from "@langchain/openai";
import { Mistral } from "@mistralai/mistralai";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { generateText, wrapLanguageModel } from "ai";
import OpenAI from "openai";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Client, init, shutdown, type PandaProbeOptions } from "../../src/index.js";
import { pandaprobeMiddleware } from "../../src/integrations/ai-sdk.js";
import { wrapAnthropic } from "../../src/integrations/anthropic.js";
import { wrapBedrock } from "../../src/integrations/bedrock.js";
import { wrapGemini } from "../../src/integrations/gemini.js";
import { LangChainCallbackHandler } from "../../src/integrations/langchain.js";
import { wrapMistral } from "../../src/integrations/mistral.js";
import { wrapOpenAI } from "../../src/integrations/openai.js";
import type { TraceData } from "../../src/wire/types.js";
import { startCollector, type Collector } from "../support/collector.js";
import { startFakeAnthropic, type FakeAnthropic } from "../support/fake-anthropic.js";
import { startFakeBedrock, type FakeBedrockReply } from "../support/fake-bedrock.js";
import { startFakeGemini, type FakeGemini } from "../support/fake-gemini.js";
import type { FakeServer } from "../support/fake-http.js";
import { startFakeMistral, type FakeMistralReply } from "../support/fake-mistral.js";
import { startFakeOpenAI, type FakeOpenAI } from "../support/fake-openai.js";
import { expectRedacted, redactingMask, SECRET } from "../support/secrets.js";
import { mergeTraces } from "../support/tracing.js";

let collector: Collector;
let openai: FakeOpenAI;
let anthropic: FakeAnthropic;
let gemini: FakeGemini;
let mistral: FakeServer<FakeMistralReply>;
let bedrock: FakeServer<FakeBedrockReply>;
const clients: Client[] = [];

beforeAll(async () => {
  [collector, openai, anthropic, gemini, mistral, bedrock] = await Promise.all([
    startCollector(),
    startFakeOpenAI(),
    startFakeAnthropic(),
    startFakeGemini(),
    startFakeMistral(),
    startFakeBedrock(),
  ]);
  // The global client: wrappers given a client of their own must not send here.
  init({ apiKey: "sk_pp_test", projectName: "global-project", endpoint: collector.url, flushInterval: 0.05 });
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.shutdown()));
  expect(collector.contractFailures).toEqual([]);
  collector.reset();
  for (const fake of [openai, anthropic, gemini, mistral, bedrock]) fake.reset();
});
afterAll(async () => {
  await shutdown();
  await Promise.all([collector, openai, anthropic, gemini, mistral, bedrock].map((s) => s.close()));
});

function client(options: PandaProbeOptions = {}): Client {
  const c = new Client({ apiKey: "sk_pp_test", projectName: "own-project", endpoint: collector.url, flushInterval: 0.05, ...options }, {});
  clients.push(c);
  return c;
}

const question = `What is my key? It is ${SECRET}`;
const answer = `Your key is ${SECRET}`;
const toolArgs = { key: SECRET };

type Options = { client: Client; recordInputs?: boolean; recordOutputs?: boolean };

/** One model call through every wrapper and integration, each asked the secret, answering it, and calling a tool with it. */
async function callEverything(options: Options): Promise<void> {
  openai.script({ text: answer, toolCalls: [{ name: "lookup", arguments: toolArgs }] }, { text: answer }, { text: answer });
  anthropic.script({ text: answer, toolUses: [{ name: "lookup", input: toolArgs }] });
  gemini.script({ text: answer, calls: [{ name: "lookup", args: toolArgs }] });
  mistral.script({ text: answer, toolCalls: [{ name: "lookup", arguments: toolArgs }] });
  bedrock.script({ text: answer, toolUses: [{ name: "lookup", input: toolArgs }] });

  await wrapOpenAI(new OpenAI({ apiKey: "sk-test", baseURL: openai.baseURL, maxRetries: 0 }), options).chat.completions.create({
    model: "gpt-4o-mini",
    messages: [{ role: "user", content: question }],
  });
  await wrapAnthropic(new Anthropic({ apiKey: "test", baseURL: anthropic.url, maxRetries: 0 }), options).messages.create({
    model: "claude-test",
    max_tokens: 64,
    messages: [{ role: "user", content: question }],
  });
  await wrapGemini(new GoogleGenAI({ apiKey: "test", httpOptions: { baseUrl: gemini.url } }), options).models.generateContent({
    model: "gemini-test",
    contents: question,
  });
  await wrapMistral(new Mistral({ apiKey: "test", serverURL: mistral.url }), options).chat.complete({
    model: "mistral-small",
    messages: [{ role: "user", content: question }],
  });
  const bedrockClient = new BedrockRuntimeClient({
    region: "us-east-1",
    endpoint: bedrock.url,
    maxAttempts: 1,
    credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "secret" },
    requestHandler: new NodeHttpHandler(),
  });
  await wrapBedrock(bedrockClient, options).send(
    new ConverseCommand({ modelId: "amazon.nova-lite-v1:0", messages: [{ role: "user", content: [{ text: question }] }] }),
  );
  const provider = createOpenAICompatible({ baseURL: openai.baseURL, name: "fake", includeUsage: true });
  await generateText({ model: wrapLanguageModel({ model: provider("fake-model"), middleware: pandaprobeMiddleware(options) }), prompt: question });
  const chat = new ChatOpenAI({ apiKey: "test", model: "gpt-4o-mini", maxRetries: 0, configuration: { baseURL: openai.baseURL } });
  await chat.invoke(question, { callbacks: [new LangChainCallbackHandler(options)] });
}

async function sent(c: Client): Promise<TraceData[]> {
  await c.flush();
  return mergeTraces(collector.traces());
}

const NAMES = ["ChatOpenAI", "ai.generate", "anthropic-messages", "bedrock-converse", "gemini-generate", "mistral-chat", "openai-chat"];

describe("every wrapper and integration", () => {
  it("goes through its client's mask: no secret reaches the collector, and only that client's project gets the traces", async () => {
    const { mask } = redactingMask();
    const c = client({ mask });
    await callEverything({ client: c });
    const traces = await sent(c);
    expect(traces.map((t) => t.name).sort()).toEqual(NAMES);
    expect(traces.every((t) => t.spans.some((s) => s.kind === "LLM" && s.input !== undefined && s.output !== undefined))).toBe(true);
    expectRedacted(collector.requests.map((r) => r.body));
    expect(new Set(collector.requests.map((r) => r.headers["x-project-name"]))).toEqual(new Set(["own-project"]));
  });

  it("without a mask sends the secret in every one of them (the control for the test above)", async () => {
    const c = client();
    await callEverything({ client: c });
    for (const t of await sent(c)) expect(JSON.stringify(t), t.name).toContain(SECRET);
  });

  it("recordInputs: false on the call leaves every input out, its own trace's included", async () => {
    const c = client();
    await callEverything({ client: c, recordInputs: false });
    const traces = await sent(c);
    expect(traces.map((t) => t.name).sort()).toEqual(NAMES);
    for (const t of traces) {
      expect(t.input, t.name).toBeUndefined();
      for (const s of t.spans) expect(s.input, `${t.name} / ${s.name}`).toBeUndefined();
      expect(t.spans.some((s) => s.kind === "LLM" && s.output !== undefined), t.name).toBe(true);
    }
  });

  it("recordOutputs: false on the call leaves every output out, and the tool arguments the model produced", async () => {
    const c = client();
    await callEverything({ client: c, recordOutputs: false });
    const traces = await sent(c);
    expect(traces.map((t) => t.name).sort()).toEqual(NAMES);
    for (const t of traces) {
      expect(t.output, t.name).toBeUndefined();
      for (const s of t.spans) {
        expect(s.output, `${t.name} / ${s.name}`).toBeUndefined();
        if (s.kind === "TOOL") expect(s.input, `${t.name} / ${s.name}`).toBeUndefined();
      }
      expect(t.spans.some((s) => s.kind === "LLM" && s.input !== undefined), t.name).toBe(true);
    }
    expect(traces.some((t) => t.spans.some((s) => s.kind === "TOOL"))).toBe(true);
    expect(collector.requests.map((r) => r.body).join("\n")).not.toContain(`Your key is`);
  });

  it("inside a trace that was not sampled: record nothing and open no trace of their own", async () => {
    const recording = client();
    const unsampled = client({ sampleRate: 0 });
    await unsampled.startTrace("turn", undefined, () => callEverything({ client: recording }));
    await Promise.all([recording.flush(), unsampled.flush()]);
    expect(collector.requests).toEqual([]);
  });
});
