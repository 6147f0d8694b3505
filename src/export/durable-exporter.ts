import { PandaProbeError } from "../base/errors.js";
import type { FileQueue } from "./file-queue.js";
import { backgroundTimer } from "../base/timers.js";
import type { Envelope, Exporter } from "./types.js";

export interface DurableExporterOptions {
  /** The directory store; rejects when it cannot be used (envelopes then go straight to `inner`). */
  open(): Promise<FileQueue>;
  /** What sends: normally the BatchExporter, whose `settled` hook says when a record may go. */
  inner: Exporter;
  /** Envelopes handed to `inner` and not yet settled, at most: its own bound, so it never drops one. */
  capacity: number;
  /** How often the directory is looked at for what other processes left; also the report cadence. */
  scanIntervalMs: number;
  report(error: PandaProbeError): void;
  log?: (message: string) => void;
}

/** Files written at once: a burst must not open thousands of descriptors. */
const MAX_WRITES = 8;
/** After the inner exporter gives up on a record, claiming waits this long, doubling per outage in a row. */
const PAUSE_MIN_MS = 1_000;
const PAUSE_MAX_MS = 60_000;

/**
 * Every envelope is written to a directory before it is sent and deleted after the backend's 2xx
 * (or a refusal that would be the same again), so a crash, a deploy or a burst beyond the memory
 * queue loses nothing: the records wait on disk for this process or the next. The inner exporter
 * is fed only as many as it has room for; the rest stay on disk. Processes sharing the directory
 * each claim records with an atomic rename, so none is sent twice while its claimer lives.
 */
export class DurableExporter implements Exporter {
  private readonly inner: Exporter;
  private readonly capacity: number;
  private readonly scanIntervalMs: number;
  private readonly reportFn: DurableExporterOptions["report"];
  private readonly logFn: DurableExporterOptions["log"];

  /** Resolves to undefined when the directory cannot be used. */
  private readonly opened: Promise<FileQueue | undefined>;
  private queue: FileQueue | undefined;
  /** Envelopes enqueued and not yet being written, from `writeHead` on. */
  private toWrite: Envelope[] = [];
  private writeHead = 0;
  private writing = 0;
  private whenWritten: (() => void)[] = [];
  /** Handed to `inner` (or being claimed for it) and not settled yet. */
  private outstanding = 0;
  /** Records among those, by base. */
  private readonly handed = new Set<string>();
  /** File operations under way, which flush waits for. */
  private readonly ops = new Set<Promise<unknown>>();
  /** Records delivered or refused: whether a round of flush made any headway. */
  private settledForGood = 0;
  private enqueued = 0;
  private pausedUntil = 0;
  private giveUpsInARow = 0;
  private resumeTimer: ReturnType<typeof setTimeout> | undefined;
  private tickTimer: ReturnType<typeof setTimeout> | undefined;

  private evictedTotal = 0;
  private unreportedEvictions = 0;
  private evictionReportsThrottled = false;
  /** One storage failure is reported per cycle; a full disk must not flood the handler. */
  private storageReported = false;

  /** The flush under way and how many envelopes had been enqueued when it began. */
  private flushing: { done: Promise<number | undefined>; enqueued: number } | undefined;
  /**
   * Counts at the start of the last flush that could do no more (it left nothing, or delivered
   * nothing): until something is enqueued or delivered since, another would do the same.
   */
  private quiet: { enqueued: number; settled: number } | undefined;
  /** The directory could not be opened: envelopes go straight to `inner`, as without one. */
  private memoryOnly = false;
  /** Set once nothing more may be handed to `inner` (it is shutting down). */
  private stopped = false;
  private closed = false;
  private shutdownPromise: Promise<void> | undefined;

