/**
 * `@trace` / `@span` on class methods, as PandaProbe's official SDK offers them, under both
 * decorator runtimes: TypeScript's `experimentalDecorators` (target, key, descriptor) and standard
 * decorators (method, context). Bare (`@trace`) or with options (`@trace({ name })`). The same
 * names are also our `trace(fn)` / `span(fn)` function wrappers: the arguments tell them apart.
 */
type AnyFunction = (...args: any[]) => any;

/** Standard decorators' context for a method (only what tells it apart from an options object). */
interface MethodContext {
  kind: "method";
  name: string | symbol;
  addInitializer: unknown;
}

export function isMethodContext(value: unknown): value is MethodContext {
  return typeof value === "object" && value !== null && (value as MethodContext).kind === "method" && typeof (value as MethodContext).addInitializer === "function";
}

/** The legacy call: `(prototype or class, property key, descriptor)`. */
export function isLegacyCall(args: readonly unknown[]): args is [object, string | symbol, PropertyDescriptor] {
  return args.length === 3 && typeof args[2] === "object" && args[2] !== null;
}

/** Wraps one method with `wrap(method, name)`, the name being the method's when no option names it. */
export type MethodWrap = (method: AnyFunction, name: string) => AnyFunction;

/** Applies a method decorator in whichever runtime called it. */
export function decorate(wrap: MethodWrap, args: readonly unknown[]): unknown {
  if (isLegacyCall(args)) {
    const [, key, descriptor] = args;
    if (typeof descriptor.value === "function") descriptor.value = wrap(descriptor.value as AnyFunction, String(key));
    return descriptor;
  }
  const [method, context] = args as [AnyFunction, MethodContext];
  return wrap(method, String(context.name));
}

/** `@trace({ ... })`: a decorator for either runtime. */
export function decoratorFactory(wrap: MethodWrap): (...args: unknown[]) => unknown {
  return (...args: unknown[]) => decorate(wrap, args);
}
