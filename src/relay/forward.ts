/** Sending a validated body to PandaProbe with the server's credentials, and relaying the answer. */
import { backgroundTimer } from "../base/timers.js";
import { SDK_VERSION } from "../base/version.js";
import { readBody } from "../base/read-body.js";
import { detail } from "./responses.js";
import type { ResolvedRelayOptions } from "./options.js";

const USER_AGENT = `pandaprobe-js-relay/${SDK_VERSION}`;
/** PandaProbe's answers are small JSON documents; anything bigger is not worth relaying. */
const MAX_UPSTREAM_BODY_BYTES = 256 * 1024;
/** Statuses whose responses cannot carry a body. */
const NULL_BODY_STATUSES = new Set([204, 205, 304]);
/** Upstream headers worth passing back: the body's type and when to retry. */
const RELAYED_HEADERS = ["content-type", "retry-after"];
const REQUEST_ID = /^[\w.-]{1,128}$/;

export interface Forward {
  upstreamPath: string;
  body: string;
  /** The browser's `X-Request-ID`, passed on so both sides' logs line up. */
  requestId: string | null;
  /** Extra headers for the answer (CORS). */
  headers: Record<string, string>;
}

/**
 * POSTs `body` upstream and turns the answer into the browser's: 2xx/4xx/5xx pass through (status,
 * body, `Retry-After`), so the browser SDK retries exactly what it would retry against PandaProbe;
 * a network error, timeout or redirect becomes 502. The API key never appears in what comes back.
 */
export async function forward(options: ResolvedRelayOptions, request: Forward): Promise<Response> {
  const controller = new AbortController();
  const timer = backgroundTimer(() => controller.abort(), options.timeoutMs);
  const headers: Record<string, string> = {
    "content-type": "application/json",
    accept: "application/json",
    "user-agent": USER_AGENT,
    "x-api-key": options.apiKey,
    "x-project-name": options.projectName,
  };
  if (request.requestId !== null && REQUEST_ID.test(request.requestId)) headers["x-request-id"] = request.requestId;
  try {
    let upstream: Response;
    let text: string;
    try {
      upstream = await options.fetch(options.endpoint + request.upstreamPath, {
        method: "POST",
        headers,
        body: request.body,
        signal: controller.signal,
        // A redirect would carry the key to wherever it points.
        redirect: "manual",
      });
      const read = await readBody(upstream.body, MAX_UPSTREAM_BODY_BYTES);
      if (read.failed !== undefined) throw read.failed;
      if (!read.whole) return detail(502, "PandaProbe API answered with an oversized body", request.headers);
      text = new TextDecoder().decode(read.bytes);
    } catch {
      // The cause may name internal hosts: the browser only learns that the upstream failed.
      const why = controller.signal.aborted ? `did not answer within ${options.timeoutMs} ms` : "is unreachable";
      return detail(502, `PandaProbe API ${why}`, request.headers);
    }
    if (upstream.status < 200 || (upstream.status >= 300 && upstream.status < 400)) {
      return detail(502, `PandaProbe API answered with an unexpected HTTP ${upstream.status}`, request.headers);
    }
    const relayed: Record<string, string> = { "cache-control": "no-store", ...request.headers };
    for (const name of RELAYED_HEADERS) {
      const value = upstream.headers.get(name);
      if (value !== null) relayed[name] = value;
    }
    const body = NULL_BODY_STATUSES.has(upstream.status) ? null : text.split(options.apiKey).join("[redacted]");
    return new Response(body, { status: upstream.status, headers: relayed });
  } finally {
    clearTimeout(timer);
  }
}
