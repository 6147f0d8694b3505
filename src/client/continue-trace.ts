import { DEV } from "../base/dev.js";
import { assertFunction, assertKnownKeys, assertOptionalString } from "../base/guards.js";
import { ContinuedTrace } from "../trace/continuation.js";
import { resolveIds } from "../trace/ids.js";
import { runInSpan, runInTrace } from "../trace/run-in.js";
import { activeContext, newContext } from "../trace/trace-context.js";
import { parseTraceHeaders } from "../trace/traceparent.js";
import type { Client } from "./client.js";
import { getClient } from "./global.js";

/** Where the incoming trace context is read: a Fetch `Request` or `Headers`, Node's `IncomingMessage`, or a plain header object. */
export type TraceContextCarrier =
  | { headers: { get(name: string): string | null } }
  | { get(name: string): string | null }
  | { headers: Record<string, string | string[] | undefined> }
  | Record<string, string | string[] | undefined>;

export interface ContinueTraceOptions {
  /** The server's span, child of the caller's; default `"<METHOD> <path>"` of the request, else `"server"`. */
  name?: string;
  /**
   * The server's own idea of the session and user (its auth): they win over what the caller's
   * headers claim. A `userId` key present with the value undefined means "no user", as the relay's
   * `authorize` answer `{ userId: undefined }` does.
   */
  sessionId?: string;
  userId?: string;
  /** The `Client` whose project the server's spans go to; by default the global one (`init()`). */
  client?: Client;
}

const OPTION_KEYS = ["name", "sessionId", "userId", "client"] as const;

/**
 * Runs fn as part of the trace the caller's request carries (`traceHeaders()` on the other tier):
 * within one span of the server, child of the caller's span, under which the server's spans, LLM
 * wrappers and integrations nest. The trace stays the caller's: only the server's spans are sent
 * (`POST /traces/{id}/spans`), never the trace's name, input, output, status, session or user.
 *
 * Session and user in scope for fn: the server's own (options, then its `session()`/`user()`
 * scopes and `setSession`/`setUser`), else those the request's `baggage` carries.
 *
 * Without PandaProbe trace context in the request, or with tracing off, fn runs as it would
 * without this call. Returns fn's result as is.
 */
export function continueTrace<T>(carrier: TraceContextCarrier | null | undefined, fn: () => T, options?: ContinueTraceOptions): T {
  if (DEV && process.env.NODE_ENV !== "production") {
    assertFunction(fn, "continueTrace()'s callback");
    assertKnownKeys(options, OPTION_KEYS, "continueTrace option");
    assertOptionalString(options?.name, "continueTrace name");
  }
  let run: (() => T) | undefined;
  try {
    run = continuation(carrier, fn, options);
  } catch {
    // Unreadable headers are no reason to fail the request: it runs as if none had come.
  }
  return (run ?? fn)();
}

/** fn inside the continued trace, or undefined where there is nothing to continue. */
function continuation<T>(carrier: TraceContextCarrier | null | undefined, fn: () => T, options: ContinueTraceOptions | undefined): (() => T) | undefined {
  const recorder = (options?.client ?? getClient())?.recorder();
  if (recorder === undefined || carrier == null) return undefined;
  const remote = parseTraceHeaders(headerReader(carrier));
  if (remote === undefined) return undefined;
  const ctx = activeContext();
  const own = resolveIds({ sessionId: options?.sessionId, userId: options?.userId }, ctx);
  const pinnedUser = options !== undefined && Object.hasOwn(options, "userId");
  const ids = {
    sessionId: own.sessionId ?? remote.sessionId,
    userId: pinnedUser ? options.userId : (own.userId ?? remote.userId),
  };
  const trace = new ContinuedTrace(remote, ids, recorder);
  const span = trace.openSpan(options?.name ?? requestName(carrier), { kind: "OTHER" }, undefined);
  const scope = newContext(ctx, undefined, undefined, ids.sessionId, ids.userId);
  return () => runInTrace(scope, trace, () => runInSpan(activeContext(), span, fn, false));
}

/**
 * `continueTrace` around a route handler that takes a Fetch `Request` (Next.js route handlers,
 * Hono, Remix, Workers). `options` may be computed from the request: the server's auth, e.g. the
 * same function as the relay's `authorize` (`{ userId }` pins the user; `false` or a `Response`,
 * a refusal there, means the page's trace is not stored, so the request is not continued).
 */
export function continueTraceHandler<A extends unknown[], R>(
  handler: (request: Request, ...rest: A) => R,
  options?: ContinueTraceOptions | ((request: Request) => ContinueTraceOptions | boolean | Response | Promise<ContinueTraceOptions | boolean | Response>),
): (request: Request, ...rest: A) => Promise<Awaited<R>> {
  if (DEV && process.env.NODE_ENV !== "production") assertFunction(handler, "continueTraceHandler()'s handler");
  return async (request, ...rest): Promise<Awaited<R>> => {
    let decided: ContinueTraceOptions | boolean | Response | undefined;
    try {
      decided = typeof options === "function" ? await options(request) : options;
    } catch {
      // The auth check failing is the handler's business; it runs, not continued.
      decided = false;
    }
    const call = () => handler(request, ...rest);
    if (decided === false || (typeof Response !== "undefined" && decided instanceof Response)) return await call();
    return await continueTrace(request, call, typeof decided === "object" ? (decided as ContinueTraceOptions) : undefined);
  };
}

/** A header by lowercase name from whichever carrier came. */
function headerReader(carrier: TraceContextCarrier): (name: string) => string | undefined {
  const source = "headers" in carrier && carrier.headers != null && typeof carrier.headers === "object" ? carrier.headers : carrier;
  if (typeof (source as { get?: unknown }).get === "function") {
    return (name) => (source as { get(name: string): string | null }).get(name) ?? undefined;
  }
  const record = source as Record<string, string | string[] | undefined>;
  return (name) => {
    const value = record[name] ?? record[Object.keys(record).find((key) => key.toLowerCase() === name) ?? ""];
    return Array.isArray(value) ? value.join(",") : typeof value === "string" ? value : undefined;
  };
}

/** `POST /api/chat` for a Fetch request or Node's IncomingMessage. */
function requestName(carrier: TraceContextCarrier): string {
  const { method, url } = carrier as { method?: unknown; url?: unknown };
  if (typeof method !== "string" || typeof url !== "string") return "server";
  const path = url.startsWith("/") ? url.split("?")[0] : safePath(url);
  return path === undefined ? method : `${method} ${path}`;
}

function safePath(url: string): string | undefined {
  try {
    return new URL(url).pathname;
  } catch {
    return undefined;
  }
}
