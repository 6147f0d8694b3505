import Anthropic, { APIUserAbortError } from "@anthropic-ai/sdk";
import { Stream } from "@anthropic-ai/sdk/streaming";
import { afterAll, afterEach, beforeAll, describe, expect, expectTypeOf, it } from "vitest";
import { init, session, setSession, setUser, startTrace, user } from "../../src/index.js";
import type { SpanData, TraceData } from "../../src/wire/types.js";
import { wrapAnthropic } from "../../src/integrations/anthropic.js";
import { startFakeAnthropic, type FakeAnthropic } from "../support/fake-anthropic.js";
import { closeIntegration, resetIntegration, startIntegration } from "../support/integration.js";
import type { Tracing } from "../support/tracing.js";

let tracing: Tracing;
let fake: FakeAnthropic;

beforeAll(async () => ({ tracing, fake } = await startIntegration(startFakeAnthropic)));
afterEach(() => resetIntegration(tracing, fake));
afterAll(() => closeIntegration(tracing, fake));

function sdk(): Anthropic {
  return new Anthropic({ apiKey: "test", baseURL: fake.url, maxRetries: 0 });
}

function traced(options?: { sessionId?: string; userId?: string }): Anthropic {
  return wrapAnthropic(sdk(), options);
}

const question = { role: "user" as const, content: "What is 2 + 2?" };
const request = {
  model: "claude-test",
  max_tokens: 256,
  system: "You are terse.",
  messages: [question],
  temperature: 0.2,
  top_k: 5,
  stop_sequences: ["END"],
};

/** The one trace sent, and its one LLM span. */
async function onlyCall(): Promise<{ trace: TraceData; llm: SpanData }> {
  const traces = await tracing.sent();
  expect(traces).toHaveLength(1);
  const trace = traces[0]!;
  const llms = trace.spans.filter((s) => s.kind === "LLM");
  expect(llms).toHaveLength(1);
  return { trace, llm: llms[0]! };
}

async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of stream) items.push(item);
  return items;
}

