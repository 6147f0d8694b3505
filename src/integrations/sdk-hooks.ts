/**
 * Watches a streamed answer of a Stainless-generated SDK (openai, @anthropic-ai/sdk) in place: the
 * caller keeps the very Stream the SDK made (its class, `controller`, `tee()`, `toReadableStream()`),
 * and each event reaches it as the SDK yields it, after a synchronous look.
 */

export type StreamEnd = { how: "completed" } | { how: "abandoned" } | { how: "failed"; error: unknown };

export interface StreamObserver<E> {
  event(event: E): void;
  end(end: StreamEnd): void;
}

/**
 * The SDK's Stream: an `iterator` factory that `[Symbol.asyncIterator]`, `tee()` and
 * `toReadableStream()` all start from, and the controller that aborts the request.
 */
type ObservableStream<E> = AsyncIterable<E> & { controller?: AbortController; iterator?: () => AsyncIterator<E> };

export function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof (value as AsyncIterable<unknown> | null)?.[Symbol.asyncIterator] === "function";
}

/** Replaces a method on one object only, leaving it out of enumeration like a class method. */
export function defineOwn(target: object, key: PropertyKey, value: unknown): void {
  Object.defineProperty(target, key, { value, writable: true, configurable: true, enumerable: false });
}

/**
 * Calls `observer.end` exactly once: when the read completes or throws, when the reader stops
 * early (break, `return()`), or when the stream's controller is aborted while nobody is waiting
 * on it (an abort during a pending read shows up in that read instead). Observer failures are
 * swallowed: tracing never breaks the host.
 */
export function observeStream<E>(stream: ObservableStream<E>, observer: StreamObserver<E>): void {
  const controller = stream.controller;
  const signal = controller?.signal;
  let ended = false;
  let pending = 0;
  let iterated = false;

  const end = (result: StreamEnd): void => {
    if (ended) return;
    ended = true;
    try {
      observer.end(result);
    } catch {
      // Tracing never breaks the host.
    }
  };
  if (signal?.aborted) return end({ how: "abandoned" });
  watchAbort(controller, () => {
    if (pending === 0) end({ how: "abandoned" });
  });

  const tap = (source: AsyncIterator<E>): AsyncIterableIterator<E> => {
    // The SDK refuses a second read itself; only the first one is watched.
    if (iterated) return source as AsyncIterableIterator<E>;
    iterated = true;
    const iterator: AsyncIterableIterator<E> = {
      next(...args: [] | [unknown]) {
        pending++;
        return source.next(...args).then(
          (result) => {
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
          (error: unknown) => {
            pending--;
            end({ how: "failed", error });
            throw error;
          },
        );
      },
      return(value?: unknown) {
        end({ how: "abandoned" });
        return source.return ? source.return(value) : Promise.resolve({ done: true as const, value: value as never });
      },
      throw(error?: unknown) {
        end({ how: "abandoned" });
        return source.throw ? source.throw(error) : Promise.reject(error);
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
  };

  // `tee()` in openai calls the `iterator` factory directly, so that is where the tap goes when there is one.
  const factory = stream.iterator;
  if (typeof factory === "function") {
    stream.iterator = () => tap(factory.call(stream));
  } else {
    const iterate = stream[Symbol.asyncIterator];
    defineOwn(stream, Symbol.asyncIterator, function (this: ObservableStream<E>) {
      return tap(iterate.call(this));
    });
  }
}

/**
 * Calls `onAbort` after the controller's `abort()`: the stream's signal aborts only through it (the
 * SDK forwards the caller's own signal and its timeout to it). Its own method, rather than an
 * "abort" listener on the signal, which costs Node an order of magnitude more per stream.
 */
function watchAbort(controller: AbortController | undefined, onAbort: () => void): void {
  const abort = controller?.abort;
  if (typeof abort !== "function") return;
  defineOwn(controller!, "abort", function (this: AbortController, reason?: unknown) {
    const aborted = this.signal.aborted;
    abort.call(this, reason);
    try {
      if (!aborted) onAbort();
    } catch {
      // Tracing never breaks the host.
    }
  });
}

type AsyncGeneratorLike<E> = AsyncIterator<E> & { [Symbol.asyncIterator](): unknown };

/**
 * Watches an async generator an SDK returned (Gemini's `generateContentStream`) in place: its own
 * `next`, `return` and `throw`, so the caller keeps the very object, and both `for await` (which
 * gets the generator itself back from `[Symbol.asyncIterator]`) and direct `next()` calls go
 * through the watch. `observer.end` is called once, as in observeStream.
 */
export function observeGenerator<E>(generator: AsyncGeneratorLike<E>, observer: StreamObserver<E>): void {
  const { next, return: close, throw: raise } = generator;
  let ended = false;
  const end = (result: StreamEnd): void => {
    if (ended) return;
    ended = true;
    try {
      observer.end(result);
    } catch {
      // Tracing never breaks the host.
    }
  };
  defineOwn(generator, "next", function (this: AsyncIterator<E>, ...args: [] | [unknown]) {
    return next.apply(this, args).then(
      (result) => {
        if (result.done) end({ how: "completed" });
        else if (!ended) {
          try {
            observer.event(result.value);
          } catch {
            // Tracing never breaks the host.
          }
        }
        return result;
      },
      (error: unknown) => {
        end({ how: "failed", error });
        throw error;
      },
    );
  });
  if (typeof close === "function") {
    defineOwn(generator, "return", function (this: AsyncIterator<E>, value?: unknown) {
      end({ how: "abandoned" });
      return close.call(this, value);
    });
  }
  if (typeof raise === "function") {
    defineOwn(generator, "throw", function (this: AsyncIterator<E>, error?: unknown) {
      end({ how: "abandoned" });
      return raise.call(this, error);
    });
  }
}