  constructor(options: DurableExporterOptions) {
    this.inner = options.inner;
    this.capacity = Math.max(1, options.capacity);
    this.scanIntervalMs = options.scanIntervalMs;
    this.reportFn = options.report;
    this.logFn = options.log;
    this.opened = options.open().then(
      (queue) => {
        this.log(`queue directory ${queue.dir}`);
        this.queue = queue;
        this.pumpWrites();
        return queue;
      },
      (error) => {
        this.storageFailure("opening the queue directory", error);
        this.memoryOnly = true;
        for (const envelope of this.toWrite.splice(0)) this.inner.enqueue(envelope);
        this.wrote();
        return undefined;
      },
    );
    // Leftovers of earlier processes go out at once, not at the first tick.
    this.track(this.opened.then((queue) => queue && this.scanAndFill(queue)));
    this.tick();
  }

  enqueue(envelope: Envelope): void {
    if (this.closed) {
      this.log(`exporter shut down; ignored envelope for ${envelope.path}`);
      return;
    }
    this.enqueued++;
    if (this.memoryOnly) return this.inner.enqueue(envelope);
    this.toWrite.push({ path: envelope.path, body: envelope.body });
    this.pumpWrites();
  }

  flush(): Promise<void> {
    if (this.shutdownPromise) return this.shutdownPromise;
    return this.drain().then((left) => {
      if (left !== undefined) this.reportLeft(left);
    });
  }

  shutdown(): Promise<void> {
    this.shutdownPromise ??= (async () => {
      this.closed = true;
      await this.drain();
      // What is handed now is the inner exporter's to finish; the rest stays on disk.
      this.stopped = true;
      await this.inner.shutdown();
      await this.settleOps();
      clearTimeout(this.tickTimer);
      clearTimeout(this.resumeTimer);
      this.queue?.close();
      this.reportLeft(this.left());
      this.log("exporter shut down");
    })();
    return this.shutdownPromise;
  }

  /**
   * Delivers what the directory held when called (and what was enqueued before), as far as the
   * backend accepts it; resolves to how many records are left, or undefined when there was
   * nothing new to try. A flush asked for while one runs with nothing enqueued since shares it,
   * and one after a flush that could do no more touches no file: Node's `beforeExit` flushes again
   * whenever a flush did I/O, which with the backend down would retry for as long as it is down.
   */
  private drain(): Promise<number | undefined> {
    if (this.flushing && this.flushing.enqueued === this.enqueued) return this.flushing.done;
    const { quiet } = this;
    if (quiet && quiet.enqueued === this.enqueued && quiet.settled === this.settledForGood && this.outstanding === 0) {
      return this.inner.flush().then(() => undefined);
    }
    const enqueued = this.enqueued;
    const settled = this.settledForGood;
    const done = this.drainOnce().then((left) => {
      if (this.flushing?.done === done) this.flushing = undefined;
      const headway = this.settledForGood !== settled;
      this.quiet = left === 0 || !headway ? { enqueued, settled: this.settledForGood } : undefined;
      return left;
    });
    this.flushing = { done, enqueued };
    return done;
  }

  private async drainOnce(): Promise<number> {
    const queue = await this.opened;
    await this.written();
    if (!queue) {
      await this.inner.flush();
      return 0;
    }
    // An explicit flush tries again now, whatever the backoff said.
    this.pausedUntil = 0;
    await this.track(this.scanAndFill(queue));
    const targets = new Set([...queue.waitingBases(), ...this.handed]);
    for (let rescanned = false; ; ) {
      const before = this.settledForGood;
      await this.settleOps();
      await this.inner.flush();
      await this.settleOps();
      for (const base of targets) if (!queue.isWaiting(base) && !this.handed.has(base)) targets.delete(base);
      if (targets.size === 0) break;
      if (this.settledForGood !== before) {
        rescanned = false;
        continue;
      }
      // No headway: the backend is down (the rest waits on disk), or what this process believes
      // waiting was taken by another one, which one more look at the directory tells.
      if (rescanned || Date.now() < this.pausedUntil) break;
      rescanned = true;
      await this.track(this.scanAndFill(queue));
    }
    return this.left();
  }

