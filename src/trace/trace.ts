import { DEV } from "../base/dev.js";
import { activeContext } from "./trace-context.js";
import { TraceStatus } from "../wire/enums.js";
import { assertOneOf, assertString, assertTags } from "../base/guards.js";
import { clampName, clampShort, MAX_ID_LENGTH } from "../wire/limits.js";
import type { Recorder, RecordPhase } from "./recorder.js";
import { runInSpan } from "./run-in.js";
import { Observation, SKIP_ALL, SKIP_CHILD_INPUTS, SKIP_INPUT } from "./observation.js";
import { errorText, Span, type SpanOptions } from "./span.js";
import { isoTime } from "../wire/time.js";
import { drawForId, drawFraction, uuid, uuidWithDraw } from "../wire/ids.js";
import type { TraceHeader } from "../wire/types.js";

export interface TraceOptions {
  input?: unknown;
  sessionId?: string;
  userId?: string;
  tags?: string[];
  metadata?: Record<string, unknown>;
}

export const TRACE_OPTION_KEYS = ["input", "sessionId", "userId", "tags", "metadata"] as const;

const NO_SPANS: Span[] = Object.freeze([]) as never;

/** One logical run (a user turn of an agent) and its tree of spans. */
export class Trace extends Observation {
  // Fields are declared and assigned in the constructor (see Observation).
  declare private id: string | undefined;
  /** What a sampled client drew for a trace of its own; the id, when made, ends in it (wire/ids.ts). */
  declare private draw: number | undefined;
  declare readonly sessionId: string | undefined;
  declare readonly userId: string | undefined;
  /** Every span opened in this trace, ended or not, in opening order. */
  declare readonly spans: Span[];
  declare private readonly recorder: Recorder | undefined;
  declare private name: string;
  declare private status: TraceStatus | undefined;
  declare private readonly startedAt: number;
  declare private endedAt: number | undefined;
  declare private tags: string[] | undefined;
  declare private inertSpan: Span | undefined;
  /** @internal Not recorded because sampling decided so, here or on the tier that started it (not because tracing is off). */
  declare readonly sampledOut: boolean;
  /** The parent of this trace's top-level spans: a span of another tier when the trace continues one. */
  declare protected topParentSpanId: string | undefined;

  constructor(
    name: string,
    options: TraceOptions | undefined,
    ids: { sessionId: string | undefined; userId: string | undefined },
    recorder: Recorder | undefined,
    /** Given when another tier started the trace, with its sampling decision; otherwise the id is made when first read. */
    remote?: { traceId: string; sampled?: boolean },
  ) {
    super();
    if (DEV && process.env.NODE_ENV !== "production") assertString(name, "trace name");
    this.id = remote?.traceId;
    this.draw = undefined;
    // Sampled out, a trace is as one of a disabled client: nothing recorded, nothing sent. The tier
    // that started a trace decides for every tier after it, as OpenTelemetry's parent-based sampler
    // does: a turn is kept or dropped whole, whatever the rates of the tiers it crosses.
    const kept =
      recorder === undefined ||
      (remote ? remote.sampled !== false : recorder.sampleRate === undefined || this.sampledBy(recorder.sampleRate));
    const recording = kept && recorder !== undefined;
    this.recorder = recording ? recorder : undefined;
    this.sampledOut = !kept;
    this.skip = recording ? 0 : SKIP_ALL;
    // What only the wire reads, a trace not recorded leaves unread: its name and ids cut to the
    // limits, the clock, its options. Its spans are never kept (openSpan).
    this.spans = recording ? [] : NO_SPANS;
    this.name = recording ? clampName(name, "trace") : name;
    this.startedAt = recording ? Date.now() : 0;
    this.sessionId = recording ? this.checkId(ids.sessionId, "session") : ids.sessionId;
    this.userId = recording ? this.checkId(ids.userId, "user") : ids.userId;
    if (options && recording) {
      if (options.input !== undefined) this.setInput(options.input);
      if (options.tags !== undefined) this.setTags(options.tags);
      if (options.metadata !== undefined) this.setMetadata(options.metadata);
    }
  }

  /**
   * Decided from a draw that the id, once made, ends in: so a trace not sampled builds no id unless
   * one is asked for, and its id still tells its decision (`idFraction`) to scores and logged traces.
   */
  private sampledBy(rate: number): boolean {
    return drawFraction((this.draw = drawForId())) < rate;
  }

