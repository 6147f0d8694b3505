/**
 * The option shapes of PandaProbe's official SDK (ids and models may be null there) and their
 * translation to ours, so code written against it type-checks and runs unchanged.
 */
import type { SpanKind } from "../wire/enums.js";
import type { SpanFnOptions, TraceFnOptions } from "./decorators.js";
import type { SpanOptions } from "./span.js";
import type { TraceOptions } from "./trace.js";
import type { RecorderSource } from "./recorder.js";

export interface WithTraceOptions {
  input?: unknown;
  sessionId?: string | null;
  userId?: string | null;
  tags?: string[];
  metadata?: Record<string, unknown>;
  /** The `Client` whose project the trace goes to; by default the global one (`init()`). */
  client?: RecorderSource;
}

export interface WithSpanOptions {
  kind?: SpanKind;
  model?: string | null;
  metadata?: Record<string, unknown>;
}

export type TraceDecoratorOptions = Omit<WithTraceOptions, "input"> & { name?: string };
export type SpanDecoratorOptions = WithSpanOptions & { name?: string };

/** A method decorator either runtime accepts: legacy `(target, key, descriptor)` and standard `(method, context)`. */
export type MethodDecoratorForEither = MethodDecorator &
  (<This, Args extends unknown[], R>(
    method: (this: This, ...args: Args) => R,
    context: ClassMethodDecoratorContext<This, (this: This, ...args: Args) => R>,
  ) => (this: This, ...args: Args) => R);

const orUndefined = <T>(value: T | null | undefined): T | undefined => (value === null ? undefined : value);

/** Only the keys given, so our option checks see no stray undefined ones. */
function defined<T extends object>(options: T): T {
  for (const key of Object.keys(options) as (keyof T)[]) if (options[key] === undefined) delete options[key];
  return options;
}

export function traceOptions(options: WithTraceOptions | undefined): TraceOptions | undefined {
  if (!options) return undefined;
  return defined({
    input: options.input,
    sessionId: orUndefined(options.sessionId),
    userId: orUndefined(options.userId),
    tags: options.tags,
    metadata: options.metadata,
  });
}

export function spanOptions(options: WithSpanOptions | undefined): SpanOptions | undefined {
  if (!options) return undefined;
  return defined({ kind: options.kind, model: orUndefined(options.model), metadata: options.metadata });
}

export function traceFnOptions(options: TraceDecoratorOptions | undefined, methodName: string): TraceFnOptions {
  return { ...traceOptions(options), name: options?.name || methodName, client: options?.client };
}

export function spanFnOptions(options: SpanDecoratorOptions | undefined, methodName: string): SpanFnOptions {
  return { ...spanOptions(options), name: options?.name || methodName };
}
