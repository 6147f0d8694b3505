import * as http from "node:http";
import * as https from "node:https";
import { Readable } from "node:stream";
import { urlToHttpOptions } from "node:url";
import { uuid } from "../model/uuid.js";
import { failureDetail } from "./failure-detail.js";
import { backgroundTimer } from "./retry.js";
import { answered, failureOf, isConnectionClosed, isRedirect, redirected, trimEndpoint, type Send, type SenderOptions } from "./send-result.js";

export interface NodeHttpSenderOptions extends SenderOptions {
  /** Connections kept to the endpoint; the exporter never has more requests in flight (`maxConcurrentRequests`). */
  maxSockets: number;
}

/** The response to one request, or why there was none (and whether it went out on a reused connection). */
type Answer = { res: http.IncomingMessage } | { error: unknown; reused: boolean };

/**
 * Node's sender over `node:http(s)` with a keep-alive agent: the same contract as the fetch sender
 * (see http-sender.ts) at a fraction of the CPU per request, which matters because the API takes
 * one trace per request. Idle pooled sockets are unref'd by the agent, so they never hold a process open.
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

  return async (envelope) => {
    const fail = failureOf(base + envelope.path, headers, failureDetail);
    const options: http.RequestOptions = { protocol, hostname, port, auth, agent, method: "POST", path: prefix + envelope.path };
    const body = envelope.body;
    let current: http.ClientRequest | undefined;
    let timedOut = false;
    const timer = backgroundTimer(() => {
      timedOut = true;
      current?.destroy();
    }, timeoutMs);

    const post = () =>
      new Promise<Answer>((resolve) => {
        try {
          const req = transport.request({
            ...options,
            headers: { ...fixed, "X-Request-ID": uuid(), "Content-Length": Buffer.byteLength(body) },
          });
          current = req;
          req.on("response", (res) => {
            // Errors after the headers (a reset, our own timeout) end the body early; reading copes with that.
            res.on("error", () => {});
            resolve({ res });
          });
          req.on("error", (error) => resolve({ error, reused: req.reusedSocket }));
          req.end(body);
        } catch (error) {
          // Invalid header values throw here; fetch rejects for them.
          resolve({ error, reused: false });
        }
      });

    try {
      let answer = await post();
      if ("error" in answer && answer.reused && !timedOut && isConnectionClosed(answer.error)) answer = await post();
      if ("error" in answer) {
        const { error } = answer;
        return fail(true, "network_error", timedOut ? `timed out after ${timeoutMs} ms` : `network error${failureDetail.error(error)}`, error);
      }
      const { res } = answer;
      const status = res.statusCode ?? 0;
      if (isRedirect(status)) {
        res.resume();
        return redirected(fail, status, res.headers.location);
      }
      return answered(fail, status, await reason(res, status), res.headers["retry-after"]);
    } finally {
      clearTimeout(timer);
    }
  };
}

/**
 * Reads the body to its end, so the connection goes back to the pool: on success it is drained,
 * on failure explained by the same capped reader as fetch's. The sender's timeout still applies.
 */
async function reason(res: http.IncomingMessage, status: number): Promise<string> {
  if (status >= 200 && status < 300) {
    res.resume();
    await new Promise<void>((resolve) => {
      res.on("end", resolve);
      res.on("close", resolve);
    });
    return "";
  }
  try {
    // Only error answers pay for the web stream.
    const response = new Response(Readable.toWeb(res) as ReadableStream<Uint8Array>, { status, statusText: res.statusMessage });
    return await failureDetail.reason(response);
  } catch {
    // A status or reason phrase the Response constructor refuses (beyond 599, odd bytes): the status line says enough.
    res.destroy();
    return "";
  }
}
