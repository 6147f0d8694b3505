// @vitest-environment happy-dom
/**
 * The browser entry without zone.js: what survives in explicit mode. Scopes hold for synchronous
 * code and async code up to its first await, no further; trace and span handles carry their parents
 * explicitly; a trace takes its ids when it starts; `setSession` / `setUser` are per-tab values.
 * Also the browser's configuration rules: no secret key, a relay endpoint, no auto-init.
 */
import "fake-indexeddb/auto";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  flush,
  getClient,
  getCurrentSpan,
  getCurrentTrace,
  getSessionId,
  getUserId,
  init,
  PandaProbeError,
  session,
  setSession,
  setUser,
  shutdown,
  startTrace,
  user,
} from "../../src/index.browser.js";
import { contextManager, StackContextManager } from "../../src/context/context-manager.js";
import type { TraceData } from "../../src/wire/types.js";
import { validateTrace } from "../support/contract.js";
import { capturingExporter } from "./support/capture.js";
import { forgetSdkGlobals } from "../support/fresh-sdk.js";

const capture = capturingExporter();
const pause = (ms = 1) => new Promise((resolve) => setTimeout(resolve, ms));

beforeEach(() => {
  init({ exporter: capture });
});
afterEach(async () => {
  setSession(undefined);
  setUser(undefined);
  vi.unstubAllEnvs();
  await shutdown();
  expect(capture.failures).toEqual([]);
  capture.clear();
});

function spanOf(trace: TraceData, name: string) {
  const found = trace.spans.find((s) => s.name === name);
  if (!found) throw new Error(`no span ${name} in ${trace.name}`);
  return found;
}

describe("the entry without zone.js", () => {
  it("carries scopes on the explicit stack", () => {
    expect((globalThis as { Zone?: unknown }).Zone).toBeUndefined();
    expect(contextManager()).toBeInstanceOf(StackContextManager);
  });
});

describe("scoped ids: session() and user()", () => {
  it("hold for synchronous code, nest, and unwind on return and on throw", () => {
    const seen = session("outer", () =>
      user("u", () => {
        const inner = session("inner", () => [getSessionId(), getUserId()]);
        expect(() => session("thrown", () => {
          throw new Error("boom");
        })).toThrow("boom");
        return [inner, [getSessionId(), getUserId()]];
      }),
    );
    expect(seen).toEqual([["inner", "u"], ["outer", "u"]]);
    expect([getSessionId(), getUserId()]).toEqual([undefined, undefined]);
  });

  it("hold in async code up to its first await and NOT after it (the documented limit)", async () => {
    const seen = await session("s", () =>
      user("u", async () => {
        const before = [getSessionId(), getUserId()];
        await Promise.resolve();
        return { before, after: [getSessionId(), getUserId()] };
      }),
    );
    expect(seen).toEqual({ before: ["s", "u"], after: [undefined, undefined] });
  });

  it("give their ids to traces started before the first await only", async () => {
    await session("s", async () => {
      startTrace("before-await").end();
      await pause();
      startTrace("after-await").end();
    });
    expect(capture.byName("before-await").session_id).toBe("s");
    expect(capture.byName("after-await").session_id).toBeUndefined();
  });
});