describe("messages.create, plain", () => {
  it("records one LLM span in a trace of its own: messages in with the system prompt first, the answer out", async () => {
    fake.script({ text: "Four.", model: "claude-test-20250101" });
    const message = await traced().messages.create(request);

    expect(message.content).toEqual([{ type: "text", text: "Four.", citations: null }]);
    expect(fake.requests[0]!.body).toEqual(request);
    const { trace, llm } = await onlyCall();
    expect(trace.name).toBe("anthropic-messages");
    expect(trace.status).toBe("COMPLETED");
    expect(trace.input).toEqual({ messages: [question] });
    expect(trace.output).toEqual({ messages: [{ role: "assistant", content: "Four." }] });
    expect(trace.spans).toHaveLength(1);
    expect(llm).toMatchObject({
      name: "anthropic-messages",
      kind: "LLM",
      status: "OK",
      model: "claude-test-20250101",
      input: { messages: [{ role: "system", content: "You are terse." }, question] },
      output: { messages: [{ role: "assistant", content: "Four." }] },
      token_usage: { prompt_tokens: 12, completion_tokens: 8, total_tokens: 20 },
      model_parameters: { max_tokens: 256, temperature: 0.2, top_k: 5, stop_sequences: ["END"] },
      metadata: { stop_reason: "end_turn" },
    });
    expect(llm.parent_span_id).toBeUndefined();
    expect(llm.completion_start_time).toBeUndefined();
  });

  it("maps cache reads and thinking tokens, and counts cached prompt tokens in the total", async () => {
    fake.script({
      text: "ok",
      usage: {
        input_tokens: 10,
        output_tokens: 30,
        cache_read_input_tokens: 100,
        cache_creation_input_tokens: 50,
        thinking_tokens: 20,
      },
    });
    await traced().messages.create(request);

    const { llm } = await onlyCall();
    expect(llm.token_usage).toEqual({
      prompt_tokens: 10,
      completion_tokens: 30,
      total_tokens: 190,
      cache_read_tokens: 100,
      reasoning_tokens: 20,
    });
  });

  it("records thinking blocks as the assistant message's `thinking` field", async () => {
    fake.script({ thinking: "Two plus two is four.", text: "4" });
    const message = await traced().messages.create({ ...request, thinking: { type: "enabled", budget_tokens: 1024 } });

    expect(message.content.map((b) => b.type)).toEqual(["thinking", "text"]);
    const { llm } = await onlyCall();
    expect(llm.output).toEqual({ messages: [{ role: "assistant", content: "4", thinking: "Two plus two is four." }] });
    expect(llm.model_parameters).toMatchObject({ thinking: { type: "enabled", budget_tokens: 1024 } });
  });

  it("records tool_use blocks as tool calls and as TOOL child spans of the LLM span", async () => {
    fake.script({
      text: "Let me check.",
      toolUses: [
        { id: "toolu_a", name: "get_weather", input: { city: "Paris" } },
        { id: "toolu_b", name: "get_time", input: { zone: "CET" } },
      ],
    });
    const message = await traced().messages.create({
      ...request,
      tools: [{ name: "get_weather", input_schema: { type: "object" } }],
    });

    expect(message.stop_reason).toBe("tool_use");
    const { trace, llm } = await onlyCall();
    expect(llm.output).toEqual({
      messages: [
        {
          role: "assistant",
          content: "Let me check.",
          tool_calls: [
            { id: "toolu_a", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } },
            { id: "toolu_b", type: "function", function: { name: "get_time", arguments: '{"zone":"CET"}' } },
          ],
        },
      ],
    });
    const tools = trace.spans.filter((s) => s.kind === "TOOL");
    expect(tools.map((s) => [s.name, s.input, s.parent_span_id, s.status])).toEqual([
      ["get_weather", { city: "Paris" }, llm.span_id, "OK"],
      ["get_time", { zone: "CET" }, llm.span_id, "OK"],
    ]);
    // The model parameters keep knobs only, not the tool definitions.
    expect(llm.model_parameters).not.toHaveProperty("tools");
  });

  it("keeps the SDK's APIPromise: withResponse() gives the data and the raw response", async () => {
    fake.script({ text: "Four." });
    const { data, response, request_id } = await traced().messages.create(request).withResponse();

    expect(data.content[0]).toMatchObject({ text: "Four." });
    expect(response.status).toBe(200);
    expect(request_id).toBe("req_fake");
    const { llm } = await onlyCall();
    expect(llm.output).toEqual({ messages: [{ role: "assistant", content: "Four." }] });
  });

  it("leaves the body unread for asResponse(), and still closes the span", async () => {
    fake.script({ text: "Raw." });
    const response = await traced().messages.create(request).asResponse();

    expect(((await response.json()) as { content: unknown[] }).content).toEqual([
      { type: "text", text: "Raw.", citations: null },
    ]);
    const { llm } = await onlyCall();
    expect(llm.status).toBe("OK");
    expect(llm.metadata).toEqual({ raw_response: true });
  });
});

