/**
 * Runs a function and tells when it settled, keeping the function's shape: a sync result is
 * returned as is, a promise settles with the same value or error, a generator stays a generator.
 * The host's value and exception always reach the host unchanged.
 */
export interface Outcome {
  ok(value: unknown): void;
  fail(error: unknown): void;
}

/** Enters the instrumented context; generators need it again on every step. */
export type Enter = <R>(fn: () => R) => R;

const tagOf = (value: object) => Object.prototype.toString.call(value);

export function observe<T>(enter: Enter, fn: () => T, outcome: Outcome): T {
  let result: T;
  try {
    result = enter(fn);
  } catch (error) {
    outcome.fail(error);
    throw error;
  }
  try {
    if (typeof result !== "object" || result === null) {
      outcome.ok(result);
      return result;
    }
    // A plain promise is replaced by one that settles the same way a tick later: observing it
    // directly would mark a rejection as handled and hide the host's unhandled rejections.
    if (isPlainPromise(result)) {
      return (result as unknown as Promise<unknown>).then(
        (value) => {
          outcome.ok(value);
          return value;
        },
        (error: unknown) => {
          outcome.fail(error);
          throw error;
        },
      ) as T;
    }
    // Promise subclasses carry methods of their own (an SDK's `withResponse()`): keep the object.
    if (result instanceof Promise) {
      result.then(outcome.ok, outcome.fail);
      return result;
    }
    const tag = tagOf(result);
    if (isAsyncGenerator(result, tag)) return primed(observeAsyncGenerator(enter, result as unknown as AsyncGenerator, outcome)) as T;
    if (tag === "[object Generator]") return primed(observeGenerator(enter, result as unknown as Generator, outcome)) as T;
    // Other thenables (query builders) run when `then` is called: never call it for them. Their value
    // is unknown, and the builder itself (its client, the connection string) is no output.
    outcome.ok(typeof (result as { then?: unknown }).then === "function" ? undefined : result);
  } catch {
    // A result that throws when inspected (a revoked or strict Proxy, as envalid's validated env)
    // is a plain value: the host's call must not fail for it.
    outcome.ok(result);
  }
  return result;
}

/**
 * A promise of no subclass. Not only `Promise.prototype`: where zone.js replaced the global Promise,
 * native async functions still return the engine's own promises.
 */
function isPlainPromise(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as object | null;
  if (proto === Promise.prototype) return true;
  return proto !== null && Object.getPrototypeOf(proto) === Object.prototype && tagOf(value) === "[object Promise]";
}

/** Native async generators, and the helper objects compilers lower them to (ES2017 and below, as zone.js apps are built). */
function isAsyncGenerator(value: object, tag: string): boolean {
  if (tag === "[object AsyncGenerator]") return true;
  // Streams that also speak the generator protocol (LangChain's IterableReadableStream) keep their shape.
  if (typeof ReadableStream === "function" && value instanceof ReadableStream) return false;
  const v = value as Partial<AsyncGenerator>;
  return (
    typeof v.next === "function" &&
    typeof v.throw === "function" &&
    typeof v.return === "function" &&
    typeof v[Symbol.asyncIterator] === "function"
  );
}

/**
 * Runs an observer to its first yield, inside its try: a consumer that closes it before its first
 * next() (a response stream cancelled before its first pull) still ends the span and closes the
 * source. The source itself starts only on the consumer's first next().
 */
function primed<G extends Generator | AsyncGenerator>(observer: G): G {
  void observer.next();
  return observer;
}

/** What a generator produced: its return value, else the yielded text or chunks. */
function streamed(chunks: unknown[], returned: unknown): unknown {
  if (returned !== undefined) return returned;
  return chunks.every((c) => typeof c === "string") ? chunks.join("") : chunks;
}

/**
 * The generator observers drive the source with the consumer's calls: `next(sent)` or, when the
 * consumer threw into them, `throw(error)`. Sync and async differ only by their awaits.
 */
type Resume = "next" | "throw";

async function* observeAsyncGenerator(enter: Enter, inner: AsyncGenerator, outcome: Outcome) {
  const chunks: unknown[] = [];
  let finished = false;
  let method: Resume = "next";
  let arg: unknown;
  let step: IteratorResult<unknown> | undefined;
  try {
    for (;;) {
      // The first yield is where primed() leaves the observer, before the consumer's first call.
      try {
        arg = yield step?.value;
        method = "next";
      } catch (thrown) {
        arg = thrown;
        method = "throw";
      }
      step = await enter(() => inner[method](arg));
      if (step.done) {
        finished = true;
        outcome.ok(streamed(chunks, step.value));
        return step.value;
      }
      chunks.push(step.value);
    }
  } catch (error) {
    finished = true;
    outcome.fail(error);
    throw error;
  } finally {
    // The consumer stopped early (break, return()): close the source and end the span.
    if (!finished) {
      try {
        await enter(() => inner.return(undefined));
      } finally {
        outcome.ok(streamed(chunks, undefined));
      }
    }
  }
}

function* observeGenerator(enter: Enter, inner: Generator, outcome: Outcome) {
  const chunks: unknown[] = [];
  let finished = false;
  let method: Resume = "next";
  let arg: unknown;
  let step: IteratorResult<unknown> | undefined;
  try {
    for (;;) {
      try {
        arg = yield step?.value;
        method = "next";
      } catch (thrown) {
        arg = thrown;
        method = "throw";
      }
      step = enter(() => inner[method](arg));
      if (step.done) {
        finished = true;
        outcome.ok(streamed(chunks, step.value));
        return step.value;
      }
      chunks.push(step.value);
    }
  } catch (error) {
    finished = true;
    outcome.fail(error);
    throw error;
  } finally {
    if (!finished) {
      try {
        enter(() => inner.return(undefined));
      } finally {
        outcome.ok(streamed(chunks, undefined));
      }
    }
  }
}
