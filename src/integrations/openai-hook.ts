import type { RecordedCall, StreamAccumulator } from "./openai-record.js";

/**
 * The SDK's `APIPromise` (v4+): a Promise that parses the body lazily, on `then` or `withResponse()`,
 * and not at all on `asResponse()`. `_thenUnwrap` derives another APIPromise with a transform on the
 * parsed value; `parse` is the lazy step every consumer goes through.
 */
interface ApiPromiseLike {
  _thenUnwrap(transform: (data: unknown) => unknown): ApiPromiseLike;
  asResponse(): Promise<unknown>;
  parse?: () => Promise<unknown>;
}

function isApiPromise(value: unknown): value is ApiPromiseLike {
  return (
    value instanceof Promise &&
    typeof (value as Partial<ApiPromiseLike>)._thenUnwrap === "function" &&
    typeof (value as Partial<ApiPromiseLike>).asResponse === "function"
  );
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof (value as AsyncIterable<unknown> | null)?.[Symbol.asyncIterator] === "function";
}

function defineOwn(target: object, key: PropertyKey, value: unknown): void {
  Object.defineProperty(target, key, { value, writable: true, configurable: true, enumerable: false });
}

/**
 * Returns what `create()` returned, observed: still an APIPromise (so `withResponse()` and
 * `asResponse()` work), resolving to the very same response or Stream object.
 */
export function hookResult(result: unknown, recorded: RecordedCall): unknown {
  const settle = (data: unknown) => {
    try {
      if (recorded.streaming && isAsyncIterable(data)) instrumentStream(data, recorded);
      else recorded.response(data);
    } catch {
      // The caller still gets the data.
    }
    return data;
  };
  if (isApiPromise(result)) return hookApiPromise(result, settle, recorded);
  if (result instanceof Promise) {
    // Registered before the caller's handlers, so a stream is instrumented before anyone reads it.
    result.then(settle, (error: unknown) => recorded.fail(error));
    return result;
  }
  return settle(result);
}

function hookApiPromise(original: ApiPromiseLike, settle: (data: unknown) => unknown, recorded: RecordedCall) {
  const hooked = original._thenUnwrap(settle);
  let parsing = false;
  /**
   * Errors (HTTP status, network, abort) reject the parse, and the caller's own chain gets them
   * unchanged. Promises the SDK's helpers derive (`parse()` calls `create()._thenUnwrap(...)`)
   * share the request, so they are observed the same way.
   */
  const observe = (promise: ApiPromiseLike): ApiPromiseLike => {
    const { parse, asResponse, _thenUnwrap } = promise;
    if (typeof parse !== "function") return promise;
    defineOwn(promise, "parse", function (this: ApiPromiseLike) {
      parsing = true;
      const parsed = parse.call(this);
      parsed.then(undefined, (error: unknown) => recorded.fail(error));
      return parsed;
    });
    // Without a parse the body is the caller's to read: the span ends, without output, on the response.
    defineOwn(promise, "asResponse", function (this: ApiPromiseLike) {
      const response = asResponse.call(this);
      response.then(
        () => {
          if (!parsing) recorded.unparsed();
        },
        (error: unknown) => recorded.fail(error),
      );
      return response;
    });
    defineOwn(promise, "_thenUnwrap", function (this: ApiPromiseLike, transform: (data: unknown) => unknown) {
      return observe(_thenUnwrap.call(this, transform));
    });
    return promise;
  };
  return observe(hooked);
}

/**
 * Taps the SDK Stream in place. Its `iterator` factory is what `for await`, `tee()` and
 * `toReadableStream()` all start from, so every way of reading passes through the tap; the span
 * closes when the iteration ends, throws, is returned early, or the stream's controller aborts.
 */
function instrumentStream(stream: AsyncIterable<unknown>, recorded: RecordedCall): void {
  const accumulator = recorded.api.accumulator();
  const signal = (stream as { controller?: AbortController }).controller?.signal;
  const reading = { pending: 0 };
  // An abort while a read is pending settles through that read; otherwise it abandons the stream here.
  signal?.addEventListener("abort", () => {
    if (reading.pending === 0) recorded.streamEnd(accumulator, true);
  }, { once: true });
  const aborted = () => signal?.aborted === true;
  const source = stream as unknown as { iterator?: () => AsyncIterator<unknown> };
  if (typeof source.iterator === "function") {
    const make = source.iterator;
    source.iterator = () => tap(make.call(stream), accumulator, recorded, reading, aborted);
  } else {
    const make = stream[Symbol.asyncIterator];
    defineOwn(stream, Symbol.asyncIterator, () => tap(make.call(stream), accumulator, recorded, reading, aborted));
  }
}

function tap(
  inner: AsyncIterator<unknown>,
  accumulator: StreamAccumulator,
  recorded: RecordedCall,
  reading: { pending: number },
  aborted: () => boolean,
): AsyncIterableIterator<unknown> {
  return {
    next(...args: [] | [unknown]) {
      reading.pending++;
      return inner.next(...args).then(
        (step) => {
          reading.pending--;
          if (step.done) recorded.streamEnd(accumulator, aborted());
          else recorded.chunk(accumulator, step.value);
          return step;
        },
        (error: unknown) => {
          reading.pending--;
          recorded.fail(error);
          throw error;
        },
      );
    },
    return(value?: unknown) {
      recorded.streamEnd(accumulator, true);
      return inner.return ? inner.return(value) : Promise.resolve({ done: true as const, value });
    },
    throw(error?: unknown) {
      recorded.streamEnd(accumulator, true);
      return inner.throw ? inner.throw(error) : Promise.reject(error);
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
