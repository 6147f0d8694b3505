/** Reading bodies without ever holding more than a set number of bytes. */

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
