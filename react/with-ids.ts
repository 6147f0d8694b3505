import { session, user } from "pandaprobe";

/**
 * Runs fn with the ids in scope for code outside the tree (on a server: the request's server
 * components and actions, on AsyncLocalStorage in Node), so traces started there, sync or async,
 * carry them. The tree's ids still win inside the tree. Returns fn's result as is.
 */
export function withPandaProbe<T>(ids: { session?: string; user?: string }, fn: () => T): T {
  // Not dev.ts: that module is in the client chunk, and this one runs in server components.
  if (typeof process !== "undefined" && process.env.NODE_ENV !== "production") {
    for (const key of Object.keys(ids)) {
      if (key !== "session" && key !== "user") {
        throw new TypeError(`PandaProbe: withPandaProbe() ids: unknown key "${key}"; expected session, user.`);
      }
    }
  }
  const { session: sessionId, user: userId } = ids;
  const withUser = userId === undefined ? fn : () => user(userId, fn);
  return sessionId === undefined ? withUser() : session(sessionId, withUser);
}
