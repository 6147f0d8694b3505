/** Reading bodies without ever holding more than a set number of bytes. */

export type CappedRead = { ok: true; bytes: Uint8Array } | { ok: false; tooLarge: true };

/**
 * Reads `stream` to the end, counting bytes as they arrive; stops reading (and cancels the stream)
 * as soon as more than `maxBytes` came in, so an oversized body is never buffered whole, whether
 * or not it announced its length. Rejects when the stream errors (client gone, upstream aborted).
 */
export async function readCapped(stream: ReadableStream<Uint8Array> | null, maxBytes: number): Promise<CappedRead> {
  if (!stream) return { ok: true, bytes: new Uint8Array(0) };
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      reader.cancel().catch(() => {});
      return { ok: false, tooLarge: true };
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return { ok: true, bytes: chunks[0]! };
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return { ok: true, bytes };
}

/** A `Content-Length` that already says the body is too large (absent or malformed: not known to be). */
export function declaredTooLarge(contentLength: string | null, maxBytes: number): boolean {
  return contentLength !== null && /^\s*\d+\s*$/.test(contentLength) && Number(contentLength) > maxBytes;
}

/** Whether the `Content-Type` is JSON (`application/json`, any parameters such as charset). */
export function isJsonContentType(contentType: string | null): boolean {
  return contentType !== null && contentType.split(";")[0]!.trim().toLowerCase() === "application/json";
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Parses UTF-8 JSON; undefined when the bytes are not UTF-8 or not JSON (an empty body included). */
export function parseJson(bytes: Uint8Array): { value: unknown; text: string } | undefined {
  try {
    const text = utf8.decode(bytes);
    return { value: JSON.parse(text), text };
  } catch {
    return undefined;
  }
}
