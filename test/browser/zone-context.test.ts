// @vitest-environment happy-dom
/**
 * The browser entry with zone.js loaded first: scopes, the current trace and the current span ride
 * on zones through timers, promise chains, microtasks and DOM event listeners, and through `await`
 * in code compiled to ES2016 or lower. Native async/await (ES2017+) escapes zone.js: the context is
 * gone after the first await, as the documentation says.
 *
 * This file is compiled to ES2016 (the "zone" project of vitest.config.ts): `npx vitest run --project zone`.
 * Native async functions, for the negative, are built from source at run time.
 */
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { Span } from "../../src/trace/span.js";
import type { Trace } from "../../src/trace/trace.js";
import type { TraceData } from "../../src/wire/types.js";
import { capturingExporter } from "./support/capture.js";

type Sdk = typeof import("../../src/index.browser.js");

/** True when this file's async functions were lowered to generators, as the "zone" project does. */
const LOWERED = (async () => {}).constructor.name !== "AsyncFunction";

const capture = capturingExporter();
let sdk: Sdk;

beforeAll(async () => {
  vi.resetModules();
  // The entry picks its carrier when it is imported: zone.js must be there first.
  await import("zone.js");
  sdk = await import("../../src/index.browser.js");
  sdk.init({ exporter: capture });
});
afterEach(() => {
  expect(capture.failures).toEqual([]);
  capture.clear();
});

const pause = (ms = 1) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** What a callback sees of the context, compared with the trace and span it should see. */
function here(trace?: Trace, span?: Span) {
  return {
    session: sdk.getSessionId(),
    user: sdk.getUserId(),
    trace: sdk.getCurrentTrace() === trace,
    span: sdk.getCurrentSpan() === span,
  };
}
const EXPECTED = { session: "s", user: "u", trace: true, span: true };

/** Runs fn inside session "s", user "u", a trace and a span of it; resolves to what fn resolves to. */
function inScopes<T>(fn: (trace: Trace, span: Span) => Promise<T>): Promise<T> {
  return sdk.session("s", () =>
    sdk.user("u", () => sdk.startTrace("scoped", undefined, (t) => t.span("step", undefined, (s) => fn(t, s)))),
  );
}

function spanOf(trace: TraceData, name: string) {
  const found = trace.spans.find((s) => s.name === name);
  if (!found) throw new Error(`no span ${name} in ${trace.name}`);
  return found;
}

describe("the entry with zone.js loaded first", () => {
  it("carries the context on zones", async () => {
    const { contextManager } = await import("../../src/context/context-manager.js");
    const { ZoneContextManager } = await import("../../src/context/zone.js");
    expect(typeof (globalThis as { Zone?: unknown }).Zone).toBe("function");
    expect(contextManager()).toBeInstanceOf(ZoneContextManager);
  });
});

describe("scopes, the current trace and span survive async boundaries that zone.js patches", () => {
  it("setTimeout", async () => {
    const seen = await inScopes((t, s) => new Promise((resolve) => setTimeout(() => resolve(here(t, s)), 1)));
    expect(seen).toEqual(EXPECTED);
  });

  it("promise chains (.then)", async () => {
    const seen = await inScopes((t, s) =>
      Promise.resolve()
        .then(() => pause())
        .then(() => pause())
        .then(() => here(t, s)),
    );
    expect(seen).toEqual(EXPECTED);
  });

  it("queueMicrotask", async () => {
    const seen = await inScopes((t, s) => new Promise((resolve) => queueMicrotask(() => resolve(here(t, s)))));
    expect(seen).toEqual(EXPECTED);
  });

  it("DOM event listeners run in the context they were added in, whoever dispatches", async () => {
    const button = document.createElement("button");
    document.body.appendChild(button);
    const bus = new EventTarget();
    const heard: ReturnType<typeof here>[] = [];
    let expected!: [Trace, Span];
    await inScopes(async (t, s) => {
      expected = [t, s];
      button.addEventListener("click", () => heard.push(here(t, s)));
      bus.addEventListener("ping", () => heard.push(here(t, s)));
    });
    // Dispatched later, from a timer scheduled outside every scope, and from inside another scope.
    await new Promise<void>((resolve) =>
      setTimeout(() => {
        button.dispatchEvent(new Event("click"));
        sdk.session("other", () => bus.dispatchEvent(new Event("ping")));
        resolve();
      }, 1),
    );
    expect(heard).toEqual([EXPECTED, EXPECTED]);
    expect(expected[1].ended).toBe(true);
    button.remove();
  });

  it("spans opened in a timer nest under the span current where the timer was set", async () => {
    let traceId = "";
    await sdk.startTrace("timer-nesting", undefined, (t) => {
      traceId = t.traceId;
      return t.span("parent", undefined, () =>
        new Promise<void>((resolve) =>
          setTimeout(() => {
            t.span("in-timer").end();
            resolve();
          }, 1),
        ),
      );
    });
    const sent = capture.byName("timer-nesting");
    expect(sent.trace_id).toBe(traceId);
    expect(spanOf(sent, "in-timer").parent_span_id).toBe(spanOf(sent, "parent").span_id);
  });
});

