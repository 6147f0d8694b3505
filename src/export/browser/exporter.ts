import { PandaProbeError, type PandaProbeErrorCode } from "../../errors.js";
import type { SendResult } from "../http-sender.js";
import { backgroundTimer, backoffDelay } from "../retry.js";
import { jsonByteLength } from "../../model/serialize.js";
import type { QueueStore } from "./store.js";
import type { Envelope, Exporter } from "../types.js";

export interface BrowserExporterOptions {
  /** The shared IndexedDB queue; rejects when IndexedDB cannot be used. */
  openStore(onClosed: () => void): Promise<QueueStore>;
  /** Where records go while IndexedDB is unavailable. */
  memoryStore: QueueStore;
  send(envelope: Envelope, keepalive: boolean): Promise<SendResult>;
  /** Lock and channel name shared by the tabs of a site. */
  name: string;
  /** Records read from the queue per round of sending. */
  batchSize: number;
  /** How often a tab looks for records left in the shared queue (each write is sent at once). */
  flushIntervalMs: number;
  maxConcurrency: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** What keepalive requests may carry in all while the page goes away (browsers allow 64 KiB). */
  keepaliveBudget?: number;
  report(error: PandaProbeError): void;
  log?: (message: string) => void;
}

const REOPEN_AFTER_MS = 30_000;
/** The longest Retry-After honoured, as in the core transport: an hour's wait (or a date read by a clock running behind) would hold every trace of the visit. */
const MAX_RETRY_AFTER_MS = 60_000;

type Listen = (type: string, fn: () => void) => void;
type Lifecycle = Partial<Record<"addEventListener" | "removeEventListener", Listen>>;

/** Runs fn when the page has nothing better to do (within a second), or after this task where idle callbacks are missing (Safari). */
function whenIdle(fn: () => void): void {
  if (typeof requestIdleCallback === "function") requestIdleCallback(() => fn(), { timeout: 1000 });
  else setTimeout(fn, 0);
}

/**
 * Every finished trace is written to IndexedDB before it is sent and deleted only after a 2xx, so
 * offline spells, reloads and closed tabs lose nothing. Tabs share the queue: one sends at a time
 * (Web Locks), the others wake it (BroadcastChannel); a record sent twice is harmless (upsert).
 *
 * A closure rather than a class: its state is local variables, which minify, where a class's
 * field names would ship whole in every page that loads the SDK.
 */
