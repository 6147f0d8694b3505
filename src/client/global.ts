import { Client } from "./client.js";
import type { ScoreOptions } from "./client.js";
import type { PandaProbeOptions } from "../config/options.js";
import { currentPlatform } from "../platform/platform.js";
import { realmSlot } from "../base/realm.js";
import type { Span } from "../trace/span.js";
import type { Trace, TraceOptions } from "../trace/trace.js";
import type { PrebuiltTrace } from "../wire/prebuilt.js";
import { spanFunction, traceFunction, type SpanFnOptions, type TraceFnOptions } from "../trace/decorators.js";

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

export function startTrace(name: string, options?: TraceOptions): Trace;
export function startTrace<T>(name: string, options: TraceOptions | undefined, fn: (trace: Trace) => T): T;
export function startTrace<T>(name: string, options?: TraceOptions, fn?: (trace: Trace) => T): Trace | T {
  return fn === undefined ? current().startTrace(name, options) : current().startTrace(name, options, fn);
}

/** The `@trace` decorator as a higher-order function; the wrapper has fn's type and shape. */
export function trace<F extends (...args: any[]) => any>(fn: F, options?: TraceFnOptions): F {
  return traceFunction(() => getClient()?.recorder(), fn, options);
}

/** The `@span` decorator: a span of the current trace, or fn itself outside a trace. */
export function span<F extends (...args: any[]) => any>(fn: F, options?: SpanFnOptions): F {
  return spanFunction(fn, options);
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
