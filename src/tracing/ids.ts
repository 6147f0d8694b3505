import { contextManager } from "../context/context.js";
import { assertOptionalString } from "../model/guards.js";

/** Session and user of a new trace: explicit option, else innermost scope, else imperative value. */
export function resolveIds(explicit: { sessionId?: string; userId?: string } | undefined): {
  sessionId: string | undefined;
  userId: string | undefined;
} {
  assertOptionalString(explicit?.sessionId, "sessionId");
  assertOptionalString(explicit?.userId, "userId");
  const manager = contextManager();
  const ctx = manager.active();
  const defaults = manager.defaults();
  return {
    sessionId: explicit?.sessionId ?? ctx.sessionId ?? defaults.sessionId,
    userId: explicit?.userId ?? ctx.userId ?? defaults.userId,
  };
}
