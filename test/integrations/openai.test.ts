import OpenAI from "openai";
import { Stream } from "openai/streaming";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { init, session, setSession, setUser, startTrace, user } from "../../src/index.js";
import { wrapOpenAI } from "../../src/integrations/openai.js";
import type { SpanData, TraceData } from "../../src/wire/types.js";
import { startFakeOpenAI, type FakeOpenAI } from "../support/fake-openai.js";
import { closeIntegration, resetIntegration, startIntegration } from "../support/integration.js";
import { byName, type Tracing } from "../support/tracing.js";

let tracing: Tracing;
let fake: FakeOpenAI;
let client: OpenAI;

const newClient = () => new OpenAI({ apiKey: "sk-test", baseURL: fake.baseURL, maxRetries: 0 });

beforeAll(async () => ({ tracing, fake } = await startIntegration(startFakeOpenAI)));
afterEach(() => resetIntegration(tracing, fake));
afterAll(() => closeIntegration(tracing, fake));

beforeEach(() => {
  client = wrapOpenAI(newClient());
});

const question = [
  { role: "system" as const, content: "Be brief." },
  { role: "user" as const, content: "What is 2+2?" },
];

function llmSpans(trace: TraceData): SpanData[] {
  return trace.spans.filter((s) => s.kind === "LLM");
}

function onlyLlmSpan(trace: TraceData): SpanData {
  const spans = llmSpans(trace);
  expect(spans).toHaveLength(1);
  return spans[0]!;
}

function childrenOf(trace: TraceData, span: SpanData): SpanData[] {
  return trace.spans.filter((s) => s.parent_span_id === span.span_id);
}

/** Chunks as an unwrapped client would also see them: ids and timestamps differ from call to call. */
function comparable(chunks: unknown[]): unknown[] {
  return chunks.map((chunk) => {
    const { id: _id, created: _created, ...rest } = chunk as Record<string, unknown>;
    return rest;
  });
}

