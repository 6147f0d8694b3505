import { PandaProbeError } from "../base/errors.js";
import type { SendResult } from "./http-sender.js";
import { MAX_RETRY_AFTER_MS } from "../base/retry-after.js";
import { backgroundTimer, MAX_TIMER_MS } from "../base/timers.js";
import { Pacer, RATE_WINDOW_MS, routeOf, type Reservation } from "../wire/pacer.js";
import { backoffDelay } from "./retry.js";
import { followsTrace, TraceGate, type GateDecision } from "./trace-gate.js";
import type { Envelope, Exporter, SettleOutcome } from "./types.js";

export interface BatchExporterOptions {
  /** One attempt at delivering one envelope (normally `createHttpSender(...)`). */
  send: (envelope: Envelope) => Promise<SendResult>;
  /** Sending starts as soon as this many envelopes wait. */
  batchSize: number;
  /** Otherwise queued envelopes wait at most this long; also the cadence of aggregated drop reports. */
  flushIntervalMs: number;
  /** Envelopes waiting to be sent (not counting those in flight); beyond it the oldest is dropped. */
  maxQueueSize: number;
  /** Retries per envelope after the first attempt; a 429 is waited out and uses none. */
  maxRetries: number;
  /** Requests in flight at once, including envelopes sleeping in backoff or waiting to be paced. */
  maxConcurrency: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** Length of the backend's fixed rate-limit window, learned from 429s without Retry-After. Default 60 s. */
  rateWindowMs?: number;
  /**
   * How long a score or spans envelope is retried on 500/404, the backend's answers while its
   * trace is not yet persisted (writes are asynchronous). Default 60 s.
   */
  traceWaitMs?: number;
  /** Receives every failure; the exporter itself never throws into user code. */
  report: (err: PandaProbeError) => void;
  /** Debug lines; never contains header values. */
  log?: (msg: string) => void;
}

/** What `shutdown()` waits at most, as the Python SDK does at exit; what is left then is given up and reported. */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;

interface Item {
  /** Enqueue order, used by flush() to know which envelopes it waits for. */
  readonly seq: number;
  readonly envelope: Envelope;
  /** Settled: the exporter is done with it, whatever may still be running for it. */
  done: boolean;
  /** Cuts its current wait (backoff, pacing, its trace) short once it is abandoned. */
  wake?: () => void;
  /**
   * A follower's word from its trace, asked as it is enqueued: the trace may leave (and be
   * forgotten) before the follower gets a slot, and its outcome must still reach the follower.
   */
  gate?: GateDecision | Promise<GateDecision>;
}

/** Where `start` hands an envelope to `run`: a route that must wait first, or the answer to the attempt it made. */
type First = Exclude<Reservation, { ticket: number }> | { ticket: number; result: SendResult };

/** `send` is injected code: a throw or rejection becomes a non-retryable internal failure, not a crash. */
function threw(envelope: Envelope, cause: unknown): SendResult {
  const message = `send ${envelope.path} threw: ${cause instanceof Error ? cause.message : String(cause)}`;
  return { ok: false, retryable: false, error: new PandaProbeError("internal", message, { cause }) };
}

interface Waiter {
  /** The flush covers envelopes up to this seq. */
  readonly target: number;
  readonly resolve: () => void;
  deadline?: ReturnType<typeof setTimeout>;
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
 * concurrency, retries with backoff, pacing to the backend's rate limit, scores and spans after
 * their trace, drop-oldest when full. Failures go to `report`, never to the caller.
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
  private readonly rateWindowMs: number;
  private readonly traceWaitMs: number;
  private readonly reportFn: BatchExporterOptions["report"];
  private readonly logFn: BatchExporterOptions["log"];

