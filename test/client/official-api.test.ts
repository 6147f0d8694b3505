/**
 * Code written against PandaProbe's official Node SDK (its README's forms, its names) runs on ours:
 * withTrace / withSpan, the @trace / @span method decorators in both decorator runtimes (applied
 * here as each runtime calls them), getSpanStack, startTrace with null ids, end(error).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { getSpanStack, span, SpanKind, startTrace, trace, withSpan, withTrace } from "../../src/index.js";
import { traceToCollector, type Tracing } from "../support/tracing.js";

let tracing: Tracing;
beforeAll(async () => (tracing = await traceToCollector()));
afterEach(() => tracing.reset());
afterAll(() => tracing.close());

const user = { messages: [{ role: "user", content: "hi" }] };

describe("withTrace / withSpan", () => {
  it("records the README's manual example: a trace with an LLM span, output set by hand", async () => {
    const stacks: string[][] = [];
    const result = await withTrace("agent", { input: user, sessionId: null }, async (t) => {
      const answer = await withSpan("llm", { kind: SpanKind.LLM, model: "gpt-4o" }, async (s) => {
        s.setInput(user);
        stacks.push(getSpanStack());
        await withSpan("inner", () => stacks.push(getSpanStack()));
        const out = { messages: [{ role: "assistant", content: "hello" }] };
        s.setOutput(out);
        return out;
      });
      t.setOutput(answer);
      return answer;
    });
    expect(result).toEqual({ messages: [{ role: "assistant", content: "hello" }] });
    const [sent] = await tracing.sent();
    expect(sent).toMatchObject({ name: "agent", status: "COMPLETED", input: user, output: result });
    const llm = sent!.spans.find((s) => s.name === "llm")!;
    const inner = sent!.spans.find((s) => s.name === "inner")!;
    expect(llm).toMatchObject({ kind: "LLM", model: "gpt-4o", input: user, output: result, status: "OK" });
    expect(inner.parent_span_id).toBe(llm.span_id);
    expect(stacks).toEqual([[llm.span_id], [llm.span_id, inner.span_id]]);
    expect(getSpanStack()).toEqual([]);
  });

  it("always returns a promise, and a throwing body ends trace and span as ERROR with its message", async () => {
    const sync = withTrace("sync", () => 42);
    expect(sync).toBeInstanceOf(Promise);
    expect(await sync).toBe(42);
    await expect(withTrace("failing", () => withSpan("step", () => Promise.reject(new Error("boom"))))).rejects.toThrow("boom");
    const failing = (await tracing.sent()).find((t) => t.name === "failing")!;
    expect(failing.status).toBe("ERROR");
    expect(failing.spans[0]).toMatchObject({ name: "step", status: "ERROR", error: expect.stringContaining("boom") });
  });

  it("outside a trace withSpan still runs its body with a span, and sends nothing", async () => {
    const value = await withSpan("detached", (s) => {
      s.setOutput("x");
      return "ran";
    });
    expect(value).toBe("ran");
    expect(await tracing.sent()).toEqual([]);
  });

  it("startTrace takes null ids, and trace.end(error) / span.end(error) record the failure", async () => {
    const t = startTrace("imperative", { sessionId: null, userId: "u1" });
    const s = t.span("step").start();
    s.end(new Error("step failed"));
    t.end(new Error("turn failed"));
    const [sent] = await tracing.sent();
    expect(sent).toMatchObject({ name: "imperative", status: "ERROR", user_id: "u1", metadata: { error: expect.stringContaining("turn failed") } });
    expect(sent!.session_id).toBeUndefined();
    expect(sent!.spans[0]).toMatchObject({ status: "ERROR", error: expect.stringContaining("step failed") });
  });
});

/** A method as `experimentalDecorators` passes it: (prototype, key, descriptor). */
function legacy(decorator: unknown, proto: object, key: string): void {
  const descriptor = Object.getOwnPropertyDescriptor(proto, key)!;
  const result = (decorator as MethodDecorator)(proto, key, descriptor) ?? descriptor;
  Object.defineProperty(proto, key, result);
}

/** A method as standard decorators pass it: (method, context). */
function standard(decorator: unknown, proto: Record<string, unknown>, key: string): void {
  const context = { kind: "method", name: key, static: false, private: false, addInitializer() {}, access: {}, metadata: {} };
  proto[key] = (decorator as (m: unknown, c: unknown) => unknown)(proto[key], context);
}

describe.each([
  ["experimentalDecorators", legacy],
  ["standard decorators", standard],
] as const)("@trace / @span under %s", (_, apply) => {
  it("bare and with options: the method is a trace, its calls spans of it", async () => {
    class Agent {
      constructor(private readonly reply: string) {}
      async generate(input: { messages: unknown[] }) {
        return { messages: [...input.messages, { role: "assistant", content: this.reply }] };
      }
      lookup(query: string) {
        return `found ${query}`;
      }
      async run(input: { messages: unknown[] }) {
        this.lookup("docs");
        return this.generate(input);
      }
    }
    const proto = Agent.prototype as unknown as Record<string, unknown>;
    apply(span({ kind: SpanKind.LLM, model: null }), proto, "generate");
    apply(span, proto, "lookup");
    apply(trace({ name: "agent", sessionId: "s1" }), proto, "run");

    const out = await new Agent("hello").run(user);
    expect(out.messages.at(-1)).toEqual({ role: "assistant", content: "hello" });
    const [sent] = await tracing.sent();
    expect(sent).toMatchObject({ name: "agent", session_id: "s1", output: { messages: [{ role: "assistant", content: "hello" }] } });
    expect(sent!.spans.map((s) => [s.name, s.kind])).toEqual([
      ["lookup", "OTHER"],
      ["generate", "LLM"],
    ]);
  });

  it("a bare @trace names the trace after the method and keeps a sync method sync", async () => {
    class Tool {
      add(a: number, b: number) {
        return a + b;
      }
    }
    apply(trace, Tool.prototype as unknown as Record<string, unknown>, "add");
    expect(new Tool().add(2, 3)).toBe(5);
    expect((await tracing.sent()).map((t) => t.name)).toEqual(["add"]);
  });
});

describe("trace(fn) / span(fn) stay function wrappers", () => {
  it("wraps a function given with options", async () => {
    const answer = trace(async (q: string) => `a:${q}`, { name: "fn-trace" });
    expect(await answer("q")).toBe("a:q");
    expect((await tracing.sent()).map((t) => t.name)).toEqual(["fn-trace"]);
  });
});