  private left(): number {
    return (this.queue?.waitingCount ?? 0) + this.handed.size;
  }

  /** Starts writes up to MAX_WRITES; before the directory is open, they wait for it. */
  private pumpWrites(): void {
    const queue = this.queue;
    if (!queue) return;
    while (this.writing < MAX_WRITES && this.writeHead < this.toWrite.length) {
      const envelope = this.toWrite[this.writeHead++]!;
      this.writing++;
      void this.write(queue, envelope).finally(() => {
        this.writing--;
        this.pumpWrites();
        this.wrote();
      });
    }
    // Drops the started prefix once it dominates (Array#shift is O(n)).
    if (this.writeHead >= 1024 && this.writeHead * 2 >= this.toWrite.length) {
      this.toWrite = this.toWrite.slice(this.writeHead);
      this.writeHead = 0;
    }
  }

  private wrote(): void {
    if (this.writing > 0 || this.writeHead < this.toWrite.length) return;
    this.toWrite = [];
    this.writeHead = 0;
    for (const resolve of this.whenWritten.splice(0)) resolve();
  }

  /** With room in `inner` and nothing older waiting, the record is written already claimed and handed over at once. */
  private async write(queue: FileQueue, envelope: Envelope): Promise<void> {
    const direct = this.canHand() && queue.waitingCount === 0;
    if (direct) this.outstanding++;
    try {
      const { base, evicted } = await queue.put(envelope, direct);
      if (evicted > 0) this.recordEvictions(evicted);
      if (direct) this.hand(base, envelope);
      else this.fill();
    } catch (error) {
      this.storageFailure("writing a trace", error);
      // Not on disk: it goes out from memory, as it would without a queue directory.
      if (!direct) this.outstanding++;
      this.inner.enqueue({ ...envelope, settled: () => this.freeSlot() });
    }
  }

  /** Resolves once every envelope enqueued so far is on disk (or handed over after a failed write). */
  private written(): Promise<void> {
    if (this.writing === 0 && this.writeHead >= this.toWrite.length) return Promise.resolve();
    return new Promise((resolve) => this.whenWritten.push(resolve));
  }

  private canHand(): boolean {
    return !this.stopped && this.outstanding < this.capacity && Date.now() >= this.pausedUntil;
  }

  /** Claims the oldest waiting records for as much room as `inner` has. */
  private fill(): void {
    const queue = this.queue;
    if (!queue || this.stopped) return;
    if (Date.now() < this.pausedUntil) {
      this.resumeTimer ??= backgroundTimer(() => {
        this.resumeTimer = undefined;
        this.fill();
      }, this.pausedUntil - Date.now());
      return;
    }
    const bases = queue.take(this.capacity - this.outstanding);
    this.outstanding += bases.length;
    for (const base of bases) {
      this.track(
        queue.claim(base).then(
          (envelope) => (envelope ? this.hand(base, envelope) : this.freeSlot()),
          (error) => {
            this.storageFailure("reading a trace", error);
            this.freeSlot();
          },
        ),
      );
    }
  }

  private hand(base: string, envelope: Envelope): void {
    if (this.stopped) {
      // Claimed while the inner exporter shut down: it waits on disk for the next process.
      this.track(this.queue!.release(base).catch((error) => this.storageFailure("keeping a trace", error)));
      this.outstanding--;
      return;
    }
    this.handed.add(base);
    this.inner.enqueue({ path: envelope.path, body: envelope.body, settled: (outcome) => this.settled(base, outcome) });
  }

