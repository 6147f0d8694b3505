import { DEV } from "../base/dev.js";
import type { Env } from "../config/env.js";
import { configError, resolveConfig, type PandaProbeOptions, type ResolvedConfig } from "../config/options.js";
import { activeContext } from "../trace/trace-context.js";
import { PandaProbeError } from "../base/errors.js";
import { createPipeline, type TracePipeline } from "../export/pipeline.js";
import { dataControls } from "../export/controls.js";
import type { Exporter } from "../export/types.js";
import { ScoreDataType } from "../wire/enums.js";
import {
  assertFunction,
  assertKnownKeys,
  assertOneOf,
  assertOptionalString,
  assertPlainObject,
  assertString,
} from "../base/guards.js";
import type { Recorder } from "../trace/recorder.js";
import { runInTrace } from "../trace/run-in.js";
import { assertUuid } from "../wire/ids.js";
import { jsonObject } from "../wire/serialize.js";
import type { Span } from "../trace/span.js";
import { checkPrebuilt, normalizePrebuilt, type PrebuiltTrace } from "../wire/prebuilt.js";
import { Trace, TRACE_OPTION_KEYS, type TraceOptions } from "../trace/trace.js";
import type { TraceScoreData } from "../wire/types.js";
import { currentPlatform } from "../platform/platform.js";
import { dispatchError, type ErrorHandler } from "./report.js";
import { traceFunction, spanFunction, type SpanFnOptions, type TraceFnOptions } from "../trace/decorators.js";
import { resolveIds } from "../trace/ids.js";

export interface ScoreOptions {
  dataType?: ScoreDataType;
  /** null (as the official SDK's signature allows) is no reason. */
  reason?: string | null;
  metadata?: Record<string, unknown>;
}

const DEFAULT_FLUSH_TIMEOUT = 30;
const DEFAULT_SHUTDOWN_TIMEOUT = 10;
/** A timeout in seconds as the exporters take it; one that is not a number means no deadline. */
const seconds = (timeout: number) => (typeof timeout === "number" ? timeout * 1000 : undefined);

const NUMERIC = /^\s*-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/;

function scoreDataType(value: number | boolean | string): ScoreDataType {
  if (typeof value === "number") return "NUMERIC";
  if (typeof value === "boolean") return "BOOLEAN";
  return NUMERIC.test(value) ? "NUMERIC" : "CATEGORICAL";
}

/** What the backend refuses (422) of a value of this type, or undefined: NUMERIC in [0, 1], BOOLEAN true or false. */
function scoreValueProblem(value: string, dataType: ScoreDataType): string | undefined {
  if (dataType === "NUMERIC") {
    const n = NUMERIC.test(value) ? Number(value) : NaN;
    return n >= 0 && n <= 1 ? undefined : `a NUMERIC score must be a number in [0, 1], got ${JSON.stringify(value)}`;
  }
  if (dataType === "BOOLEAN" && value !== "true" && value !== "false") {
    return `a BOOLEAN score must be true or false, got ${JSON.stringify(value)}`;
  }
  return undefined;
}

/**
 * One configured connection to PandaProbe: its own exporter, queue and error handlers. The
 * module functions (`startTrace`, `trace`, ...) use the global one that `init()` sets.
 */
export class Client {
  // Declared and assigned in the constructor: bundles for ES2020 turn each class field
  // initializer into a helper call.
  declare readonly config: ResolvedConfig;
  declare private readonly exporter: Exporter | undefined;
  declare private readonly pipeline: TracePipeline | undefined;
  declare private readonly handlers: Set<ErrorHandler>;
  declare private readonly report: ((error: PandaProbeError) => void) | undefined;
  declare private readonly control: ((data: object) => void) | undefined;
  declare private readonly stopFlushOnExit: (() => void) | undefined;
  declare private stopping: Promise<void> | undefined;

  constructor(options?: PandaProbeOptions, env: Env | undefined = currentPlatform().env()) {
    const platform = currentPlatform();
    const config = (this.config = resolveConfig(options, env && platform.readEnv?.(env, options), platform.defaults));
    platform.checkOptions?.(options, config);
    const handlers = (this.handlers = new Set());
    if (!config.enabled) return;
    // A custom exporter decides itself where traces go; the built-in ones need credentials.
    const refused = config.exporter ? undefined : platform.refuse(config);
    if (refused) throw configError(refused);
    const printed = new Set<string>();
    const report = (this.report = (error: PandaProbeError) => dispatchError(error, handlers, printed, config.debug));
    const log = config.debug ? (message: string) => console.debug(`[pandaprobe] ${message}`) : undefined;
    const exporter = (this.exporter = config.exporter ?? platform.createExporter(config, { report, log }));
    const { environment, release, maxPayloadSize } = config;
    const hold = platform.spanHold?.(config);
    const control = (this.control = dataControls(config, report));
    const sampleRate = config.sampleRate === 1 ? undefined : config.sampleRate;
    this.pipeline = createPipeline({ exporter, environment, release, maxPayloadSize, hold, report, log, sampleRate, control });
    this.stopFlushOnExit = platform.flushOnExit?.(() => this.flush());
  }

  get enabled(): boolean {
    return this.exporter !== undefined;
  }

  /** @internal Where this client's traces go; undefined when disabled. */
  recorder(): Recorder | undefined {
    return this.pipeline;
  }

