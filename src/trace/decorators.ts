import { DEV } from "../base/dev.js";
import { activeContext } from "./trace-context.js";
import { assertFunction, assertIds, assertKnownKeys, assertOptionalString } from "../base/guards.js";
import { spanInputFromArgs, traceInputFromArgs, traceOutputFromResult } from "../wire/messages.js";
import type { Recorder, RecorderSource } from "./recorder.js";
import { runInSpan, runInTrace } from "./run-in.js";
import { SPAN_OPTION_KEYS, type SpanOptions } from "./span.js";
import { Trace, TRACE_OPTION_KEYS, type TraceOptions } from "./trace.js";
import { resolveIds } from "./ids.js";

type AnyFunction = (...args: any[]) => any;

export type TraceFnOptions = TraceOptions & {
  name?: string;
  /** The `Client` whose project the traces go to; by default the global one (`init()`). */
  client?: RecorderSource;
};
export type SpanFnOptions = Omit<SpanOptions, "input" | "modelParameters"> & { name?: string };

/** The wrapper keeps fn's name and arity, so stack traces and frameworks that read them see fn. */
function keepIdentity<F extends AnyFunction>(wrapper: AnyFunction, fn: F): F {
  Object.defineProperty(wrapper, "name", { value: fn.name, configurable: true });
  Object.defineProperty(wrapper, "length", { value: fn.length, configurable: true });
  return wrapper as F;
}

/**
 * fn as a trace: each call is one trace, its arguments the input (the last user message), its
 * result the output (the last assistant message). The recorder is looked up per call, so a
 * function wrapped at import time records with the client `init()` creates later.
 */
export function traceFunction<F extends AnyFunction>(
  recorderNow: () => Recorder | undefined,
  fn: F,
  options?: TraceFnOptions,
): F {
  if (DEV && process.env.NODE_ENV !== "production") {
    assertFunction(fn, "trace()'s argument");
    assertKnownKeys(options, [...TRACE_OPTION_KEYS, "name", "client"], "trace() option");
    assertOptionalString(options?.name, "trace name");
    assertIds(options);
  }
  const name = options?.name || fn.name || "trace";
  return keepIdentity(function (this: unknown, ...args: unknown[]) {
    const recorder = recorderNow();
    if (recorder === undefined) return fn.apply(this, args);
    const ctx = activeContext();
    const trace = new Trace(name, options, resolveIds(options, ctx), recorder);
    if (options?.input === undefined && trace.recording) trace.setInput(traceInputFromArgs(args));
    return runInTrace(ctx, trace, () => fn.apply(this, args), traceOutputFromResult);
  }, fn);
}

/** fn as a span of the current trace; outside a trace it is fn itself, called as is. */
export function spanFunction<F extends AnyFunction>(fn: F, options?: SpanFnOptions): F {
  if (DEV && process.env.NODE_ENV !== "production") {
    assertFunction(fn, "span()'s argument");
    assertKnownKeys(options, [...SPAN_OPTION_KEYS, "name"], "span() option");
    assertOptionalString(options?.name, "span name");
  }
  const name = options?.name || fn.name || "span";
  const spanOptions: SpanOptions = { kind: options?.kind, model: options?.model, metadata: options?.metadata };
  return keepIdentity(function (this: unknown, ...args: unknown[]) {
    const ctx = activeContext();
    const trace = ctx.trace;
    if (trace === undefined || !trace.recording || trace.ended) return fn.apply(this, args);
    const span = trace.openSpan(name, spanOptions, ctx.span?.trace === trace ? ctx.span : undefined);
    span.setInput(spanInputFromArgs(args));
    return runInSpan(ctx, span, () => fn.apply(this, args), true);
  }, fn);
}
