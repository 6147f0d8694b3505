import { DEV } from "../base/dev.js";
import { activeContext } from "./trace-context.js";
import { SpanKind, SpanStatusCode } from "../wire/enums.js";
import { assertOneOf, assertPlainObject, assertString } from "../base/guards.js";
import { clampName, clampShort } from "../wire/limits.js";
import { runInSpan } from "./run-in.js";
import { NOT_RECORDED, Observation } from "./observation.js";
import { jsonObject, toJsonSafe, truncateString } from "../wire/serialize.js";
import { epochMs, isoTime, isWireTime } from "../wire/time.js";
import { numbersOnly, tokenCounts } from "../wire/usage.js";
import { uuid } from "../wire/ids.js";
import type { JsonObject, SpanData, TokenUsage } from "../wire/types.js";
import type { Trace } from "./trace.js";

export interface SpanOptions {
  kind?: SpanKind;
  input?: unknown;
  model?: string;
  metadata?: Record<string, unknown>;
  modelParameters?: Record<string, unknown>;
}

export const SPAN_OPTION_KEYS = ["kind", "input", "model", "metadata", "modelParameters"] as const;

/** Keys that never belong in recorded model parameters. */
const CREDENTIAL_KEY = /api[_-]?key|secret|password|authorization|^headers$|access[_-]?token|bearer|cookie/i;
const MAX_ERROR_LENGTH = 10_000;

const describeError = (error: unknown): string =>
  error instanceof Error
    ? typeof error.stack === "string" && error.stack.includes(error.message)
      ? error.stack
      : `${error.name}: ${error.message}`
    : typeof error === "string"
      ? error
      : JSON.stringify(toJsonSafe(error));

/**
 * The text recorded for a thrown value: its stack (which starts with name and message) when it has
 * one, then its causes: Node's "TypeError: fetch failed" says why (ECONNREFUSED...) only there.
 */
export function errorText(error: unknown): string {
  let text: string;
  try {
    text = describeError(error);
    for (let e = error, depth = 0; e instanceof Error && e.cause !== undefined && depth < 3; depth++) {
      text += `\nCaused by: ${describeError((e = e.cause))}`;
    }
  } catch {
    // The host's exception is rethrown after this: reading it must not replace it. A Proxy whose
    // traps throw, or a stack that Error.prepareStackTrace fails to format, is described by the
    // serializer, which never throws.
    text = JSON.stringify(toJsonSafe(error));
  }
  // A visible marker, and never half of a surrogate pair: a huge stack is data, not a failure.
  return truncateString(text, MAX_ERROR_LENGTH);
}

/** One step of a trace. Handles carry their trace and parent, so no ambient context is needed. */
export class Span extends Observation {
  // Fields are declared and assigned in the constructor (see Observation).
  declare private id: string | undefined;
  declare readonly trace: Trace;
  declare readonly parentSpanId: string | undefined;
  declare private name: string;
  declare private kind: SpanKind;
  declare private status: SpanStatusCode;
  declare private readonly startedAt: number;
  declare private endedAt: number | undefined;
  declare private model: string | undefined;
  declare private tokenUsage: TokenUsage | undefined;
  declare private modelParameters: JsonObject | undefined;
  declare private cost: Record<string, number> | undefined;
  declare private error: string | undefined;
  declare private completionStartTime: number | undefined;

  constructor(trace: Trace, name: string, options: SpanOptions | undefined, parentSpanId: string | undefined, skip: number) {
    super();
    this.skip = skip;
    // Read only for the wire: a span not recorded has no use for the clock.
    this.startedAt = skip & NOT_RECORDED ? 0 : Date.now();
    if (DEV && process.env.NODE_ENV !== "production") assertString(name, "span name");
    this.trace = trace;
    this.parentSpanId = parentSpanId;
    this.name = clampName(name, "span");
    this.kind = "OTHER";
    this.status = "UNSET";
    if (options) {
      if (options.kind !== undefined) {
        if (DEV && process.env.NODE_ENV !== "production") assertOneOf(options.kind, SpanKind, "span kind");
        this.kind = options.kind;
      }
      if (options.input !== undefined) this.setInput(options.input);
      if (options.model !== undefined) this.setModel(options.model);
      if (options.metadata !== undefined) this.setMetadata(options.metadata);
      if (options.modelParameters !== undefined) this.setModelParameters(options.modelParameters);
    }
  }

