import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Client, getCurrentSpan, getCurrentTrace, span, startTrace, trace } from "../../src/index.js";
import type { Envelope } from "../../src/export/types.js";
import { byName, traceToCollector, type Tracing } from "../support/tracing.js";

let tracing: Tracing;
beforeAll(async () => {
  tracing = await traceToCollector();
});
afterAll(() => tracing.close());
afterEach(() => tracing.reset());

const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

describe("startTrace", () => {
  it("callback form returns a sync callback's value as is, and ends the trace COMPLETED", async () => {
    const value = { answer: 42 };
    const returned = startTrace("sync-callback", undefined, () => value);
    expect(returned).toBe(value);
    const [sent] = await tracing.sent();
    expect(sent).toMatchObject({ name: "sync-callback", status: "COMPLETED" });
    expect(sent!.ended_at).toBeDefined();
  });

  it("callback form returns a promise of an async callback's value and ends when it settles", async () => {
    const value = { answer: 43 };
    let ended: boolean | undefined;
    const returned = startTrace("async-callback", undefined, async (t) => {
      await tick();
      ended = t.ended;
      return value;
    });
    expect(returned).toBeInstanceOf(Promise);
    expect(await returned).toBe(value);
    expect(ended).toBe(false);
    expect((await tracing.sent())[0]).toMatchObject({ status: "COMPLETED" });
  });

  it("marks the trace ERROR and rethrows the very same error, sync or async", async () => {
    const syncError = new RangeError("sync failure");
    const asyncError = new TypeError("async failure");
    const stack = syncError.stack;
    expect(() =>
      startTrace("sync-throw", undefined, () => {
        throw syncError;
      }),
    ).toThrow(syncError);
    expect(syncError.stack).toBe(stack);
    await expect(
      startTrace("async-throw", undefined, async () => {
        await tick();
        throw asyncError;
      }),
    ).rejects.toBe(asyncError);
    const sent = await tracing.sent();
    expect(byName(sent, "sync-throw")).toMatchObject({ status: "ERROR", metadata: { error: expect.stringContaining("RangeError: sync failure") } });
    expect(byName(sent, "async-throw")).toMatchObject({ status: "ERROR", metadata: { error: expect.stringContaining("async failure") } });
  });

  it("rethrows an exception the SDK cannot read (a Proxy whose traps throw, a stack that fails to format) unchanged", async () => {
    const hostile = new Proxy(new Error("hidden"), {
      get() {
        throw new Error("trap");
      },
    });
    let caught: unknown;
    try {
      startTrace("unreadable-throw", undefined, (t) =>
        t.span("step", undefined, () => {
          throw hostile;
        }),
      );
    } catch (error) {
      caught = error;
    }
    expect(caught).toBe(hostile);

    const prepare = Error.prepareStackTrace;
    Error.prepareStackTrace = () => {
      throw new Error("source map support failed");
    };
    const unformattable = new Error("lazy stack");
    try {
      await expect(
        startTrace("unformattable-throw", undefined, async () => {
          throw unformattable;
        }),
      ).rejects.toBe(unformattable);
    } finally {
      Error.prepareStackTrace = prepare;
    }

    const sent = await tracing.sent();
    const unreadable = byName(sent, "unreadable-throw");
    expect(unreadable.status).toBe("ERROR");
    expect(unreadable.spans[0]).toMatchObject({ status: "ERROR", error: expect.stringContaining("trap") });
    expect(byName(sent, "unformattable-throw")).toMatchObject({ status: "ERROR", metadata: { error: expect.any(String) } });
  });

  it("manual form: nothing is sent until end(), and end() is idempotent", async () => {
    const t = startTrace("manual", { input: { messages: [{ role: "user", content: "hi" }] }, tags: ["a"], metadata: { k: 1 } });
    await tracing.client.flush();
    expect(tracing.collector.traces()).toHaveLength(0);
    t.setOutput({ messages: [{ role: "assistant", content: "hello" }] }).setTags(["b", "a"]).setMetadata({ j: 2 });
    t.end();
    t.end();
    const bodies = (await tracing.sent(), tracing.collector.traces());
    expect(bodies).toHaveLength(1);
    expect(bodies[0]).toMatchObject({
      name: "manual",
      status: "COMPLETED",
      input: { messages: [{ role: "user", content: "hi" }] },
      output: { messages: [{ role: "assistant", content: "hello" }] },
      tags: ["a", "b"],
      metadata: { k: 1, j: 2 },
    });
  });

  it("rejects a typo'd option, a bad status and a bad kind at the call", () => {
    expect(() => startTrace("x", { sesionId: "s" } as never)).toThrow(/unknown startTrace option key "sesionId"/);
    expect(() => startTrace("x").setStatus("DONE" as never)).toThrow(/trace status must be one of PENDING, RUNNING, COMPLETED, ERROR/);
    expect(() => startTrace("x").span("s", { kind: "LLMM" as never })).toThrow(/span kind must be one of/);
    expect(() => startTrace("x", { sessionId: 7 as never })).toThrow(/sessionId must be a string/);
  });
});

