/** The relay's own answers: JSON bodies in the backend's shape, never cached, CORS only for listed origins. */
import type { FieldError } from "../wire/validate.js";

/**
 * CORS headers for a request whose Origin is listed (empty otherwise: same-origin only). Retry-After
 * is not CORS-safelisted: unexposed, a cross-origin page could not see how long a 429 asks it to wait.
 */
export function corsHeaders(req: Request, allowedOrigins: ReadonlySet<string>): Record<string, string> {
  const origin = req.headers.get("origin");
  if (origin === null || !allowedOrigins.has(origin)) return {};
  return { "access-control-allow-origin": origin, "access-control-expose-headers": "Retry-After", vary: "Origin" };
}

/**
 * The app's own `response` (from `authorize`) with the CORS headers added, so a listed origin's page
 * sees its status rather than a network error. A copy: the original's headers may be immutable.
 */
export function withCors(response: Response, cors: Record<string, string>): Response {
  if (!Object.keys(cors).length) return response;
  const headers = new Headers(response.headers);
  for (const [name, value] of Object.entries(cors)) {
    if (name === "vary") headers.append(name, value);
    else if (!headers.has(name)) headers.set(name, value);
  }
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", "cache-control": "no-store", ...headers },
  });
}

export function detail(status: number, message: string, headers: Record<string, string> = {}): Response {
  return jsonResponse(status, { detail: message }, headers);
}

/** A 422 like the backend's: `{ detail: "Validation error", errors: [{ field, message }] }`. */
export function validationError(errors: FieldError[], headers: Record<string, string> = {}): Response {
  return jsonResponse(422, { detail: "Validation error", errors }, headers);
}

/** The answer to a CORS preflight from a listed origin. */
export function preflight(cors: Record<string, string>): Response {
  return new Response(null, {
    status: 204,
    headers: {
      ...cors,
      "access-control-allow-methods": "POST",
      // What the browser SDK's sender may set (a page's X-Project-Name is ignored: the server picks the project).
      "access-control-allow-headers": "Content-Type, X-Request-ID, X-Project-Name",
      "access-control-max-age": "600",
    },
  });
}

/** Whole seconds, at least 1: Retry-After takes no fractions, and 0 would invite an immediate retry. */
export const retryAfterSeconds = (ms: number): string => String(Math.max(1, Math.ceil(ms / 1000)));

/** The relay answering for PandaProbe's rate limit while the window it learned lasts. */
export function rateLimited(ms: number, headers: Record<string, string>): Response {
  return jsonResponse(429, { detail: "Rate limit exceeded: waiting for PandaProbe's window" }, { ...headers, "retry-after": retryAfterSeconds(ms) });
}