  private checkId(id: string | undefined, kind: string): string | undefined {
    if (DEV && process.env.NODE_ENV !== "production" && id !== undefined && id.length > MAX_ID_LENGTH) {
      this.recorder?.warnOnce?.(
        `long-${kind}-id`,
        `a ${kind} id longer than ${MAX_ID_LENGTH} characters was cut to fit; ids should be short (UUIDs).`,
      );
    }
    return clampShort(id);
  }

  /** Made when first read: a trace not recorded builds no id unless asked for one. */
  get traceId(): string {
    return (this.id ??= this.draw === undefined ? uuid() : uuidWithDraw(this.draw));
  }

  get ended(): boolean {
    return this.endedAt !== undefined;
  }

  /** Whether this trace will be exported (false when tracing is disabled or unconfigured, or the trace was not sampled). */
  get recording(): boolean {
    return this.recorder !== undefined;
  }

  /**
   * A span of this trace, child of the span current here when that span is of this trace.
   * With fn, the span is current while fn runs and ends when fn settles (ERROR if it throws).
   */
  span(name: string, options?: SpanOptions): Span;
  span<T>(name: string, options: SpanOptions | undefined, fn: (span: Span) => T): T;
  span<T>(name: string, options?: SpanOptions, fn?: (span: Span) => T): Span | T {
    // A trace not recorded has no tree to place the span in, nor anything to make current.
    if (!this.recorder) {
      const inert = this.openSpan(name, options, undefined);
      return fn === undefined ? inert : fn(inert);
    }
    const ctx = activeContext();
    const span = this.openSpan(name, options, ctx.span?.trace === this ? ctx.span : undefined);
    return fn === undefined ? span : runInSpan(ctx, span, () => fn(span), false);
  }

  /**
   * @internal Opens a span of this trace under parent (a span of this trace), or at its top,
   * withholding what its parent withholds (observation.ts).
   */
  openSpan(name: string, options: SpanOptions | undefined, parent: Span | undefined): Span {
    // A trace that records nothing (disabled, sampled out) hands out one span that records nothing.
    if (!this.recording) return (this.inertSpan ??= new Span(this, name, undefined, undefined, SKIP_ALL));
    const skip = parent ? (parent.skip & SKIP_CHILD_INPUTS ? parent.skip | SKIP_INPUT : parent.skip) : this.skip;
    const span = new Span(this, name, options, parent?.spanId ?? this.topParentSpanId, skip);
    this.spans.push(span);
    return span;
  }

  /** @internal */
  spanEnded(span: Span): void {
    if (this.endedAt !== undefined) this.record([span], "late");
  }

  /** Adds tags (the backend unions them). */
  setTags(tags: string[]): this {
    if (DEV && process.env.NODE_ENV !== "production") assertTags(tags);
    // Unchecked in production builds: what is not a string tag is left out.
    if (this.recorder && Array.isArray(tags)) this.tags = [...new Set([...(this.tags ?? []), ...tags.filter((t) => typeof t === "string")])];
    return this;
  }

  setStatus(status: TraceStatus): this {
    if (DEV && process.env.NODE_ENV !== "production") assertOneOf(status, TraceStatus, "trace status");
    this.status = status;
    return this;
  }

  /** @internal Marks the trace failed by the error its body threw. */
  fail(error: unknown): void {
    this.status = "ERROR";
    if (this.recorder) this.setMetadata({ error: errorText(error) });
  }

  /**
   * Ends the trace (COMPLETED unless a status was set) and hands it to the exporter. Idempotent.
   * Given an error (as the official SDK's `end(error)`), as ERROR with its message.
   */
  end(error?: unknown): void {
    if (this.endedAt !== undefined) return;
    if (error !== undefined) this.fail(error);
    this.endedAt = Date.now();
    this.status ??= "COMPLETED";
    this.record(this.spans, "ended");
  }

  /** Hands the trace with these spans to its recorder; the wire data is made when the recorder asks. */
  private record(spans: readonly Span[], phase: RecordPhase): void {
    this.recorder?.record(() => [this.header(), spans.map((span) => span.toData())], phase);
  }

  /** The wire fields as they are now; the client adds its environment and release. */
  header(): TraceHeader {
    return {
      trace_id: this.traceId,
      name: this.name,
      status: this.status ?? "RUNNING",
      input: this.input,
      output: this.output,
      metadata: this.metadata,
      started_at: isoTime(this.startedAt),
      ended_at: isoTime(this.endedAt),
      session_id: this.sessionId,
      user_id: this.userId,
      tags: this.tags,
    } as TraceHeader;
  }
}
