import { EventEmitter } from "node:events";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { getCurrentSpan, getCurrentTrace, getSessionId, getUserId, session, span, startTrace, trace, user } from "../../src/index.js";
import { traceToCollector, type Tracing } from "../support/tracing.js";

let tracing: Tracing;
beforeAll(async () => {
  tracing = await traceToCollector({ maxQueueSize: 5000, batchSize: 100, maxConcurrentRequests: 8 });
});
afterAll(() => tracing.close());
afterEach(() => tracing.reset());

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("the current trace, span and scoped ids follow execution (AsyncLocalStorage)", () => {
  it("across awaits, timers, setImmediate, queueMicrotask and promise chains", async () => {
    const seen = await session("s", () =>
      startTrace("carrier", undefined, async (t) => {
        const here = () => [getSessionId(), getCurrentTrace()?.traceId === t.traceId];
        const results: unknown[] = [];
        await pause(1);
        results.push(here());
        results.push(await new Promise((r) => setTimeout(() => r(here()), 1)));
        results.push(await new Promise((r) => setImmediate(() => r(here()))));
        results.push(await new Promise((r) => queueMicrotask(() => r(here()))));
        results.push(await Promise.resolve().then(() => pause(1)).then(() => here()));
        return results;
      }),
    );
    expect(seen).toEqual(Array(5).fill(["s", true]));
  });

  it("into event emitter listeners fired from the traced flow", async () => {
    const emitter = new EventEmitter();
    const heard = new Promise<(string | undefined)[]>((resolve) =>
      emitter.on("done", () => resolve([getUserId(), getCurrentSpan()?.spanId])),
    );
    let spanId = "";
    await user("u-emitter", () =>
      startTrace("emitting", undefined, (t) =>
        t.span("emit", undefined, async (s) => {
          spanId = s.spanId;
          await pause(1);
          setTimeout(() => emitter.emit("done"), 1);
        }),
      ),
    );
    expect(await heard).toEqual(["u-emitter", spanId]);
  });

  it("keeps 1,000 interleaved flows apart: every trace and span carries its own flow's ids", async () => {
    const FLOWS = 1000;
    const step = span(async (flow: number, n: number) => {
      await pause(Math.random() * 3);
      // A step sees its own flow's ids wherever the scheduler took it in between.
      return { flow, n, session: getSessionId(), user: getUserId() };
    }, { name: "step", kind: "TOOL" });
    const agent = trace(async (flow: number) => {
      const results = [];
      for (let n = 0; n < 3; n++) {
        await pause(Math.random() * 3);
        results.push(await step(flow, n));
      }
      return results;
    }, { name: "agent" });

    const returned = await Promise.all(
      Array.from({ length: FLOWS }, (_, flow) =>
        pause(Math.random() * 5).then(() =>
          session(`session-${flow}`, () => user(`user-${flow}`, () => agent(flow))),
        ),
      ),
    );

    for (const [flow, steps] of returned.entries()) {
      expect(steps).toEqual([0, 1, 2].map((n) => ({ flow, n, session: `session-${flow}`, user: `user-${flow}` })));
    }
    const sent = await tracing.sent();
    expect(sent).toHaveLength(FLOWS);
    for (const t of sent) {
      const flow = t.input as number;
      expect([t.session_id, t.user_id]).toEqual([`session-${flow}`, `user-${flow}`]);
      expect(t.spans).toHaveLength(3);
      for (const s of t.spans) {
        expect(s.input).toEqual([flow, expect.any(Number)]);
        expect(s.output).toMatchObject({ flow, session: `session-${flow}`, user: `user-${flow}` });
        expect(s.parent_span_id).toBeUndefined();
        expect(s.status).toBe("OK");
      }
    }
  });
});