describe("chat.completions.create, plain", () => {
  it("records one LLM span nested in the active trace: messages, assistant message, model, usage, safe parameters", async () => {
    fake.script({
      text: "4",
      model: "gpt-4o-mini-2024-07-18",
      usage: { prompt_tokens: 20, completion_tokens: 5, reasoning_tokens: 3, cached_tokens: 8 },
    });
    const completion = await startTrace("agent", { input: "2+2" }, () =>
      client.chat.completions.create({
        model: "gpt-4o-mini",
        messages: question,
        temperature: 0.2,
        max_tokens: 50,
        user: "end-user-42",
        metadata: { secret: "x" },
      }),
    );
    expect(completion.choices[0]!.message.content).toBe("4");
    expect(completion.object).toBe("chat.completion");

    const trace = byName(await tracing.sent(), "agent");
    const span = onlyLlmSpan(trace);
    expect(span).toMatchObject({
      name: "openai-chat",
      kind: "LLM",
      status: "OK",
      input: { messages: question },
      output: { messages: [{ role: "assistant", content: "4" }] },
      model: "gpt-4o-mini-2024-07-18",
      token_usage: { prompt_tokens: 20, completion_tokens: 5, total_tokens: 25, reasoning_tokens: 3, cache_read_tokens: 8 },
      model_parameters: { temperature: 0.2, max_tokens: 50 },
    });
    expect(span.parent_span_id).toBeUndefined();
    expect(Object.keys(span.model_parameters!)).toEqual(["temperature", "max_tokens"]);
    expect(span.completion_start_time).toBeUndefined();
  });

  it("nests under the current span and keeps the request's model when the answer names none", async () => {
    await startTrace("agent", undefined, (t) =>
      t.span("plan", { kind: "CHAIN" }, () => client.chat.completions.create({ model: "gpt-4o", messages: question })),
    );
    const trace = byName(await tracing.sent(), "agent");
    const plan = trace.spans.find((s) => s.name === "plan")!;
    const span = onlyLlmSpan(trace);
    expect(span.parent_span_id).toBe(plan.span_id);
    // The fake answers with the request's model.
    expect(span.model).toBe("gpt-4o");
  });

  it("works with .then(), .withResponse() and the request id, each call traced once", async () => {
    fake.script({ text: "via then" }, { text: "via withResponse" });
    await startTrace("agent", undefined, async () => {
      const text = await client.chat.completions
        .create({ model: "gpt-4o-mini", messages: question })
        .then((r) => r.choices[0]!.message.content);
      expect(text).toBe("via then");
      const { data, response, request_id } = await client.chat.completions
        .create({ model: "gpt-4o-mini", messages: question })
        .withResponse();
      expect(data.choices[0]!.message.content).toBe("via withResponse");
      expect(response.status).toBe(200);
      expect(request_id).toMatch(/^req_/);
    });
    const spans = llmSpans(byName(await tracing.sent(), "agent"));
    expect(spans.map((s) => (s.output as { messages: { content: string }[] }).messages[0]!.content)).toEqual([
      "via then",
      "via withResponse",
    ]);
  });

  it("leaves the body to .asResponse() and still closes the span, without output", async () => {
    fake.script({ text: "raw" });
    const raw = await startTrace("agent", undefined, () =>
      client.chat.completions.create({ model: "gpt-4o-mini", messages: question }).asResponse(),
    );
    const body = (await raw.json()) as { choices: { message: { content: string } }[] };
    expect(body.choices[0]!.message.content).toBe("raw");
    const span = onlyLlmSpan(byName(await tracing.sent(), "agent"));
    expect(span.status).toBe("OK");
    expect(span.output).toBeUndefined();
    expect(span.metadata).toEqual({ raw_response: true });
  });

  it("records the model's tool calls as TOOL children of the LLM span, arguments parsed", async () => {
    fake.script({
      toolCalls: [
        { id: "call_weather", name: "get_weather", arguments: { city: "Paris" } },
        { id: "call_time", name: "get_time", arguments: "not json" },
      ],
    });
    const completion = await startTrace("agent", undefined, () =>
      client.chat.completions.create({ model: "gpt-4o-mini", messages: question, tool_choice: "auto" }),
    );
    expect(completion.choices[0]!.message.tool_calls).toHaveLength(2);
    const trace = byName(await tracing.sent(), "agent");
    const llm = onlyLlmSpan(trace);
    expect(llm.output).toEqual({
      messages: [
        {
          role: "assistant",
          content: null,
          tool_calls: [
            { id: "call_weather", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } },
            { id: "call_time", type: "function", function: { name: "get_time", arguments: "not json" } },
          ],
        },
      ],
    });
    expect(llm.model_parameters).toEqual({ tool_choice: "auto" });
    const tools = childrenOf(trace, llm);
    expect(tools.map((t) => [t.kind, t.name, t.input, t.metadata, t.status])).toEqual([
      ["TOOL", "get_weather", { city: "Paris" }, { tool_call_id: "call_weather" }, "OK"],
      ["TOOL", "get_time", "not json", { tool_call_id: "call_time" }, "OK"],
    ]);
  });

  it.each([400, 500])("turns a %i into an ERROR span with the provider's message; the host gets the SDK's error", async (status) => {
    fake.script({ error: { status, message: `The model 'nope' does not exist (${status})` } });
    const failure = await startTrace("agent", undefined, () =>
      client.chat.completions.create({ model: "nope", messages: question }),
    ).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(status === 400 ? OpenAI.BadRequestError : OpenAI.InternalServerError);
    expect((failure as InstanceType<typeof OpenAI.APIError>).status).toBe(status);
    expect((failure as Error).message).toContain(`The model 'nope' does not exist (${status})`);

    const trace = byName(await tracing.sent(), "agent");
    const span = onlyLlmSpan(trace);
    expect(span.status).toBe("ERROR");
    expect(span.error).toContain(`The model 'nope' does not exist (${status})`);
    expect(span.model).toBe("nope");
    expect(span.output).toBeUndefined();
  });
});

describe("refusals", () => {
  const refusal = "I'm sorry, I can't help with that.";

  it("records the model's refusal in the assistant message, plain and streamed", async () => {
    fake.script({ refusal }, { refusal });
    await startTrace("agent", undefined, async () => {
      const plain = await client.chat.completions.create({ model: "gpt-4o-mini", messages: question });
      expect(plain.choices[0]!.message.refusal).toBe(refusal);
      const stream = await client.chat.completions.create({ model: "gpt-4o-mini", messages: question, stream: true });
      for await (const _ of stream) void _;
    });
    const spans = llmSpans(byName(await tracing.sent(), "agent"));
    expect(spans.map((s) => s.output)).toEqual(Array(2).fill({ messages: [{ role: "assistant", content: null, refusal }] }));
    expect(spans[1]!.completion_start_time).toBeDefined();
  });

  it("records a Responses refusal part, plain and streamed", async () => {
    fake.script({ refusal }, { refusal });
    await startTrace("agent", undefined, async () => {
      await client.responses.create({ model: "gpt-4.1", input: "hi" });
      for await (const _ of await client.responses.create({ model: "gpt-4.1", input: "hi", stream: true })) void _;
    });
    const spans = llmSpans(byName(await tracing.sent(), "agent"));
    expect(spans.map((s) => s.output)).toEqual(Array(2).fill({ messages: [{ role: "assistant", content: null, refusal }] }));
  });
});

