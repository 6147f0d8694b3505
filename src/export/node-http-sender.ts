import { urlToHttpOptions } from "node:url";
import { uuid } from "../wire/ids.js";
import { failureDetail } from "./failure-detail.js";
import { backgroundTimer } from "../base/timers.js";
import { createHttp1Pool, type Answer } from "./http1-pool.js";
import {
  answered,
  failureOf,
  isConnectionClosed,
  isRedirect,
  redirected,
  trimEndpoint,
  type Fail,
  type Send,
  type SendResult,
  type SenderOptions,
} from "./send-result.js";

export interface NodeHttpSenderOptions extends SenderOptions {
  /** Connections kept to the endpoint; the exporter never has more requests in flight (`maxConcurrentRequests`). */
  maxSockets: number;
}

/** What node:http accepts in a header name and value (RFC 9110 token; no control characters but tab). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
/** Enough of an error body for failureDetail to explain it (it reads 2 KiB). */
const REASON_BYTES = 2048;
const wantsReason = (status: number) => status < 200 || status >= 300;

/**
 * Node's sender: the same contract as the fetch sender (see http-sender.ts) over a pool of
 * keep-alive connections (http1-pool.ts), at a fraction of the CPU per request, which matters
 * because the API takes one trace per request. Idle pooled connections are unref'd, so they never
 * hold a process open. One promise per send and one timer for all requests, because every promise
 * and timer costs more in a process where AsyncLocalStorage is on (a traced one).
 */
export function createNodeHttpSender({ endpoint, headers, timeoutMs, maxSockets }: NodeHttpSenderOptions): Send {
  const base = trimEndpoint(endpoint);
  const target = new URL(base);
  const { hostname, port, auth } = urlToHttpOptions(target);
  const secure = target.protocol === "https:";
  const pool = createHttp1Pool({ secure, host: hostname!, port: Number(port) || (secure ? 443 : 80), maxSockets, cap: REASON_BYTES });
  const prefix = target.pathname === "/" ? "" : target.pathname;
  // fetch trims header values (a key read from a secret file often ends with a newline); node:http would refuse them.
  const fixed: Record<string, string> = { Host: target.host, Connection: "keep-alive", "Content-Type": "application/json" };
  for (const [name, value] of Object.entries(headers)) fixed[name] = value.trim();
  if (auth) fixed["Authorization"] ??= `Basic ${Buffer.from(auth).toString("base64")}`;
  const invalid = Object.entries(fixed).find(([name, value]) => !TOKEN.test(name) || !FIELD_VALUE.test(value));
  const lines = Object.entries(fixed)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join("");
  const expiry = deadlines(timeoutMs);

  return (envelope) =>
    new Promise<SendResult>((resolve) => {
      const { body, path } = envelope;
      // Built only when something failed.
      const fail: Fail = (...args) => failureOf(base + path, headers, failureDetail)(...args);
      const networkError = (error: unknown, timedOut: boolean) =>
        resolve(fail(true, "network_error", timedOut ? `timed out after ${timeoutMs} ms` : `network error${failureDetail.error(error)}`, error));
      if (invalid || /[^\x21-\x7e]/.test(prefix + path)) {
        const what = invalid ? `header ${JSON.stringify(invalid[0])}` : "request path";
        return networkError(Object.assign(new TypeError(`Invalid character in ${what}`), { code: "ERR_INVALID_CHAR" }), false);
      }
      let timedOut = false;
      let exchange: { abort(error: Error): void };
      const stop = expiry(() => {
        timedOut = true;
        exchange.abort(Object.assign(new Error("request timed out"), { code: "ETIMEDOUT" }));
      });
      const answer = (result: Answer) => {
        stop();
        const { status, headers: got } = result;
        if (isRedirect(status)) resolve(redirected(fail, status, got["location"]));
        else if (status >= 200 && status < 300) resolve({ ok: true, status });
        else void reason(result).then((text) => resolve(answered(fail, status, text, got["retry-after"])));
      };

      /** `again`: a request that meets a reused connection the server just closed is sent once more, at once. */
      const post = (again: boolean) => {
        const head = `POST ${prefix}${path} HTTP/1.1\r\n${lines}X-Request-ID: ${uuid()}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
        exchange = pool.request(head, body, wantsReason, (error, result, reused) => {
          if (result) return answer(result);
          if (again && reused && !timedOut && isConnectionClosed(error)) return post(false);
          stop();
          networkError(error, timedOut);
        });
      };
      post(true);
    });
}

/** An error body explained by the same capped reader as fetch's. */
async function reason({ status, statusText, body }: Answer): Promise<string> {
  try {
    return await failureDetail.reason(new Response(body ? new Uint8Array(body) : null, { status, statusText }));
  } catch {
    // A status or reason phrase the Response constructor refuses (beyond 599, odd bytes): the status line says enough.
    return "";
  }
}

/**
 * One timer for all of a sender's requests instead of one each: they share one timeout, so they
 * expire in the order they started. The function returned, given `expire`, calls it once `timeoutMs`
 * have passed unless the function it returns in turn is called first.
 */
function deadlines(timeoutMs: number): (expire: () => void) => () => void {
  const pending = new Set<{ at: number; expire: () => void }>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = () => {
    const first = pending.values().next().value;
    timer = first ? backgroundTimer(fire, first.at - performance.now()) : undefined;
  };
  const fire = () => {
    const now = performance.now();
    for (const entry of pending) {
      if (entry.at > now) break;
      pending.delete(entry);
      entry.expire();
    }
    arm();
  };
  return (expire) => {
    const entry = { at: performance.now() + timeoutMs, expire };
    pending.add(entry);
    if (!timer) arm();
    return () => pending.delete(entry);
  };
}
