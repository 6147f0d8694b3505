import { realmSlot } from "../base/realm.js";
import { contextManager } from "../context/context-manager.js";
import type { Span } from "./span.js";
import type { Trace } from "./trace.js";

/** Ids set imperatively (`setSession` / `setUser`): below scoped ids in precedence. */
export interface Defaults {
  readonly sessionId?: string;
  readonly userId?: string;
}

/**
 * What is in scope at one point of execution: the value the carrier holds. Immutable: a scope
 * makes a new one, so an inner scope can never change what an outer one sees.
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

const ROOT_CONTEXT: Context = Object.freeze({});
const NO_DEFAULTS: Defaults = Object.freeze({});

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

export function activeContext(): Context {
  return (contextManager().active() as Context | undefined) ?? ROOT_CONTEXT;
}

export function withContext<T>(ctx: Context, fn: () => T): T {
  return contextManager().with(ctx, fn);
}

/** Imperative ids of a browser tab, where the carrier cannot enter a value: one user, one conversation at a time. */
const tab = realmSlot<{ defaults?: Defaults }>("tab-defaults.v1", () => ({}));

/**
 * Set by a server entry whose carrier cannot enter a value (edge runtimes: no `enterWith`): there,
 * ids per realm would be shared by every concurrent request, so `setSession`/`setUser` set nothing
 * and say why, once.
 */
const refusal = realmSlot<{ why?: string; warned?: boolean }>("imperative-ids.v1", () => ({}));

export function refuseImperativeIds(why: string): void {
  refusal.why = why;
}

/** The imperative ids: with the async flow that set them on servers (in ctx when the caller read it already), per tab in browsers. */
export function activeDefaults(ctx?: Context): Defaults {
  return (contextManager().enterWith ? (ctx ?? activeContext()).defaults : tab.defaults) ?? NO_DEFAULTS;
}

export function setDefaults(defaults: Defaults): void {
  const manager = contextManager();
  if (!manager.enterWith) {
    if (refusal.why === undefined) tab.defaults = defaults;
    else if (!refusal.warned) {
      refusal.warned = true;
      console.warn(`[pandaprobe] ${refusal.why}`);
    }
    return;
  }
  const ctx = activeContext();
  // For the rest of this flow and what it schedules, like a request's middleware expects.
  manager.enterWith(newContext(ctx, ctx.trace, ctx.span, undefined, undefined, defaults));
}