describe("spans", () => {
  it("get v4 UUIDs where crypto.randomUUID is missing (a page served over plain http)", async () => {
    // An own property shadows the prototype's method, as an insecure context leaves it out.
    Object.defineProperty(globalThis.crypto, "randomUUID", { value: undefined, configurable: true });
    try {
      startTrace("insecure-page", undefined, (t) => {
        t.span("a").end();
        t.span("b").end();
      });
    } finally {
      delete (globalThis.crypto as { randomUUID?: unknown }).randomUUID;
    }
    const [sent] = await tracing.sent();
    const ids = [sent!.trace_id, ...sent!.spans.map((s) => s.span_id)];
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(ids).size).toBe(3);
  });

  it("nest: Span.span is a child, Trace.span is a child of the span current in that trace", async () => {
    await startTrace("tree", undefined, async (t) => {
      const root = t.span("root", { kind: "AGENT" });
      root.span("explicit-child").end();
      await t.span("callback", { kind: "CHAIN" }, async () => {
        await tick();
        t.span("contextual-child", { kind: "LLM" }).end();
      });
      root.end();
    });
    const [sent] = await tracing.sent();
    const id = (name: string) => sent!.spans.find((s) => s.name === name)!;
    expect(id("root").parent_span_id).toBeUndefined();
    expect(id("explicit-child").parent_span_id).toBe(id("root").span_id);
    expect(id("callback").parent_span_id).toBeUndefined();
    expect(id("contextual-child").parent_span_id).toBe(id("callback").span_id);
    expect(id("contextual-child").kind).toBe("LLM");
  });

  it("callback form: current while it runs, OK on success, ERROR with the message on throw", async () => {
    const failure = new Error("tool exploded");
    const seen: unknown[] = [];
    await startTrace("span-callbacks", undefined, async (t) => {
      expect(getCurrentTrace()).toBe(t);
      await t.span("fine", undefined, async (s) => {
        await tick();
        seen.push(getCurrentSpan() === s);
      });
      await expect(
        t.span("broken", { kind: "TOOL" }, async () => {
          throw failure;
        }),
      ).rejects.toBe(failure);
      seen.push(getCurrentSpan());
    });
    expect(seen).toEqual([true, undefined]);
    const [sent] = await tracing.sent();
    expect(sent!.status).toBe("COMPLETED");
    expect(sent!.spans.map((s) => [s.name, s.status])).toEqual([
      ["fine", "OK"],
      ["broken", "ERROR"],
    ]);
    expect(sent!.spans[1]!.error).toContain("Error: tool exploded");
  });

  it("record LLM details", async () => {
    startTrace("llm", undefined, (t) => {
      const s = t.span("chat", { kind: "LLM", model: "gpt-4o", modelParameters: { temperature: 0.2, apiKey: "sk-secret" } });
      s.setInput({ messages: [{ role: "user", content: "hi" }] });
      s.setCompletionStartTime(new Date(Date.now() + 5));
      s.setTokenUsage({ prompt_tokens: 10, completion_tokens: 5, reasoning_tokens: 2 });
      s.setCost({ input: 0.001, output: 0.002 });
      s.setOutput({ messages: [{ role: "assistant", content: "hello" }] });
      s.end();
    });
    const [sent] = await tracing.sent();
    expect(sent!.spans[0]).toMatchObject({
      kind: "LLM",
      model: "gpt-4o",
      model_parameters: { temperature: 0.2 },
      token_usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15, reasoning_tokens: 2 },
      cost: { input: 0.001, output: 0.002 },
    });
    expect(sent!.spans[0]!.model_parameters).not.toHaveProperty("apiKey");
    expect(sent!.spans[0]!.completion_start_time).toMatch(/Z$/);
  });
});

