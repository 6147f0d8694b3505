import { DEV } from "../base/dev.js";
import { PandaProbeError } from "../base/errors.js";
import type { Recorder } from "../trace/recorder.js";
import { idFraction } from "../wire/ids.js";
import { clampShort } from "../wire/limits.js";
import { traceBodies } from "../wire/payload.js";
import { spanBodies } from "../wire/span-bodies.js";
import { isContinued } from "../trace/continued-mark.js";
import type { SpanData, TraceHeader } from "../wire/types.js";
import { isOpen, type SendTrace, type SpanHold } from "./span-hold.js";
import type { Envelope, Exporter } from "./types.js";

export interface PipelineOptions {
  exporter: Exporter;
  environment: string | undefined;
  release: string | undefined;
  maxPayloadSize: number;
  /**
   * Holds traces so that their spans share requests (servers); without it, a span still open when
   * its trace ends goes alone when it ends (browsers: a page may close at any moment).
   */
  hold?: ((send: SendTrace) => SpanHold) | undefined;
  report(error: PandaProbeError): void;
  /** Present only in debug mode. */
  log: ((message: string) => void) | undefined;
  /** The share of traces kept, each decided from its id (`idFraction`); absent: all are. */
  sampleRate?: number | undefined;
  /** The client's mask and record switches over each wire object, in place (controls.ts). */
  control?: ((data: object) => void) | undefined;
}

export interface TracePipeline extends Recorder {
  /** Whether the trace with this id is kept: what its trace's spans and scores follow. */
  sampled(traceId: string): boolean;
  /** Sends what the hold keeps now, spans still open as they are. */
  flush(): void;
  /**
   * Traces still running on this pipeline's client end in next (and in the one after, if replaced
   * again); nowhere when the replacement is disabled. What this pipeline holds goes out first.
   */
  handOver(next: Recorder | undefined): void;
}

/**
 * The way from an ended trace to the exporter: takes the trace's wire data, makes its request
 * bodies (now, or later where the exporter defers them: browsers) and queues them.
 *
 * - Never throws into the host: what fails is reported as `internal`.
 * - The data is taken in the caller's turn, so later changes to the trace do not leak into it.
 * - Order-proof upserts: the backend may apply two upserts of a trace in either order, so a span
 *   goes out only in its final state; a span still open when its trace ends is left out, and
 *   follows when it ends (held with its trace where there is a hold: span-hold.ts).
 * - Once handed over (`init()` replaced the client), traces still running reach the successor.
 * - A trace continued from another tier (continuation.ts) sends its spans only, to
 *   `POST /traces/{id}/spans`, which the exporter retries while the trace is not stored yet.
 *
 * A closure rather than a class: its state and helpers are local names, which minify, where a
 * class's private members would ship their names to every page.
 */
export function createPipeline(options: PipelineOptions): TracePipeline {
  const { exporter, maxPayloadSize, report, log, sampleRate, control } = options;
  const sampled = (traceId: string) => sampleRate === undefined || idFraction(traceId) < sampleRate;
  const environment = clampShort(options.environment);
  const release = clampShort(options.release);
  let successor: Recorder | undefined;

  const failed = (error: unknown) =>
    report(new PandaProbeError("internal", `PandaProbe: could not record a trace: ${String(error)}`, { cause: error }));

  const envelopes = (header: TraceHeader, spans: SpanData[]): Envelope[] => {
    try {
      // Another tier owns this trace's fields: only its spans go, upserted onto the stored trace.
      if (isContinued(header)) {
        const path = `/traces/${header.trace_id}/spans`;
        return spanBodies(spans, maxPayloadSize).map((body) => ({ path, body, traceId: header.trace_id }));
      }
      header.environment ??= environment;
      header.release ??= release;
      const bodies = traceBodies(header, spans, maxPayloadSize);
      log?.(`trace ${header.trace_id} queued (${spans.length} spans, ${bodies.length} request(s))`);
      return bodies.map((body) => ({ path: "/traces", body, traceId: header.trace_id }));
    } catch (error) {
      failed(error);
      return [];
    }
  };

  const send: SendTrace = (header, spans) => {
    if (exporter.enqueueLater) exporter.enqueueLater(() => envelopes(header, spans));
    else for (const envelope of envelopes(header, spans)) exporter.enqueue(envelope);
  };

  const hold = options.hold?.(send);
  const flush = () => hold?.flush();

  return {
    record(data, phase) {
      if (successor) return successor.record(data, phase);
      let header: TraceHeader, spans: SpanData[];
      try {
        [header, spans] = data();
        // Traces of this client were sampled as they began; a pre-built one is decided here.
        if (phase === "prebuilt" && !sampled(header.trace_id)) return;
        if (control) [header, ...spans].forEach(control);
      } catch (error) {
        return failed(error);
      }
      if (hold?.holds(header.trace_id)) return hold.take(header, spans, phase);
      if (phase === "prebuilt" || (phase === "ended" && !spans.some(isOpen))) return send(header, spans);
      if (hold) return hold.take(header, spans, phase);
      send(header, phase === "ended" ? spans.filter((span) => !isOpen(span)) : spans);
    },
    sampleRate,
    sampled,
    flush,
    handOver(next) {
      flush();
      successor = next ?? { record() {} };
    },
    warnOnce: DEV && process.env.NODE_ENV !== "production" ? warnOnce() : undefined,
  };
}

/** Development builds: each warning once per client. */
function warnOnce(): (key: string, message: string) => void {
  const warned = new Set<string>();
  return (key, message) => {
    if (warned.has(key)) return;
    warned.add(key);
    console.warn(`[pandaprobe] ${message}`);
  };
}
