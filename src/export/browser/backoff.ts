import { MAX_RETRY_AFTER_MS } from "../../base/retry-after.js";
import { backgroundTimer } from "../../base/timers.js";
import { backoffDelay } from "../retry.js";
import type { BrowserExporterOptions } from "./options.js";

export type Backoff = [
  /** No wait is running: sending may start. */
  due: () => boolean,
  /**
   * How a round of sending ended: `wait` is -1 when nothing failed, else the longest Retry-After
   * among its retryable failures (0 without one). True when sending must wait.
   */
  roundEnded: (wait: number) => boolean,
  /** The network is back: sends again. */
  online: () => void,
];

/**
 * When the queue may be sent again after a failed round; `retry` runs when the wait ends. Failures
 * are kept, not counted against retries: offline spells and outages end, and the queue is bounded.
 */
export function createBackoff(
  { retryBaseMs = 500, retryMaxMs = 30_000, log }: Pick<BrowserExporterOptions, "retryBaseMs" | "retryMaxMs" | "log">,
  retry: () => void,
): Backoff {
  let failures = 0;
  let retryAt = 0;
  /** The current wait is the backend's Retry-After, which coming back online does not cut short. */
  let serverAskedToWait = false;

  const due = () => Date.now() >= retryAt;

  // - A round that went through starts the backoff over.
  // - A failed one waits the longer of the exponential backoff and the Retry-After, capped at a
  //   minute.
  // - The timer is the retry, though it may fire before Date.now() reaches retryAt (coarse
  //   clocks, early timers).
  // - Only the timer of the latest wait ends it: an earlier timer never cuts short a later
  //   failure's wait (a flush() answered 429).
  const roundEnded = (wait: number): boolean => {
    if (wait < 0) {
      failures = 0;
      return false;
    }
    const delay = Math.max(Math.min(wait, MAX_RETRY_AFTER_MS), backoffDelay(failures++, retryBaseMs, retryMaxMs));
    log?.(`send failed; retrying in ${delay} ms`);
    const at = (retryAt = Date.now() + delay);
    serverAskedToWait = wait > 0;
    backgroundTimer(() => {
      if (retryAt === at) retryAt = 0;
      retry();
    }, delay);
    return true;
  };

  // - The backoff offline failures built up is moot once the network is back.
  // - A wait the backend asked for holds.
  const online = () => {
    if (!serverAskedToWait) retryAt = failures = 0;
    retry();
  };

  return [due, roundEnded, online];
}