describe("await, in code compiled to ES2016", () => {
  it("this file is compiled to ES2016 (else the tests below would prove nothing)", () => {
    expect(LOWERED).toBe(true);
  });

  it("keeps scopes, the current trace and the current span after every await", async () => {
    const seen = await inScopes(async (t, s) => {
      const steps = [here(t, s)];
      await pause();
      steps.push(here(t, s));
      await Promise.resolve();
      steps.push(here(t, s));
      await new Promise((resolve) => queueMicrotask(() => resolve(undefined)));
      steps.push(here(t, s));
      return steps;
    });
    expect(seen).toEqual([EXPECTED, EXPECTED, EXPECTED, EXPECTED]);
  });

  it("nests spans by the current span after awaits, and gives traces started after an await the scoped ids", async () => {
    await sdk.session("s", async () => {
      await pause();
      await sdk.startTrace("awaited", undefined, async (t) => {
        await pause();
        await t.span("outer", undefined, async () => {
          await pause();
          sdk.getCurrentTrace()!.span("inner").end();
        });
      });
    });
    const sent = capture.byName("awaited");
    expect(sent.session_id).toBe("s");
    expect(spanOf(sent, "inner").parent_span_id).toBe(spanOf(sent, "outer").span_id);
    expect(sent.status).toBe("COMPLETED");
  });

  it("trace(async fn) sees its own trace after awaits while many runs interleave", async () => {
    const step = sdk.span(async (n: number) => {
      await pause(Math.random() * 3);
      return { n, session: sdk.getSessionId(), traceId: sdk.getCurrentTrace()?.traceId };
    }, { name: "step" });
    const run = sdk.trace(async (n: number) => {
      const own = sdk.getCurrentTrace()?.traceId;
      await pause(Math.random() * 3);
      const { traceId, ...seen } = await step(n);
      return { ...seen, ownTrace: own !== undefined && traceId === own };
    }, { name: "run" });
    const results = await Promise.all(Array.from({ length: 20 }, (_, n) => sdk.session(`s-${n}`, () => run(n))));
    expect(results).toEqual(Array.from({ length: 20 }, (_, n) => ({ n, session: `s-${n}`, ownTrace: true })));
    const sent = capture.traces().filter((t) => t.name === "run");
    expect(sent).toHaveLength(20);
    for (const trace of sent) expect(trace.spans.map((s) => s.name)).toEqual(["step"]);
    expect(new Set(sent.map((t) => t.session_id)).size).toBe(20);
  });

  it("a traced async generator ends its trace when the stream ends, as ERROR when it throws", async () => {
    const stream = sdk.trace(async function* () {
      yield "a";
      await pause();
      yield "b";
      throw new Error("stream broke");
    }, { name: "lowered-stream" });
    const chunks: string[] = [];
    await expect(
      (async () => {
        for await (const chunk of stream()) chunks.push(chunk);
      })(),
    ).rejects.toThrow("stream broke");
    expect(chunks).toEqual(["a", "b"]);
    expect(capture.byName("lowered-stream").status).toBe("ERROR");
  });
});

describe("native async/await (ES2017+) escapes zone.js", () => {
  /** Built from source at run time, so no compile target lowers it: a real async function. */
  const nativeAsync = <T>(body: string, read: () => T): (() => Promise<T[]>) =>
    new Function("read", "pause", `return async () => { ${body} };`)(read, pause);

  it("loses the scope and the current trace after the first await", async () => {
    const read = () => [sdk.getSessionId(), sdk.getCurrentTrace() !== undefined];
    const seen = await sdk.session("s", () =>
      sdk.startTrace("native-scope", undefined, nativeAsync("const before = read(); await pause(); return [before, read()];", read)),
    );
    expect(seen).toEqual([
      ["s", true],
      [undefined, false],
    ]);
  });

  it("still ends a trace when its native async body settles, as ERROR when it rejects", async () => {
    const running = sdk.startTrace("native-body", undefined, nativeAsync("await pause(); throw new Error('native failure');", () => 0));
    const rejected = expect(running).rejects.toThrow("native failure");
    expect(capture.traces(), "sent before its body settled").toHaveLength(0);
    await rejected;
    expect(capture.byName("native-body").status).toBe("ERROR");
  });
});
