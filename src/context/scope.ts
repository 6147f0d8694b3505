import { assertFunction, assertOptionalString, assertString } from "../model/guards.js";
import { contextManager } from "./context.js";

/**
 * Runs fn with `sessionId` in scope for everything it does, sync or async. The outer value is
 * back when fn returns, throws or its promise settles. Returns fn's result as is.
 */
export function session<T>(sessionId: string, fn: () => T): T {
  assertString(sessionId, "session id");
  assertFunction(fn, "session()'s callback");
  const manager = contextManager();
  return manager.with({ ...manager.active(), sessionId }, fn);
}

/** As `session()`, for the user id. */
export function user<T>(userId: string, fn: () => T): T {
  assertString(userId, "user id");
  assertFunction(fn, "user()'s callback");
  const manager = contextManager();
  return manager.with({ ...manager.active(), userId }, fn);
}

/**
 * Sets the session for the current execution and everything it schedules from now on, until
 * changed; `undefined` clears it. Scoped ids (`session()`) win over it. On a server, call it in
 * per-request code (middleware), where it stays with that request.
 */
export function setSession(sessionId: string | undefined): void {
  assertOptionalString(sessionId, "session id");
  const manager = contextManager();
  manager.enterWith({ ...manager.active(), defaultSessionId: sessionId });
}

export function setUser(userId: string | undefined): void {
  assertOptionalString(userId, "user id");
  const manager = contextManager();
  manager.enterWith({ ...manager.active(), defaultUserId: userId });
}

/** The effective session id here and now: innermost scope, else the imperative value. */
export function getSessionId(): string | undefined {
  const ctx = contextManager().active();
  return ctx.sessionId ?? ctx.defaultSessionId;
}

export function getUserId(): string | undefined {
  const ctx = contextManager().active();
  return ctx.userId ?? ctx.defaultUserId;
}
