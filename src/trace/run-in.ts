import { activeContext, newContext, withContext, type Context } from "./trace-context.js";
import { observe, type Outcome } from "./observe.js";
import type { Span } from "./span.js";
import type { Trace } from "./trace.js";

/** Runs fn with trace and span current over parent (the context the caller already read), reporting how it settled. */
function runWith<T>(parent: Context, trace: Trace, span: Span | undefined, fn: () => T, outcome: Outcome): T {
  const ctx = newContext(parent, trace, span);
  return observe((f) => withContext(ctx, f), fn, outcome);
}

/** Runs fn with span current; ends the span when fn settles, as ERROR when it throws. */
export function runInSpan<T>(parent: Context, span: Span, fn: () => T, captureOutput: boolean): T {
  // A span of a trace not recorded has nothing to end: fn runs as is.
  if (!span.trace.recording) return fn();
  return runWith(parent, span.trace, span, fn, {
    ok: (value) => {
      if (captureOutput) span.setOutput(value);
      span.end();
    },
    fail: (error) => span.setError(error).end(),
  });
}

/** Runs fn as the body of trace (no span current yet); ends it when fn settles, as ERROR when it throws. */
export function runInTrace<T>(parent: Context, trace: Trace, fn: () => T, outputOf?: (value: unknown) => unknown): T {
  // A trace not recorded is still current, so wrappers inside follow its decision; it has nothing to end.
  if (!trace.recording) return withContext(newContext(parent, trace, undefined), fn);
  return runWith(parent, trace, undefined, fn, {
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

/**
 * Runs fn with span current without ending it: for integrations told of the outcome by a later
 * callback (a framework's tool-end event), whose nested calls must still land under the span.
 */
export function withCurrentSpan<T>(span: Span, fn: () => T): T {
  return withContext(newContext(activeContext(), span.trace, span), fn);
}
