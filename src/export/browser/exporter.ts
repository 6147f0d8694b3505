import { PandaProbeError, type PandaProbeErrorCode } from "../../base/errors.js";
import { backgroundTimer } from "../../base/timers.js";
import type { Envelope, Exporter } from "../types.js";
import { createBackoff } from "./backoff.js";
import { openWakeChannel, sendAlone } from "./cross-tab.js";
import { createPageExit } from "./page-exit.js";
import type { BrowserExporterOptions } from "./options.js";
import { createStoreFailover } from "./store-failover.js";

export type { BrowserExporterOptions };

type Listen = (type: string, fn: () => void) => void;
type Lifecycle = Partial<Record<"addEventListener" | "removeEventListener", Listen>>;

/** Runs fn when the page has nothing better to do (within a second), or after this task where idle callbacks are missing (Safari). */
function whenIdle(fn: () => void): void {
  if (typeof requestIdleCallback === "function") requestIdleCallback(() => fn(), { timeout: 1000 });
  else setTimeout(fn, 0);
}

/**
 * Every finished trace is written to IndexedDB before it is sent and deleted only after a 2xx, so
 * offline spells, reloads and closed tabs lose nothing. This composes the concerns: the store and
 * its failover to memory (store-failover), which tab sends (cross-tab), what leaves with keepalive
 * when the page goes away (page-exit), and when to send again after a failure (backoff).
 *
 * Closures rather than classes: their state is local variables, which minify, where a class's
 * field names would ship whole in every page that loads the SDK. For the same reason each part
 * hands back its functions as a tuple, destructured here, rather than as an object's methods.
 */
