/**
 * A server asking to wait longer than this is not worth holding a slot, a queue or a route for:
 * the exporters, the browser's backoff and the relay all cap `Retry-After` here.
 */
export const MAX_RETRY_AFTER_MS = 60_000;

/**
 * Milliseconds to wait according to a `Retry-After` header: delta-seconds ("120") or an HTTP-date
 * ("Wed, 21 Oct 2015 07:28:00 GMT"). A date in the past means "now" (0). Unparseable values yield
 * `undefined` so the caller falls back to its own backoff.
 */
export function parseRetryAfter(header: string | null, now: number = Date.now()): number | undefined {
  const value = header?.trim() ?? "";
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  // Only letters make it an HTTP-date; this keeps Date.parse from reading "-5" or "1.5" as years.
  if (!/[a-z]/i.test(value)) return undefined;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
