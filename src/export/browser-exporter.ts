import { PandaProbeError } from "../errors.js";
import type { SendResult } from "./http-sender.js";
import { backgroundTimer, backoffDelay } from "./retry.js";
import { jsonByteLength } from "../model/serialize.js";
import type { QueuedRecord, QueueStore } from "./store.js";
import type { Envelope, Exporter } from "./types.js";

export interface BrowserExporterOptions {
  /** The shared IndexedDB queue; rejects when IndexedDB cannot be used. */
  openStore(onClosed: () => void): Promise<QueueStore>;
  /** Where records go while IndexedDB is unavailable. */
  memoryStore: QueueStore;
  send(envelope: Envelope, keepalive: boolean): Promise<SendResult>;
  /** Lock and channel name shared by the tabs of a site. */
  name: string;
  batchSize: number;
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

interface Lifecycle {
  addEventListener(type: string, fn: () => void): void;
  removeEventListener(type: string, fn: () => void): void;
}

/**
 * Every finished trace is written to IndexedDB before it is sent and deleted only after a 2xx, so
 * offline spells, reloads and closed tabs lose nothing. Tabs share the queue: one sends at a time
 * (Web Locks), the others wake it (BroadcastChannel); a record sent twice is harmless (upsert).
 */
export class BrowserExporter implements Exporter {
  private store: Promise<QueueStore>;
  private inMemory = false;
  private lastOpenAttempt = Date.now();
  /** Enqueued and not yet written: what a page being closed sends with keepalive. */
  private pending: Envelope[] = [];
  /** Handed to IndexedDB, not yet committed: a page closed now would lose them with the transaction. */
  private readonly writing = new Set<Envelope>();
  /** Bodies already sent with keepalive during this departure. */
  private readonly sentOnLeave = new Set<string>();
  private leaving = false;
  private budget = 0;
  private writes: Promise<void> = Promise.resolve();
  private draining: Promise<void> | undefined;
  private drainAgain = false;
  private failures = 0;
  private retryAt = 0;
  /** The current wait is the backend's Retry-After, which coming back online does not cut short. */
  private serverAskedToWait = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly channel: BroadcastChannel | undefined;
  private closed = false;
  private stopping: Promise<void> | undefined;
  private readonly wake = () => void this.drain();
  private readonly onOnline = () => {
    // The backoff offline failures built up is moot once the network is back.
    if (!this.serverAskedToWait) this.retryAt = this.failures = 0;
    void this.drain();
  };
  private readonly leave = () => this.sendBeforeLeaving();
  private readonly onVisibility = () => {
    if (globalThis.document?.visibilityState === "hidden") return this.sendBeforeLeaving();
    this.leaving = false;
    this.sentOnLeave.clear();
  };

  constructor(private readonly options: BrowserExporterOptions) {
    this.store = this.open();
    this.channel = typeof BroadcastChannel === "function" ? new BroadcastChannel(options.name) : undefined;
    this.channel?.addEventListener("message", this.wake);
    const win = globalThis as unknown as Partial<Lifecycle>;
    win.addEventListener?.("online", this.onOnline);
    win.addEventListener?.("pagehide", this.leave);
    (globalThis.document as Partial<Lifecycle> | undefined)?.addEventListener?.("visibilitychange", this.onVisibility);
    // What an earlier page load left behind goes out first.
    void this.drain();
  }

  private open(): Promise<QueueStore> {
    this.lastOpenAttempt = Date.now();
    return this.options.openStore(() => this.fallBack(new Error("the browser closed the IndexedDB connection"))).then(
      (store) => {
        this.inMemory = false;
        return store;
      },
      (error: unknown) => this.fallBack(error),
    );
  }

  private fallBack(error: unknown): QueueStore {
    if (!this.inMemory) {
      this.inMemory = true;
      this.options.report(
        new PandaProbeError("storage", `PandaProbe: IndexedDB unavailable (${String(error)}); queueing traces in memory`, {
          cause: error,
        }),
      );
    }
    this.store = Promise.resolve(this.options.memoryStore);
    return this.options.memoryStore;
  }

  /** Back to IndexedDB when it works again, carrying over what waited in memory. */
  private async reopenIfDue(): Promise<void> {
    if (!this.inMemory || Date.now() - this.lastOpenAttempt < REOPEN_AFTER_MS) return;
    const store = await this.open();
    if (store === this.options.memoryStore) return;
    this.store = Promise.resolve(store);
    // Behind the writes already headed for memory, so none of them is left behind there.
    await (this.writes = this.writes.then(async () => {
      const waiting = await this.options.memoryStore.oldest(Number.MAX_SAFE_INTEGER);
      try {
        await store.add(waiting);
      } catch (error) {
        // Still in memory, nothing lost; and the write chain must never reject.
        this.fallBack(error);
        return;
      }
      await this.options.memoryStore.remove(waiting.map((r) => r.id));
    }));
  }

  enqueue(envelope: Envelope): void {
    if (this.closed) return;
    this.pending.push(envelope);
    // Ended while the page goes away (an app's own pagehide handler): IndexedDB may not commit in time.
    if (this.leaving) this.sendKeepalive([envelope]);
    // Writes are batched per task: ending many traces at once costs one transaction.
    if (this.pending.length === 1) queueMicrotask(() => this.persist());
  }

