import { Client } from "./client.js";
import type { ScoreOptions } from "./client.js";
import type { PandaProbeOptions } from "../config/options.js";
import { currentPlatform } from "../platform/platform.js";
import { realmSlot } from "../base/realm.js";
import type { Span } from "../trace/span.js";
import type { Trace, TraceOptions } from "../trace/trace.js";
import type { PrebuiltTrace } from "../wire/prebuilt.js";
import { spanFunction, traceFunction, type SpanFnOptions, type TraceFnOptions } from "../trace/decorators.js";
import { decorate, decoratorFactory, isLegacyCall, isMethodContext } from "../trace/method-decorators.js";
import {
  spanFnOptions,
  traceFnOptions,
  type MethodDecoratorForEither,
  type SpanDecoratorOptions,
  type TraceDecoratorOptions,
  type WithTraceOptions,
} from "../trace/compat-options.js";

/** The global client's state, one per realm however many copies of the SDK load (see realmSlot). */
interface GlobalClient {
  client?: Client;
  autoInitDone?: boolean;
  /** The disabled client that hands out non-recording traces while there is no global one. */
  inert?: Client;
  /** Shutdowns of the clients init() replaced, which flush() and shutdown() wait for. */
  retired?: Promise<unknown>;
}

const shared = realmSlot<GlobalClient>("client.v2", () => ({}));

/** Creates the global client from options over `PANDAPROBE_*` variables, replacing (and shutting down) any earlier one. */
export function init(options?: PandaProbeOptions): Client {
  const client = new Client(options);
  const previous = shared.client;
  shared.client = client;
  shared.autoInitDone = true;
  previous?.handOver(client);
  // A custom exporter that fails to stop must not fail every later flush(), nor go unhandled.
  if (previous) shared.retired = Promise.all([shared.retired, previous.shutdown().catch(() => {})]);
  return client;
}

/**
 * The global client; on first use, created from the environment where there is one (not in
 * browsers). Missing credentials there are one warning and no client, so an unconfigured app runs
 * untraced rather than failing.
 */
export function getClient(): Client | undefined {
  if (shared.client !== undefined || shared.autoInitDone) return shared.client;
  shared.autoInitDone = true;
  const env = currentPlatform().env();
  if (env === undefined) return undefined;
  try {
    shared.client = new Client(undefined, env);
  } catch (error) {
    console.warn(`[pandaprobe] ${(error as Error).message} Traces are not sent; call init() to configure.`);
  }
  return shared.client;
}

/** The client that records, or a disabled one that hands out non-recording traces. */
function current(): Client {
  return getClient() ?? (shared.inert ??= new Client({ enabled: false }, undefined));
}

/** The global client's `flush(timeout)`, also waiting for the clients `init()` replaced. */
export function flush(timeout?: number): Promise<void> {
  return settled(shared.client?.flush(timeout));
}

export function shutdown(timeout?: number): Promise<void> {
  return settled(shared.client?.shutdown(timeout));
}

const settled = (current: Promise<void> | undefined): Promise<void> => Promise.all([shared.retired, current]).then(() => {});

/** Options may also be the official SDK's, whose ids may be null (none). */
type StartOptions = TraceOptions | WithTraceOptions;

export function startTrace(name: string, options?: StartOptions): Trace;
export function startTrace<T>(name: string, options: StartOptions | undefined, fn: (trace: Trace) => T): T;
export function startTrace<T>(name: string, options?: StartOptions, fn?: (trace: Trace) => T): Trace | T {
  const ours = withoutNullIds(options);
  return fn === undefined ? current().startTrace(name, ours) : current().startTrace(name, ours, fn);
}

function withoutNullIds(options: StartOptions | undefined): TraceOptions | undefined {
  if (options?.sessionId !== null && options?.userId !== null) return options as TraceOptions | undefined;
  const { sessionId, userId, ...rest } = options;
  return { ...rest, ...(sessionId === null ? {} : { sessionId }), ...(userId === null ? {} : { userId }) };
}

type AnyFunction = (...args: any[]) => any;

/** `@trace()` / `@trace({ ... })`: nothing or one options object; anything else is the function form, checked there. */
const isDecoratorOptions = (args: unknown[]) => args.length <= 1 && (args[0] === undefined || (typeof args[0] === "object" && args[0] !== null));

/**
 * `trace(fn, options?)`: fn as a trace (the wrapper has fn's type and shape). Also, with a
 * method's decorator arguments or with options only, the official SDK's `@trace` method decorator.
 */
export function trace<F extends AnyFunction>(fn: F, options?: TraceFnOptions): F;
export function trace<This, Args extends unknown[], R>(
  method: (this: This, ...args: Args) => R,
  context: ClassMethodDecoratorContext<This, (this: This, ...args: Args) => R>,
): (this: This, ...args: Args) => R;
export function trace(target: object, propertyKey: string | symbol, descriptor: PropertyDescriptor): void;
export function trace(options?: TraceDecoratorOptions): MethodDecoratorForEither;
export function trace(...args: unknown[]): unknown {
  const [first, second] = args;
  const wrap = (options: TraceDecoratorOptions | undefined) => (method: AnyFunction, name: string) => traced(method, traceFnOptions(options, name));
  if (isLegacyCall(args) || isMethodContext(second)) return decorate(wrap(undefined), args);
  if (isDecoratorOptions(args)) return decoratorFactory(wrap(first as TraceDecoratorOptions | undefined));
  return traced(first as AnyFunction, second as TraceFnOptions | undefined);
}

/** fn as a trace recorded by the client its options name, else by the global one. */
function traced(fn: AnyFunction, options: TraceFnOptions | undefined): AnyFunction {
  const client = options?.client;
  return traceFunction(() => (client ?? getClient())?.recorder(), fn, options);
}

/**
 * `span(fn, options?)`: fn as a span of the current trace, or fn itself outside a trace. Also,
 * with a method's decorator arguments or with options only, the official SDK's `@span`.
 */
export function span<F extends AnyFunction>(fn: F, options?: SpanFnOptions): F;
export function span<This, Args extends unknown[], R>(
  method: (this: This, ...args: Args) => R,
  context: ClassMethodDecoratorContext<This, (this: This, ...args: Args) => R>,
): (this: This, ...args: Args) => R;
export function span(target: object, propertyKey: string | symbol, descriptor: PropertyDescriptor): void;
export function span(options?: SpanDecoratorOptions): MethodDecoratorForEither;
export function span(...args: unknown[]): unknown {
  const [first, second] = args;
  const wrap = (options: SpanDecoratorOptions | undefined) => (method: AnyFunction, name: string) => spanFunction(method, spanFnOptions(options, name));
  if (isLegacyCall(args) || isMethodContext(second)) return decorate(wrap(undefined), args);
  if (isDecoratorOptions(args)) return decoratorFactory(wrap(first as SpanDecoratorOptions | undefined));
  return spanFunction(first as AnyFunction, second as SpanFnOptions | undefined);
}

export function getCurrentTrace(): Trace | undefined {
  return current().getCurrentTrace();
}

export function getCurrentSpan(): Span | undefined {
  return current().getCurrentSpan();
}

export function score(traceId: string, name: string, value: number | boolean | string, options?: ScoreOptions): void {
  current().score(traceId, name, value, options);
}

export function logTrace(trace: PrebuiltTrace): void {
  current().logTrace(trace);
}