describe("helpers built on create()", () => {
  it("traces chat.completions.parse(), success and provider error alike", async () => {
    fake.script({ text: '{"answer":4}' }, { error: { status: 422, message: "Unprocessable schema" } });
    const responseFormat = {
      type: "json_schema" as const,
      json_schema: {
        name: "answer",
        strict: true,
        schema: { type: "object", properties: { answer: { type: "number" } }, required: ["answer"], additionalProperties: false },
      },
    };
    const [parsed, failure] = await startTrace("agent", undefined, async () => [
      (await client.chat.completions.parse({ model: "gpt-4o-mini", messages: question, response_format: responseFormat }))
        .choices[0]!.message.parsed,
      await client.chat.completions
        .parse({ model: "gpt-4o-mini", messages: question, response_format: responseFormat })
        .catch((e: unknown) => e),
    ]);
    expect(parsed).toEqual({ answer: 4 });
    expect(failure).toBeInstanceOf(OpenAI.UnprocessableEntityError);
    const spans = llmSpans(byName(await tracing.sent(), "agent"));
    expect(spans.map((s) => [s.status, s.model_parameters])).toEqual([
      ["OK", { response_format: responseFormat }],
      ["ERROR", { response_format: responseFormat }],
    ]);
    expect(spans[0]!.output).toEqual({ messages: [{ role: "assistant", content: '{"answer":4}' }] });
    expect(spans[1]!.error).toContain("Unprocessable schema");
  });
});

