import { PandaProbeError } from "../errors.js";
import type { SendResult } from "./http-sender.js";
import { backgroundTimer, backoffDelay, sleep } from "./retry.js";
import type { Envelope, Exporter } from "./types.js";

type SettleOutcome = Parameters<NonNullable<Envelope["settled"]>>[0];

export interface BatchExporterOptions {
  /** One attempt at delivering one envelope (normally `createHttpSender(...)`). */
  send: (envelope: Envelope) => Promise<SendResult>;
  /** Sending starts as soon as this many envelopes wait. */
  batchSize: number;
  /** Otherwise queued envelopes wait at most this long; also the cadence of aggregated drop reports. */
  flushIntervalMs: number;
  /** Envelopes waiting to be sent (not counting those in flight); beyond it the oldest is dropped. */
  maxQueueSize: number;
  /** Retries per envelope after the first attempt. */
  maxRetries: number;
  /** Requests in flight at once, including envelopes sleeping in backoff. */
  maxConcurrency: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** Receives every failure; the exporter itself never throws into user code. */
  report: (err: PandaProbeError) => void;
  /** Debug lines; never contains header values. */
  log?: (msg: string) => void;
}

/** A server asking us to wait longer than this is not worth holding a slot and memory for. */
const MAX_RETRY_AFTER_MS = 60_000;

interface Item {
  /** Enqueue order, used by flush() to know which envelopes it waits for. */
  readonly seq: number;
  readonly envelope: Envelope;
}

/** FIFO with O(1) amortized push and shift (Array#shift is O(n)). */
class Fifo<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  peek(): T | undefined {
    return this.items[this.head];
  }

  push(item: T): void {
    this.items.push(item);
  }

  shift(): T | undefined {
    if (this.length === 0) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined;
    // Compact once the dead prefix dominates, so memory stays proportional to the live items.
    if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}

/**
 * Queues envelopes and delivers them in the background: batches by size or interval, bounded
 * concurrency, retries with backoff, drop-oldest when full. Failures go to `report`, never to the caller.
 */
export class BatchExporter implements Exporter {
  private readonly send: BatchExporterOptions["send"];
  private readonly batchSize: number;
  private readonly flushIntervalMs: number;
  private readonly maxQueueSize: number;
  private readonly maxRetries: number;
  private readonly maxConcurrency: number;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  private readonly reportFn: BatchExporterOptions["report"];
  private readonly logFn: BatchExporterOptions["log"];