export function createBrowserExporter(options: BrowserExporterOptions): Exporter {
  const { name, batchSize, flushIntervalMs, maxConcurrency, send, report } = options;
  const fail = (code: PandaProbeErrorCode, message: string, cause?: unknown) =>
    report(new PandaProbeError(code, `PandaProbe: ${message}`, { cause }));
  /** Envelopes still to be made (serialized): when the page is idle, or at once when it leaves or flushes. */
  let later: (() => Envelope[])[] = [];
  /** Enqueued and not yet written: what a page being closed sends with keepalive. */
  let pending: Envelope[] = [];
  /** Handed to IndexedDB, not yet committed: a page closed now would lose them with the transaction. */
  const writing = new Set<Envelope>();
  /** Read from the queue by the drain and not answered yet: a page closed now would cancel their requests. */
  const sending = new Set<Envelope>();
  let draining: Promise<void> | undefined;
  let drainAgain = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;
  let stopping: Promise<void> | undefined;

  // - A record is in the store before the drain can read it, and in `writing` until then.
  // - Every write wakes the other tabs and this tab's drain, and starts the interval if it is not running.
  const persist = (): Promise<void> => {
    const batch = pending;
    if (batch.length === 0) return written();
    pending = [];
    for (const envelope of batch) writing.add(envelope);
    return write(batch, (evicted) => {
      for (const envelope of batch) writing.delete(envelope);
      if (evicted > 0) fail("queue_overflow", `trace queue full; evicted the ${evicted} oldest`);
      channel?.postMessage(0);
      // The interval picks up what another tab's drain left behind when its page closed.
      if (timer === undefined && !closed) {
        timer = backgroundTimer(() => {
          timer = undefined;
          void drain();
        }, flushIntervalMs);
      }
      // Sent as soon as it is safe on disk: a trace waiting for the interval would wait for the
      // user's next visit if the tab closed meanwhile. The API takes one trace per request anyway.
      void drain();
    });
  };

  /**
   * Sends until the queue is empty or the backend asks to wait; one sender per site at a time.
   * Never rejects. Without `force`, it does not send before the backoff ends.
   */
  // - One drain per tab at a time: a call while it runs makes it go round once more, unless a
  //   backoff started meanwhile.
  const drain = (force = false): Promise<void> | undefined => {
    // After shutdown the store is closed; a retry timer or a late flush() has nothing to do.
    if (closed || (!force && !due())) return draining;
    if (draining) {
      drainAgain = true;
      return draining;
    }
    return (draining = (async () => {
      try {
        do {
          drainAgain = false;
          await reopenIfDue();
          await sendAlone(name, sendAll);
        } while (drainAgain && due());
      } catch (error) {
        fail("internal", `sending queued traces failed: ${String(error)}`);
      } finally {
        draining = undefined;
      }
    })());
  };

  const sendAll = async (): Promise<void> => {
    const queue = await store();
    for (let batch; (batch = await queue.oldest(batchSize)).length > 0; ) {
      const done: number[] = [];
      /** The longest Retry-After among the retryable failures (0 without one); -1 when none failed. */
      let wait = -1;
      // maxConcurrency workers share one iterator, so each record is sent once.
      const records = batch.values();
      for (const record of batch) sending.add(record);
      await Promise.all(
        Array.from({ length: maxConcurrency }, async () => {
          for (const record of records) {
            const kept = keptCopy(record.body);
            const result = await (kept ?? send(record, false));
            sending.delete(record);
            if (kept && !result.ok) forget(record.body);
            if (!result.ok && result.retryable) {
              wait = Math.max(wait, result.retryAfterMs ?? 0);
              continue;
            }
            if (!result.ok) report(result.error);
            done.push(record.id);
          }
        }),
      );
      await queue.remove(done);
      if (roundEnded(wait)) return;
    }
  };

  const makeLater = (): void => {
    const makers = later;
    later = [];
    for (const make of makers) for (const envelope of make()) enqueue(envelope);
  };

  /** The page is being hidden or closed: what is not yet in IndexedDB leaves with keepalive. */
  const sendBeforeLeaving = (): void => {
    // First, so that what makeLater enqueues leaves with keepalive too.
    depart();
    makeLater();
    keepalive([...writing, ...pending, ...sending]);
    // Without IndexedDB, what waits in memory dies with the page unless it leaves now.
    void waitingInMemory()?.then(keepalive);
    void persist();
  };

  const [store, waitingInMemory, write, written, reopenIfDue] = createStoreFailover(options, (error) =>
    fail("storage", `IndexedDB unavailable (${String(error)}); queueing traces in memory`, error),
  );
  // Called back with no argument, so drain never takes one for its `force`.
  const [due, roundEnded, online] = createBackoff(options, drain);
  const channel = openWakeChannel(name, drain);
  const [departing, depart, keepalive, keptCopy, forget, stay] = createPageExit(options);
  // Listeners take functions that ignore the event object.
  const onVisibility = () => (globalThis.document?.visibilityState === "hidden" ? sendBeforeLeaving() : stay());
  const listen = (method: keyof Lifecycle) => {
    const win = globalThis as Lifecycle;
    win[method]?.("online", online);
    win[method]?.("pagehide", sendBeforeLeaving);
    win[method]?.("pageshow", stay);
    (globalThis.document as Lifecycle | undefined)?.[method]?.("visibilitychange", onVisibility);
  };
  listen("addEventListener");
  // What an earlier page load left behind goes out first.
  void drain();

  /**
   * flush: writes what is pending and makes one delivery attempt of everything queued. What the
   * backend did not take stays in IndexedDB for the next attempt: a browser never gives a trace up.
   */
  const flush = () => {
    makeLater();
    // A drain already under way may have read the queue before these records, or be failing:
    // the attempt flush promises starts after it.
    return persist().then(async () => {
      await draining;
      await drain(true);
    });
  };
  const enqueue = (envelope: Envelope): void => {
    if (closed) return;
    pending.push(envelope);
    // Ended while the page goes away (an app's own pagehide handler): IndexedDB may not commit in time.
    if (departing()) keepalive([envelope]);
    // Writes are batched per task: ending many traces at once costs one transaction.
    if (pending.length === 1) queueMicrotask(persist);
  };
  return {
    enqueue,
    enqueueLater(make) {
      if (closed) return;
      later.push(make);
      // While the page goes away there is no later.
      if (departing()) makeLater();
      else if (later.length === 1) whenIdle(makeLater);
    },
    flush,
    shutdown: () =>
      (stopping ??= flush().then(async () => {
        closed = true;
        clearTimeout(timer);
        channel?.close();
        listen("removeEventListener");
        (await store()).close();
      })),
  };
}