describe("chat.completions.create, streaming", () => {
  const streamed = "Two plus two is four.";

  it("yields every chunk unchanged and records the accumulated message with time to first token", async () => {
    const reference: unknown[] = [];
    fake.script({ text: streamed });
    for await (const chunk of await newClient().chat.completions.create({ model: "gpt-4o-mini", messages: question, stream: true })) {
      reference.push(chunk);
    }

    fake.script({ text: streamed });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    await startTrace("agent", undefined, async () => {
      const stream = await client.chat.completions.create({ model: "gpt-4o-mini", messages: question, stream: true });
      expect(stream).toBeInstanceOf(Stream);
      for await (const chunk of stream) chunks.push(chunk);
    });
    expect(comparable(chunks)).toEqual(comparable(reference));
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? "").join("")).toBe(streamed);
    // The request went out as the caller wrote it: no stream_options added.
    expect(fake.requests.at(-1)!.body).not.toHaveProperty("stream_options");

    const span = onlyLlmSpan(byName(await tracing.sent(), "agent"));
    expect(span).toMatchObject({
      status: "OK",
      output: { messages: [{ role: "assistant", content: streamed }] },
      model: "gpt-4o-mini",
      model_parameters: { stream: true },
    });
    // Usage is recorded only when the stream carries it.
    expect(span.token_usage).toBeUndefined();
    expect(span.metadata).toBeUndefined();
    const first = Date.parse(span.completion_start_time!);
    expect(first).toBeGreaterThanOrEqual(Date.parse(span.started_at));
    expect(first).toBeLessThanOrEqual(Date.parse(span.ended_at!));
  });

  it("records usage from the last chunk when the caller asked for it", async () => {
    fake.script({ text: streamed, usage: { prompt_tokens: 9, completion_tokens: 6, reasoning_tokens: 2, cached_tokens: 4 } });
    await startTrace("agent", undefined, async () => {
      const stream = await client.chat.completions.create({
        model: "gpt-4o-mini",
        messages: question,
        stream: true,
        stream_options: { include_usage: true },
      });
      for await (const _ of stream) void _;
    });
    const span = onlyLlmSpan(byName(await tracing.sent(), "agent"));
    expect(span.token_usage).toEqual({
      prompt_tokens: 9,
      completion_tokens: 6,
      total_tokens: 15,
      reasoning_tokens: 2,
      cache_read_tokens: 4,
    });
  });

  it("hands over the first chunk before the stream has finished", async () => {
    fake.script({ text: "one two three four five", chunkDelayMs: 40 });
    let firstAt = 0;
    const stream = await client.chat.completions.create({ model: "gpt-4o-mini", messages: question, stream: true });
    for await (const chunk of stream) {
      if (!firstAt && chunk.choices[0]?.delta.content) firstAt = Date.now();
    }
    const endedAt = Date.now();
    expect(endedAt - firstAt).toBeGreaterThanOrEqual(150);
  });

  it("accumulates streamed tool calls into the message and TOOL children", async () => {
    fake.script({
      text: "Checking.",
      toolCalls: [
        { id: "call_a", name: "lookup", arguments: { q: "panda" } },
        { id: "call_b", name: "add", arguments: { a: 1, b: 2 } },
      ],
    });
    await startTrace("agent", undefined, async () => {
      const stream = await client.chat.completions.create({ model: "gpt-4o-mini", messages: question, stream: true });
      for await (const _ of stream) void _;
    });
    const trace = byName(await tracing.sent(), "agent");
    const llm = onlyLlmSpan(trace);
    expect(llm.output).toEqual({
      messages: [
        {
          role: "assistant",
          content: "Checking.",
          tool_calls: [
            { id: "call_a", type: "function", function: { name: "lookup", arguments: '{"q":"panda"}' } },
            { id: "call_b", type: "function", function: { name: "add", arguments: '{"a":1,"b":2}' } },
          ],
        },
      ],
    });
    expect(childrenOf(trace, llm).map((t) => [t.kind, t.name, t.input])).toEqual([
      ["TOOL", "lookup", { q: "panda" }],
      ["TOOL", "add", { a: 1, b: 2 }],
    ]);
  });

  it("marks a stream that fails midway ERROR with the provider's message and what came before; the host gets the SDK's error", async () => {
    fake.script({ text: "partial answer", model: "gpt-4o-mini-2024-07-18", failMidStream: "upstream overloaded" });
    const seen: string[] = [];
    let thrown: unknown;
    const failure = await startTrace("agent", undefined, async () => {
      const stream = await client.chat.completions.create({ model: "gpt-4o-mini", messages: question, stream: true });
      try {
        for await (const chunk of stream) seen.push(chunk.choices[0]?.delta.content ?? "");
      } catch (error) {
        thrown = error;
        throw error;
      }
    }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(OpenAI.APIError);
    expect(failure).toBe(thrown);
    expect((failure as Error).message).toContain("upstream overloaded");
    expect(seen.join("")).toBe("partial answer");
    const span = onlyLlmSpan(byName(await tracing.sent(), "agent"));
    expect(span.status).toBe("ERROR");
    expect(span.error).toContain("upstream overloaded");
    expect(span.output).toEqual({ messages: [{ role: "assistant", content: "partial answer" }] });
    expect(span.model).toBe("gpt-4o-mini-2024-07-18");
  });

  describe("abandoned", () => {
    const slow = { text: "one two three four five six seven eight nine ten", chunkDelayMs: 25 };

    async function abandonedSpan(): Promise<SpanData> {
      const span = onlyLlmSpan(byName(await tracing.sent(), "agent"));
      expect(span.status).toBe("OK");
      expect(span.ended_at).toBeDefined();
      expect(span.metadata).toEqual({ abandoned: true });
      return span;
    }

    it("by break: the span closes with what arrived, and the request is cancelled as without the wrapper", async () => {
      fake.script(slow);
      await startTrace("agent", undefined, async () => {
        const stream = await client.chat.completions.create({ model: "gpt-4o-mini", messages: question, stream: true });
        let contentChunks = 0;
        for await (const chunk of stream) {
          if (chunk.choices[0]?.delta.content && ++contentChunks === 2) break;
        }
      });
      const span = await abandonedSpan();
      expect(span.output).toEqual({ messages: [{ role: "assistant", content: "one two " }] });
      await expect.poll(() => fake.requests[0]!.aborted).toBe(true);
    });

    it("by iterator.return()", async () => {
      fake.script(slow);
      await startTrace("agent", undefined, async () => {
        const stream = await client.chat.completions.create({ model: "gpt-4o-mini", messages: question, stream: true });
        const iterator = stream[Symbol.asyncIterator]();
        await iterator.next();
        await iterator.next();
        await iterator.return!();
      });
      const span = await abandonedSpan();
      expect(span.output).toEqual({ messages: [{ role: "assistant", content: "one " }] });
    });

    it("by controller.abort() while iterating: the loop ends quietly as without the wrapper", async () => {
      fake.script(slow);
      const seen: string[] = [];
      await startTrace("agent", undefined, async () => {
        const stream = await client.chat.completions.create({ model: "gpt-4o-mini", messages: question, stream: true });
        for await (const chunk of stream) {
          seen.push(chunk.choices[0]?.delta.content ?? "");
          if (seen.join("") === "one two ") stream.controller.abort();
        }
      });
      expect(seen.join("")).toBe("one two ");
      const span = await abandonedSpan();
      expect(span.output).toEqual({ messages: [{ role: "assistant", content: "one two " }] });
    });

    it("by controller.abort() before reading anything", async () => {
      fake.script(slow);
      await startTrace("agent", undefined, async () => {
        const stream = await client.chat.completions.create({ model: "gpt-4o-mini", messages: question, stream: true });
        stream.controller.abort();
      });
      const span = await abandonedSpan();
      expect(span.output).toEqual({ messages: [{ role: "assistant", content: null }] });
    });

    it("by the request's own signal, aborted before the answer: the host gets the SDK's abort error", async () => {
      fake.script(slow);
      const abort = new AbortController();
      const failure = await startTrace("agent", undefined, () => {
        const pending = client.chat.completions.create({ model: "gpt-4o-mini", messages: question, stream: true }, { signal: abort.signal });
        abort.abort();
        return pending;
      }).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(OpenAI.APIUserAbortError);
      const span = await abandonedSpan();
      expect(span.output).toBeUndefined();
    });

    it("by cancelling toReadableStream()", async () => {
      fake.script(slow);
      await startTrace("agent", undefined, async () => {
        const stream = await client.chat.completions.create({ model: "gpt-4o-mini", messages: question, stream: true });
        const reader = stream.toReadableStream().getReader();
        await reader.read();
        await reader.read();
        await reader.cancel();
      });
      const span = await abandonedSpan();
      expect(span.output).toEqual({ messages: [{ role: "assistant", content: "one " }] });
    });
  });

  it("still splits with tee(): both halves get every chunk, one span records the whole message", async () => {
    fake.script({ text: streamed });
    const [left, right] = await startTrace("agent", undefined, async () => {
      const stream = await client.chat.completions.create({ model: "gpt-4o-mini", messages: question, stream: true });
      const [a, b] = stream.tee();
      const read = async (s: typeof a) => {
        let text = "";
        for await (const chunk of s) text += chunk.choices[0]?.delta.content ?? "";
        return text;
      };
      return Promise.all([read(a), read(b)]);
    });
    expect([left, right]).toEqual([streamed, streamed]);
    const span = onlyLlmSpan(byName(await tracing.sent(), "agent"));
    expect(span.output).toEqual({ messages: [{ role: "assistant", content: streamed }] });
    expect(span.metadata).toBeUndefined();
  });

  it("still converts with toReadableStream(): read to the end, the span closes complete", async () => {
    fake.script({ text: streamed });
    const lines = await startTrace("agent", undefined, async () => {
      const stream = await client.chat.completions.create({ model: "gpt-4o-mini", messages: question, stream: true });
      const text = await new Response(stream.toReadableStream()).text();
      return text.trim().split("\n").map((line) => JSON.parse(line) as OpenAI.ChatCompletionChunk);
    });
    expect(lines.map((c) => c.choices[0]?.delta.content ?? "").join("")).toBe(streamed);
    const span = onlyLlmSpan(byName(await tracing.sent(), "agent"));
    expect(span.output).toEqual({ messages: [{ role: "assistant", content: streamed }] });
  });

  it("traces the SDK's stream() helper through create()", async () => {
    fake.script({ text: streamed });
    const final = await startTrace("agent", undefined, () =>
      client.chat.completions.stream({ model: "gpt-4o-mini", messages: question }).finalContent(),
    );
    expect(final).toBe(streamed);
    const span = onlyLlmSpan(byName(await tracing.sent(), "agent"));
    expect(span.output).toEqual({ messages: [{ role: "assistant", content: streamed }] });
  });
});

