/**
 * The Node build in short-lived functions: `exportMode: "immediate"` sends each ended trace at
 * once (no batch, no span hold), `waitUntil` keeps the invocation alive for it, and a runtime
 * whose `process.on` throws (Next.js's edge sandbox) still gets a client.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { Client, PandaProbeError, startTrace, init, shutdown } from "../../src/index.js";
import { startCollector, type Collector } from "../support/collector.js";

let collector: Collector;
beforeAll(async () => {
  collector = await startCollector();
});
afterAll(async () => {
  await shutdown();
  await collector.close();
});

const options = () => ({ apiKey: "sk_pp_fn", projectName: "fn", endpoint: collector.url, flushInterval: 3600, batchSize: 100 });

describe("serverless delivery on Node", () => {
  it("creates a client where process.on throws, as in Next.js's edge sandbox (first client of this module: the hook is tried here)", () => {
    const on = vi.spyOn(process, "on").mockImplementation(() => {
      throw new Error("A Node.js API is used (process.on) which is not supported in the Edge Runtime.");
    });
    try {
      expect(new Client(options()).enabled).toBe(true);
      expect(on).toHaveBeenCalledWith("beforeExit", expect.any(Function));
    } finally {
      on.mockRestore();
    }
  });

  it('exportMode "immediate" sends an ended trace at once, its open spans following when they end', async () => {
    collector.reset();
    init({ ...options(), exportMode: "immediate" });
    const trace = startTrace("fn-call");
    const open = trace.span("still-running");
    trace.span("done").end();
    trace.end();
    await collector.waitFor(() => collector.traces().length === 1, 30_000);
    expect(collector.traces()[0]!.spans?.map((s) => s.name)).toEqual(["done"]);
    open.end();
    // A second upsert of the same trace, with the span in its final state.
    await collector.waitFor(() => collector.traces().length === 2, 30_000);
    const upsert = collector.traces()[1]!;
    expect([upsert.trace_id, upsert.spans?.map((s) => s.name)]).toEqual([trace.traceId, ["still-running"]]);
    expect(collector.contractFailures).toEqual([]);
  });

  it("waitUntil receives each delivery, settled once the backend accepted it", async () => {
    collector.reset();
    const kept: Promise<unknown>[] = [];
    init({ ...options(), waitUntil: (promise) => void kept.push(promise) });
    startTrace("kept-alive").end();
    expect(kept).toHaveLength(1);
    await kept[0];
    expect(collector.traces().map((t) => t.name)).toEqual(["kept-alive"]);
  });

  it("takes the mode from PANDAPROBE_EXPORT_MODE and refuses an unknown one, naming it", () => {
    vi.stubEnv("PANDAPROBE_EXPORT_MODE", "immediate");
    expect(new Client(options()).config.exportMode).toBe("immediate");
    vi.stubEnv("PANDAPROBE_EXPORT_MODE", "lazy");
    expect(() => new Client(options())).toThrow('PANDAPROBE_EXPORT_MODE must be "batch" or "immediate", got "lazy".');
    vi.unstubAllEnvs();
    const error = (() => {
      try {
        new Client({ ...options(), exportMode: "now" as never });
      } catch (caught) {
        return caught as PandaProbeError;
      }
    })();
    expect(error).toBeInstanceOf(PandaProbeError);
    expect(error).toMatchObject({ code: "config", message: 'PandaProbe: option "exportMode" must be "batch" or "immediate", got "now".' });
  });
});