describe("provider errors", () => {
  it("a 400 reaches the caller as the SDK's own BadRequestError, and the span is ERROR with the provider's message", async () => {
    fake.script({ error: { status: 400, type: "invalid_request_error", message: "max_tokens: Field required" } });
    const error = await traced()
      .messages.create(request)
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    expect((error as InstanceType<typeof Anthropic.BadRequestError>).error).toEqual({
      type: "error",
      error: { type: "invalid_request_error", message: "max_tokens: Field required" },
    });
    const { trace, llm } = await onlyCall();
    expect(llm.status).toBe("ERROR");
    expect(llm.error).toContain("invalid_request_error");
    expect(llm.error).toContain("max_tokens: Field required");
    expect(trace.status).toBe("ERROR");
    expect(String((trace.metadata as { error: string }).error)).toContain("max_tokens: Field required");
  });

  it("a 529 on a streamed call rejects with the SDK's OverloadedError, the span ERROR", async () => {
    fake.script({ error: { status: 529, type: "overloaded_error", message: "Overloaded" } });
    const error = await traced()
      .messages.create({ ...request, stream: true })
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(Anthropic.InternalServerError);
    expect((error as { status: number }).status).toBe(529);
    const { llm } = await onlyCall();
    expect(llm.status).toBe("ERROR");
    expect(llm.error).toContain("overloaded_error");
    expect(llm.error).toContain("Overloaded");
  });

  it("an error event mid-stream throws the SDK's APIError to the reader; the span keeps what came and is ERROR", async () => {
    fake.script({ text: "Partial answer here", failAfter: { events: 4, type: "overloaded_error", message: "Overloaded midway" } });
    const stream = await traced().messages.create({ ...request, stream: true });
    const seen: string[] = [];
    const error = await (async () => {
      for await (const event of stream) seen.push(event.type);
    })().catch((e: unknown) => e);

    expect(error).toBeInstanceOf(Anthropic.APIError);
    expect(seen).toEqual(["message_start", "content_block_start", "content_block_delta", "content_block_delta"]);
    const { llm } = await onlyCall();
    expect(llm.status).toBe("ERROR");
    expect(llm.error).toContain("Overloaded midway");
    expect(llm.output).toEqual({ messages: [{ role: "assistant", content: "Partial answer " }] });
  });

  it("messages.stream() hands the same error to its listeners and its promises", async () => {
    fake.script({ error: { status: 400, type: "invalid_request_error", message: "messages: at least one message is required" } });
    const stream = traced().messages.stream({ ...request, messages: [] });
    const emitted: unknown[] = [];
    stream.on("error", (e) => emitted.push(e));
    const rejected = await stream.finalMessage().catch((e: unknown) => e);

    expect(rejected).toBeInstanceOf(Anthropic.BadRequestError);
    expect(emitted).toEqual([rejected]);
    const { llm } = await onlyCall();
    expect(llm.status).toBe("ERROR");
    expect(llm.error).toContain("messages: at least one message is required");
  });
});

describe("messages.create with stream: true", () => {
  const streamed = { thinking: "Simple sum.", text: "The answer is four.", id: "msg_same" };

  it("resolves to the SDK's Stream whose events are exactly those of an unwrapped client", async () => {
    fake.script(streamed, streamed);
    const plain = await collect(await sdk().messages.create({ ...request, stream: true }));
    const stream = await traced().messages.create({ ...request, stream: true });

    expect(stream).toBeInstanceOf(Stream);
    expect(await collect(stream)).toEqual(plain);
  });

  it("records the streamed answer, usage, and the time of the first content delta", async () => {
    fake.script({ ...streamed, toolUses: [{ id: "toolu_s", name: "calc", input: { expr: "2+2" } }] });
    const stream = await traced().messages.create({ ...request, stream: true });
    await collect(stream);

    const { trace, llm } = await onlyCall();
    expect(llm).toMatchObject({
      status: "OK",
      model: "claude-test",
      output: {
        messages: [
          {
            role: "assistant",
            content: "The answer is four.",
            thinking: "Simple sum.",
            tool_calls: [{ id: "toolu_s", type: "function", function: { name: "calc", arguments: '{"expr":"2+2"}' } }],
          },
        ],
      },
      token_usage: { prompt_tokens: 12, completion_tokens: 8, total_tokens: 20 },
      model_parameters: { stream: true, max_tokens: 256 },
      metadata: { stop_reason: "tool_use" },
    });
    const [tool] = trace.spans.filter((s) => s.kind === "TOOL");
    expect(tool).toMatchObject({ name: "calc", input: { expr: "2+2" }, parent_span_id: llm.span_id });
    const start = Date.parse(llm.started_at);
    const first = Date.parse(llm.completion_start_time!);
    expect(first).toBeGreaterThanOrEqual(start);
    expect(first).toBeLessThanOrEqual(Date.parse(llm.ended_at!));
  });

  it("hands each event over as the server sends it, not after the stream ends", async () => {
    fake.script({ text: "Early bird words", holdAfter: 3 });
    const stream = await traced().messages.create({ ...request, stream: true });
    const iterator = stream[Symbol.asyncIterator]();
    const types: string[] = [];
    // The server holds everything after the first text delta until released.
    while (!types.includes("content_block_delta")) types.push((await iterator.next()).value!.type);
    expect(types).toEqual(["message_start", "content_block_start", "content_block_delta"]);
    fake.release();
    for (let r = await iterator.next(); !r.done; r = await iterator.next()) types.push(r.value.type);

    expect(types.at(-1)).toBe("message_stop");
    const { llm } = await onlyCall();
    expect(llm.output).toEqual({ messages: [{ role: "assistant", content: "Early bird words" }] });
  });

  it("keeps withResponse() on the streamed call", async () => {
    fake.script({ text: "Streamed." });
    const { data, response } = await traced().messages.create({ ...request, stream: true }).withResponse();

    expect(response.headers.get("content-type")).toBe("text/event-stream");
    expect((await collect(data)).at(-1)).toEqual({ type: "message_stop" });
    const { llm } = await onlyCall();
    expect(llm.output).toEqual({ messages: [{ role: "assistant", content: "Streamed." }] });
  });
});