describe("responses.create", () => {
  it("normalises instructions and input to messages and records text, usage and model", async () => {
    fake.script({
      text: "Bonjour",
      model: "gpt-4.1-2025-04-14",
      usage: { prompt_tokens: 30, completion_tokens: 12, reasoning_tokens: 5, cached_tokens: 10 },
    });
    const response = await startTrace("agent", undefined, () =>
      client.responses.create({
        model: "gpt-4.1",
        instructions: "Answer in French.",
        input: "Say hello",
        max_output_tokens: 100,
        store: false,
      }),
    );
    expect(response.output_text).toBe("Bonjour");
    const span = onlyLlmSpan(byName(await tracing.sent(), "agent"));
    expect(span).toMatchObject({
      name: "openai-response",
      status: "OK",
      input: {
        messages: [
          { role: "system", content: "Answer in French." },
          { role: "user", content: "Say hello" },
        ],
      },
      output: { messages: [{ role: "assistant", content: "Bonjour" }] },
      model: "gpt-4.1-2025-04-14",
      token_usage: { prompt_tokens: 30, completion_tokens: 12, total_tokens: 42, reasoning_tokens: 5, cache_read_tokens: 10 },
      model_parameters: { max_output_tokens: 100 },
    });
  });

  it("maps input items: messages by role, earlier function calls and their outputs to assistant and tool messages", async () => {
    await startTrace("agent", undefined, () =>
      client.responses.create({
        model: "gpt-4.1",
        input: [
          { role: "user", content: [{ type: "input_text", text: "Weather in Paris?" }] },
          { type: "function_call", call_id: "call_1", name: "get_weather", arguments: '{"city":"Paris"}' },
          { type: "function_call_output", call_id: "call_1", output: "18C and sunny" },
        ],
      }),
    );
    const span = onlyLlmSpan(byName(await tracing.sent(), "agent"));
    expect(span.input).toEqual({
      messages: [
        { role: "user", content: "Weather in Paris?" },
        {
          role: "assistant",
          content: null,
          tool_calls: [{ id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } }],
        },
        { role: "tool", tool_call_id: "call_1", content: "18C and sunny" },
      ],
    });
  });

  it("records function calls and built-in tool items as TOOL children", async () => {
    fake.script({
      text: "Found it.",
      outputItems: [
        { type: "web_search_call", id: "ws_1", status: "completed", action: { type: "search", query: "pandas" } },
        { type: "file_search_call", id: "fs_1", status: "completed", queries: ["bamboo"], results: [{ file_id: "f1", text: "..." }] },
        { type: "code_interpreter_call", id: "ci_1", status: "completed", code: "1+1", container_id: "c", outputs: [{ type: "logs", logs: "2" }] },
      ],
      toolCalls: [{ id: "call_9", name: "book_flight", arguments: { to: "CDG" } }],
    });
    await startTrace("agent", undefined, () => client.responses.create({ model: "gpt-4.1", input: "Plan my trip" }));
    const trace = byName(await tracing.sent(), "agent");
    const llm = onlyLlmSpan(trace);
    expect(llm.output).toEqual({
      messages: [
        {
          role: "assistant",
          content: "Found it.",
          tool_calls: [{ id: "call_9", type: "function", function: { name: "book_flight", arguments: '{"to":"CDG"}' } }],
        },
      ],
    });
    expect(childrenOf(trace, llm).map((t) => [t.kind, t.name, t.input, t.output, t.metadata])).toEqual([
      ["TOOL", "web_search", { type: "search", query: "pandas" }, undefined, { tool_call_id: "ws_1" }],
      ["TOOL", "file_search", { queries: ["bamboo"] }, [{ file_id: "f1", text: "..." }], { tool_call_id: "fs_1" }],
      ["TOOL", "code_interpreter", { code: "1+1" }, [{ type: "logs", logs: "2" }], { tool_call_id: "ci_1" }],
      ["TOOL", "book_flight", { to: "CDG" }, undefined, { tool_call_id: "call_9" }],
    ]);
  });

  it("streams every event unchanged and records text, usage and tool calls from the events", async () => {
    const reference: string[] = [];
    fake.script({ text: "Hello there friend" });
    for await (const event of await newClient().responses.create({ model: "gpt-4.1", input: "hi", stream: true })) {
      reference.push(event.type);
    }
    fake.script({
      text: "Hello there friend",
      toolCalls: [{ id: "call_r", name: "lookup", arguments: { q: "x" } }],
      usage: { prompt_tokens: 3, completion_tokens: 4 },
    });
    const types: string[] = [];
    let text = "";
    await startTrace("agent", undefined, async () => {
      const stream = await client.responses.create({ model: "gpt-4.1", input: "hi", stream: true });
      for await (const event of stream) {
        types.push(event.type);
        if (event.type === "response.output_text.delta") text += event.delta;
      }
    });
    expect(text).toBe("Hello there friend");
    expect(types.filter((t) => t !== "response.output_item.done")).toEqual(
      reference.filter((t) => t !== "response.output_item.done"),
    );
    const trace = byName(await tracing.sent(), "agent");
    const llm = onlyLlmSpan(trace);
    expect(llm).toMatchObject({
      status: "OK",
      output: {
        messages: [
          {
            role: "assistant",
            content: "Hello there friend",
            tool_calls: [{ id: "call_r", type: "function", function: { name: "lookup", arguments: '{"q":"x"}' } }],
          },
        ],
      },
      token_usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 },
      model: "gpt-4.1",
    });
    expect(llm.completion_start_time).toBeDefined();
    expect(childrenOf(trace, llm).map((t) => [t.name, t.input])).toEqual([["lookup", { q: "x" }]]);
  });

  it("closes an abandoned stream with the text so far", async () => {
    fake.script({ text: "a b c d e f g h", chunkDelayMs: 25 });
    await startTrace("agent", undefined, async () => {
      const stream = await client.responses.create({ model: "gpt-4.1", input: "hi", stream: true });
      for await (const event of stream) if (event.type === "response.output_text.delta" && event.delta === "b ") break;
    });
    const span = onlyLlmSpan(byName(await tracing.sent(), "agent"));
    expect(span.metadata).toEqual({ abandoned: true });
    expect(span.output).toEqual({ messages: [{ role: "assistant", content: "a b " }] });
  });

  it("records a provider error, plain and mid-stream", async () => {
    fake.script({ error: { status: 400, message: "Unsupported parameter: 'temperature'" } }, { text: "half", failMidStream: "stream broke" });
    await startTrace("agent", undefined, async () => {
      const plain = await client.responses.create({ model: "o3", input: "hi", temperature: 1 }).catch((e: unknown) => e);
      expect(plain).toBeInstanceOf(OpenAI.BadRequestError);
      const streamed = await (async () => {
        for await (const _ of await client.responses.create({ model: "o3", input: "hi", stream: true })) void _;
      })().catch((e: unknown) => e);
      expect(streamed).toBeInstanceOf(OpenAI.APIError);
    });
    const spans = llmSpans(byName(await tracing.sent(), "agent"));
    expect(spans.map((s) => s.status)).toEqual(["ERROR", "ERROR"]);
    expect(spans[0]!.error).toContain("Unsupported parameter: 'temperature'");
    expect(spans[1]!.error).toContain("stream broke");
    expect(spans[1]!.output).toEqual({ messages: [{ role: "assistant", content: "half" }] });
  });
});