describe("trace and span handles carry their parents explicitly", () => {
  it("t.span() and s.span() nest correctly across awaits, where the current span is lost", async () => {
    let traceId = "";
    const lostAfterAwait = await startTrace("handles", undefined, async (t) => {
      traceId = t.traceId;
      const outer = t.span("outer");
      await pause();
      const lost = [getCurrentTrace(), getCurrentSpan()];
      const child = outer.span("child");
      await pause();
      child.span("grandchild").end();
      child.end();
      outer.end();
      // No current span here: t.span() makes a root span of the trace.
      t.span("root-after-await").end();
      return lost;
    });
    expect(lostAfterAwait).toEqual([undefined, undefined]);
    const sent = capture.byName("handles");
    expect(sent.trace_id).toBe(traceId);
    const outer = spanOf(sent, "outer");
    const child = spanOf(sent, "child");
    expect(outer.parent_span_id).toBeUndefined();
    expect(child.parent_span_id).toBe(outer.span_id);
    expect(spanOf(sent, "grandchild").parent_span_id).toBe(child.span_id);
    expect(spanOf(sent, "root-after-await").parent_span_id).toBeUndefined();
  });

  it("span callbacks make their span current for synchronous code, and hand it over for later code", async () => {
    await startTrace("callbacks", undefined, (t) =>
      t.span("outer", undefined, async (outer) => {
        t.span("sync-child").end();
        await pause();
        t.span("late-root").end();
        await outer.span("explicit-child", undefined, async (child) => {
          await pause();
          child.span("leaf").end();
        });
      }),
    );
    const sent = capture.byName("callbacks");
    const outer = spanOf(sent, "outer");
    expect(spanOf(sent, "sync-child").parent_span_id).toBe(outer.span_id);
    expect(spanOf(sent, "late-root").parent_span_id).toBeUndefined();
    const child = spanOf(sent, "explicit-child");
    expect(child.parent_span_id).toBe(outer.span_id);
    expect(spanOf(sent, "leaf").parent_span_id).toBe(child.span_id);
    expect(sent.spans.every((s) => s.status === "OK")).toBe(true);
  });

  it("startTrace(name, opts, async cb) takes the scoped ids at start and ends when the body settles", async () => {
    const running = session("s", () =>
      user("u", () =>
        startTrace("scoped-async", undefined, async (t) => {
          await pause();
          t.span("after-await").end();
          return [getSessionId(), getUserId()];
        }),
      ),
    );
    expect(capture.traces()).toHaveLength(0);
    expect(await running).toEqual([undefined, undefined]);
    const sent = capture.byName("scoped-async");
    expect([sent.session_id, sent.user_id, sent.status]).toEqual(["s", "u", "COMPLETED"]);
    expect(sent.spans.map((s) => s.name)).toEqual(["after-await"]);
  });

  it("a body that rejects after an await ends its trace as ERROR and the rejection reaches the caller", async () => {
    const boom = new Error("late failure");
    await expect(
      startTrace("late-error", undefined, async () => {
        await pause();
        throw boom;
      }),
    ).rejects.toBe(boom);
    const sent = capture.byName("late-error");
    expect(sent.status).toBe("ERROR");
    expect(sent.metadata).toMatchObject({ error: expect.stringContaining("late failure") });
  });
});

describe("imperative ids: setSession() and setUser() are per tab", () => {
  it("hold everywhere: across awaits, in timers, and inside scopes below the scoped ids", async () => {
    setSession("tab-session");
    setUser("tab-user");
    await pause();
    const inTimer = await new Promise((resolve) => setTimeout(() => resolve([getSessionId(), getUserId()]), 1));
    const inScope = await session("scoped", async () => {
      const before = [getSessionId(), getUserId()];
      await pause();
      return { before, after: [getSessionId(), getUserId()] };
    });
    expect(inTimer).toEqual(["tab-session", "tab-user"]);
    expect(inScope).toEqual({ before: ["scoped", "tab-user"], after: ["tab-session", "tab-user"] });
  });

  it("set inside a scope or after an await still hold for the whole tab, until cleared", async () => {
    await session("scoped", async () => {
      await pause();
      setSession("set-late");
    });
    expect(getSessionId()).toBe("set-late");
    setSession(undefined);
    expect(getSessionId()).toBeUndefined();
  });

  it("rank below scoped ids, which rank below explicit options", () => {
    setSession("tab-session");
    setUser("tab-user");
    startTrace("imperative").end();
    session("scoped-session", () =>
      user("scoped-user", () => {
        startTrace("scoped").end();
        startTrace("explicit", { sessionId: "explicit-session", userId: "explicit-user" }).end();
      }),
    );
    const ids = (name: string) => [capture.byName(name).session_id, capture.byName(name).user_id];
    expect(ids("imperative")).toEqual(["tab-session", "tab-user"]);
    expect(ids("scoped")).toEqual(["scoped-session", "scoped-user"]);
    expect(ids("explicit")).toEqual(["explicit-session", "explicit-user"]);
  });
});

