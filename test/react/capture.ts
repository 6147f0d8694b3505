import type { PandaProbeOptions, TraceData } from "pandaprobe";
import { validateTrace } from "../support/contract.js";

export interface Capture {
  /** An exporter option that keeps every envelope in memory. */
  exporter: NonNullable<PandaProbeOptions["exporter"]>;
  /** Every trace body received so far, each checked against the ingestion contract. */
  traces(): TraceData[];
  /** The one trace with this name (there must be exactly one). */
  trace(name: string): TraceData;
}

export function capture(): Capture {
  const bodies: { path: string; body: string }[] = [];
  const traces = (): TraceData[] =>
    bodies.map(({ path, body }) => {
      if (path !== "/traces") throw new Error(`unexpected envelope for ${path}`);
      const parsed: unknown = JSON.parse(body);
      validateTrace(parsed);
      return parsed as TraceData;
    });
  return {
    exporter: {
      enqueue: (envelope) => void bodies.push(envelope),
      flush: () => Promise.resolve(),
      shutdown: () => Promise.resolve(),
    },
    traces,
    trace(name) {
      const found = traces().filter((t) => t.name === name);
      if (found.length !== 1) throw new Error(`expected one trace named ${name}, got ${found.length}`);
      return found[0]!;
    },
  };
}
