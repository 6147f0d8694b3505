import { readBody } from "../base/read-body.js";

/**
 * What makes an HTTP failure's message helpful beyond its status line: the error body's reason, a
 * thrown error's cause, credentials scrubbed from both. Node reports it always; browser bundles
 * only in development, so production pages do not ship it.
 */
export interface FailureDetail {
  /** Reads (and thereby drains) the response body: ` <statusText>: <reason>`, or "". */
  reason(response: Response): Promise<string>;
  /** `: ` and a thrown error with its cause. */
  error(err: unknown): string;
  /** The message with the values of credential headers masked. */
  redact(message: string, headers: Record<string, string>): string;
}

/** Enough of an error body to explain a rejection without buffering arbitrary payloads. */
const MAX_BODY_BYTES = 2048;
/** Error bodies that are not the API's JSON shape are quoted only this far. */
const MAX_SNIPPET_CHARS = 200;
/** Header values that are credentials and must never appear in an error message. */
const SECRET_HEADERS = new Set(["x-api-key", "authorization"]);

export const failureDetail: FailureDetail = {
  async reason(response) {
    // Read even on success: a fully consumed body frees the keep-alive connection for the next
    // request. The sender's timeout still applies, so a stalled body cannot hang it.
    // A body that breaks mid-way (or times out) leaves what was read: the status line already tells the outcome.
    const text = new TextDecoder().decode((await readBody(response.body, MAX_BODY_BYTES)).bytes);
    if (response.ok) return "";
    const reason = explain(text);
    return `${response.statusText ? ` ${response.statusText}` : ""}${reason ? `: ${reason}` : ""}`;
  },
  error: (err) => `: ${describe(err)}`,
  redact(message, headers) {
    // A server may echo the key back ("invalid key sk_pp_..."), as fetch sent it: trimmed (a key
    // read from a secret file often ends with a newline).
    for (const [name, value] of Object.entries(headers)) {
      if (!SECRET_HEADERS.has(name.toLowerCase())) continue;
      for (const secret of [value, value.trim()]) if (secret) message = message.split(secret).join("[redacted]");
    }
    return message;
  },
};

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
