import { DEV } from "../base/dev.js";
import { PandaProbeError, type PandaProbeErrorCode } from "../base/errors.js";
import { uuid } from "../wire/ids.js";
import { failureDetail, type FailureDetail } from "./failure-detail.js";
import { backgroundTimer } from "../base/timers.js";
import { isRetryableStatus, parseRetryAfter } from "./retry.js";
import type { Envelope } from "./types.js";

/** The outcome of one HTTP attempt. Never a rejection: the exporter decides what to do with failures. */
export type SendResult =
  | { ok: true; status: number }
  | { ok: false; retryable: boolean; status?: number; retryAfterMs?: number; error: PandaProbeError };

export type Send = (envelope: Envelope, keepalive?: boolean) => Promise<SendResult>;

export interface HttpSenderOptions {
  /** Base URL, e.g. `https://api.pandaprobe.com`; trailing slashes are tolerated. */
  endpoint: string;
  headers: Record<string, string>;
  /** Whole-request deadline (headers and body); a stalled server is treated as a transient failure. */
  timeoutMs: number;
  /** Injected for tests and exotic runtimes; defaults to the global `fetch`. */
  fetch?: typeof fetch;
}

/** Node's sender: every failure explained in full, whatever NODE_ENV says (server logs are where it is read). */
export function createHttpSender(options: HttpSenderOptions): Send {
  return sender(options, failureDetail);
}

/** A page's sender: the status and a short message; the error body's reason in development builds only. */
export function createBrowserHttpSender(options: HttpSenderOptions): Send {
  return sender(options, DEV && process.env.NODE_ENV !== "production" ? failureDetail : undefined);
}

/**
 * Each call is one attempt with its own `X-Request-ID`, so every HTTP request the server sees
 * (retries included) can be told apart in its logs.
 */
function sender({ endpoint, headers, timeoutMs, fetch = globalThis.fetch }: HttpSenderOptions, detail?: FailureDetail): Send {
  const base = endpoint.replace(/\/+$/, "");

  /** keepalive: the request outlives the page (sent while it is being hidden or closed). */
  return async (envelope, keepalive = false) => {
    const url = base + envelope.path;
    const failure = (
      retryable: boolean,
      code: PandaProbeErrorCode,
      message: string,
      cause?: unknown,
      status?: number,
      retryAfterMs?: number,
    ): SendResult => {
      message = `POST ${url}: ${message}`;
      return {
        ok: false,
        retryable,
        status,
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
        error: new PandaProbeError(code, detail?.redact(message, headers) ?? message, { cause, status }),
      };
    };
    const controller = new AbortController();
    const timer = backgroundTimer(() => controller.abort(), timeoutMs);
    try {
      let response: Response;
      try {
        response = await fetch(url, {
          method: "POST",
          headers: { "Content-Type": "application/json", ...headers, "X-Request-ID": uuid() },
          body: envelope.body,
          signal: controller.signal,
          keepalive,
          // A redirect followed would end in someone else's 200 (a login page, or a GET of the
          // endpoint after a 301), and the trace would be deleted as delivered.
          redirect: "manual",
        });
      } catch (cause) {
        const message = controller.signal.aborted ? `timed out after ${timeoutMs} ms` : `network error${detail?.error(cause) ?? ""}`;
        return failure(true, "network_error", message, cause);
      }
      const { status } = response;
      // Browsers hide a redirect's status and target from the page (status 0).
      if (response.type === "opaqueredirect" || (status >= 300 && status < 400)) {
        const target = response.headers.get("location");
        const where = `${status ? ` (HTTP ${status})` : ""}${target ? ` to ${target}` : ""}`;
        return failure(false, "http_error", `redirected${where}; endpoint must answer itself`, undefined, status || undefined);
      }
      const reason = (await detail?.reason(response)) ?? "";
      if (response.ok) return { ok: true, status };
      return failure(
        isRetryableStatus(status),
        "http_error",
        `HTTP ${status}${reason}`,
        undefined,
        status,
        parseRetryAfter(response.headers.get("retry-after")),
      );
    } finally {
      clearTimeout(timer);
    }
  };
}