  private readonly queue = new Fifo<Item>();
  /** Dispatched and not yet settled, in dispatch (hence seq) order. */
  private readonly active = new Map<number, Item>();
  /** Deliveries running, which an abandoned one stays until its request returns: the concurrency in use. */
  private busy = 0;
  private lastSeq = 0;
  /** Queued envelopes with seq <= releasedUpTo may be sent as soon as a slot is free. */
  private releasedUpTo = 0;
  /** Queued envelopes not yet released; reaching batchSize releases them. */
  private unreleased = 0;
  /** Pending flush() calls, in call order, hence ascending targets. */
  private readonly waiters: Waiter[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;

  private readonly pacer: Pacer;
  private readonly gate = new TraceGate();
  /** Per route, the end of the last delay reported, so each pause is reported once. */
  private readonly delayedUntil = new Map<string, number>();

  private droppedTotal = 0;
  private unreportedDrops = 0;
  /** Set after a drop report; cleared by a cycle without drops, so the next first drop is reported at once. */
  private dropReportsThrottled = false;

  private closed = false;
  private shutdownPromise: Promise<void> | undefined;
  /** Envelopes to make once the turn that ended their traces is over (see `enqueueLater`). */
  private later: (() => Envelope[])[] = [];

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
    this.rateWindowMs = options.rateWindowMs ?? RATE_WINDOW_MS;
    this.traceWaitMs = options.traceWaitMs ?? 60_000;
    this.pacer = new Pacer(this.rateWindowMs);
    this.reportFn = options.report;
    this.logFn = options.log;
  }

  /** Envelopes dropped because the queue was full, since construction. */
  get dropped(): number {
    return this.droppedTotal;
  }

  enqueue(envelope: Envelope): void {
    // Envelopes keep the order they were handed over in: a score follows its trace through the gate.
    if (this.later.length > 0) this.makeLater();
    if (this.closed) {
      this.log(`exporter shut down; ignored envelope for ${envelope.path}`);
      this.notify(envelope, "abandoned");
      return;
    }
    if (this.queue.length >= this.maxQueueSize) this.dropOldest();
    const item: Item = { seq: ++this.lastSeq, envelope, done: false };
    if (envelope.traceId !== undefined) {
      if (envelope.path === "/traces") this.gate.queued(envelope.traceId, item.seq);
      else if (followsTrace(envelope.path)) item.gate = this.gate.decide(envelope.traceId, item.seq);
    }
    this.queue.push(item);
    this.unreleased++;
    if (this.logFn) this.log(`enqueued ${envelope.path} (queued ${this.queue.length})`);
    if (this.unreleased >= this.batchSize) this.release();
    this.armTimer();
  }

  /**
   * Serializing a trace is most of what ending it costs: done in a batch once the current turn is
   * over (`setImmediate`: after the I/O the caller awaits is polled), it leaves the caller's path,
   * a model call's latency included. The data was taken when the trace ended; flush and shutdown
   * make what waits first.
   */
  enqueueLater(make: () => Envelope[]): void {
    // What waits to be made counts against the bound: beyond it, made now, so the oldest is dropped and reported as enqueue does.
    if (this.later.length + this.queue.length >= this.maxQueueSize) {
      this.makeLater();
      for (const envelope of make()) this.enqueue(envelope);
    } else if (this.later.push(make) === 1) setImmediate(this.makeLater);
  }

  private readonly makeLater = (): void => {
    const makes = this.later;
    if (makes.length === 0) return;
    this.later = [];
    for (const make of makes) for (const envelope of make()) this.enqueue(envelope);
  };

  flush(timeoutMs?: number): Promise<void> {
    this.makeLater();
    return this.flushWithin(timeoutMs, "flush", false);
  }

  /**
   * Sends what is queued as soon as slots allow, without waiting for it: unlike flush(), no promise
   * that a later delivery (in Workers, maybe another request's) would have to resolve.
   */
  sendNow(): void {
    this.release();
  }

  shutdown(timeoutMs: number = DEFAULT_SHUTDOWN_TIMEOUT_MS): Promise<void> {
    if (this.shutdownPromise === undefined) {
      this.makeLater();
      // Closing before flushing means this flush covers everything ever accepted.
      this.closed = true;
      this.shutdownPromise = this.flushWithin(timeoutMs, "shutdown", true).then(() => {
        if (this.timer !== undefined) clearTimeout(this.timer);
        this.timer = undefined;
        this.log("exporter shut down");
      });
    }
    return this.shutdownPromise;
  }