/** A fetch that answers 202 and keeps what it was asked. */
function recordingFetch() {
  const calls: { url: string; headers: Record<string, string>; body: unknown; keepalive: boolean }[] = [];
  const fetch = (async (input: RequestInfo | URL, requestInit?: RequestInit) => {
    const body = JSON.parse(String(requestInit?.body));
    calls.push({
      url: String(input),
      headers: { ...(requestInit?.headers as Record<string, string>) },
      body,
      keepalive: requestInit?.keepalive === true,
    });
    return new Response(JSON.stringify({ trace_id: body.trace_id, task_id: "task-1" }), { status: 202 });
  }) as typeof globalThis.fetch;
  return { calls, fetch };
}

describe("init() in a browser", () => {
  it("refuses an apiKey, which would reach every visitor", () => {
    expect(() => init({ apiKey: "sk_pp_secret", projectName: "p", endpoint: "https://api.example.com" })).toThrow(
      expect.objectContaining({
        name: "PandaProbeError",
        code: "config",
        message: expect.stringMatching(/apiKey in a browser would expose your secret key.*dangerouslyAllowBrowser: true/),
      }),
    );
  });

  it("sends with the key when dangerouslyAllowBrowser is true", async () => {
    const { calls, fetch } = recordingFetch();
    const client = init({
      apiKey: "sk_pp_private_page",
      projectName: "internal-tool",
      endpoint: "https://api.example.com",
      dangerouslyAllowBrowser: true,
      fetch,
    });
    expect(client.enabled).toBe(true);
    startTrace("keyed").end();
    await flush();
    expect(calls).toHaveLength(1);
    expect(calls[0]!.url).toBe("https://api.example.com/traces");
    expect(calls[0]!.headers).toMatchObject({ "X-API-Key": "sk_pp_private_page", "X-Project-Name": "internal-tool" });
    validateTrace(calls[0]!.body);
  });

  it("requires a relay endpoint when there is no key", () => {
    let thrown: unknown;
    try {
      init({});
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(PandaProbeError);
    expect((thrown as PandaProbeError).code).toBe("config");
    expect((thrown as Error).message).toMatch(/in a browser, set endpoint to your app's relay route/);
  });

  it("accepts a relative relay endpoint and sends to it without credentials", async () => {
    const { calls, fetch } = recordingFetch();
    const client = init({ endpoint: "/api/pandaprobe", fetch });
    expect(client.config.endpoint).toBe("/api/pandaprobe");
    startTrace("relayed").end();
    await flush();
    expect(calls).toHaveLength(1);
    expect(calls[0]!.url).toBe("/api/pandaprobe/traces");
    expect(calls[0]!.keepalive).toBe(false);
    expect(Object.keys(calls[0]!.headers).map((h) => h.toLowerCase())).not.toContain("x-api-key");
    validateTrace(calls[0]!.body);
    expect((calls[0]!.body as TraceData).name).toBe("relayed");
  });

  it("getClient() never initialises from PANDAPROBE_* variables, even when process.env has them", async () => {
    vi.stubEnv("PANDAPROBE_API_KEY", "sk_pp_from_env");
    vi.stubEnv("PANDAPROBE_PROJECT_NAME", "from-env");
    vi.stubEnv("PANDAPROBE_ENDPOINT", "https://api.example.com");
    vi.resetModules();
    forgetSdkGlobals();
    // A fresh copy of the entry: no init() has run in it.
    const sdk = await import("../../src/index.browser.js");
    expect(process.env.PANDAPROBE_API_KEY).toBe("sk_pp_from_env");
    expect(sdk.getClient()).toBeUndefined();
    expect(sdk.startTrace("untraced").recording).toBe(false);
    expect(sdk.getClient()).toBeUndefined();
    // The copy used by the rest of this file is unaffected.
    expect(getClient()).toBeDefined();
  });
});
