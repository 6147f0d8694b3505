import { DEV } from "../base/dev.js";
import { backgroundTimer } from "../base/timers.js";
import { uuid } from "../wire/ids.js";
import { failureDetail, type FailureDetail } from "./failure-detail.js";
import { answered, failureOf, isConnectionClosed, isRedirect, redirected, trimEndpoint, type Send, type SenderOptions } from "./send-result.js";

export type { Send, SendResult } from "./send-result.js";

export interface HttpSenderOptions extends SenderOptions {
  /** Injected for tests and exotic runtimes; defaults to the global `fetch`. */
  fetch?: typeof fetch;
}

/** Makes the request with `post`: once, or as many times as the sender's policy wants. */
type Attempt = (post: () => Promise<Response>, signal: AbortSignal) => Promise<Response>;

/**
 * Node's fetch (undici): a request that met a pooled keep-alive connection the server had just
 * closed is sent again at once, once. undici's "other side closed" tells how much the socket had
 * read: anything means it had answered an earlier request (this one got no response byte, or fetch
 * would not have rejected). A reset carries no socket, so a sender that has been answered before
 * (and so holds pooled connections) takes it as one.
 */
function againOnStaleConnection(): Attempt {
  let answeredBefore = false;
  return async (post, signal) => {
    const response = await post().catch((cause: unknown) => {
      const closed = (cause as { cause?: { socket?: { bytesRead?: number } } } | null)?.cause;
      const read = closed?.socket?.bytesRead;
      if (signal.aborted || !isConnectionClosed(closed) || !(read === undefined ? answeredBefore : read > 0)) throw cause;
      return post();
    });
    answeredBefore = true;
    return response;
  };
}

/** Node's fetch sender (a custom `fetch` option): every failure explained in full, whatever NODE_ENV says (server logs are where it is read). */
export function createHttpSender(options: HttpSenderOptions): Send {
  return sender(options, failureDetail, againOnStaleConnection());
}

/** A page's sender: the status and a short message; the error body's reason in development builds only. */
export function createBrowserHttpSender(options: HttpSenderOptions): Send {
  return sender(options, DEV && process.env.NODE_ENV !== "production" ? failureDetail : undefined);
}

/**
 * Each call is one attempt with its own `X-Request-ID`, so every HTTP request the server sees
 * (retries included) can be told apart in its logs. The one exception to "one attempt": a request
 * that met a keep-alive connection the server had just closed is sent again at once, once.
 */
function sender(
  { endpoint, headers, timeoutMs, fetch = globalThis.fetch }: HttpSenderOptions,
  detail?: FailureDetail,
  attempt?: Attempt,
): Send {
  const base = trimEndpoint(endpoint);

  /** keepalive: the request outlives the page (sent while it is being hidden or closed). */
  return async (envelope, keepalive = false) => {
    const url = base + envelope.path;
    const fail = failureOf(url, headers, detail);
    const controller = new AbortController();
    const timer = backgroundTimer(() => controller.abort(), timeoutMs);
    const post = () =>
      fetch(url, {
        method: "POST",
        headers: { "Content-Type": "application/json", ...headers, "X-Request-ID": uuid() },
        body: envelope.body,
        signal: controller.signal,
        keepalive,
        // Never followed: see redirected().
        redirect: "manual",
      });
    try {
      let response: Response;
      try {
        response = await (attempt ? attempt(post, controller.signal) : post());
      } catch (cause) {
        const message = controller.signal.aborted ? `timed out after ${timeoutMs} ms` : `network error${detail?.error(cause) ?? ""}`;
        return fail(true, "network_error", message, cause);
      }
      const { status } = response;
      if (response.type === "opaqueredirect" || isRedirect(status)) return redirected(fail, status, response.headers.get("location"));
      const reason = (await detail?.reason(response)) ?? "";
      return answered(fail, status, reason, response.headers.get("retry-after"));
    } finally {
      clearTimeout(timer);
    }
  };
}
