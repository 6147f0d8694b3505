import { PandaProbeError, type PandaProbeErrorCode } from "../errors.js";
import { backgroundTimer, isRetryableStatus, parseRetryAfter } from "./retry.js";
import type { Envelope } from "./types.js";

/** The outcome of one HTTP attempt. Never a rejection: the exporter decides what to do with failures. */
export type SendResult =
  | { ok: true; status: number }
  | { ok: false; retryable: boolean; status?: number; retryAfterMs?: number; error: PandaProbeError };

export interface HttpSenderOptions {
  /** Base URL, e.g. `https://api.pandaprobe.com`; one trailing slash is tolerated. */
  endpoint: string;
  /** Static headers, or a function read on every request (so rotated keys or project names apply). */
  headers: Record<string, string> | (() => Record<string, string>);
  /** Whole-request deadline (headers and body); a stalled server is treated as a transient failure. */
  timeoutMs: number;
  /** Injected for tests and exotic runtimes; defaults to the global `fetch`. */
  fetch?: typeof fetch;
}

/** Enough of an error body to explain a rejection without buffering arbitrary payloads. */
const MAX_BODY_BYTES = 2048;
/** Error bodies that are not the API's JSON shape are quoted only this far. */
const MAX_SNIPPET_CHARS = 200;
/** Header values that are credentials and must never appear in an error message. */
const SECRET_HEADERS = new Set(["x-api-key", "authorization"]);

/**
 * Builds the function that POSTs one envelope. Each call is one attempt with its own `X-Request-ID`,
 * so every HTTP request the server sees (retries included) can be told apart in its logs.
 */
export function createHttpSender(
  options: HttpSenderOptions,
): (envelope: Envelope, keepalive?: boolean) => Promise<SendResult> {
  const { endpoint, headers, timeoutMs } = options;
  const base = endpoint.endsWith("/") ? endpoint.slice(0, -1) : endpoint;
  const fetchImpl = options.fetch ?? globalThis.fetch;

  /** keepalive: the request outlives the page (sent while it is being hidden or closed). */
  return async function send(envelope: Envelope, keepalive = false): Promise<SendResult> {
    const url = base + envelope.path;
    let given: Record<string, string> = {};
    const failure = (retryable: boolean, code: PandaProbeErrorCode, message: string, cause?: unknown): SendResult => ({
      ok: false,
      retryable,
      error: new PandaProbeError(code, redact(`POST ${url}: ${message}`, given), { cause }),
    });
    try {
      given = typeof headers === "function" ? headers() : headers;
    } catch (cause) {
      // A broken headers callback fails every attempt the same way: report it, do not retry.
      return failure(false, "internal", `headers callback threw: ${describe(cause)}`, cause);
    }
    const controller = new AbortController();
    const timer = backgroundTimer(() => controller.abort(), timeoutMs);

    try {
      let response: Response;
      try {
        response = await fetchImpl(url, {
          method: "POST",
          headers: { "Content-Type": "application/json", ...given, "X-Request-ID": requestId() },
          body: envelope.body,
          signal: controller.signal,
          keepalive,
        });
      } catch (cause) {
        const message = controller.signal.aborted ? `timed out after ${timeoutMs} ms` : `network error: ${describe(cause)}`;
        return failure(true, "network_error", message, cause);
      }

      // Read (and thereby drain) the body even on success: a fully consumed body frees the keep-alive
      // connection for the next request. The timeout still applies, so a stalled body cannot hang us.
      const text = await readCapped(response, MAX_BODY_BYTES);
      const { status, statusText } = response;
      if (response.ok) return { ok: true, status };

      const reason = explain(text);
      const message = `POST ${url}: HTTP ${status}${statusText ? ` ${statusText}` : ""}${reason ? `: ${reason}` : ""}`;
      const retryAfterMs = parseRetryAfter(response.headers.get("retry-after"));
      return {
        ok: false,
        retryable: isRetryableStatus(status),
        status,
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
        error: new PandaProbeError("http_error", redact(message, given), { status }),
      };
    } finally {
      clearTimeout(timer);
    }
  };
}

/** `crypto.randomUUID` is missing in insecure browser contexts (plain http); fall back to getRandomValues. */
function requestId(): string {
  const c = globalThis.crypto;
  if (typeof c.randomUUID === "function") return c.randomUUID();
  const b = c.getRandomValues(new Uint8Array(16));
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * Reads at most `cap` bytes of the body as text, then cancels the rest. Never throws: a body that
 * breaks mid-way (or times out) leaves whatever was read, because the status line already tells the outcome.
 */
async function readCapped(response: Response, cap: number): Promise<string> {
  const body = response.body;
  if (!body) return "";
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  let bytes = 0;
  try {
    while (bytes < cap) {
      const { done, value } = await reader.read();
      if (done) return text + decoder.decode();
      const chunk = value.subarray(0, cap - bytes);
      bytes += chunk.byteLength;
      text += decoder.decode(chunk, { stream: true });
    }
    text += decoder.decode();
    await reader.cancel();
  } catch {
    await reader.cancel().catch(() => {});
  }
  return text;
}

/** Turns an error body into a short reason: the API's `detail` and per-field `errors`, else a snippet. */
function explain(text: string): string {
  const parts: string[] = [];
  try {
    const { detail, errors } = (JSON.parse(text) ?? {}) as { detail?: unknown; errors?: unknown };
    if (typeof detail === "string" && detail) parts.push(detail);
    if (Array.isArray(errors)) {
      for (const e of errors) {
        if (typeof e !== "object" || e === null) continue;
        const { field, message } = e as { field?: unknown; message?: unknown };
        parts.push(typeof field === "string" && field ? `${field}: ${String(message)}` : String(message));
      }
    }
  } catch {
    // Not JSON: the snippet below.
  }
  if (parts.length > 0) return parts.join("; ");
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > MAX_SNIPPET_CHARS ? `${flat.slice(0, MAX_SNIPPET_CHARS)}…` : flat;
}

/** fetch's own message is vague ("fetch failed"); the cause (ECONNREFUSED, "other side closed") is what helps. */
function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? err.cause.message : undefined;
  return cause && cause !== err.message ? `${err.message} (${cause})` : err.message;
}

/** A server may echo the key back ("invalid key sk_pp_..."); scrub credentials from anything we report. */
function redact(message: string, headers: Record<string, string>): string {
  for (const [name, value] of Object.entries(headers)) {
    if (SECRET_HEADERS.has(name.toLowerCase()) && value) message = message.split(value).join("[redacted]");
  }
  return message;
}