describe("messages.stream()", () => {
  it("is one LLM span: text events, finalMessage() and the span all agree", async () => {
    fake.script({ thinking: "Easy.", text: "It is four." });
    const stream = traced().messages.stream(request);
    const deltas: string[] = [];
    stream.on("text", (delta) => deltas.push(delta));
    const final = await stream.finalMessage();

    expect(deltas.join("")).toBe("It is four.");
    expect(final.content.map((b) => b.type)).toEqual(["thinking", "text"]);
    const { trace, llm } = await onlyCall();
    expect(trace.spans).toHaveLength(1);
    expect(llm).toMatchObject({
      name: "anthropic-messages",
      status: "OK",
      input: { messages: [{ role: "system", content: "You are terse." }, question] },
      output: { messages: [{ role: "assistant", content: "It is four.", thinking: "Easy." }] },
      token_usage: { prompt_tokens: 12, completion_tokens: 8, total_tokens: 20 },
    });
    expect(llm.completion_start_time).toBeDefined();
  });

  it("works with async iteration of the MessageStream", async () => {
    fake.script({ text: "Iterated answer." });
    const events = await collect(traced().messages.stream(request));

    expect(events.map((e) => e.type)).toContain("message_stop");
    const { llm } = await onlyCall();
    expect(llm.output).toEqual({ messages: [{ role: "assistant", content: "Iterated answer." }] });
  });
});

describe("abandoned streams close their span with what came so far", () => {
  const slow = { text: "one two three four five six", delayMs: 20 };

  it("break out of for await", async () => {
    fake.script(slow);
    const stream = await traced().messages.create({ ...request, stream: true });
    for await (const event of stream) {
      if (event.type === "content_block_delta") break;
    }
    await fake.streamClosed();

    const { trace, llm } = await onlyCall();
    expect(llm.status).toBe("OK");
    expect(llm.metadata).toEqual({ abandoned: true });
    expect(llm.output).toEqual({ messages: [{ role: "assistant", content: "one " }] });
    expect(llm.ended_at).toBeDefined();
    expect(trace.status).toBe("COMPLETED");
  });

  it("the iterator's return()", async () => {
    fake.script(slow);
    const stream = await traced().messages.create({ ...request, stream: true });
    const iterator = stream[Symbol.asyncIterator]();
    await iterator.next();
    await iterator.return!();
    await fake.streamClosed();

    const { llm } = await onlyCall();
    expect(llm.metadata).toEqual({ abandoned: true });
    expect(llm.output).toEqual({ messages: [{ role: "assistant", content: null }] });
  });

  it("stream.controller.abort() during the read", async () => {
    fake.script(slow);
    const stream = await traced().messages.create({ ...request, stream: true });
    const types: string[] = [];
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === "content_block_delta") stream.controller.abort();
    }

    expect(types.filter((t) => t === "content_block_delta")).toHaveLength(1);
    const { llm } = await onlyCall();
    expect(llm.metadata).toEqual({ abandoned: true });
    expect(llm.output).toEqual({ messages: [{ role: "assistant", content: "one " }] });
  });

  it("stream.controller.abort() before any read", async () => {
    fake.script(slow);
    const stream = await traced().messages.create({ ...request, stream: true });
    stream.controller.abort();

    const { llm } = await onlyCall();
    expect(llm.metadata).toEqual({ abandoned: true });
    expect(llm.output).toBeUndefined();
  });

  it("MessageStream.abort() after the first text", async () => {
    fake.script(slow);
    const stream = traced().messages.stream(request);
    stream.on("text", () => stream.abort());
    const error = await stream.done().catch((e: unknown) => e);

    expect(error).toBeInstanceOf(APIUserAbortError);
    const { llm } = await onlyCall();
    expect(llm.status).toBe("OK");
    expect(llm.metadata).toEqual({ abandoned: true });
    expect(llm.output).toEqual({ messages: [{ role: "assistant", content: "one " }] });
  });

  it("MessageStream.abort() before the response", async () => {
    fake.script(slow);
    const stream = traced().messages.stream(request);
    stream.abort();
    const error = await stream.done().catch((e: unknown) => e);

    expect(error).toBeInstanceOf(APIUserAbortError);
    const { llm } = await onlyCall();
    expect(llm.metadata).toEqual({ abandoned: true });
    expect(llm.ended_at).toBeDefined();
  });
});

