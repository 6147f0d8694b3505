import { contextManager, type Context } from "../context/context.js";
import { assertOptionalString } from "../model/guards.js";

/**
 * Session and user of a new trace: explicit option, else innermost scope (of ctx, the current
 * context when the caller has read it already), else imperative value.
 */
export function resolveIds(
  explicit: { sessionId?: string; userId?: string } | undefined,
  ctx: Context = contextManager().active(),
): { sessionId: string | undefined; userId: string | undefined } {
  if (process.env.NODE_ENV !== "production") {
    assertOptionalString(explicit?.sessionId, "sessionId");
    assertOptionalString(explicit?.userId, "userId");
  }
  const defaults = contextManager().defaults();
  return {
    sessionId: explicit?.sessionId ?? ctx.sessionId ?? defaults.sessionId,
    userId: explicit?.userId ?? ctx.userId ?? defaults.userId,
  };
}
