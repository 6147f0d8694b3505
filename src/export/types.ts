/** One request body ready to send: the route it goes to and its serialized JSON. */
export interface Envelope {
  /** `/traces` or `/evaluations/trace-scores`, relative to the endpoint. */
  readonly path: string;
  readonly body: string;
  /**
   * Called exactly once when the envelope leaves the exporter: `delivered` on a 2xx, `refused` on
   * an answer that would be the same again (4xx), `abandoned` when dropped by the queue bound,
   * out of retries, or left behind by shutdown. A durable queue deletes or keeps its record by it.
   */
  settled?(outcome: "delivered" | "refused" | "abandoned"): void;
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
  /** Resolves when everything enqueued before the call is delivered or given up. */
  flush(): Promise<void>;
  /** Flushes, then stops timers and refuses new work. Idempotent. */
  shutdown(): Promise<void>;
}