describe("standalone traces and ids", () => {
  it("outside a trace, opens one trace per call: last user message in, assistant message out", async () => {
    fake.script({ text: "4" });
    await client.chat.completions.create({ model: "gpt-4o-mini", messages: question });
    const trace = byName(await tracing.sent(), "openai-chat");
    expect(trace).toMatchObject({
      status: "COMPLETED",
      input: { messages: [{ role: "user", content: "What is 2+2?" }] },
      output: { messages: [{ role: "assistant", content: "4" }] },
    });
    expect(trace.session_id).toBeUndefined();
    expect(onlyLlmSpan(trace).parent_span_id).toBeUndefined();
  });

  it("a failed standalone call ends its trace ERROR", async () => {
    fake.script({ error: { status: 500, message: "boom upstream" } });
    await expect(client.chat.completions.create({ model: "gpt-4o-mini", messages: question })).rejects.toBeInstanceOf(
      OpenAI.InternalServerError,
    );
    const trace = byName(await tracing.sent(), "openai-chat");
    expect(trace.status).toBe("ERROR");
    expect(onlyLlmSpan(trace).error).toContain("boom upstream");
  });

  it("takes scoped session and user ids, and a streaming call's trace ends when the stream does", async () => {
    await session("conv-1", () =>
      user("user-1", async () => {
        const stream = await client.chat.completions.create({ model: "gpt-4o-mini", messages: question, stream: true });
        for await (const _ of stream) void _;
      }),
    );
    const trace = byName(await tracing.sent(), "openai-chat");
    expect([trace.session_id, trace.user_id, trace.status]).toEqual(["conv-1", "user-1", "COMPLETED"]);
    expect(trace.output).toEqual({ messages: [{ role: "assistant", content: "ok" }] });
  });

  it("prefers explicit ids over scoped ones over imperative ones", async () => {
    const explicit = wrapOpenAI(newClient(), { sessionId: "explicit-session", userId: "explicit-user" });
    setSession("imperative-session");
    setUser("imperative-user");
    await explicit.chat.completions.create({ model: "explicit", messages: question });
    await session("scoped-session", () => explicit.chat.completions.create({ model: "explicit-in-scope", messages: question }));
    await session("scoped-session", () => client.chat.completions.create({ model: "scoped", messages: question }));
    await client.chat.completions.create({ model: "imperative", messages: question });
    const traces = await tracing.sent();
    const ids = (model: string) => {
      const trace = traces.find((t) => t.spans.some((s) => s.model === model))!;
      return [trace.session_id, trace.user_id];
    };
    expect(ids("explicit")).toEqual(["explicit-session", "explicit-user"]);
    expect(ids("explicit-in-scope")).toEqual(["explicit-session", "explicit-user"]);
    expect(ids("scoped")).toEqual(["scoped-session", "imperative-user"]);
    expect(ids("imperative")).toEqual(["imperative-session", "imperative-user"]);
  });

  it("runs the seed's multi-turn example as one trace per turn, all in one session", async () => {
    const turns = ["Hi, I'm planning a trip.", "Where should I go in May?", "Thanks!"];
    const answers = ["Great! Where to?", "Try Kyoto.", "You're welcome."];
    fake.script(...answers.map((text) => ({ text })));
    const history: OpenAI.ChatCompletionMessageParam[] = [];
    await session("conversation-123", () =>
      user("user-abc", async () => {
        for (const input of turns) {
          history.push({ role: "user", content: input });
          const response = await client.chat.completions.create({ model: "gpt-4o", messages: history });
          history.push({ role: "assistant", content: response.choices[0]!.message.content });
        }
      }),
    );
    const traces = (await tracing.sent()).sort((a, b) => a.started_at.localeCompare(b.started_at));
    expect(traces).toHaveLength(3);
    expect(traces.map((t) => [t.session_id, t.user_id])).toEqual(Array(3).fill(["conversation-123", "user-abc"]));
    expect(traces.map((t) => t.input)).toEqual(turns.map((content) => ({ messages: [{ role: "user", content }] })));
    expect(traces.map((t) => t.output)).toEqual(answers.map((content) => ({ messages: [{ role: "assistant", content }] })));
    // Each turn's LLM span holds the whole history sent.
    expect(traces.map((t) => (onlyLlmSpan(t).input as { messages: unknown[] }).messages.length)).toEqual([1, 3, 5]);
  });
});