  /**
   * A deadline that is not a finite number of milliseconds (Infinity, NaN) means none. A flush
   * that passes it only stops waiting (the envelopes go on); a shutdown gives them up.
   */
  private flushWithin(timeoutMs: number | undefined, what: string, giveUp: boolean): Promise<void> {
    this.endCycle();
    this.release();
    const target = this.lastSeq;
    if (this.lowestUnsettled() > target) return Promise.resolve();
    return new Promise((resolve) => {
      const waiter: Waiter = { target, resolve };
      if (timeoutMs !== undefined && Number.isFinite(timeoutMs) && timeoutMs < MAX_TIMER_MS) {
        // Not unref'd: `await shutdown()` at the end of a script must keep the process until then.
        const passed = () => (giveUp ? this.deadlinePassed(waiter, what, timeoutMs) : this.stopWaiting(waiter, what));
        waiter.deadline = setTimeout(passed, Math.max(0, timeoutMs));
      }
      this.waiters.push(waiter);
    });
  }

  /** Resolves a flush at its deadline; what it waited for is still under way. */
  private stopWaiting(waiter: Waiter, what: string): void {
    const index = this.waiters.indexOf(waiter);
    if (index < 0) return;
    this.waiters.splice(index, 1);
    this.log(`${what} deadline passed; delivery goes on`);
    waiter.resolve();
  }

  /** Gives up what the shutdown still waits for, reports how much, and resolves it. */
  private deadlinePassed(waiter: Waiter, what: string, timeoutMs: number): void {
    const index = this.waiters.indexOf(waiter);
    if (index < 0) return;
    this.waiters.splice(index, 1);
    let left = 0;
    while ((this.queue.peek()?.seq ?? Infinity) <= waiter.target) {
      this.settle(this.queue.shift()!, "abandoned");
      left++;
    }
    for (const item of [...this.active.values()]) {
      if (item.seq > waiter.target) break;
      this.settle(item, "abandoned");
      item.wake?.();
      left++;
    }
    if (left > 0) {
      this.log(`${what} deadline passed: gave up ${left}`);
      this.report(
        new PandaProbeError(
          "queue_overflow",
          `${what}: deadline of ${timeoutMs} ms passed with ${left} envelope(s) not delivered; given up`,
        ),
      );
    }
    waiter.resolve();
  }

  /** Makes every queued envelope eligible for sending, then fills free slots. */
  private release(): void {
    if (this.unreleased > 0 && this.logFn) this.log(`sending ${this.unreleased}`);
    this.releasedUpTo = this.lastSeq;
    this.unreleased = 0;
    this.dispatch();
  }

  private dispatch(): void {
    while (this.busy < this.maxConcurrency) {
      const next = this.queue.peek();
      if (next === undefined || next.seq > this.releasedUpTo) return;
      this.queue.shift();
      this.active.set(next.seq, next);
      this.busy++;
      this.start(next);
    }
  }

  /**
   * The common case without async frames, whose promises cost, the more so where AsyncLocalStorage
   * is on (a traced process): an envelope that may go at once and is answered 2xx. Anything else
   * (a follower, a paced route, a failure) goes on in `run`, which starts from the answer.
   */
  private start(item: Item): void {
    const { envelope } = item;
    const { path } = envelope;
    // A follower of its trace (enqueue gave it its gate) waits in deliver.
    if (item.gate !== undefined) return void this.deliver(item);
    const route = routeOf(path);
    const reservation = this.pacer.reserve(route);
    if (!("ticket" in reservation)) return void this.deliver(item, reservation);
    const { ticket } = reservation;
    const answered = (result: SendResult) => {
      if (item.done || !result.ok) return void this.deliver(item, { ticket, result });
      this.pacer.answered(route, ticket, result.status);
      if (this.logFn) this.log(`response ${result.status} ${path}`);
      this.finish(item, "delivered");
      this.busy--;
      this.dispatch();
    };
    let sent: Promise<SendResult>;
    try {
      sent = this.send(envelope);
    } catch (cause) {
      sent = Promise.resolve(threw(envelope, cause));
    }
    sent.then(answered, (cause: unknown) => answered(threw(envelope, cause)));
  }

