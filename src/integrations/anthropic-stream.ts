/**
 * Watches the SDK's own Stream object in place: the caller keeps the very Stream the SDK made
 * (its class, `controller`, `tee()`, `toReadableStream()`), and each event reaches it as the SDK
 * yields it, after a synchronous look.
 */

export type StreamEnd = { how: "completed" } | { how: "abandoned" } | { how: "failed"; error: unknown };

export interface StreamObserver<E> {
  event(event: E): void;
  end(end: StreamEnd): void;
}

type ObservableStream<E> = AsyncIterable<E> & { controller?: AbortController };

/**
 * Calls `observer.end` exactly once: when the read completes or throws, when the reader stops
 * early (break, `return()`), or when the stream's controller is aborted while nobody is waiting
 * on it (an abort during a pending read shows up in that read instead).
 */
export function observeStream<E>(stream: ObservableStream<E>, observer: StreamObserver<E>): void {
  const iterate = stream[Symbol.asyncIterator];
  const signal = stream.controller?.signal;
  let ended = false;
  let pending = 0;
  let iterated = false;

  const end = (result: StreamEnd): void => {
    if (ended) return;
    ended = true;
    signal?.removeEventListener("abort", onAbort);
    try {
      observer.end(result);
    } catch {
      // Tracing never breaks the host.
    }
  };
  const onAbort = (): void => {
    if (pending === 0) end({ how: "abandoned" });
  };
  if (signal?.aborted) return end({ how: "abandoned" });
  signal?.addEventListener("abort", onAbort, { once: true });

  Object.defineProperty(stream, Symbol.asyncIterator, {
    configurable: true,
    writable: true,
    value: function (this: ObservableStream<E>): AsyncIterator<E> {
      const source = iterate.call(this);
      // The SDK refuses a second read itself; only the first one is watched.
      if (iterated) return source;
      iterated = true;
      const iterator: AsyncIterableIterator<E> = {
        async next(...args: [] | [unknown]) {
          pending++;
          let result: IteratorResult<E>;
          try {
            result = await source.next(...args);
          } catch (error) {
            pending--;
            end({ how: "failed", error });
            throw error;
          }
          pending--;
          if (result.done) end(signal?.aborted ? { how: "abandoned" } : { how: "completed" });
          else if (!ended) {
            try {
              observer.event(result.value);
            } catch {
              // Tracing never breaks the host.
            }
          }
          return result;
        },
        async return(value?: unknown) {
          end({ how: "abandoned" });
          return source.return ? source.return(value) : { done: true, value: value as never };
        },
        async throw(error?: unknown) {
          end({ how: "abandoned" });
          if (source.throw) return source.throw(error);
          throw error;
        },
        [Symbol.asyncIterator]() {
          return iterator;
        },
      };
      return iterator;
    },
  });
}