describe("the wrapped client", () => {
  it("is the same object; wrapping twice traces each call once", async () => {
    const base = newClient();
    const twice = wrapOpenAI(wrapOpenAI(base));
    expect(twice).toBe(base);
    await startTrace("agent", undefined, () => twice.chat.completions.create({ model: "gpt-4o-mini", messages: question }));
    expect(llmSpans(byName(await tracing.sent(), "agent"))).toHaveLength(1);
  });

  it("leaves every other method alone: models.list works and records nothing", async () => {
    const untouched = newClient();
    expect(client.embeddings.create).toBe(untouched.embeddings.create);
    expect(client.models.list).toBe(untouched.models.list);
    const models = await startTrace("agent", undefined, async () => {
      const page = await client.models.list();
      return page.data.map((m) => m.id);
    });
    expect(models).toEqual(["gpt-4o-mini"]);
    expect(byName(await tracing.sent(), "agent").spans).toEqual([]);
  });

  it("refuses a typo'd option or a non-string id where the client is wrapped, instead of tracing nothing", () => {
    expect(() => wrapOpenAI(newClient(), { sesionId: "conv-1" } as never)).toThrow(
      new TypeError('PandaProbe: unknown wrapOpenAI() option key "sesionId"; expected one of sessionId, userId, client, recordInputs, recordOutputs.'),
    );
    expect(() => wrapOpenAI(newClient(), { userId: 42 } as never)).toThrow(
      new TypeError("PandaProbe: userId must be a string, got a number."),
    );
  });

  it("traces the clients withOptions() derives from it, with the same ids", async () => {
    const base = wrapOpenAI(newClient(), { sessionId: "explicit-session" });
    const derived = base.withOptions({ timeout: 5_000 });
    expect(derived).toBeInstanceOf(OpenAI);
    expect(derived).not.toBe(base);
    fake.script({ text: "derived" }, { text: "nested" });
    await derived.chat.completions.create({ model: "gpt-4o-mini", messages: question });
    await startTrace("agent", undefined, () =>
      derived.withOptions({ maxRetries: 1 }).responses.create({ model: "gpt-4.1", input: "hi" }),
    );
    const traces = await tracing.sent();
    const standalone = byName(traces, "openai-chat");
    expect(standalone.session_id).toBe("explicit-session");
    expect(onlyLlmSpan(standalone).output).toEqual({ messages: [{ role: "assistant", content: "derived" }] });
    expect(onlyLlmSpan(byName(traces, "agent")).output).toEqual({ messages: [{ role: "assistant", content: "nested" }] });
  });

  it("returns objects of other shapes untouched", () => {
    const odd = { chat: { completions: { create: 42 } } };
    expect(wrapOpenAI(odd)).toBe(odd);
    expect(odd.chat.completions.create).toBe(42);
    expect(wrapOpenAI(null)).toBeNull();
  });

  it("passes calls straight through when tracing is disabled", async () => {
    init({ enabled: false });
    fake.script({ text: "untraced" }, { text: "untraced stream" });
    const plain = await client.chat.completions.create({ model: "gpt-4o-mini", messages: question });
    expect(plain.choices[0]!.message.content).toBe("untraced");
    let text = "";
    for await (const chunk of await client.chat.completions.create({ model: "gpt-4o-mini", messages: question, stream: true })) {
      text += chunk.choices[0]?.delta.content ?? "";
    }
    expect(text).toBe("untraced stream");
    expect(fake.requests).toHaveLength(2);
    await tracing.client.flush();
    expect(tracing.collector.traces()).toEqual([]);
  });
});
