import * as http from "node:http";
import * as https from "node:https";
import { Readable } from "node:stream";
import { urlToHttpOptions } from "node:url";
import { uuid } from "../wire/ids.js";
import { failureDetail } from "./failure-detail.js";
import { backgroundTimer } from "../base/timers.js";
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

const ignore = () => {};

/**
 * Node's sender over `node:http(s)` with a keep-alive agent: the same contract as the fetch sender
 * (see http-sender.ts) at a fraction of the CPU per request, which matters because the API takes
 * one trace per request. Idle pooled sockets are unref'd by the agent, so they never hold a process
 * open. Written with events and one promise per send, and one timer for all requests, because every
 * promise and timer costs more in a process where AsyncLocalStorage is on (a traced one).
 */
export function createNodeHttpSender({ endpoint, headers, timeoutMs, maxSockets }: NodeHttpSenderOptions): Send {
  const base = trimEndpoint(endpoint);
  const target = new URL(base);
  const transport = target.protocol === "https:" ? https : http;
  const agent = new transport.Agent({ keepAlive: true, maxSockets });
  const { protocol, hostname, port, auth } = urlToHttpOptions(target);
  const prefix = target.pathname === "/" ? "" : target.pathname;
  // fetch trims header values (a key read from a secret file often ends with a newline); node:http would throw instead.
  const fixed: Record<string, string> = { "Content-Type": "application/json" };
  for (const [name, value] of Object.entries(headers)) fixed[name] = value.trim();
  const expiry = deadlines(timeoutMs);

  return (envelope) =>
    new Promise<SendResult>((resolve) => {
      const { body } = envelope;
      // Built only when something failed.
      const fail: Fail = (...args) => failureOf(base + envelope.path, headers, failureDetail)(...args);
      let current: http.ClientRequest | undefined;
      let timedOut = false;
      let settled = false;
      const stop = expiry(() => {
        timedOut = true;
        current?.destroy();
      });
      const finish = (result: SendResult) => {
        if (settled) return;
        settled = true;
        stop();
        resolve(result);
      };
      const networkError = (error: unknown) =>
        finish(fail(true, "network_error", timedOut ? `timed out after ${timeoutMs} ms` : `network error${failureDetail.error(error)}`, error));

      const answer = (res: http.IncomingMessage) => {
        // Errors after the headers (a reset, our own timeout) end the body early; reading copes with that.
        res.on("error", ignore);
        const status = res.statusCode ?? 0;
        if (isRedirect(status)) {
          res.resume();
          finish(redirected(fail, status, res.headers.location));
        } else if (status >= 200 && status < 300) {
          // Read to the end, so the connection goes back to the pool.
          const ok = () => finish({ ok: true, status });
          res.on("end", ok);
          res.on("close", ok);
          res.resume();
        } else {
          void reason(res, status).then((text) => finish(answered(fail, status, text, res.headers["retry-after"])));
        }
      };

      /** `again`: a request that meets a reused connection the server just closed is sent once more, at once. */
      const post = (again: boolean) => {
        let req: http.ClientRequest;
        try {
          req = transport.request({
            protocol,
            hostname,
            port,
            auth,
            agent,
            method: "POST",
            path: prefix + envelope.path,
            headers: { ...fixed, "X-Request-ID": uuid(), "Content-Length": Buffer.byteLength(body) },
          });
        } catch (error) {
          // Invalid header values throw here; fetch rejects for them.
          return networkError(error);
        }
        current = req;
        req.on("response", answer);
        req.on("error", (error) => {
          if (again && req.reusedSocket && !timedOut && isConnectionClosed(error)) post(false);
          else networkError(error);
        });
        req.end(body);
      };
      post(true);
    });
}

/** An error body explained by the same capped reader as fetch's; the sender's timeout still applies. */
async function reason(res: http.IncomingMessage, status: number): Promise<string> {
  try {
    // Only error answers pay for the web stream.
    return await failureDetail.reason(new Response(Readable.toWeb(res) as ReadableStream<Uint8Array>, { status, statusText: res.statusMessage }));
  } catch {
    // A status or reason phrase the Response constructor refuses (beyond 599, odd bytes): the status line says enough.
    res.destroy();
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
