import { DEV } from "../base/dev.js";
import { PandaProbeError } from "../base/errors.js";
import { backgroundTimer } from "../base/timers.js";
import type { Recorder, RecordPhase } from "../trace/recorder.js";
import { clampShort } from "../wire/limits.js";
import { traceBodies } from "../wire/payload.js";
import type { SpanData, TraceHeader } from "../wire/types.js";
import type { Envelope, Exporter } from "./types.js";

export interface PipelineOptions {
  exporter: Exporter;
  environment: string | undefined;
  release: string | undefined;
  maxPayloadSize: number;
  /**
   * How long an ended trace waits for its open spans, and late spans for each other, so they
   * share one request; 0 sends at once (browsers: a page may close at any moment).
   */
  holdMs: number;
  report(error: PandaProbeError): void;
  /** Present only in debug mode. */
  log: ((message: string) => void) | undefined;
}

/** A trace waiting for its open spans, or late spans waiting for each other. */
interface Held {
  header: TraceHeader;
  /** Ended spans by id: the latest state of each. */
  ended: Map<string, SpanData>;
  /** Spans open when the trace ended, as they were then: sent only by a flush. */
  open: Map<string, SpanData>;
  /** Held since the trace ended with open spans: goes as soon as they have all ended. */
  awaitsOpen: boolean;
  timer: ReturnType<typeof setTimeout> | undefined;
}

const isOpen = (span: SpanData) => span.ended_at === undefined;

/**
 * The way from an ended trace to the exporter: takes the trace's wire data, makes its request
 * bodies (now, or later where the exporter defers them: browsers) and queues them.
 *
 * - Never throws into the host: what fails is reported as `internal`.
 * - The data is taken in the caller's turn, so later changes to the trace do not leak into it.
 * - Order-proof upserts: the backend may apply two upserts of a trace in either order, so a span
 *   goes out only in its final state; a span still open is left out (and sent as it is only by a
 *   flush, the last chance before the process or function stops).
 * - Fewer requests: an ended trace with open spans waits up to `holdMs` for them, and spans that
 *   end after their trace was sent wait up to `holdMs` for each other: one upsert each.
 * - Once handed over (`init()` replaced the client), traces still running reach the successor.
 */
export class TracePipeline implements Recorder {
  // Declared and assigned in the constructor: bundles for ES2020 turn field initializers into helper calls.
  declare private readonly options: PipelineOptions;
  declare private readonly held: Map<string, Held>;
  declare private successor: Recorder | undefined;
  declare private warned: Set<string> | undefined;

  constructor(options: PipelineOptions) {
    this.options = { ...options, environment: clampShort(options.environment), release: clampShort(options.release) };
    this.held = new Map();
  }

  record(data: () => [TraceHeader, SpanData[]], phase: RecordPhase): void {
    if (this.successor) return this.successor.record(data, phase);
    let header: TraceHeader, spans: SpanData[];
    try {
      [header, spans] = data();
    } catch (error) {
      return this.failed(error);
    }
    const held = this.held.get(header.trace_id);
    if (held) return this.join(held, header, spans);
    if (phase === "prebuilt" || (phase === "ended" && !spans.some(isOpen))) return this.send(header, spans);
    if (this.options.holdMs === 0) return this.send(header, spans.filter((span) => !isOpen(span)));
    const entry: Held = { header, ended: new Map(), open: new Map(), awaitsOpen: phase === "ended", timer: undefined };
    this.held.set(header.trace_id, entry);
    entry.timer = backgroundTimer(() => this.release(header.trace_id, false), this.options.holdMs);
    this.join(entry, header, spans);
  }

  /** Sends every held trace and late span now, with spans still open as they are. */
  flush(): void {
    for (const id of [...this.held.keys()]) this.release(id, true);
  }

  /**
   * Traces still running on this pipeline's client end in next (and in the one after, if replaced
   * again); nowhere when the replacement is disabled. What this pipeline holds goes out first.
   */
  handOver(next: Recorder | undefined): void {
    this.flush();
    this.successor = next ?? { record() {} };
  }

  warnOnce(key: string, message: string): void {
    if (!(DEV && process.env.NODE_ENV !== "production")) return;
    const warned = (this.warned ??= new Set());
    if (warned.has(key)) return;
    warned.add(key);
    console.warn(`[pandaprobe] ${message}`);
  }

  private join(held: Held, header: TraceHeader, spans: SpanData[]): void {
    held.header = header;
    for (const span of spans) {
      if (isOpen(span)) {
        held.open.set(span.span_id, span);
      } else {
        held.open.delete(span.span_id);
        held.ended.set(span.span_id, span);
      }
    }
    // The last open span ended: nothing is left to wait for.
    if (held.awaitsOpen && held.open.size === 0) this.release(header.trace_id, false);
  }

  private release(traceId: string, withOpen: boolean): void {
    const held = this.held.get(traceId);
    if (!held) return;
    this.held.delete(traceId);
    clearTimeout(held.timer);
    const spans = [...held.ended.values()];
    if (withOpen) spans.push(...held.open.values());
    this.send(held.header, spans);
  }

  private send(header: TraceHeader, spans: SpanData[]): void {
    const { exporter } = this.options;
    if (exporter.enqueueLater) exporter.enqueueLater(() => this.envelopes(header, spans));
    else for (const envelope of this.envelopes(header, spans)) exporter.enqueue(envelope);
  }

  private envelopes(header: TraceHeader, spans: SpanData[]): Envelope[] {
    const { environment, release, maxPayloadSize, log } = this.options;
    try {
      header.environment ??= environment;
      header.release ??= release;
      const bodies = traceBodies(header, spans, maxPayloadSize);
      log?.(`trace ${header.trace_id} queued (${spans.length} spans, ${bodies.length} request(s))`);
      return bodies.map((body) => ({ path: "/traces", body, traceId: header.trace_id }));
    } catch (error) {
      this.failed(error);
      return [];
    }
  }

  private failed(error: unknown): void {
    this.options.report(
      new PandaProbeError("internal", `PandaProbe: could not record a trace: ${String(error)}`, { cause: error }),
    );
  }
}
