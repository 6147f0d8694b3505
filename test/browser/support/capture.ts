import type { Envelope, Exporter } from "../../../src/export/types.js";
import type { TraceData } from "../../../src/wire/types.js";
import { validateTrace } from "../../support/contract.js";

/**
 * An `exporter` option that keeps every trace body, each checked against the ingestion contract;
 * reading the traces throws the first contract violation.
 */
export interface CapturingExporter extends Exporter {
  readonly envelopes: Envelope[];
  /** Contract violations of the bodies received; assert it stays empty. */
  readonly failures: unknown[];
  /** The trace bodies received so far, parsed. */
  traces(): TraceData[];
  /** The one trace body named `name`. */
  byName(name: string): TraceData;
  clear(): void;
}

export function capturingExporter(): CapturingExporter {
  const envelopes: Envelope[] = [];
  const failures: unknown[] = [];
  const traces = () => {
    if (failures.length > 0) throw failures[0];
    return envelopes.filter((e) => e.path === "/traces").map((e) => JSON.parse(e.body) as TraceData);
  };
  return {
    envelopes,
    failures,
    enqueue(envelope) {
      envelopes.push(envelope);
      // Kept, not thrown: the client would swallow an exporter's exception (tracing never throws into the host).
      try {
        if (envelope.path === "/traces") validateTrace(JSON.parse(envelope.body));
      } catch (error) {
        failures.push(error);
      }
    },
    flush: () => Promise.resolve(),
    shutdown: () => Promise.resolve(),
    traces,
    byName(name) {
      const found = traces().filter((t) => t.name === name);
      if (found.length !== 1) throw new Error(`expected one trace named ${name}, got ${found.length}`);
      return found[0]!;
    },
    clear() {
      envelopes.length = 0;
      failures.length = 0;
    },
  };
}
