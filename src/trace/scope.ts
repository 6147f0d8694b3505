import { DEV } from "../base/dev.js";
import { assertFunction, assertOptionalString, assertString } from "../base/guards.js";
import { activeContext, activeDefaults, newContext, setDefaults, withContext } from "./trace-context.js";

/**
 * Runs fn with `sessionId` in scope for everything it does, sync or async. The outer value is
 * back when fn returns, throws or its promise settles. Returns fn's result as is.
 */
export function session<T>(sessionId: string, fn: () => T): T {
  if (DEV && process.env.NODE_ENV !== "production") {
    assertString(sessionId, "session id");
    assertFunction(fn, "session()'s callback");
  }
  const ctx = activeContext();
  return withContext(newContext(ctx, ctx.trace, ctx.span, sessionId), fn);
}

/** As `session()`, for the user id. */
export function user<T>(userId: string, fn: () => T): T {
  if (DEV && process.env.NODE_ENV !== "production") {
    assertString(userId, "user id");
    assertFunction(fn, "user()'s callback");
  }
  const ctx = activeContext();
  return withContext(newContext(ctx, ctx.trace, ctx.span, undefined, userId), fn);
}

/**
 * Sets the session until changed; `undefined` clears it. Scoped ids (`session()`) win over it.
 * On a server it holds for the current execution and everything it schedules from now on. Node's
 * AsyncLocalStorage (before AsyncContextFrame, Node 24) keeps it on the resource running the call:
 * set directly in a request handler, it stays on the keep-alive connection and the next request on
 * it starts with it. So set it on every request (undefined included), or scope the request with
 * `session(id, next)`. In a browser it is per tab. In the edge build (Workers, Vercel and Next.js
 * edge) it sets nothing and warns once: there is no `enterWith` to scope it to a request, and a
 * value per isolate would be shared by concurrent requests; use `session()` / `user()` there.
 */
export function setSession(sessionId: string | undefined): void {
  if (DEV && process.env.NODE_ENV !== "production") assertOptionalString(sessionId, "session id");
  setDefaults({ ...activeDefaults(), sessionId });
}

export function setUser(userId: string | undefined): void {
  if (DEV && process.env.NODE_ENV !== "production") assertOptionalString(userId, "user id");
  setDefaults({ ...activeDefaults(), userId });
}

/** The effective session id here and now: innermost scope, else the imperative value. */
export function getSessionId(): string | undefined {
  return activeContext().sessionId ?? activeDefaults().sessionId;
}

export function getUserId(): string | undefined {
  return activeContext().userId ?? activeDefaults().userId;
}
