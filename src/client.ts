import { resolveConfig, type Env, type PandaProbeOptions, type ResolvedConfig } from "./config/options.js";
import { contextManager } from "./context/context.js";
import { PandaProbeError } from "./errors.js";
import type { Exporter } from "./export/types.js";
import { ScoreDataType } from "./model/enums.js";
import { assertFunction, assertKnownKeys, assertOneOf, assertOptionalString, assertString } from "./model/guards.js";
import { clampShort } from "./model/limits.js";
import { traceBodies } from "./model/payload.js";
import type { Recorder } from "./model/recorder.js";
import { runInTrace } from "./model/run-in.js";
import { toJsonSafe } from "./model/serialize.js";
import type { Span } from "./model/span.js";
import { normalizePrebuilt, type PrebuiltTrace } from "./model/prebuilt.js";
import { Trace, TRACE_OPTION_KEYS, type TraceOptions } from "./model/trace.js";
import type { JsonObject, TraceData, TraceScoreData } from "./model/wire.js";
import { currentPlatform } from "./platform/platform.js";
import { dispatchError, type ErrorHandler } from "./report.js";
import { traceFunction, spanFunction, type SpanFnOptions, type TraceFnOptions } from "./tracing/decorators.js";
import { resolveIds } from "./tracing/ids.js";

export interface ScoreOptions {
  dataType?: ScoreDataType;
  reason?: string;
  metadata?: Record<string, unknown>;
}

const NUMERIC = /^\s*-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/;

function scoreDataType(value: number | boolean | string): ScoreDataType {
  if (typeof value === "number") return ScoreDataType.NUMERIC;
  if (typeof value === "boolean") return ScoreDataType.BOOLEAN;
  return NUMERIC.test(value) ? ScoreDataType.NUMERIC : ScoreDataType.CATEGORICAL;
}

/** Clients with something to send when Node's event loop drains. */
const live = new Set<Client>();
let exitHookInstalled = false;

function flushOnExit(client: Client): void {
  live.add(client);
  if (exitHookInstalled) return;
  const proc = (globalThis as { process?: { on?: (event: string, fn: () => void) => void } }).process;
  if (typeof proc?.on !== "function") return;
  exitHookInstalled = true;
  // beforeExit fires again after the flush's work is done; an empty flush schedules nothing.
  proc.on("beforeExit", () => {
    for (const c of live) void c.flush();
  });
}

/**
 * One configured connection to PandaProbe: its own exporter, queue and error handlers. The
 * module functions (`startTrace`, `trace`, ...) use the global one that `init()` sets.
 */
export class Client {
  readonly config: ResolvedConfig;
  private readonly exporter: Exporter | undefined;
  private readonly recorder: Recorder | undefined;
  private readonly handlers = new Set<ErrorHandler>();
  private readonly printed = new Set<string>();
  private readonly warned = new Set<string>();
  private stopping: Promise<void> | undefined;

  constructor(options?: PandaProbeOptions, env: Env | undefined = currentPlatform().env()) {
    this.config = resolveConfig(options, env);
    if (!this.config.enabled) return;
    const platform = currentPlatform();
    // A custom exporter decides itself where traces go; the built-in ones need credentials.
    const refused = this.config.exporter ? undefined : platform.refuse(this.config);
    if (refused) throw new PandaProbeError("config", `PandaProbe: ${refused}`);
    this.exporter =
      this.config.exporter ??
      platform.createExporter(this.config, {
        report: (error) => this.report(error),
        log: this.config.debug ? (message) => this.debug(message) : undefined,
      });
    this.recorder = this.createRecorder();
    flushOnExit(this);
  }

  get enabled(): boolean {
    return this.exporter !== undefined;
  }

  /** @internal Where traces of this client go; undefined when disabled. */
  tracesRecorder(): Recorder | undefined {
    return this.recorder;
  }

  private createRecorder(): Recorder {
    const { environment, release } = this.config;
    return {
      environment: clampShort(environment),
      release: clampShort(release),
      recordTrace: (trace) => this.guard(() => {
        this.sendTrace(trace, trace.spans.map((span) => span.toData()));
      }),
      recordLateSpan: (trace, span) => this.guard(() => this.sendTrace(trace, [span.toData()])),
      warnOnce: (key, message) => this.warnOnce(key, message),
    };
  }

