import { DEV } from "../base/dev.js";
import { activeContext, activeDefaults, type Context } from "./trace-context.js";
import { assertIds } from "../base/guards.js";

/**
 * Session and user of a new trace: explicit option, else innermost scope (of ctx, the current
 * context when the caller has read it already), else imperative value.
 */
export function resolveIds(
  explicit: { sessionId?: string; userId?: string } | undefined,
  ctx: Context = activeContext(),
): { sessionId: string | undefined; userId: string | undefined } {
  if (DEV && process.env.NODE_ENV !== "production") assertIds(explicit);
  const defaults = activeDefaults(ctx);
  return {
    sessionId: firstString(explicit?.sessionId, ctx.sessionId, defaults.sessionId),
    userId: firstString(explicit?.userId, ctx.userId, defaults.userId),
  };
}

/** Production builds skip the id checks: an id that is not a string is passed over there. */
function firstString(explicit: unknown, scoped: unknown, imperative: unknown): string | undefined {
  if (typeof explicit === "string") return explicit;
  if (typeof scoped === "string") return scoped;
  return typeof imperative === "string" ? imperative : undefined;
}