  /** @internal Traces still running on this client end in next (init() replaced this client). */
  handOver(next: Client): void {
    this.pipeline?.handOver(next.pipeline);
  }

  /** Registers a handler for this client's background errors; returns a function that removes it. */
  onError(handler: ErrorHandler): () => void {
    if (DEV && process.env.NODE_ENV !== "production") assertFunction(handler, "onError handler");
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  startTrace(name: string, options?: TraceOptions): Trace;
  startTrace<T>(name: string, options: TraceOptions | undefined, fn: (trace: Trace) => T): T;
  startTrace<T>(name: string, options?: TraceOptions, fn?: (trace: Trace) => T): Trace | T {
    if (DEV && process.env.NODE_ENV !== "production") {
      assertKnownKeys(options, TRACE_OPTION_KEYS, "startTrace option");
      if (fn !== undefined) assertFunction(fn, "startTrace()'s callback");
    }
    const ctx = activeContext();
    const trace = new Trace(name, options, resolveIds(options, ctx), this.pipeline);
    return fn === undefined ? trace : runInTrace(ctx, trace, () => fn(trace));
  }

  trace<F extends (...args: any[]) => any>(fn: F, options?: TraceFnOptions): F {
    return traceFunction(() => this.pipeline, fn, options);
  }

  span<F extends (...args: any[]) => any>(fn: F, options?: SpanFnOptions): F {
    return spanFunction(fn, options);
  }

  getCurrentTrace(): Trace | undefined {
    return activeContext().trace;
  }

  getCurrentSpan(): Span | undefined {
    return activeContext().span;
  }

  /** Scores a trace; the value goes on the wire as a string with its data type. */
  score(traceId: string, name: string, value: number | boolean | string, options?: ScoreOptions): void {
    if (DEV && process.env.NODE_ENV !== "production") {
      // What the backend would refuse with a 422, after the call returned: the score would be lost.
      assertUuid(traceId, "traceId");
      assertString(name, "score name");
      if (!name) throw new TypeError("PandaProbe: score name must not be empty.");
      if (!["number", "boolean", "string"].includes(typeof value)) {
        throw new TypeError(`PandaProbe: score value must be a number, boolean or string, got a ${typeof value}.`);
      }
      if (typeof value === "number" && !Number.isFinite(value)) {
        throw new TypeError(`PandaProbe: score value must be a finite number, got ${value}.`);
      }
      assertKnownKeys(options, ["dataType", "reason", "metadata"], "score option");
      if (options?.dataType !== undefined) assertOneOf(options.dataType, ScoreDataType, "score dataType");
      if (options?.reason !== null) assertOptionalString(options?.reason, "score reason");
      if (options?.metadata != null) assertPlainObject(options.metadata, "score metadata");
    }
    const dataType = options?.dataType ?? scoreDataType(value);
    const problem = scoreValueProblem(String(value), dataType);
    // The backend would refuse it with a 422 after the call returned: said where the mistake is, or reported in production.
    if (problem && DEV && process.env.NODE_ENV !== "production") throw new TypeError(`PandaProbe: ${problem}.`);
    // A score of a trace not sampled goes where its trace went: nowhere.
    if (!this.exporter || this.pipeline?.sampled(traceId) === false) return;
    if (problem) {
      return this.report?.(new PandaProbeError("http_error", `PandaProbe: score "${name}" not sent: ${problem}.`, { status: 422 }));
    }
    const body: TraceScoreData = {
      trace_id: traceId,
      name,
      value: String(value),
      data_type: dataType,
      source: "PROGRAMMATIC",
      reason: options?.reason ?? undefined,
      // An array or a string (production builds skip the check) would have the score refused.
      metadata: jsonObject(options?.metadata),
    };
    this.control?.(body);
    this.exporter.enqueue({ path: "/evaluations/trace-scores", body: JSON.stringify(body), traceId });
  }

  /** Submits a trace built elsewhere; missing ids come from the scope, limits are applied. */
  logTrace(trace: PrebuiltTrace): void {
    if (DEV && process.env.NODE_ENV !== "production") checkPrebuilt(trace);
    // Ids are read here, in the caller's scope; production builds report an unreadable trace instead of throwing.
    const ids = resolveIds({ sessionId: trace?.session_id, userId: trace?.user_id });
    this.pipeline?.record(() => normalizePrebuilt(trace, ids), "prebuilt");
  }

  /**
   * Resolves when everything queued before the call is delivered or given up, or after `timeout`
   * seconds (30 by default, as PandaProbe's other SDKs wait); delivery goes on after that.
   */
  flush(timeout: number = DEFAULT_FLUSH_TIMEOUT): Promise<void> {
    this.pipeline?.flush();
    return this.exporter ? this.exporter.flush(seconds(timeout)) : Promise.resolve();
  }

  /**
   * Flushes, then stops. Waits at most `timeout` seconds (10 by default, what the Python SDK waits at
   * exit): what is left then is given up and reported, or stays in the queue directory when there is one.
   * Idempotent.
   */
  shutdown(timeout: number = DEFAULT_SHUTDOWN_TIMEOUT): Promise<void> {
    this.stopFlushOnExit?.();
    this.pipeline?.flush();
    return (this.stopping ??= this.exporter ? this.exporter.shutdown(seconds(timeout)) : Promise.resolve());
  }
}
