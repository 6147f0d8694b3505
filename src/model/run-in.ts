import { contextManager, type Context } from "../context/context.js";
import { observe, type Outcome } from "./observe.js";
import type { Span } from "./span.js";
import type { Trace } from "./trace.js";

/** Runs fn with scope added to the current context, reporting how it settled. */
function runWith<T>(scope: Context, fn: () => T, outcome: Outcome): T {
  const manager = contextManager();
  const ctx = { ...manager.active(), ...scope };
  return observe((f) => manager.with(ctx, f), fn, outcome);
}

/** Runs fn with span current; ends the span when fn settles, as ERROR when it throws. */
export function runInSpan<T>(span: Span, fn: () => T, captureOutput: boolean): T {
  return runWith({ trace: span.trace, span }, fn, {
    ok: (value) => {
      if (captureOutput) span.setOutput(value);
      span.end();
    },
    fail: (error) => span.setError(error).end(),
  });
}

/** Runs fn as the body of trace (no span current yet); ends it when fn settles, as ERROR when it throws. */
export function runInTrace<T>(trace: Trace, fn: () => T, outputOf?: (value: unknown) => unknown): T {
  return runWith({ trace, span: undefined }, fn, {
    ok: (value) => {
      if (outputOf) trace.setOutput(outputOf(value));
      trace.end();
    },
    fail: (error) => {
      trace.fail(error);
      trace.end();
    },
  });
}
