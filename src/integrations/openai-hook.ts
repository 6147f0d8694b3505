import type { RecordedCall } from "./openai-record.js";
import { recordStream } from "./provider-call.js";
import { defineOwn, isAsyncIterable } from "./sdk-hooks.js";

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

/**
 * Returns what `create()` returned, observed: still an APIPromise (so `withResponse()` and
 * `asResponse()` work), resolving to the very same response or Stream object.
 */
export function hookResult(result: unknown, recorded: RecordedCall): unknown {
  const settle = (data: unknown) => {
    try {
      if (recorded.streaming && isAsyncIterable(data)) recordStream(recorded, data, "iterable");
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