  /** Made when first read: a span of a trace that is not recorded builds no id unless asked for one. */
  get spanId(): string {
    return (this.id ??= uuid());
  }

  get ended(): boolean {
    return this.endedAt !== undefined;
  }

  /** A child of this span. With fn, the child is current while fn runs and ends when it settles. */
  span(name: string, options?: SpanOptions): Span;
  span<T>(name: string, options: SpanOptions | undefined, fn: (span: Span) => T): T;
  span<T>(name: string, options?: SpanOptions, fn?: (span: Span) => T): Span | T {
    const child = this.trace.openSpan(name, options, this);
    return fn === undefined ? child : runInSpan(activeContext(), child, () => fn(child), false);
  }

  setModel(model: string): this {
    if (DEV && process.env.NODE_ENV !== "production") assertString(model, "model");
    this.model = clampShort(model);
    return this;
  }

  setTokenUsage(usage: TokenUsage): this {
    if (DEV && process.env.NODE_ENV !== "production") assertPlainObject(usage, "token usage");
    // Unchecked in production builds: usage that is not an object is left out.
    this.tokenUsage = tokenCounts(usage) ?? this.tokenUsage;
    return this;
  }

  /** Keeps the model's knobs and drops anything that looks like a credential. */
  setModelParameters(parameters: Record<string, unknown>): this {
    if (DEV && process.env.NODE_ENV !== "production") assertPlainObject(parameters, "model parameters");
    if (this.skip & NOT_RECORDED) return this;
    const kept = jsonObject(parameters) ?? {};
    for (const key in kept) if (CREDENTIAL_KEY.test(key)) delete kept[key];
    this.modelParameters = kept;
    return this;
  }

  setCost(cost: Record<string, number>): this {
    if (DEV && process.env.NODE_ENV !== "production") assertPlainObject(cost, "cost");
    this.cost = numbersOnly(cost) ?? {};
    return this;
  }

  /** Time to first token. An invalid date (data from a provider) is ignored rather than failing the trace. */
  setCompletionStartTime(time: Date | number): this {
    const ms = epochMs(time);
    if (isWireTime(ms)) this.completionStartTime = ms;
    return this;
  }

  setError(error: unknown): this {
    this.status = "ERROR";
    if (!(this.skip & NOT_RECORDED)) this.error = errorText(error);
    return this;
  }

  /** Ends the span: OK unless an error was recorded. Idempotent. */
  /** Spans start when opened; this is for code written against the official SDK, which starts them apart. */
  start(): this {
    return this;
  }

  /** Ends the span; given an error (as the official SDK's `end(error)`), as ERROR with it. */
  end(error?: unknown): void {
    if (this.endedAt !== undefined) return;
    if (error !== undefined) this.setError(error);
    this.endedAt = Date.now();
    if (this.status === "UNSET") this.status = "OK";
    this.trace.spanEnded(this);
  }

  toData(): SpanData {
    return {
      span_id: this.spanId,
      parent_span_id: this.parentSpanId,
      name: this.name,
      kind: this.kind,
      status: this.status,
      input: this.input,
      output: this.output,
      model: this.model,
      token_usage: this.tokenUsage,
      metadata: this.metadata,
      started_at: isoTime(this.startedAt),
      ended_at: isoTime(this.endedAt),
      error: this.error,
      completion_start_time: isoTime(this.completionStartTime),
      model_parameters: this.modelParameters,
      cost: this.cost,
    } as SpanData;
  }
}
