import type { PandaProbeOptions, TraceData } from "pandaprobe";
import { capturingExporter } from "../browser/support/capture.js";

export interface Capture {
  /** An exporter option that keeps every envelope in memory, each body checked against the contract. */
  exporter: NonNullable<PandaProbeOptions["exporter"]>;
  /** Every trace body received so far. */
  traces(): TraceData[];
  /** The one trace with this name (there must be exactly one). */
  trace(name: string): TraceData;
}

/** The browser tests' capturing exporter, in the shape these tests read best. */
export function capture(): Capture {
  const sink = capturingExporter();
  return { exporter: sink, traces: () => sink.traces(), trace: (name) => sink.byName(name) };
}
