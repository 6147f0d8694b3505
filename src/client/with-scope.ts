/**
 * The callback forms of PandaProbe's official SDK: `withTrace` / `withSpan` run a function inside
 * a new trace or span and always return a promise, and `getSpanStack` lists the open spans.
 */
import { activeContext } from "../trace/trace-context.js";
import { spanOptions, traceOptions, type WithSpanOptions, type WithTraceOptions } from "../trace/compat-options.js";
import { Trace } from "../trace/trace.js";
import type { Span } from "../trace/span.js";
import { getCurrentTrace, startTrace } from "./global.js";
import type { Client } from "./client.js";

/** Runs fn inside a new trace; the trace ends (ERROR if fn throws) when fn settles. */
export function withTrace<T>(name: string, fn: (trace: Trace) => T | Promise<T>): Promise<T>;
export function withTrace<T>(name: string, options: WithTraceOptions, fn: (trace: Trace) => T | Promise<T>): Promise<T>;
export async function withTrace<T>(
  name: string,
  optionsOrFn: WithTraceOptions | ((trace: Trace) => T | Promise<T>),
  maybeFn?: (trace: Trace) => T | Promise<T>,
): Promise<T> {
  const [options, fn] = typeof optionsOrFn === "function" ? [undefined, optionsOrFn] : [optionsOrFn, maybeFn!];
  const client = options?.client as Client | undefined;
  return client ? client.startTrace(name, traceOptions(options), fn) : startTrace(name, traceOptions(options), fn);
}

/**
 * Runs fn inside a new span of the current trace, under the current span. Outside a trace fn still
 * runs and gets a span, of a trace that is never sent (as the official SDK's detached span).
 */
export function withSpan<T>(name: string, fn: (span: Span) => T | Promise<T>): Promise<T>;
export function withSpan<T>(name: string, options: WithSpanOptions, fn: (span: Span) => T | Promise<T>): Promise<T>;
export async function withSpan<T>(
  name: string,
  optionsOrFn: WithSpanOptions | ((span: Span) => T | Promise<T>),
  maybeFn?: (span: Span) => T | Promise<T>,
): Promise<T> {
  const [options, fn] = typeof optionsOrFn === "function" ? [undefined, optionsOrFn] : [optionsOrFn, maybeFn!];
  const current = getCurrentTrace();
  const trace = current && !current.ended ? current : new Trace(name, undefined, { sessionId: undefined, userId: undefined }, undefined);
  return trace.span(name, spanOptions(options), fn);
}

/** The ids of the spans open here, outermost first; empty outside a trace. */
export function getSpanStack(): string[] {
  const { trace, span } = activeContext();
  if (!trace || !span || span.trace !== trace) return [];
  const byId = new Map(trace.spans.map((s) => [s.spanId, s]));
  const stack: string[] = [];
  for (let at: Span | undefined = span; at; at = at.parentSpanId === undefined ? undefined : byId.get(at.parentSpanId)) stack.unshift(at.spanId);
  return stack;
}
