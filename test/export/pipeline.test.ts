/**
 * The pipeline from an ended trace to the exporter: spans go out only in their final state (the
 * backend may apply two upserts of a trace in either order), and late spans share requests.
 */
import { afterEach, describe, expect, it } from "vitest";
import { SpanKind, startTrace } from "../../src/index.js";
import type { TraceData } from "../../src/wire/types.js";
import { traceToCollector, type Tracing } from "../support/tracing.js";

let tracing: Tracing;
afterEach(() => tracing?.close());

const names = (body: TraceData) => body.spans.map((s) => `${s.name}:${s.status}`).sort();
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("an ended trace with open spans", () => {
  it("waits for them: a span that ends within the hold goes in the trace's one request, never UNSET", async () => {
    // flushInterval sets the hold on Node: long enough that only the span's end can release the trace.
    tracing = await traceToCollector({ flushInterval: 30 });
    const t = startTrace("waits", { input: "go" });
    t.span("on-time").end();
    const slow = t.span("slow", { kind: SpanKind.TOOL });
    t.end();
    await pause(20);
    slow.setOutput("done").end();
    await tracing.client.flush();

    const bodies = tracing.collector.traces();
    expect(bodies).toHaveLength(1);
    expect(names(bodies[0]!)).toEqual(["on-time:OK", "slow:OK"]);
    expect(bodies[0]!.spans.find((s) => s.name === "slow")).toMatchObject({ output: "done", kind: "TOOL" });
  });

  it("goes without them once the hold is over, and they follow in one upsert, in their final state only", async () => {
    tracing = await traceToCollector({ flushInterval: 0.05 });
    const t = startTrace("holds-briefly");
    t.span("on-time").end();
    const late = [t.span("late-1"), t.span("late-2"), t.span("late-3")];
    t.end();
    await tracing.collector.waitFor((requests) => requests.length === 1);
    expect(names(tracing.collector.traces()[0]!)).toEqual(["on-time:OK"]);

    for (const [i, span] of late.entries()) span.setOutput(`out-${i + 1}`).end();
    await tracing.collector.waitFor((requests) => requests.length === 2);
    await pause(200);

    const bodies = tracing.collector.traces();
    expect(bodies).toHaveLength(2);
    expect(names(bodies[1]!)).toEqual(["late-1:OK", "late-2:OK", "late-3:OK"]);
    expect(bodies[1]!.spans.map((s) => s.output).sort()).toEqual(["out-1", "out-2", "out-3"]);
    // Whichever order the backend applies them in, no span is left UNSET.
    expect(bodies.flatMap((b) => b.spans).filter((s) => s.status === "UNSET")).toEqual([]);
    expect(bodies[1]!.name).toBe("holds-briefly");
  });

  it("costs one request per trace however many spans end after it, when they end within the hold", async () => {
    tracing = await traceToCollector({ flushInterval: 30 });
    for (let i = 0; i < 5; i++) {
      const t = startTrace(`trace-${i}`);
      const spans = [t.span("a"), t.span("b"), t.span("c")];
      t.end();
      for (const span of spans) span.end();
    }
    await tracing.client.flush();
    expect(tracing.collector.traces()).toHaveLength(5);
    for (const body of tracing.collector.traces()) expect(names(body)).toEqual(["a:OK", "b:OK", "c:OK"]);
  });
});

describe("a trace whose spans all ended", () => {
  it("is queued as it ends, without waiting for the hold", async () => {
    // A hold of 30 s, and an exporter that sends each trace as it is queued.
    tracing = await traceToCollector({ flushInterval: 30, batchSize: 1 });
    const t = startTrace("complete");
    t.span("step").end();
    t.end();
    await tracing.collector.waitFor((requests) => requests.length === 1, 10_000);
    expect(names(tracing.collector.traces()[0]!)).toEqual(["step:OK"]);
  });
});