describe("trace(fn): the @trace decorator", () => {
  it("keeps a sync function sync, its this, name, length and return value", async () => {
    const result = { role: "assistant", content: "4" };
    const calculator = {
      base: 2,
      add(this: { base: number }, a: number) {
        return { ...result, content: String(this.base + a) };
      },
    };
    const traced = trace(calculator.add, { name: "add" });
    expect(traced.name).toBe("add");
    expect(traced.length).toBe(1);
    const value = traced.call(calculator, 2);
    expect(value).toEqual(result);
    const [sent] = await tracing.sent();
    expect(sent).toMatchObject({ name: "add", input: 2, output: { messages: [result] } });
  });

  it("reduces messages: input is the last user message, output the last assistant message", async () => {
    const agent = trace(async function supportAgent(messages: { role: string; content: string }[]) {
      await tick();
      return { messages: [...messages, { role: "assistant", content: "Settings > Security." }] };
    });
    await agent([
      { role: "system", content: "be brief" },
      { role: "user", content: "old question" },
      { role: "assistant", content: "old answer" },
      { role: "user", content: "How do I reset my password?" },
    ]);
    const plain = trace((question: string) => `You asked: ${question}`, { name: "plain" });
    plain("why?");
    const sent = await tracing.sent();
    expect(byName(sent, "supportAgent")).toMatchObject({
      input: { messages: [{ role: "user", content: "How do I reset my password?" }] },
      output: { messages: [{ role: "assistant", content: "Settings > Security." }] },
    });
    expect(byName(sent, "plain")).toMatchObject({
      input: { messages: [{ role: "user", content: "why?" }] },
      output: { messages: [{ role: "assistant", content: "You asked: why?" }] },
    });
  });

  it("keeps a generator a generator: values pass unchanged, the trace ends when it is done", async () => {
    const numbers = trace(function* counting(n: number) {
      for (let i = 0; i < n; i++) yield i;
      return "done";
    });
    const iterator = numbers(3);
    expect(typeof iterator.next).toBe("function");
    expect(Object.prototype.toString.call(iterator)).toBe("[object Generator]");
    expect([...iterator]).toEqual([0, 1, 2]);
    const [sent] = await tracing.sent();
    expect(sent).toMatchObject({ name: "counting", status: "COMPLETED", output: { messages: [{ role: "assistant", content: "done" }] } });
  });

  it("keeps an async generator an async generator, with the trace current inside and ended on break", async () => {
    const inner = span(async (token: string) => token.toUpperCase(), { name: "upper" });
    const stream = trace(async function* streamAnswer(_question: string) {
      for (const token of ["Hel", "lo", "!", "unused"]) {
        await tick();
        yield await inner(token);
      }
    });
    const received: string[] = [];
    for await (const token of stream("hi")) {
      received.push(token);
      if (received.length === 3) break;
    }
    expect(received).toEqual(["HEL", "LO", "!"]);
    const [sent] = await tracing.sent();
    expect(sent).toMatchObject({
      name: "streamAnswer",
      status: "COMPLETED",
      output: { messages: [{ role: "assistant", content: "HELLO!" }] },
    });
    expect(sent!.spans.map((s) => s.name)).toEqual(["upper", "upper", "upper"]);
  });

  it("ends an async generator that throws as ERROR and passes the error on", async () => {
    const failure = new Error("stream broke");
    const stream = trace(async function* failing() {
      yield 1;
      throw failure;
    });
    const received: number[] = [];
    await expect(
      (async () => {
        for await (const v of stream()) received.push(v);
      })(),
    ).rejects.toBe(failure);
    expect(received).toEqual([1]);
    const [sent] = await tracing.sent();
    expect(sent!.status).toBe("ERROR");
  });

  it("returns a promise subclass itself, so its own methods stay usable", async () => {
    class ApiPromise<T> extends Promise<T> {
      withResponse() {
        return "response";
      }
    }
    const call = trace(() => new ApiPromise<string>((resolve) => resolve("body")), { name: "api" });
    const returned = call();
    expect(returned).toBeInstanceOf(ApiPromise);
    expect(returned.withResponse()).toBe("response");
    expect(await returned).toBe("body");
    expect((await tracing.sent())[0]).toMatchObject({ name: "api", status: "COMPLETED" });
  });

  it("never calls then() of a thenable that is not a promise (lazy query builders)", async () => {
    let executed = 0;
    const query = { then: (resolve: (v: string) => void) => (executed++, resolve("rows")) };
    const run = trace(() => query, { name: "query" });
    expect(run()).toBe(query);
    expect(executed).toBe(0);
    expect(await tracing.sent()).toHaveLength(1);
  });
});

