import { DEV } from "../base/dev.js";
import { PandaProbeError } from "../base/errors.js";
import type { Recorder } from "../trace/recorder.js";
import { clampShort } from "../wire/limits.js";
import { traceBodies } from "../wire/payload.js";
import type { SpanData, TraceHeader } from "../wire/types.js";
import type { Envelope, Exporter } from "./types.js";

export interface PipelineOptions {
  exporter: Exporter;
  environment: string | undefined;
  release: string | undefined;
  maxPayloadSize: number;
  report(error: PandaProbeError): void;
  /** Present only in debug mode. */
  log: ((message: string) => void) | undefined;
}

/**
 * The way from an ended trace to the exporter: takes the trace's wire data now, makes its request
 * bodies (now, or later where the exporter defers them: browsers) and queues them.
 *
 * - Never throws into the host: what fails is reported as `internal`.
 * - The data is taken in the caller's turn, so later changes to the trace do not leak into it.
 * - Once handed over (`init()` replaced the client), traces still running reach the successor.
 */
export class TracePipeline implements Recorder {
  // Declared and assigned in the constructor: bundles for ES2020 turn field initializers into helper calls.
  declare private readonly options: PipelineOptions;
  declare private successor: Recorder | undefined;
  declare private warned: Set<string> | undefined;

  constructor(options: PipelineOptions) {
    this.options = {
      ...options,
      environment: clampShort(options.environment),
      release: clampShort(options.release),
    };
  }

  record(data: () => [TraceHeader, SpanData[]]): void {
    if (this.successor) return this.successor.record(data);
    const { exporter } = this.options;
    let header: TraceHeader, spans: SpanData[];
    try {
      [header, spans] = data();
    } catch (error) {
      return this.failed(error);
    }
    if (exporter.enqueueLater) exporter.enqueueLater(() => this.envelopes(header, spans));
    else for (const envelope of this.envelopes(header, spans)) exporter.enqueue(envelope);
  }

  /**
   * Traces still running on this pipeline's client end in next (and in the one after, if replaced
   * again); nowhere when the replacement is disabled.
   */
  handOver(next: Recorder | undefined): void {
    this.successor = next ?? { record() {} };
  }

  warnOnce(key: string, message: string): void {
    if (!(DEV && process.env.NODE_ENV !== "production")) return;
    const warned = (this.warned ??= new Set());
    if (warned.has(key)) return;
    warned.add(key);
    console.warn(`[pandaprobe] ${message}`);
  }

  private envelopes(header: TraceHeader, spans: SpanData[]): Envelope[] {
    const { environment, release, maxPayloadSize, log } = this.options;
    try {
      header.environment ??= environment;
      header.release ??= release;
      const bodies = traceBodies(header, spans, maxPayloadSize);
      log?.(`trace ${header.trace_id} queued (${spans.length} spans, ${bodies.length} request(s))`);
      return bodies.map((body) => ({ path: "/traces", body }));
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