  private persist(): Promise<void> {
    const batch = this.pending;
    if (batch.length === 0) return this.writes;
    this.pending = [];
    for (const envelope of batch) this.writing.add(envelope);
    this.writes = this.writes.then(async () => {
      // Sized here, off the interaction path that ended the trace.
      const records: QueuedRecord[] = batch.map(({ path, body }) => ({ path, body, bytes: jsonByteLength(body) }));
      let evicted: number;
      try {
        evicted = await (await this.store).add(records);
      } catch (error) {
        evicted = await this.fallBack(error).add(records);
      }
      for (const envelope of batch) this.writing.delete(envelope);
      if (evicted > 0) {
        this.options.report(
          new PandaProbeError("queue_overflow", `PandaProbe: trace queue full; evicted the ${evicted} oldest`),
        );
      }
      this.channel?.postMessage("queued");
      this.arm();
      if (batch.length >= this.options.batchSize) void this.drain();
    });
    return this.writes;
  }

  private arm(): void {
    if (this.timer !== undefined || this.closed) return;
    this.timer = backgroundTimer(() => {
      this.timer = undefined;
      void this.drain();
    }, this.options.flushIntervalMs);
  }

  /** Sends until the queue is empty or the backend asks to wait; one sender per site at a time. */
  private drain(force = false): Promise<void> {
    if (!force && Date.now() < this.retryAt) return this.draining ?? Promise.resolve();
    if (this.draining) {
      this.drainAgain = true;
      return this.draining;
    }
    this.draining = (async () => {
      try {
        do {
          this.drainAgain = false;
          await this.reopenIfDue();
          await withLock(this.options.name, force, () => this.sendAll());
        } while (this.drainAgain && Date.now() >= this.retryAt);
      } catch (error) {
        this.options.report(new PandaProbeError("internal", `PandaProbe: sending queued traces failed: ${String(error)}`));
      } finally {
        this.draining = undefined;
      }
    })();
    return this.draining;
  }

  private async sendAll(): Promise<void> {
    const store = await this.store;
    for (;;) {
      const batch = await store.oldest(this.options.batchSize);
      if (batch.length === 0) return;
      const results = await mapLimited(batch, this.options.maxConcurrency, (r) => this.options.send(r, false));
      const done: number[] = [];
      let wait: number | undefined;
      results.forEach((result, i) => {
        if (result.ok) return done.push(batch[i]!.id);
        if (!result.retryable) {
          this.options.report(result.error);
          return done.push(batch[i]!.id);
        }
        wait = Math.max(wait ?? 0, result.retryAfterMs ?? 0);
      });
      await store.remove(done);
      if (wait !== undefined) {
        // Kept, not counted against retries: offline spells and outages end, the queue is bounded.
        const delay = Math.max(wait, backoffDelay(this.failures++, this.options.retryBaseMs ?? 500, this.options.retryMaxMs ?? 30_000));
        this.options.log?.(`send failed; retrying in ${delay} ms`);
        this.retryAt = Date.now() + delay;
        this.serverAskedToWait = wait > 0;
        // This timer is the retry: it may fire before Date.now() reaches retryAt (coarse clocks, early timers).
        backgroundTimer(() => {
          this.retryAt = 0;
          void this.drain();
        }, delay);
        return;
      }
      this.failures = 0;
    }
  }

  /** The page is being hidden or closed: what is not yet in IndexedDB leaves with keepalive. */
  private sendBeforeLeaving(): void {
    if (!this.leaving) this.budget = this.options.keepaliveBudget ?? 60_000;
    this.leaving = true;
    this.sendKeepalive([...this.writing, ...this.pending]);
    // Without IndexedDB, what waits in memory dies with the page unless it leaves now.
    if (this.inMemory) void this.options.memoryStore.oldest(Number.MAX_SAFE_INTEGER).then((waiting) => this.sendKeepalive(waiting));
    void this.persist();
  }

  private sendKeepalive(envelopes: readonly Envelope[]): void {
    for (const envelope of envelopes) {
      if (this.sentOnLeave.has(envelope.body)) continue;
      const bytes = jsonByteLength(envelope.body);
      if (bytes > this.budget) continue;
      this.budget -= bytes;
      this.sentOnLeave.add(envelope.body);
      void this.options.send(envelope, true);
    }
  }

  /**
   * Writes what is pending and makes one delivery attempt of everything queued. What the backend
   * did not take stays in IndexedDB for the next attempt: a browser never gives a trace up.
   */
  flush(): Promise<void> {
    return this.persist().then(() => this.drain(true));
  }

  shutdown(): Promise<void> {
    return (this.stopping ??= this.flush().then(async () => {
      this.closed = true;
      clearTimeout(this.timer);
      this.channel?.close();
      const win = globalThis as unknown as Partial<Lifecycle>;
      win.removeEventListener?.("online", this.onOnline);
      win.removeEventListener?.("pagehide", this.leave);
      (globalThis.document as Partial<Lifecycle> | undefined)?.removeEventListener?.("visibilitychange", this.onVisibility);
      (await this.store).close();
    }));
  }
}

/** Runs fn holding the site-wide sender lock; without Web Locks (old browsers, tests) just runs it. */
async function withLock(name: string, wait: boolean, fn: () => Promise<void>): Promise<void> {
  const locks = (globalThis.navigator as { locks?: LockManager } | undefined)?.locks;
  if (!locks) return fn();
  await locks.request(name, { ifAvailable: !wait }, async (lock) => {
    // Another tab holds it and is sending: the records it reads include ours.
    if (lock) await fn();
  });
}

async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
