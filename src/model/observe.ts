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
  if (typeof result !== "object" || result === null) {
    outcome.ok(result);
    return result;
  }
  // A plain promise is replaced by one that settles the same way a tick later: observing it
  // directly would mark a rejection as handled and hide the host's unhandled rejections.
  if (Object.getPrototypeOf(result) === Promise.prototype) {
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
  if (tag === "[object AsyncGenerator]") {
    return observeAsyncGenerator(enter, result as unknown as AsyncGenerator, outcome) as T;
  }
  if (tag === "[object Generator]") return observeGenerator(enter, result as unknown as Generator, outcome) as T;
  // Other thenables (query builders) run when `then` is called: never call it for them.
  outcome.ok(result);
  return result;
}

/** What a generator produced: its return value, else the yielded text or chunks. */
function streamed(chunks: unknown[], returned: unknown): unknown {
  if (returned !== undefined) return returned;
  return chunks.every((c) => typeof c === "string") ? chunks.join("") : chunks;
}

async function* observeAsyncGenerator(enter: Enter, inner: AsyncGenerator, outcome: Outcome) {
  const chunks: unknown[] = [];
  let finished = false;
  try {
    let step = await enter(() => inner.next());
    while (!step.done) {
      chunks.push(step.value);
      let sent: unknown;
      try {
        sent = yield step.value;
      } catch (thrown) {
        step = await enter(() => inner.throw(thrown));
        continue;
      }
      step = await enter(() => inner.next(sent));
    }
    finished = true;
    outcome.ok(streamed(chunks, step.value));
    return step.value;
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
  try {
    let step = enter(() => inner.next());
    while (!step.done) {
      chunks.push(step.value);
      let sent: unknown;
      try {
        sent = yield step.value;
      } catch (thrown) {
        step = enter(() => inner.throw(thrown));
        continue;
      }
      step = enter(() => inner.next(sent));
    }
    finished = true;
    outcome.ok(streamed(chunks, step.value));
    return step.value;
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
