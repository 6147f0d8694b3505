import { contextManager } from "../context/context.js";
import { observe } from "./observe.js";
import type { Span } from "./span.js";
import type { Trace } from "./trace.js";

/** Runs fn with span current; ends the span when fn settles, as ERROR when it throws. */
export function runInSpan<T>(span: Span, fn: () => T, captureOutput: boolean): T {
  const manager = contextManager();
  const ctx = { ...manager.active(), trace: span.trace, span };
  return observe((f) => manager.with(ctx, f), fn, {
    ok: (value) => {
      if (captureOutput) span.setOutput(value);
      span.end();
    },
    fail: (error) => {
      span.setError(error);
      span.end();
    },
  });
}

/** Runs fn as the body of trace; ends it when fn settles, as ERROR when it throws. */
export function runInTrace<T>(trace: Trace, fn: () => T, outputOf?: (value: unknown) => unknown): T {
  const manager = contextManager();
  const ctx = { ...manager.active(), trace, span: undefined };
  return observe((f) => manager.with(ctx, f), fn, {
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