  /** One envelope from first attempt to settlement; holds its slot throughout, waits included. */
  private async deliver(item: Item, first?: First): Promise<void> {
    try {
      await this.run(item, first);
    } finally {
      this.busy--;
      this.dispatch();
    }
  }

  /** `first`: where `start` left off: a reservation that said wait, or the answer to an attempt it made. */
  private async run(item: Item, first?: First): Promise<void> {
    const { envelope } = item;
    const { path, traceId } = envelope;
    const follower = followsTrace(path);
    const { gate } = item;
    if (gate !== undefined) {
      // Awaited only when it must wait: a send that may go goes synchronously, within enqueue/flush.
      const decision = gate instanceof Promise ? await this.waitFor(item, gate) : gate;
      if (decision === undefined) return;
      if (decision !== "send") {
        const error = new PandaProbeError("http_error", `POST ${path} not sent: its trace ${traceId} was ${decision}`);
        return this.finish(item, decision, error);
      }
    }
    const route = routeOf(path);
    let retries = 0;
    let patience = 0;
    /** When a follower first heard that its trace is not there yet. */
    let missingSince: number | undefined;
    for (;;) {
      let ticket: number;
      let result: SendResult;
      if (first && "result" in first) {
        ({ ticket, result } = first);
      } else {
        let reservation = first ?? this.pacer.reserve(route);
        while (!("ticket" in reservation)) {
          this.reportDelay(route, reservation);
          if (!(await this.pause(item, reservation.ms))) return;
          reservation = this.pacer.reserve(route);
        }
        ticket = reservation.ticket;
        result = await this.attempt(envelope);
      }
      first = undefined;
      if (item.done) return;
      const retryAfterMs =
        result.ok || result.retryAfterMs === undefined ? undefined : Math.min(result.retryAfterMs, MAX_RETRY_AFTER_MS);
      this.pacer.answered(route, ticket, result.status, result.status === 429 ? retryAfterMs : undefined);
      if (result.ok) {
        if (this.logFn) this.log(`response ${result.status} ${path}`);
        return this.finish(item, "delivered");
      }
      this.log(`response ${result.status ?? result.error.code} ${path}`);
      // The pacer holds the route until the window (or Retry-After) has passed; no retry is used up.
      if (result.status === 429) continue;
      let delay: number;
      if (follower && (result.status === 500 || result.status === 404)) {
        missingSince ??= Date.now();
        if (Date.now() - missingSince >= this.traceWaitMs) return this.finish(item, "abandoned", result.error);
        delay = backoffDelay(patience++, this.retryBaseMs, this.retryMaxMs);
      } else {
        // Only the backend's own answer is a refusal; a send that threw may work next time.
        if (!result.retryable) return this.finish(item, result.status === undefined ? "abandoned" : "refused", result.error);
        if (retries >= this.maxRetries) return this.finish(item, "abandoned", result.error);
        delay = retryAfterMs ?? backoffDelay(retries, this.retryBaseMs, this.retryMaxMs);
        retries++;
      }
      this.log(`retry in ${delay} ms ${path}`);
      if (!(await this.pause(item, delay))) return;
    }
  }

  private async attempt(envelope: Envelope): Promise<SendResult> {
    try {
      return await this.send(envelope);
    } catch (cause) {
      return threw(envelope, cause);
    }
  }