describe("where the span goes, and whose session it is", () => {
  it("nests under the active trace and span instead of opening a trace", async () => {
    fake.script({ text: "nested" });
    const client = traced();
    await startTrace("agent", { input: { messages: [question] } }, async (t) => {
      await t.span("plan", { kind: "CHAIN" }, () => client.messages.create(request));
      t.setOutput({ messages: [{ role: "assistant", content: "done" }] });
    });

    const traces = await tracing.sent();
    expect(traces.map((t) => t.name)).toEqual(["agent"]);
    const plan = traces[0]!.spans.find((s) => s.name === "plan")!;
    const llm = traces[0]!.spans.find((s) => s.kind === "LLM")!;
    expect(llm.parent_span_id).toBe(plan.span_id);
    expect(llm.output).toEqual({ messages: [{ role: "assistant", content: "nested" }] });
    expect(traces[0]!.output).toEqual({ messages: [{ role: "assistant", content: "done" }] });
  });

  it("a standalone trace takes the scoped session and user", async () => {
    fake.script({ text: "scoped" });
    const client = traced();
    await session("conv-1", () => user("user-1", () => client.messages.create(request)));

    const { trace } = await onlyCall();
    expect([trace.session_id, trace.user_id]).toEqual(["conv-1", "user-1"]);
  });

  it("explicit wrapAnthropic ids beat scoped ones, which beat imperative ones", async () => {
    fake.script({ text: "a" }, { text: "b" }, { text: "c" }, { text: "d" });
    const explicit = traced({ sessionId: "explicit-session", userId: "explicit-user" });
    const plain = traced();
    setSession("imperative-session");
    setUser("imperative-user");
    await session("scoped-session", () => explicit.messages.create({ ...request, messages: [{ role: "user", content: "1" }] }));
    await session("scoped-session", () => plain.messages.create({ ...request, messages: [{ role: "user", content: "2" }] }));
    await plain.messages.create({ ...request, messages: [{ role: "user", content: "3" }] });
    await explicit.messages.stream({ ...request, messages: [{ role: "user", content: "4" }] }).finalMessage();

    const traces = await tracing.sent();
    const byTurn = new Map(
      traces.map((t) => [(t.input as { messages: { content: string }[] }).messages[0]!.content, [t.session_id, t.user_id]]),
    );
    expect(Object.fromEntries(byTurn)).toEqual({
      "1": ["explicit-session", "explicit-user"],
      "2": ["scoped-session", "imperative-user"],
      "3": ["imperative-session", "imperative-user"],
      "4": ["explicit-session", "explicit-user"],
    });
  });

  it("the seed's multi-turn chat: one trace per turn, all in one session", async () => {
    const replies = ["Hello! How can I help?", "Paris.", "About 2.1 million people."];
    fake.script(...replies.map((text) => ({ text })));
    const client = traced();
    const history: Anthropic.MessageParam[] = [];
    await session("conversation-123", () =>
      user("user-abc", async () => {
        for (const input of ["Hi", "What is the capital of France?", "How many people live there?"]) {
          history.push({ role: "user", content: input });
          const response = await client.messages.create({ model: "claude-test", max_tokens: 100, messages: history });
          const block = response.content[0];
          history.push({ role: "assistant", content: block?.type === "text" ? block.text : "" });
        }
      }),
    );

    const traces = await tracing.sent();
    expect(traces).toHaveLength(3);
    const order = (t: TraceData) => Date.parse(t.started_at);
    const turns = [...traces].sort((a, b) => order(a) - order(b));
    expect(turns.map((t) => [t.session_id, t.user_id])).toEqual(Array(3).fill(["conversation-123", "user-abc"]));
    expect(turns.map((t) => t.input)).toEqual([
      { messages: [{ role: "user", content: "Hi" }] },
      { messages: [{ role: "user", content: "What is the capital of France?" }] },
      { messages: [{ role: "user", content: "How many people live there?" }] },
    ]);
    expect(turns.map((t) => t.output)).toEqual(replies.map((content) => ({ messages: [{ role: "assistant", content }] })));
    // The LLM span of the last turn saw the whole conversation.
    expect((turns[2]!.spans[0]!.input as { messages: unknown[] }).messages).toHaveLength(5);
  });
});