  private settled(base: string, outcome: "delivered" | "refused" | "abandoned"): void {
    this.handed.delete(base);
    const queue = this.queue!;
    if (outcome === "abandoned") {
      // Kept for a later attempt or process; a pause keeps a down backend from being asked again at
      // once. Give-ups during a pause belong to the same outage and do not lengthen it.
      if (Date.now() >= this.pausedUntil) {
        const pause = Math.min(PAUSE_MAX_MS, PAUSE_MIN_MS * 2 ** this.giveUpsInARow++);
        this.pausedUntil = Date.now() + pause;
        this.log(`kept ${base} for later; claiming again in ${pause} ms`);
      }
    } else {
      this.settledForGood++;
      if (outcome === "delivered") this.giveUpsInARow = 0;
    }
    const op = outcome === "abandoned" ? queue.release(base) : queue.remove(base);
    this.track(op.catch((error) => this.storageFailure(outcome === "abandoned" ? "keeping a trace" : "deleting a sent trace", error)));
    this.freeSlot();
  }

  private freeSlot(): void {
    this.outstanding--;
    this.fill();
  }

  private async scanAndFill(queue: FileQueue): Promise<void> {
    try {
      await queue.scan();
    } catch (error) {
      this.storageFailure("listing the queue directory", error);
    }
    this.fill();
  }

  /** Periodic and unref'd: picks up what other processes left, and paces the reports. */
  private tick(): void {
    this.tickTimer = backgroundTimer(() => {
      this.endCycle();
      const queue = this.queue;
      if (queue && this.canHand() && queue.waitingCount < this.capacity - this.outstanding) this.track(this.scanAndFill(queue));
      if (!this.closed) this.tick();
    }, this.scanIntervalMs);
  }

  private endCycle(): void {
    this.storageReported = false;
    if (this.unreportedEvictions > 0) this.reportEvictions();
    else this.evictionReportsThrottled = false;
  }

  /** The first eviction is reported at once; the rest are summed per cycle, so a flood makes few reports. */
  private recordEvictions(count: number): void {
    this.evictedTotal += count;
    this.unreportedEvictions += count;
    if (!this.evictionReportsThrottled) {
      this.evictionReportsThrottled = true;
      this.reportEvictions();
    }
  }

  private reportEvictions(): void {
    const count = this.unreportedEvictions;
    this.unreportedEvictions = 0;
    const queue = this.queue!;
    this.report(
      new PandaProbeError(
        "queue_overflow",
        `PandaProbe: queue directory ${queue.dir} full (maxQueueBytes ${queue.maxBytes}): deleted ${count} oldest trace(s), ${this.evictedTotal} in total`,
      ),
    );
  }

  /** Ends a flush or shutdown: evictions not reported yet, then what waits on disk. */
  private reportLeft(left: number): void {
    if (this.unreportedEvictions > 0) this.reportEvictions();
    if (left === 0) return;
    this.report(
      new PandaProbeError("storage", `PandaProbe: ${left} trace(s) not delivered yet wait in ${this.queue?.dir} for a later attempt or process`),
    );
  }

  private storageFailure(doing: string, error: unknown): void {
    this.log(`${doing} failed: ${String(error)}`);
    if (this.storageReported) return;
    this.storageReported = true;
    const dir = this.queue ? ` ${this.queue.dir}` : "";
    this.report(new PandaProbeError("storage", `PandaProbe: queue directory${dir}: ${doing} failed (${String(error)})`, { cause: error }));
  }

  private track<T>(op: Promise<T>): Promise<T> {
    const tracked = op.finally(() => this.ops.delete(tracked));
    this.ops.add(tracked);
    return tracked;
  }

  /** Waits until no file operation is under way (claims that lost a race start others). */
  private async settleOps(): Promise<void> {
    while (this.ops.size > 0) await Promise.all([...this.ops].map((op) => op.catch(() => {})));
  }

  private report(error: PandaProbeError): void {
    try {
      this.reportFn(error);
    } catch {
      // A throwing error handler must not break the queue.
    }
  }

  private log(message: string): void {
    if (!this.logFn) return;
    try {
      this.logFn(message);
    } catch {
      // Debug logging must never break the queue.
    }
  }
}