  private readonly queue = new Fifo<Item>();
  /** Seqs being sent or sleeping in backoff; its size is the concurrency in use. */
  private readonly inFlight = new Set<number>();
  private lastSeq = 0;
  /** Queued envelopes with seq <= releasedUpTo may be sent as soon as a slot is free. */
  private releasedUpTo = 0;
  /** Queued envelopes not yet released; reaching batchSize releases them. */
  private unreleased = 0;
  /** Pending flush() calls, in call order, hence ascending targets. */
  private readonly waiters: { target: number; resolve: () => void }[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;

  private droppedTotal = 0;
  private unreportedDrops = 0;
  /** Set after a drop report; cleared by a cycle without drops, so the next first drop is reported at once. */
  private dropReportsThrottled = false;

  private closed = false;
  private shutdownPromise: Promise<void> | undefined;

  constructor(options: BatchExporterOptions) {
    this.send = options.send;
    // Values below 1 would stall the pipeline (nothing ever released or sent), so they mean 1.
    // A batch larger than the queue would never be reached: the queue would drop instead of send.
    this.batchSize = Math.max(1, Math.min(options.batchSize, options.maxQueueSize));
    this.maxQueueSize = Math.max(1, options.maxQueueSize);
    this.maxConcurrency = Math.max(1, options.maxConcurrency);
    this.flushIntervalMs = options.flushIntervalMs;
    this.maxRetries = Math.max(0, options.maxRetries);
    this.retryBaseMs = options.retryBaseMs ?? 500;
    this.retryMaxMs = options.retryMaxMs ?? 30_000;
    this.reportFn = options.report;
    this.logFn = options.log;
  }

  /** Envelopes dropped because the queue was full, since construction. */
  get dropped(): number {
    return this.droppedTotal;
  }

  enqueue(envelope: Envelope): void {
    if (this.closed) {
      this.log(`exporter shut down; ignored envelope for ${envelope.path}`);
      return;
    }
    if (this.queue.length >= this.maxQueueSize) this.dropOldest();
    this.queue.push({ seq: ++this.lastSeq, envelope });
    this.unreleased++;
    if (this.logFn) this.log(`enqueued ${envelope.path} (queued ${this.queue.length})`);
    if (this.unreleased >= this.batchSize) this.release();
    this.armTimer();
  }

  flush(): Promise<void> {
    this.endCycle();
    this.release();
    const target = this.lastSeq;
    if (this.lowestUnsettled() > target) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ target, resolve }));
  }

  shutdown(): Promise<void> {
    if (this.shutdownPromise === undefined) {
      // Closing before flushing means this flush covers everything ever accepted.
      this.closed = true;
      this.shutdownPromise = this.flush().then(() => {
        if (this.timer !== undefined) clearTimeout(this.timer);
        this.timer = undefined;
        this.log("exporter shut down");
      });
    }
    return this.shutdownPromise;
  }

  /** Makes every queued envelope eligible for sending, then fills free slots. */
  private release(): void {
    if (this.unreleased > 0) this.log(`sending ${this.unreleased}`);
    this.releasedUpTo = this.lastSeq;
    this.unreleased = 0;
    this.dispatch();
  }

  private dispatch(): void {
    while (this.inFlight.size < this.maxConcurrency) {
      const next = this.queue.peek();
      if (next === undefined || next.seq > this.releasedUpTo) return;
      this.queue.shift();
      this.inFlight.add(next.seq);
      void this.deliver(next);
    }
  }

  /** One envelope from first attempt to delivery or give-up; holds its slot throughout, backoff included. */
  private async deliver(item: Item): Promise<void> {
    const { path } = item.envelope;
    let outcome: SettleOutcome;
    for (let attempt = 0; ; attempt++) {
      const result = await this.attempt(item.envelope);
      if (result.ok) {
        this.log(`response ${result.status} ${path}`);
        outcome = "delivered";
        break;
      }
      this.log(`response ${result.status ?? result.error.code} ${path}`);
      if (!result.retryable || attempt >= this.maxRetries) {
        this.report(result.error);
        // Only the backend's own answer is a refusal; a send that threw may work next time.
        outcome = !result.retryable && result.status !== undefined ? "refused" : "abandoned";
        break;
      }
      const delay =
        result.retryAfterMs !== undefined
          ? Math.min(result.retryAfterMs, MAX_RETRY_AFTER_MS)
          : backoffDelay(attempt, this.retryBaseMs, this.retryMaxMs);
      this.log(`retry in ${delay} ms ${path}`);
      await sleep(delay);
    }
    this.settle(item.envelope, outcome);
    this.inFlight.delete(item.seq);
    this.dispatch();
    this.resolveWaiters();
  }

  /** `send` is injected code: a throw or rejection becomes a non-retryable internal failure, not a crash. */
  private async attempt(envelope: Envelope): Promise<SendResult> {
    try {
      return await this.send(envelope);
    } catch (cause) {
      const message = `send ${envelope.path} threw: ${cause instanceof Error ? cause.message : String(cause)}`;
      return { ok: false, retryable: false, error: new PandaProbeError("internal", message, { cause }) };
    }
  }

  private dropOldest(): void {
    const item = this.queue.shift();
    if (item === undefined) return;
    if (item.seq > this.releasedUpTo) this.unreleased--;
    this.settle(item.envelope, "abandoned");
    this.droppedTotal++;
    this.unreportedDrops++;
    // The first drop is reported at once; the rest are summed per cycle so a flood makes few reports.
    if (!this.dropReportsThrottled) {
      this.dropReportsThrottled = true;
      this.reportDrops();
    }
    this.resolveWaiters();
  }

  /** A flush cycle ends at each interval tick and each flush() call. */
  private endCycle(): void {
    if (this.unreportedDrops > 0) this.reportDrops();
    else this.dropReportsThrottled = false;
  }

  private reportDrops(): void {
    const count = this.unreportedDrops;
    this.unreportedDrops = 0;
    this.log(`dropped ${count} (queue full)`);
    this.report(
      new PandaProbeError(
        "queue_overflow",
        `export queue full (maxQueueSize ${this.maxQueueSize}): dropped ${count} oldest envelope(s), ${this.droppedTotal} in total`,
      ),
    );
  }

  /** Periodic, not reset by size-triggered sends, so drop reports keep their cadence under load. */
  private armTimer(): void {
    if (this.timer !== undefined || this.closed) return;
    this.timer = backgroundTimer(() => {
      this.timer = undefined;
      this.endCycle();
      this.release();
      // Envelopes still waiting for a slot (or drops yet to report) keep the cycle going.
      if (this.queue.length > 0 || this.unreportedDrops > 0) this.armTimer();
    }, this.flushIntervalMs);
  }

  /** Everything below this seq is delivered or given up. In-flight seqs precede queued ones (FIFO). */
  private lowestUnsettled(): number {
    let lowest = this.queue.peek()?.seq ?? Infinity;
    for (const seq of this.inFlight) if (seq < lowest) lowest = seq;
    return lowest;
  }

  private resolveWaiters(): void {
    if (this.waiters.length === 0) return;
    const lowest = this.lowestUnsettled();
    while (this.waiters.length > 0 && this.waiters[0]!.target < lowest) this.waiters.shift()!.resolve();
  }

  private settle(envelope: Envelope, outcome: SettleOutcome): void {
    try {
      envelope.settled?.(outcome);
    } catch {
      // The owner's bookkeeping must not break delivery of the other envelopes.
    }
  }

  private report(err: PandaProbeError): void {
    try {
      this.reportFn(err);
    } catch {
      // A throwing error handler must not break delivery of the other envelopes.
    }
  }

  private log(msg: string): void {
    if (!this.logFn) return;
    try {
      this.logFn(msg);
    } catch {
      // Same as report: debug logging must never break the pipeline.
    }
  }
}
