import type { Span } from "../model/span.js";
import type { Trace } from "../model/trace.js";

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
  /** From `setSession()` / `setUser()`: lower precedence than scoped ids. */
  readonly defaultSessionId?: string;
  readonly defaultUserId?: string;
}

export const ROOT_CONTEXT: Context = Object.freeze({});

/**
 * How the current context travels with execution. One small interface, several carriers:
 * AsyncLocalStorage on servers, zones or an explicit stack in browsers.
 */
export interface ContextManager {
  active(): Context;
  /** Runs fn with ctx current; the previous context is back when fn returns or throws. */
  with<T>(ctx: Context, fn: () => T): T;
  /** Makes ctx current for the rest of this execution and what it schedules (imperative setters). */
  enterWith(ctx: Context): void;
}

let manager: ContextManager | undefined;

export function setContextManager(next: ContextManager): void {
  manager = next;
}

export function contextManager(): ContextManager {
  return (manager ??= new StackContextManager());
}

/**
 * The carrier of last resort: holds for synchronous code and for async code up to its first
 * await. Used where no async context exists (plain browsers); spans carry their parents explicitly.
 */
export class StackContextManager implements ContextManager {
  private current: Context = ROOT_CONTEXT;

  active(): Context {
    return this.current;
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

  enterWith(ctx: Context): void {
    this.current = ctx;
  }
}
