/**
 * Retry policy of the export layer: which responses are worth another attempt and how long to wait.
 * Pure functions, so they are trivially testable and isomorphic.
 */

/**
 * Exponential backoff with full jitter: a uniform delay in [0, min(maxMs, baseMs * 2^attempt)).
 * Full jitter spreads the retries of many clients hitting the same outage instead of synchronising them.
 * `attempt` counts retries from 0 (the wait before the first retry).
 */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** attempt);
  return Math.floor(random() * ceiling);
}

/**
 * Transient failures: timeout (408), rate limit (429) and server errors (5xx). Everything else,
 * notably 400/401/403/404/422, would fail the same way again (the exporter alone knows that a 404
 * to a trace's spans may mean the trace is not persisted yet).
 */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status <= 599);
}
