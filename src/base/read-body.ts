/** What `readBody` read of a stream, never more than its cap. */
export interface BodyRead {
  /** The first bytes, at most the cap. */
  readonly bytes: Uint8Array;
  /** Whether the stream ended within the cap: false when more came (the rest was cancelled unread). */
  readonly whole: boolean;
  /** Set when the stream broke (client gone, upstream aborted, a timeout); `bytes` is what came before. */
  readonly failed?: unknown;
}

/**
 * Reads a body without ever holding more than `maxBytes`: counts bytes as they arrive and cancels
 * the stream as soon as more came, whether or not it announced its length. Never rejects: a
 * stream that breaks leaves what it gave before, which callers use or refuse as they need.
 */
export async function readBody(stream: ReadableStream<Uint8Array> | null, maxBytes: number): Promise<BodyRead> {
  if (!stream) return { bytes: new Uint8Array(0), whole: true };
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  let whole = false;
  let failed: unknown;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        whole = true;
        break;
      }
      chunks.push(value.subarray(0, maxBytes - total));
      total += value.byteLength;
      if (total > maxBytes) {
        reader.cancel().catch(() => {});
        break;
      }
    }
  } catch (error) {
    failed = error;
    reader.cancel().catch(() => {});
  }
  const bytes = chunks.length === 1 ? chunks[0]! : concat(chunks);
  return failed === undefined ? { bytes, whole } : { bytes, whole: false, failed };
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const bytes = new Uint8Array(chunks.reduce((n, chunk) => n + chunk.byteLength, 0));
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}