describe("the wrapped client", () => {
  it("is the same client, of the same type, and wrapping twice traces once", async () => {
    fake.script({ text: "once" });
    const client = sdk();
    const wrapped = wrapAnthropic(wrapAnthropic(client));
    expectTypeOf(wrapped).toEqualTypeOf<Anthropic>();
    expect(wrapped).toBe(client);
    await wrapped.messages.create(request);

    const { trace } = await onlyCall();
    expect(trace.spans).toHaveLength(1);
  });

  it("leaves other methods untraced: models.list, messages.countTokens, beta.messages.create", async () => {
    fake.script({ text: "beta" });
    const client = traced();
    const models = await client.models.list();
    const count = await client.messages.countTokens({ model: "claude-test", messages: [question] });
    const beta = await client.beta.messages.create({ model: "claude-test", max_tokens: 10, messages: [question] });

    expect(models.data.map((m) => m.id)).toEqual(["claude-fake-1"]);
    expect(count.input_tokens).toBe(42);
    expect(beta.content[0]).toMatchObject({ text: "beta" });
    expect(client.messages.stream).toBe(Anthropic.Messages.prototype.stream);
    expect(await tracing.sent()).toEqual([]);
  });

  it("refuses a typo'd option or a non-string id where the client is wrapped, instead of tracing nothing", () => {
    expect(() => wrapAnthropic(sdk(), { user: "user-1" } as never)).toThrow(
      new TypeError('PandaProbe: unknown wrapAnthropic() option key "user"; expected one of sessionId, userId, client, recordInputs, recordOutputs.'),
    );
    expect(() => wrapAnthropic(sdk(), { sessionId: 7 } as never)).toThrow(
      new TypeError("PandaProbe: sessionId must be a string, got a number."),
    );
  });

  it("traces the clients withOptions() derives from it, with the same ids", async () => {
    const base = traced({ userId: "explicit-user" });
    const derived = base.withOptions({ timeout: 5_000 });
    expect(derived).toBeInstanceOf(Anthropic);
    expect(derived).not.toBe(base);
    fake.script({ text: "derived" });
    await derived.withOptions({ maxRetries: 1 }).messages.create(request);
    const { trace, llm } = await onlyCall();
    expect(trace.user_id).toBe("explicit-user");
    expect(llm.output).toEqual({ messages: [{ role: "assistant", content: "derived" }] });
  });

  it("passes calls straight through when tracing is disabled", async () => {
    fake.script({ text: "untraced" }, { text: "untraced stream" });
    const client = traced();
    init({ enabled: false });
    const message = await client.messages.create(request);
    const events = await collect(await client.messages.create({ ...request, stream: true }));

    expect(message.content[0]).toMatchObject({ text: "untraced" });
    expect(events.at(-1)).toEqual({ type: "message_stop" });
    expect(tracing.collector.traces()).toEqual([]);
  });
});