  private sendTrace(trace: Trace, spans: ReturnType<Span["toData"]>[]): void {
    const { environment, release } = this.recorder!;
    this.enqueueTrace(trace.header(environment, release), spans);
  }

  private enqueueTrace(header: ReturnType<Trace["header"]>, spans: TraceData["spans"]): void {
    const bodies = traceBodies(header, spans, this.config.maxPayloadSize);
    if (this.config.debug) this.debug(`trace ${header.trace_id} queued (${spans.length} spans, ${bodies.length} request(s))`);
    for (const body of bodies) this.exporter!.enqueue({ path: "/traces", body });
  }

  /** Tracing never throws into the host: an internal failure is reported instead. */
  private guard(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.report(new PandaProbeError("internal", `PandaProbe: could not record a trace: ${String(error)}`, { cause: error }));
    }
  }

  private report(error: PandaProbeError): void {
    dispatchError(error, this.handlers, this.printed, this.config.debug);
  }

  private debug(message: string): void {
    if (this.config.debug) console.debug(`[pandaprobe] ${message}`);
  }

  private warnOnce(key: string, message: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    console.warn(`[pandaprobe] ${message}`);
  }

  /** Registers a handler for this client's background errors; returns a function that removes it. */
  onError(handler: ErrorHandler): () => void {
    assertFunction(handler, "onError handler");
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  startTrace(name: string, options?: TraceOptions): Trace;
  startTrace<T>(name: string, options: TraceOptions | undefined, fn: (trace: Trace) => T): T;
  startTrace<T>(name: string, options?: TraceOptions, fn?: (trace: Trace) => T): Trace | T {
    assertKnownKeys(options, TRACE_OPTION_KEYS, "startTrace option");
    if (fn !== undefined) assertFunction(fn, "startTrace()'s callback");
    const trace = new Trace(name, options, resolveIds(options), this.recorder);
    return fn === undefined ? trace : runInTrace(trace, () => fn(trace));
  }

  trace<F extends (...args: any[]) => any>(fn: F, options?: TraceFnOptions): F {
    return traceFunction(() => this.recorder, fn, options);
  }

  span<F extends (...args: any[]) => any>(fn: F, options?: SpanFnOptions): F {
    return spanFunction(fn, options);
  }

  getCurrentTrace(): Trace | undefined {
    return contextManager().active().trace;
  }

  getCurrentSpan(): Span | undefined {
    return contextManager().active().span;
  }

  /** Scores a trace; the value goes on the wire as a string with its data type. */
  score(traceId: string, name: string, value: number | boolean | string, options?: ScoreOptions): void {
    assertString(traceId, "traceId");
    assertString(name, "score name");
    if (!["number", "boolean", "string"].includes(typeof value)) {
      throw new TypeError(`PandaProbe: score value must be a number, boolean or string, got a ${typeof value}.`);
    }
    assertKnownKeys(options, ["dataType", "reason", "metadata"], "score option");
    if (options?.dataType !== undefined) assertOneOf(options.dataType, ScoreDataType, "score dataType");
    assertOptionalString(options?.reason, "score reason");
    if (!this.exporter) return;
    const body: TraceScoreData = {
      trace_id: traceId,
      name,
      value: String(value),
      data_type: options?.dataType ?? scoreDataType(value),
      source: "PROGRAMMATIC",
      reason: options?.reason,
      metadata: options?.metadata === undefined ? undefined : (toJsonSafe(options.metadata) as JsonObject),
    };
    this.exporter.enqueue({ path: "/evaluations/trace-scores", body: JSON.stringify(body) });
  }

  /** Submits a trace built elsewhere; missing ids come from the scope, limits are applied. */
  logTrace(trace: PrebuiltTrace): void {
    if (trace === null || typeof trace !== "object") throw new TypeError("PandaProbe: logTrace takes a trace object.");
    const ids = resolveIds({ sessionId: trace.session_id, userId: trace.user_id });
    const { header, spans } = normalizePrebuilt(trace, ids, this.config);
    if (this.recorder) this.guard(() => this.enqueueTrace(header, spans));
  }

  /** Resolves when everything queued before the call is delivered or given up. */
  flush(): Promise<void> {
    return this.exporter ? this.exporter.flush() : Promise.resolve();
  }

  /** Flushes, then stops. Idempotent. */
  shutdown(): Promise<void> {
    live.delete(this);
    return (this.stopping ??= this.exporter ? this.exporter.shutdown() : Promise.resolve());
  }
}
