import type { Exporter } from "./types.js";

/** A serverless runtime's way to keep an invocation alive until a promise settles. */
export type WaitUntil = (promise: Promise<unknown>) => void;

/**
 * Serverless functions freeze once their response is sent: a delivery still under way then waits
 * for the next invocation, or is lost. Each envelope's delivery is handed to the `waitUntil` of the
 * request that queued it (looked up then, in that request) and sent at once rather than batched
 * (by an exporter that can: `sendNow`; the durable one sends at its own pace).
 * Where no `waitUntil` is found the envelope is queued as it is.
 */
export function keepAliveWith(inner: Exporter & { sendNow?(): void }, find: () => WaitUntil | undefined): Exporter {
  return {
    enqueue(envelope) {
      const waitUntil = find();
      if (!waitUntil) return inner.enqueue(envelope);
      let settle!: () => void;
      const delivered = new Promise<void>((resolve) => (settle = resolve));
      try {
        waitUntil(delivered);
      } catch {
        // Next.js's after() throws outside a request: delivery goes on as without it.
        return inner.enqueue(envelope);
      }
      inner.enqueue({
        ...envelope,
        settled(outcome) {
          settle();
          envelope.settled?.(outcome);
        },
      });
      // A batch would wait for flushInterval, holding the invocation (or frozen with it).
      inner.sendNow?.();
    },
    flush: (timeoutMs) => inner.flush(timeoutMs),
    shutdown: (timeoutMs) => inner.shutdown(timeoutMs),
  };
}