export function createBrowserExporter(options: BrowserExporterOptions): Exporter {
  const {
    memoryStore,
    name,
    batchSize,
    flushIntervalMs,
    maxConcurrency,
    send,
    report,
    log,
    retryBaseMs = 500,
    retryMaxMs = 30_000,
    keepaliveBudget = 60_000,
  } = options;
  const fail = (code: PandaProbeErrorCode, message: string, cause?: unknown) =>
    report(new PandaProbeError(code, `PandaProbe: ${message}`, { cause }));
  /** Where records are written and read: IndexedDB once open, memory while it cannot be used. */
  let store: QueueStore | Promise<QueueStore>;
  let inMemory = false;
  let lastOpenAttempt = 0;
  /** Envelopes still to be made (serialized): when the page is idle, or at once when it leaves or flushes. */
  let later: (() => Envelope[])[] = [];
  /** Enqueued and not yet written: what a page being closed sends with keepalive. */
  let pending: Envelope[] = [];
  /** Handed to IndexedDB, not yet committed: a page closed now would lose them with the transaction. */
  const writing = new Set<Envelope>();
  /** Read from the queue by the drain and not answered yet: a page closed now would cancel their requests. */
  const sending = new Set<Envelope>();
  /** The keepalive requests of this departure by body, whose answers the drain takes instead of sending again. */
  const leaving = new Map<string, Promise<SendResult>>();
  /** What keepalive may still carry while the page goes away (browsers count requests in flight); undefined while it is visible. */
  let budget: number | undefined;
  let writes = Promise.resolve();
  let draining: Promise<void> | undefined;
  let drainAgain = false;
  let failures = 0;
  let retryAt = 0;
  /** The current wait is the backend's Retry-After, which coming back online does not cut short. */
  let serverAskedToWait = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;
  let stopping: Promise<void> | undefined;

  const open = (): Promise<QueueStore> => {
    lastOpenAttempt = Date.now();
    return options.openStore(() => fallBack(new Error("the browser closed the IndexedDB connection"))).catch(fallBack);
  };

  const fallBack = (error: unknown): QueueStore => {
    if (!inMemory) {
      inMemory = true;
      fail("storage", `IndexedDB unavailable (${String(error)}); queueing traces in memory`, error);
    }
    return (store = memoryStore);
  };

  /** Back to IndexedDB when it works again, carrying over what waited in memory. */
  const reopenIfDue = async (): Promise<void> => {
    if (!inMemory || Date.now() - lastOpenAttempt < REOPEN_AFTER_MS) return;
    const opened = await open();
    if (opened === memoryStore) return;
    store = opened;
    // Behind the writes already headed for memory, so none of them is left behind there.
    await (writes = writes.then(async () => {
      const waiting = await memoryStore.oldest();
      try {
        await opened.add(waiting);
      } catch (error) {
        // Still in memory, nothing lost; and the write chain must never reject.
        fallBack(error);
        return;
      }
      await memoryStore.remove(waiting.map((r) => r.id));
      // Only now: until the move commits, a page that closes sends what waits in memory with keepalive.
      inMemory = false;
    }));
  };

  const persist = (): Promise<void> => {
    const batch = pending;
    if (batch.length === 0) return writes;
    pending = [];
    for (const envelope of batch) writing.add(envelope);
    return (writes = writes.then(async () => {
      // Sized here, off the interaction path that ended the trace.
      const records = batch.map(({ path, body }) => ({ path, body, bytes: jsonByteLength(body) }));
      let evicted: number;
      try {
        evicted = await (await store).add(records);
      } catch (error) {
        evicted = await fallBack(error).add(records);
      }
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
    }));
  };

  /**
   * Sends until the queue is empty or the backend asks to wait; one sender per site at a time.
   * Never rejects. Without `force`, it does not send before the backoff ends.
   */
  const drain = (force = false): Promise<void> | undefined => {
    // After shutdown the store is closed; a retry timer or a late flush() has nothing to do.
    if (closed || (!force && Date.now() < retryAt)) return draining;
    if (draining) {
      drainAgain = true;
      return draining;
    }
    return (draining = (async () => {
      try {
        do {
          drainAgain = false;
          await reopenIfDue();
          const locks = (globalThis.navigator as { locks?: LockManager } | undefined)?.locks;
          // Without Web Locks (old browsers, tests) this tab just sends. A lock that is taken means
          // another tab is sending: this one waits its turn, for that tab may close (or be
          // discarded) before it reads what this one wrote.
          await (locks ? locks.request(name, sendAll) : sendAll());
        } while (drainAgain && Date.now() >= retryAt);
      } catch (error) {
        fail("internal", `sending queued traces failed: ${String(error)}`);
      } finally {
        draining = undefined;
      }
    })());
  };

  const sendAll = async (): Promise<void> => {
    const queue = await store;
    for (let batch; (batch = await queue.oldest(batchSize)).length > 0; failures = 0) {
      const done: number[] = [];
      /** The longest Retry-After among the retryable failures (0 without one); -1 when none failed. */
      let wait = -1;
      // maxConcurrency workers share one iterator, so each record is sent once.
      const records = batch.values();
      for (const record of batch) sending.add(record);
      await Promise.all(
        Array.from({ length: maxConcurrency }, async () => {
          for (const record of records) {
            const kept = leaving.get(record.body);
            const result = await (kept ?? send(record, false));
            sending.delete(record);
            // A keepalive copy that failed is retried like any other send.
            if (kept && !result.ok) leaving.delete(record.body);
            if (!result.ok && result.retryable) {
              wait = Math.max(wait, Math.min(result.retryAfterMs ?? 0, MAX_RETRY_AFTER_MS));
              continue;
            }
            if (!result.ok) report(result.error);
            done.push(record.id);
          }
        }),
      );
      await queue.remove(done);
      if (wait >= 0) {
        // Kept, not counted against retries: offline spells and outages end, the queue is bounded.
        const delay = Math.max(wait, backoffDelay(failures++, retryBaseMs, retryMaxMs));
        log?.(`send failed; retrying in ${delay} ms`);
        const at = (retryAt = Date.now() + delay);
        serverAskedToWait = wait > 0;
        // This timer is the retry: it may fire before Date.now() reaches retryAt (coarse clocks, early
        // timers). A later failure's wait (a flush() answered 429) is ended by its own timer.
        backgroundTimer(() => {
          if (retryAt === at) retryAt = 0;
          void drain();
        }, delay);
        return;
      }
    }
  };

  const makeLater = (): void => {
    const makers = later;
    later = [];
    for (const make of makers) for (const envelope of make()) enqueue(envelope);
  };

  /** The page is being hidden or closed: what is not yet in IndexedDB leaves with keepalive. */
  const sendBeforeLeaving = (): void => {
    budget ??= keepaliveBudget;
    makeLater();
    sendKeepalive([...writing, ...pending, ...sending]);
    // Without IndexedDB, what waits in memory dies with the page unless it leaves now.
    if (inMemory) void memoryStore.oldest().then(sendKeepalive);
    void persist();
  };

  const sendKeepalive = (envelopes: readonly Envelope[]): void => {
    for (const envelope of envelopes) {
      if (leaving.has(envelope.body)) continue;
      const bytes = jsonByteLength(envelope.body);
      if (bytes > budget!) continue;
      budget! -= bytes;
      // Answered, it is no longer in flight: a tab hidden for long still has budget when it closes.
      leaving.set(envelope.body, send(envelope, true).finally(() => budget !== undefined && (budget += bytes)));
    }
  };

  // Listeners wrap drain so an event object is never taken for its `force` argument.
  const onOnline = () => {
    // The backoff offline failures built up is moot once the network is back.
    if (!serverAskedToWait) retryAt = failures = 0;
    void drain();
  };
  /** Visible again, or restored from the back/forward cache after pagehide: sending is ordinary again. */
  const onReturn = () => {
    budget = undefined;
    leaving.clear();
  };
  const onVisibility = () => (globalThis.document?.visibilityState === "hidden" ? sendBeforeLeaving() : onReturn());
  const listen = (method: keyof Lifecycle) => {
    const win = globalThis as Lifecycle;
    win[method]?.("online", onOnline);
    win[method]?.("pagehide", sendBeforeLeaving);
    win[method]?.("pageshow", onReturn);
    (globalThis.document as Lifecycle | undefined)?.[method]?.("visibilitychange", onVisibility);
  };

  store = open();
  const channel = typeof BroadcastChannel === "function" ? new BroadcastChannel(name) : undefined;
  if (channel) channel.onmessage = () => void drain();
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
    if (budget !== undefined) sendKeepalive([envelope]);
    // Writes are batched per task: ending many traces at once costs one transaction.
    if (pending.length === 1) queueMicrotask(persist);
  };
  return {
    enqueue,
    enqueueLater(make) {
      if (closed) return;
      later.push(make);
      // While the page goes away there is no later.
      if (budget !== undefined) makeLater();
      else if (later.length === 1) whenIdle(makeLater);
    },
    flush,
    shutdown: () =>
      (stopping ??= flush().then(async () => {
        closed = true;
        clearTimeout(timer);
        channel?.close();
        listen("removeEventListener");
        (await store).close();
      })),
  };
}
