import { PandaProbeError, type PandaProbeErrorCode } from "../base/errors.js";
import type { FailureDetail } from "./failure-detail.js";
import { parseRetryAfter } from "../base/retry-after.js";
import { isRetryableStatus } from "./retry.js";
import type { Envelope } from "./types.js";

/**
 * What one HTTP attempt comes to, shared by the fetch sender and Node's `node:http` sender so both
 * keep one contract: the same results, messages and retry decisions for the same answers.
 */

/** The outcome of one HTTP attempt. Never a rejection: the exporter decides what to do with failures. */
export type SendResult =
  | { ok: true; status: number }
  | { ok: false; retryable: boolean; status?: number; retryAfterMs?: number; error: PandaProbeError };

export type Send = (envelope: Envelope, keepalive?: boolean) => Promise<SendResult>;

export interface SenderOptions {
  /** Base URL, e.g. `https://api.pandaprobe.com`; trailing slashes are tolerated. */
  endpoint: string;
  headers: Record<string, string>;
  /** Whole-request deadline (headers and body); a stalled server is treated as a transient failure. */
  timeoutMs: number;
}

/** The endpoint that routes are appended to, as the Python SDK's rstrip("/") leaves it. */
export function trimEndpoint(endpoint: string): string {
  return endpoint.replace(/\/+$/, "");
}

export type Fail = (
  retryable: boolean,
  code: PandaProbeErrorCode,
  message: string,
  cause?: unknown,
  status?: number,
  retryAfterMs?: number,
) => SendResult;

/** Builds the failures of one request to `url`: prefixed with the request, credentials scrubbed when `detail` is given. */
export function failureOf(url: string, headers: Record<string, string>, detail: FailureDetail | undefined): Fail {
  return (retryable, code, message, cause, status, retryAfterMs) => {
    message = `POST ${url}: ${message}`;
    return {
      ok: false,
      retryable,
      status,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      error: new PandaProbeError(code, detail?.redact(message, headers) ?? message, { cause, status }),
    };
  };
}

/**
 * A redirect is never followed: it would end in someone else's 200 (a login page, or a GET of the
 * endpoint after a 301), and the trace would be deleted as delivered. Browsers hide its status (0).
 */
export function redirected(fail: Fail, status: number, location: string | null | undefined): SendResult {
  const where = `${status ? ` (HTTP ${status})` : ""}${location ? ` to ${location}` : ""}`;
  return fail(false, "http_error", `redirected${where}; endpoint must answer itself`, undefined, status || undefined);
}

/** A final answer that is not a redirect: delivered on 2xx, else an http_error retried per its status and Retry-After. */
export function answered(fail: Fail, status: number, reason: string, retryAfter: string | null | undefined): SendResult {
  if (status >= 200 && status < 300) return { ok: true, status };
  return fail(isRetryableStatus(status), "http_error", `HTTP ${status}${reason}`, undefined, status, parseRetryAfter(retryAfter ?? null));
}

export const isRedirect = (status: number): boolean => status >= 300 && status < 400;

/**
 * Whether an error says the server closed the connection under the request: a reset or a hang-up
 * ("socket hang up" is ECONNRESET), a write to a closed socket, or undici's "other side closed".
 * On a reused keep-alive connection this is the race between the server's idle timeout and our
 * request, which then mostly never reached the application: worth one immediate retry.
 */
export function isConnectionClosed(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === "ECONNRESET" || code === "EPIPE" || code === "UND_ERR_SOCKET";
}
