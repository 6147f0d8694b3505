import { traceHeaders } from "./continuation.js";
import { mergeHeader } from "./traceparent.js";
import { activeContext } from "./trace-context.js";

export interface InstrumentFetchOptions {
  /**
   * Where else the headers go, besides the page's own origin (the default, and the only place in a
   * browser without this option; nowhere on a server without it): origins (`"https://api.example.com"`)
   * or patterns tested against the whole URL. The headers name the trace, its session and user:
   * send them only to your own services.
   */
  propagateTo?: (string | RegExp)[];
}

const PATCHED = Symbol.for("pandaprobe.fetch.v1");
type Fetch = typeof fetch & { [PATCHED]?: true };

/**
 * Makes `fetch` add `traceHeaders()` to requests made inside a trace to the page's own origin (and
 * `propagateTo`), so the server's `continueTrace` joins this trace. A request that already has a
 * `traceparent` is left as it is (another tracer propagates it). Returns the undo. Idempotent.
 *
 * The current span is what the context carrier knows at the call: in a browser without zone.js,
 * synchronous code and async code up to its first await (pass `traceHeaders(span)` yourself after one).
 */
export function instrumentFetch(options?: InstrumentFetchOptions): () => void {
  const original = globalThis.fetch as Fetch | undefined;
  if (typeof original !== "function" || original[PATCHED]) return () => {};
  const targets = options?.propagateTo ?? [];
  const patched: Fetch = function fetch(this: unknown, input: RequestInfo | URL, init?: RequestInit) {
    let args: [RequestInfo | URL, RequestInit | undefined] = [input, init];
    try {
      args = withTraceHeaders(input, init, targets) ?? args;
    } catch {
      // Propagation must never break the app's request: it goes as the app made it.
    }
    return original.apply(this, args);
  };
  patched[PATCHED] = true;
  globalThis.fetch = patched;
  return () => {
    if (globalThis.fetch === patched) globalThis.fetch = original;
  };
}

/** The call's arguments with our headers, or undefined when this request does not get them. */
function withTraceHeaders(
  input: RequestInfo | URL,
  init: RequestInit | undefined,
  targets: (string | RegExp)[],
): [RequestInfo | URL, RequestInit] | undefined {
  // Cheapest first: most fetches run outside a trace; then whether this URL gets headers at all
  // (a server's LLM API calls do not), and only then the headers themselves.
  if (activeContext().trace === undefined) return undefined;
  const isRequest = typeof Request !== "undefined" && input instanceof Request;
  const url = isRequest ? input.url : String(input);
  if (!propagates(url, targets)) return undefined;
  const ours = traceHeaders();
  if (ours.traceparent === undefined) return undefined;
  // init.headers, when given, replaces a Request's own headers: start from whichever fetch would use.
  const headers = new Headers(init?.headers ?? (isRequest ? input.headers : undefined));
  if (headers.has("traceparent")) return undefined;
  headers.set("traceparent", ours.traceparent);
  headers.set("tracestate", mergeHeader("tracestate", headers.get("tracestate"), ours.tracestate!));
  if (ours.baggage !== undefined) headers.set("baggage", mergeHeader("baggage", headers.get("baggage"), ours.baggage));
  return [input, { ...init, headers }];
}

function propagates(url: string, targets: (string | RegExp)[]): boolean {
  const here = (globalThis as { location?: { href?: string; origin?: string } }).location;
  const target = new URL(url, here?.href);
  if (here?.origin !== undefined && target.origin === here.origin) return true;
  return targets.some((t) => (typeof t === "string" ? safeOrigin(t) === target.origin : t.test(target.href)));
}

function safeOrigin(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}