  /** Sleeps `ms`; false when the item was abandoned before or during the sleep. */
  private pause(item: Item, ms: number): Promise<boolean> {
    if (item.done) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = backgroundTimer(() => {
        item.wake = undefined;
        resolve(true);
      }, ms);
      item.wake = () => {
        clearTimeout(timer);
        resolve(false);
      };
    });
  }

  /** The promise's value, or undefined as soon as the item is abandoned. */
  private waitFor<T>(item: Item, value: Promise<T>): Promise<T | undefined> {
    return new Promise((resolve) => {
      item.wake = () => resolve(undefined);
      void value.then((v) => {
        item.wake = undefined;
        resolve(v);
      });
    });
  }

  /**
   * Logs each pause of a route once: why, until when, and how much waits behind it. Waiting out a
   * rate-limit window is also reported; a Retry-After the server chose is routine and only logged.
   */
  private reportDelay(route: string, delay: Exclude<Reservation, { ticket: number }>): void {
    if (this.delayedUntil.get(route) === delay.until) return;
    this.delayedUntil.set(route, delay.until);
    const waiting = this.queue.length + this.active.size;
    this.log(`delayed ${route} ${delay.ms} ms (${delay.reason}, ${waiting} waiting)`);
    if (delay.reason === "retry-after") return;
    const seconds = Math.ceil(delay.ms / 1000);
    const why =
      delay.reason === "rate-limited"
        ? `HTTP 429 without Retry-After${delay.limit === undefined ? "" : ` after ${delay.limit} accepted in the window`}`
        : `pacing to the ${delay.limit} requests per ${this.rateWindowMs / 1000} s the backend accepts`;
    this.report(
      new PandaProbeError(
        "http_error",
        `POST ${route} delayed by ${seconds} s (${why}); ${waiting} envelope(s) waiting, none given up while the queue has room`,
        { status: 429 },
      ),
    );
  }

  private finish(item: Item, outcome: SettleOutcome, error?: PandaProbeError): void {
    if (error) this.report(error);
    this.settle(item, outcome);
  }

  /** The one place an envelope leaves: bookkeeping, its trace's followers, its settled hook, flush waiters. */
  private settle(item: Item, outcome: SettleOutcome): void {
    if (item.done) return;
    item.done = true;
    this.active.delete(item.seq);
    const { envelope } = item;
    if (envelope.path === "/traces" && envelope.traceId !== undefined) this.gate.settled(envelope.traceId, item.seq, outcome);
    this.notify(envelope, outcome);
    this.resolveWaiters();
  }

  private notify(envelope: Envelope, outcome: SettleOutcome): void {
    try {
      envelope.settled?.(outcome);
    } catch {
      // The hook belongs to whoever queued the envelope; its bug must not break delivery.
    }
  }

  private dropOldest(): void {
    const item = this.queue.shift();
    if (item === undefined) return;
    if (item.seq > this.releasedUpTo) this.unreleased--;
    this.droppedTotal++;
    this.unreportedDrops++;
    // The first drop is reported at once; the rest are summed per cycle so a flood makes few reports.
    if (!this.dropReportsThrottled) {
      this.dropReportsThrottled = true;
      this.reportDrops();
    }
    this.settle(item, "abandoned");
  }

  /** A flush cycle ends at each interval tick and each flush() call. */
  private endCycle(): void {
    if (this.unreportedDrops > 0) this.reportDrops();
    else this.dropReportsThrottled = false;
  }

  private reportDrops(): void {
    const count = this.unreportedDrops;
    this.unreportedDrops = 0;
    const now = Date.now();
    const paced = [...this.delayedUntil.values()].some((until) => until > now);
    this.log(`dropped ${count} (queue full)`);
    this.report(
      new PandaProbeError(
        "queue_overflow",
        `export queue full (maxQueueSize ${this.maxQueueSize}${paced ? ", sending held back by the backend's rate limit" : ""}): ` +
          `dropped ${count} oldest envelope(s), ${this.droppedTotal} in total`,
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

  /** Everything below this seq is settled. Dispatched seqs precede queued ones (FIFO). */
  private lowestUnsettled(): number {
    const active = this.active.keys().next();
    return active.done ? (this.queue.peek()?.seq ?? Infinity) : active.value;
  }

  private resolveWaiters(): void {
    if (this.waiters.length === 0) return;
    const lowest = this.lowestUnsettled();
    while (this.waiters.length > 0 && this.waiters[0]!.target < lowest) {
      const waiter = this.waiters.shift()!;
      clearTimeout(waiter.deadline);
      waiter.resolve();
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
