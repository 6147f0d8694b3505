import type { Span } from "../trace/span.js";
import type { Trace } from "../trace/trace.js";
import { shared } from "../shared.js";

/** Ids set imperatively (`setSession` / `setUser`): below scoped ids in precedence. */
export interface Defaults {
  readonly sessionId?: string;
  readonly userId?: string;
}

/**
 * What is in scope at one point of execution. Immutable: a scope makes a new one,
 * so an inner scope can never change what an outer one sees.
 */
export interface Context {
  readonly trace?: Trace;
  readonly span?: Span;
  /** From `session()` / `user()` scopes. */
  readonly sessionId?: string;
  readonly userId?: string;
  /** Where a carrier that follows async flows keeps the imperative ids (AsyncLocalStorage). */
  readonly defaults?: Defaults;
}

export const ROOT_CONTEXT: Context = Object.freeze({});

/**
 * A new context over `from`. Every one the SDK makes has these fields in this order: one object
 * shape, so reading the current context stays fast where spreads would make a shape per combination.
 */
export function newContext(
  from: Context,
  trace: Trace | undefined,
  span: Span | undefined,
  sessionId = from.sessionId,
  userId = from.userId,
  defaults = from.defaults,
): Context {
  return { trace, span, sessionId, userId, defaults };
}

export const NO_DEFAULTS: Defaults = Object.freeze({});

/**
 * How the current context travels with execution. One small interface, several carriers:
 * AsyncLocalStorage on servers, zones or an explicit stack in browsers.
 */
export interface ContextManager {
  active(): Context;
  /** Runs fn with ctx current; the previous context is back when fn returns or throws. */
  with<T>(ctx: Context, fn: () => T): T;
  /** The imperative ids: with the async flow that set them on servers, per tab in browsers. */
  defaults(): Defaults;
  setDefaults(defaults: Defaults): void;
}

export function setContextManager(next: ContextManager): void {
  shared.manager = next;
}

export function contextManager(): ContextManager {
  return (shared.manager ??= new StackContextManager());
}

/** Imperative ids of a browser tab: one user, one conversation at a time, whatever the scope. */
export abstract class TabDefaults {
  // Declared, not initialized: bundles for ES2020 turn a class field into a helper call; unset reads as NO_DEFAULTS.
  declare private tab: Defaults | undefined;

  defaults(): Defaults {
    return this.tab ?? NO_DEFAULTS;
  }

  setDefaults(defaults: Defaults): void {
    this.tab = defaults;
  }
}

/**
 * The carrier of last resort: holds for synchronous code and for async code up to its first
 * await. Used where no async context exists (plain browsers); spans carry their parents explicitly.
 */
export class StackContextManager extends TabDefaults implements ContextManager {
  // Declared, not initialized (see TabDefaults); unset reads as ROOT_CONTEXT.
  declare private current: Context | undefined;

  active(): Context {
    return this.current ?? ROOT_CONTEXT;
  }

  with<T>(ctx: Context, fn: () => T): T {
    const previous = this.current;
    this.current = ctx;
    try {
      return fn();
    } finally {
      this.current = previous;
    }
  }
}
