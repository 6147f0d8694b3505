/**
 * The edge build's entry (src/index.edge.ts) as Next.js edge and Vercel load it, here in Node:
 * options from init() and from process.env, scopes on AsyncLocalStorage's run (no enterWith),
 * each ended trace sent at once, delivery handed to the runtime's own waitUntil.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { startCollector, type Collector } from "../support/collector.js";
import { forgetSdkGlobals } from "../support/fresh-sdk.js";

type Sdk = typeof import("../../src/index.edge.js");
let sdk: Sdk;
let collector: Collector;

beforeAll(async () => {
  forgetSdkGlobals();
  sdk = await import("../../src/index.edge.js");
  collector = await startCollector({ apiKey: "sk_pp_edge", projectName: "edge" });
});
afterAll(async () => {
  await sdk.shutdown();
  await collector.close();
});
afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
  delete (globalThis as Record<symbol, unknown>)[Symbol.for("@vercel/request-context")];
});

describe("the edge entry", () => {
  it("reads its options from the environment and sends each ended trace at once, with its scope's ids across awaits", async () => {
    vi.stubEnv("PANDAPROBE_API_KEY", "sk_pp_edge");
    vi.stubEnv("PANDAPROBE_PROJECT_NAME", "edge");
    vi.stubEnv("PANDAPROBE_ENDPOINT", collector.url);
    // An hour between batches: only immediate export delivers within the test.
    vi.stubEnv("PANDAPROBE_FLUSH_INTERVAL", "3600");
    sdk.init();
    collector.reset();
    const seen = await Promise.all(
      ["a", "b"].map((id) =>
        sdk.session(`s-${id}`, () =>
          sdk.startTrace(`edge-${id}`, {}, async () => {
            await new Promise((resolve) => setTimeout(resolve, id === "a" ? 30 : 5));
            return sdk.getSessionId();
          }),
        ),
      ),
    );
    expect(seen).toEqual(["s-a", "s-b"]);
    await collector.waitFor(() => collector.traces().length === 2, 30_000);
    expect(collector.traces().map((t) => [t.name, t.session_id]).sort()).toEqual([
      ["edge-a", "s-a"],
      ["edge-b", "s-b"],
    ]);
    expect(collector.contractFailures).toEqual([]);
  });

  it("hands each delivery to the waitUntil of Vercel's request context", async () => {
    sdk.init({ apiKey: "sk_pp_edge", projectName: "edge", endpoint: collector.url });
    collector.reset();
    const kept: Promise<unknown>[] = [];
    (globalThis as Record<symbol, unknown>)[Symbol.for("@vercel/request-context")] = {
      get: () => ({ waitUntil: (promise: Promise<unknown>) => kept.push(promise) }),
    };
    sdk.startTrace("vercel").end();
    expect(kept).toHaveLength(1);
    await kept[0];
    expect(collector.traces().map((t) => t.name)).toEqual(["vercel"]);
  });

  it("setSession/setUser set nothing (no enterWith to scope them to a request) and warn once; scopes still work", () => {
    sdk.init({ apiKey: "sk_pp_edge", projectName: "edge", endpoint: collector.url });
    const warned = vi.spyOn(console, "warn").mockImplementation(() => {});
    sdk.setSession("imperative");
    sdk.setUser("someone");
    expect([sdk.getSessionId(), sdk.getUserId()]).toEqual([undefined, undefined]);
    expect(sdk.session("scoped", () => sdk.getSessionId())).toBe("scoped");
    expect(warned.mock.calls.map((call) => String(call[0]))).toEqual([
      expect.stringMatching(/^\[pandaprobe\] setSession\(\)\/setUser\(\) set nothing in this runtime/),
    ]);
  });

  it("refuses a missing key as the Node build does, naming the variables", () => {
    vi.stubEnv("PANDAPROBE_API_KEY", "");
    expect(() => sdk.init({ projectName: "edge" })).toThrow(/apiKey \(PANDAPROBE_API_KEY\) is missing/);
  });
});
