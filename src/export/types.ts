/** How an envelope left the exporter: see `Envelope.settled`. */
export type SettleOutcome = "delivered" | "refused" | "abandoned";

/** One request body ready to send: the route it goes to and its serialized JSON. */
export interface Envelope {
  /** `/traces`, `/traces/{id}/spans` or `/evaluations/trace-scores`, relative to the endpoint. */
  readonly path: string;
  readonly body: string;
  /**
   * The trace the body belongs to. A score or spans envelope for a trace this exporter queued is
   * sent only after that trace was accepted (the backend answers 500/404 until it is persisted).
   */
  readonly traceId?: string;
  /**
   * Called exactly once, when the envelope leaves the exporter: `delivered` on a 2xx; `refused` on
   * an answer that would be the same again (400, 401, 422, ...); `abandoned` when the queue bound
   * evicted it, its retries ran out, or a flush/shutdown deadline left it behind. A throw is ignored.
   */
  settled?(outcome: SettleOutcome): void;
}

/** Where finished traces go. The client only ever talks to this interface. */
export interface Exporter {
  /** Never blocks and never throws; when the queue is full the oldest envelope is dropped. */
  enqueue(envelope: Envelope): void;
  /**
   * Optional: envelopes to make later, off the interaction path that ended the trace (browsers
   * serialize when the page is idle, and at once when it is hidden or flushed). Without it, the
   * client makes them at once and calls `enqueue`. `make` never throws.
   */
  enqueueLater?(make: () => Envelope[]): void;
  /**
   * Resolves when everything enqueued before the call is delivered or given up; with a deadline,
   * at the latest when it passes (what is left then is given up and reported).
   */
  flush(timeoutMs?: number): Promise<void>;
  /** Flushes within a deadline, then stops timers and refuses new work. Idempotent. */
  shutdown(timeoutMs?: number): Promise<void>;
}
