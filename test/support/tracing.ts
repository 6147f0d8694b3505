import { expect } from "vitest";
import { init, type Client, type PandaProbeOptions } from "../../src/index.js";
import type { SpanData, TraceData } from "../../src/wire/types.js";
import { startCollector, type Collector } from "./collector.js";

export interface Tracing {
  collector: Collector;
  client: Client;
  /** Flushes, checks every body met the contract, and returns the traces received, merged by trace_id. */
  sent(): Promise<TraceData[]>;
  /** Delivers what is pending, then forgets everything received: a clean slate for the next test. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

/** A global client sending to a real collector on 127.0.0.1. */
export async function traceToCollector(options: PandaProbeOptions = {}): Promise<Tracing> {
  const collector = await startCollector();
  const client = init({
    apiKey: "sk_pp_test",
    projectName: "sdk-tests",
    endpoint: collector.url,
    flushInterval: 0.05,
    ...options,
  });
  return {
    collector,
    client,
    async sent() {
      await client.flush();
      expect(collector.contractFailures).toEqual([]);
      return mergeTraces(collector.traces());
    },
    async reset() {
      await client.flush();
      collector.reset();
    },
    async close() {
      await client.shutdown();
      await collector.close();
    },
  };
}

/** What the backend's upsert makes of several bodies with the same trace_id. */
export function mergeTraces(bodies: TraceData[]): TraceData[] {
  const byId = new Map<string, TraceData>();
  for (const body of bodies) {
    const known = byId.get(body.trace_id);
    if (!known) {
      byId.set(body.trace_id, { ...body, spans: [...body.spans] });
      continue;
    }
    const spans = new Map<string, SpanData>(known.spans.map((s) => [s.span_id, s]));
    for (const span of body.spans) spans.set(span.span_id, span);
    byId.set(body.trace_id, { ...known, ...body, spans: [...spans.values()] });
  }
  return [...byId.values()];
}

export function byName(traces: TraceData[], name: string): TraceData {
  const found = traces.filter((t) => t.name === name);
  expect(found, `exactly one trace named ${name}`).toHaveLength(1);
  return found[0]!;
}