describe("span(fn): the @span decorator", () => {
  it("is the function itself outside a trace: same value, nothing sent", async () => {
    const value = { v: 1 };
    const step = span(() => value, { name: "lonely" });
    expect(step()).toBe(value);
    expect(await tracing.sent()).toHaveLength(0);
  });

  it("records arguments and result inside a trace, nested under the current span", async () => {
    const retrieve = span(async (query: string, k: number) => [`${query}-doc`].slice(0, k), { name: "retrieve", kind: "RETRIEVER" });
    const answer = span(async (query: string) => (await retrieve(query, 1)).join(), { name: "answer", kind: "CHAIN" });
    await trace(answer, { name: "rag" })("q");
    const [sent] = await tracing.sent();
    const byN = (n: string) => sent!.spans.find((s) => s.name === n)!;
    expect(byN("answer")).toMatchObject({ kind: "CHAIN", input: "q", output: "q-doc" });
    expect(byN("retrieve")).toMatchObject({ kind: "RETRIEVER", input: ["q", 1], output: ["q-doc"], parent_span_id: byN("answer").span_id });
  });

  it("rejects a typo'd option and a non-function at wrap time", () => {
    expect(() => span(() => 1, { knd: "LLM" } as never)).toThrow(/unknown span\(\) option key "knd"/);
    expect(() => trace("nope" as never)).toThrow(/trace\(\)'s argument must be a function/);
  });
});

describe("an exporter that serializes later (browsers)", () => {
  it("gets the trace as it was when it ended, serialized only when it asks", () => {
    const makers: (() => Envelope[])[] = [];
    const enqueued: Envelope[] = [];
    const client = new Client({
      exporter: {
        enqueue: (e) => void enqueued.push(e),
        enqueueLater: (make) => void makers.push(make),
        flush: async () => {},
        shutdown: async () => {},
      },
    });
    const t = client.startTrace("deferred", { input: "question", metadata: { turn: 1 } });
    t.setOutput("answer");
    t.end();
    t.setOutput("changed after end");
    t.setMetadata({ turn: 2, late: true });
    expect(enqueued).toEqual([]);
    expect(makers).toHaveLength(1);
    const [envelope] = makers[0]!();
    expect(envelope!.path).toBe("/traces");
    expect(JSON.parse(envelope!.body)).toEqual(
      expect.objectContaining({ name: "deferred", input: "question", output: "answer", status: "COMPLETED", metadata: { turn: 1 } }),
    );
  });
});
