/** The WHATWG request handler: route, authorize, read, validate, forward. No Node built-ins here (edge runtimes). */
import { readBody } from "../base/read-body.js";
import { MAX_RETRY_AFTER_MS, parseRetryAfter } from "../base/retry-after.js";
import { declaredTooLarge, isJsonContentType, parseJson } from "./body.js";
import { forward } from "./forward.js";
import { credentialed, resolveRelayOptions } from "./options.js";
import type { RelayOptions, ResolvedRelayOptions } from "./options.js";
import { corsHeaders, detail, preflight, rateLimited, retryAfterSeconds, validationError, withCors } from "./responses.js";
import { matchRoute } from "./routes.js";
import { Pacer, RATE_WINDOW_MS, routeOf } from "../wire/pacer.js";
import { isObject, validateBody } from "../wire/validate.js";

/** A fetch-style handler: Next.js route handlers, Hono, Remix, Cloudflare Workers, Deno, Bun. */
export type RelayHandler = (req: Request) => Promise<Response>;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** `pinUser`: the server decides `user_id` (its `userId`, or none when that is undefined), not the page. */
type Decision =
  | { accept: true; pinUser: false }
  | { accept: true; pinUser: true; userId: string | undefined }
  | { accept: false; response: Response };

/**
 * Runs `authorize`. Anything but a recognised answer fails closed (500), and a throw is answered with a
 * generic 500: the error may hold the app's secrets and is not the browser's business.
 */
async function decide(options: ResolvedRelayOptions, req: Request, cors: Record<string, string>): Promise<Decision> {
  if (!options.authorize) return { accept: true, pinUser: false };
  const failed: Decision = { accept: false, response: detail(500, "Relay authorization failed", cors) };
  let result: unknown;
  try {
    result = await options.authorize(req);
  } catch {
    return failed;
  }
  if (result === true) return { accept: true, pinUser: false };
  if (result === false) return { accept: false, response: detail(401, "Not authorized", cors) };
  if (result instanceof Response) return { accept: false, response: withCors(result, cors) };
  // Only a plain `{ userId? }` accepts: a response-like object from another fetch implementation,
  // or `{ status: 403 }`, must not be mistaken for "accept".
  if (!isPlainObject(result) || Object.keys(result).some((key) => key !== "userId")) return failed;
  if (!Object.hasOwn(result, "userId")) return { accept: true, pinUser: false };
  // `{ userId: session?.userId }` without a session: no user, rather than whichever one the page names.
  const userId = result["userId"];
  if (userId !== undefined && typeof userId !== "string") return failed;
  return { accept: true, pinUser: true, userId };
}

/**
 * Creates the relay: browsers POST traces, span batches and scores to the app's own route, and the
 * relay forwards them to PandaProbe with the API key, which never leaves the server.
 * Options are validated here (throws a `PandaProbeError` with code "config"), except credentials
 * left unset for run time: those are read from the environment at the first request, and while
 * they are missing every request is answered 500 and the problem logged once.
 */
export function createRelayHandler(options: RelayOptions): RelayHandler {
  const config = resolveRelayOptions(options);
  let resolved: ResolvedRelayOptions | undefined;
  let reported = false;

  /** The options with credentials, or the 500 that says they are missing. */
  function ready(): ResolvedRelayOptions | Response {
    if (resolved) return resolved;
    try {
      return (resolved = credentialed(config));
    } catch (error) {
      if (!reported) {
        reported = true;
        console.error(`[pandaprobe] ${(error as Error).message}`);
      }
      return detail(500, "Relay is not configured (see the server log)");
    }
  }

  async function handle(req: Request, resolved: ResolvedRelayOptions): Promise<Response> {
    const cors = corsHeaders(req, resolved.allowedOrigins);
    const route = matchRoute(new URL(req.url).pathname);
    if (!route) return detail(404, "Not Found", cors);
    if (req.method === "OPTIONS") {
      if (cors["access-control-allow-origin"]) return preflight(cors);
      if (req.headers.has("origin")) return detail(403, "Origin not allowed", cors);
    }
    if (req.method !== "POST") return detail(405, "Method Not Allowed", { ...cors, allow: "POST" });
    if (route.kind === "bad_trace_id") {
      return validationError([{ field: "trace_id", message: "must be a UUID" }], cors);
    }

    const decision = await decide(resolved, req, cors);
    if (!decision.accept) return decision.response;
    if (req.bodyUsed) return detail(500, "Relay authorization consumed the request body", cors);

    if (!isJsonContentType(req.headers.get("content-type"))) {
      return detail(415, "Content-Type must be application/json", cors);
    }
    const encoding = req.headers.get("content-encoding");
    if (encoding !== null && encoding.trim().toLowerCase() !== "identity") {
      return detail(415, `Content-Encoding ${encoding} is not supported`, cors);
    }
    const tooLarge = () => detail(413, `Body exceeds ${resolved.maxBodyBytes} bytes`, cors);
    if (declaredTooLarge(req.headers.get("content-length"), resolved.maxBodyBytes)) return tooLarge();
    const read = await readBody(req.body, resolved.maxBodyBytes);
    if (read.failed !== undefined) return detail(400, "Could not read the request body", cors);
    if (!read.whole) return tooLarge();
    const parsed = parseJson(read.bytes);
    if (!parsed) return detail(400, "Body is not valid JSON", cors);

    // The server's user wins over the page's claim; validation then covers the stamped id too.
    const stamp = decision.pinUser && route.kind === "trace" && isObject(parsed.value);
    if (stamp) {
      const trace = parsed.value as Record<string, unknown>;
      if (decision.userId === undefined) delete trace["user_id"];
      else trace["user_id"] = decision.userId;
    }
    const errors = validateBody(route.kind, parsed.value);
    if (errors.length) return validationError(errors, cors);

    let body = parsed.text;
    if (stamp) {
      try {
        body = JSON.stringify(parsed.value);
      } catch {
        // JSON.parse takes nesting that JSON.stringify's recursion cannot.
        return detail(400, "Body nests too deeply", cors);
      }
    }
    // PandaProbe's 429 says neither how long nor how many: the relay learns its window and says
    // both as Retry-After, and answers for it while the window lasts, for every page and tab alike.
    const paced = routeOf(route.upstreamPath);
    const reservation = pacer.reserve(paced);
    if ("ms" in reservation) return rateLimited(reservation.ms, cors);
    const answer = await forward(resolved, {
      upstreamPath: route.upstreamPath,
      body,
      requestId: req.headers.get("x-request-id"),
      headers: cors,
    });
    const retryAfter = answer.headers.get("retry-after");
    const asked = parseRetryAfter(retryAfter);
    // Capped as the exporters cap it: one long Retry-After must not hold every page for an hour.
    const retryAfterMs = asked === undefined ? undefined : Math.min(asked, MAX_RETRY_AFTER_MS);
    pacer.answered(paced, reservation.ticket, answer.status === 502 ? undefined : answer.status, retryAfterMs);
    if (answer.status === 429 && retryAfter === null) answer.headers.set("retry-after", retryAfterSeconds(pacer.waitMs(paced)));
    return answer;
  }

  const pacer = new Pacer(RATE_WINDOW_MS);

  return async function relay(req: Request): Promise<Response> {
    try {
      const options = ready();
      return options instanceof Response ? options : await handle(req, options);
    } catch {
      // A bug or an exotic request must not take the app's route down or leak internals.
      return detail(500, "Relay error");
    }
  };
}
