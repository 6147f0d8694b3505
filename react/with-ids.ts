import { session, user } from "pandaprobe";

/**
 * Runs fn with the ids in scope for code outside the tree (on a server: the request's server
 * components and actions, on AsyncLocalStorage in Node), so traces started there, sync or async,
 * carry them. The tree's ids still win inside the tree. Returns fn's result as is.
 */
export function withPandaProbe<T>(ids: { session?: string; user?: string }, fn: () => T): T {
  const { session: sessionId, user: userId } = ids;
  const withUser = userId === undefined ? fn : () => user(userId, fn);
  return sessionId === undefined ? withUser() : session(sessionId, withUser);
}
