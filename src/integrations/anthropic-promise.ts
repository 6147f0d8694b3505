/**
 * Watches the SDK's APIPromise in place, without reading the response itself. The SDK parses the
 * body lazily, on the caller's first `then` / `withResponse()`: parsing it eagerly would consume
 * the body that `asResponse()` hands back raw. So the hook sits on the promise's own `parse` (which
 * every parsed read goes through) and on `asResponse` (the unparsed read).
 *
 * Watching this one promise is enough because Anthropic's helpers (`stream()`, `parse()`) read it
 * through `withResponse()` / `then`. openai's derive new promises with `_thenUnwrap`, which
 * bypass `parse`, so openai-hook.ts follows those instead; the Stream side is shared (sdk-hooks.ts).
 */
import { defineOwn } from "./sdk-hooks.js";

export interface ResultObserver {
  /** The parsed value, seen before the caller's own callbacks run. */
  value(value: unknown): void;
  /** The call failed (HTTP error, connection error, abort). */
  error(error: unknown): void;
  /** The caller took the raw Response, so no parsed value will come. */
  raw(): void;
}

interface ApiPromiseLike {
  parse?: (this: unknown) => Promise<unknown>;
  asResponse?: (this: unknown) => Promise<unknown>;
  then?: unknown;
}

export function observeResult(result: unknown, observer: ResultObserver): void {
  const promise = result as ApiPromiseLike | null;
  if (typeof promise !== "object" || promise === null) {
    observer.value(result);
    return;
  }
  const { parse, asResponse } = promise;
  if (typeof parse !== "function" || typeof asResponse !== "function") {
    if (typeof promise.then === "function") (promise as Promise<unknown>).then(observer.value, observer.error);
    else observer.value(result);
    return;
  }
  let watched = false;
  const watch = (read: Promise<unknown>, onValue: (value: unknown) => void): void => {
    if (watched) return;
    watched = true;
    read.then(onValue, observer.error);
  };
  defineOwn(promise, "parse", function (this: unknown) {
    const read = parse.call(this);
    watch(read, observer.value);
    return read;
  });
  defineOwn(promise, "asResponse", function (this: unknown) {
    const read = asResponse.call(this);
    watch(read, () => observer.raw());
    return read;
  });
}
