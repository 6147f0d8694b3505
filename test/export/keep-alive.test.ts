/**
 * Serverless delivery: each envelope's delivery is handed to the invocation's waitUntil, which
 * resolves once the backend answered, and is sent at once even by a batching exporter.
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BatchExporter } from "../../src/export/batch-exporter.js";
import { createHttpSender } from "../../src/export/http-sender.js";
import { keepAliveWith, type WaitUntil } from "../../src/export/keep-alive.js";
import type { Envelope } from "../../src/export/types.js";
import { startCollector, type Collector } from "../support/collector.js";

let collector: Collector;
beforeAll(async () => {
  collector = await startCollector();
});
afterAll(() => collector.close());

/** A batch exporter that on its own would wait an hour or 100 envelopes before sending. */
function lazyBatch() {
  const errors: string[] = [];
  const exporter = new BatchExporter({
    send: createHttpSender({ endpoint: collector.url, headers: { "X-API-Key": "k", "X-Project-Name": "p" }, timeoutMs: 10_000 }),
    batchSize: 100,
    flushIntervalMs: 3_600_000,
    maxQueueSize: 1000,
    maxRetries: 0,
    maxConcurrency: 4,
    report: (error) => errors.push(error.message),
  });
  return { exporter, errors };
}

const trace = JSON.parse(readFileSync(new URL("../fixtures/trace-summarization.json", import.meta.url), "utf8")) as { trace_id: string };
const envelope = (settled?: Envelope["settled"]): Envelope => ({ path: "/traces", body: JSON.stringify(trace), traceId: trace.trace_id, settled });

describe("keepAliveWith", () => {
  it("hands each delivery to waitUntil, which settles once the backend accepted it, sent at once", async () => {
    collector.reset();
    const { exporter } = lazyBatch();
    const kept: Promise<unknown>[] = [];
    const outcomes: string[] = [];
    const keptAlive = keepAliveWith(exporter, () => (promise) => void kept.push(promise));
    keptAlive.enqueue(envelope((outcome) => outcomes.push(outcome)));
    expect(kept).toHaveLength(1);
    await kept[0];
    expect(collector.traces().map((t) => t.trace_id)).toEqual([trace.trace_id]);
    expect(outcomes).toEqual(["delivered"]);
    await exporter.shutdown();
  });

  it("settles the kept promise also when the envelope is refused, so the invocation is not held", async () => {
    collector.reset();
    collector.respond(() => ({ status: 422, body: { detail: "no" } }));
    const { exporter, errors } = lazyBatch();
    const kept: Promise<unknown>[] = [];
    keepAliveWith(exporter, () => (promise) => void kept.push(promise)).enqueue(envelope());
    await kept[0];
    expect(errors).toHaveLength(1);
    collector.respond();
    await exporter.shutdown();
  });

  it("without a waitUntil, or with one that throws (Next.js's after() outside a request), queues as the exporter does", async () => {
    collector.reset();
    const { exporter } = lazyBatch();
    const throwing: WaitUntil = () => {
      throw new Error("after() was called outside a request scope");
    };
    keepAliveWith(exporter, () => undefined).enqueue(envelope());
    keepAliveWith(exporter, () => throwing).enqueue(envelope());
    expect(collector.requests).toHaveLength(0);
    await exporter.flush();
    expect(collector.traces()).toHaveLength(2);
    await exporter.shutdown();
  });
});
