import { getClient, getCurrentSpan, getCurrentTrace, startTrace, type Span, type Trace } from "pandaprobe";
import { DEV, assertIds, assertKnownKeys, assertOptionalString, assertPlainObject, assertTags, traceInputFromArgs, traceOutputFromResult } from "pandaprobe/integration-kit";

/** What every agent-framework integration takes: explicit ids (they beat scoped and imperative ones) and trace labels. */
export interface FrameworkOptions {
  sessionId?: string;
  userId?: string;
  tags?: string[];
  metadata?: Record<string, unknown>;
}

const FRAMEWORK_OPTION_KEYS = ["sessionId", "userId", "tags", "metadata"];

/**
 * Checked where the developer passes them: inside a framework's callbacks a bad option would only
 * make every run fail to trace, silently. Returns a copy, so later changes by the caller do not leak in.
 */
export function frameworkOptions<O extends FrameworkOptions>(options: O | undefined, extraKeys: string[], what: string): O {
  if (DEV && process.env.NODE_ENV !== "production") {
    assertKnownKeys(options, [...FRAMEWORK_OPTION_KEYS, ...extraKeys], `${what} option`);
    assertIds(options);
    if (options?.tags !== undefined) assertTags(options.tags);
    if (options?.metadata !== undefined) assertPlainObject(options.metadata, "metadata");
    for (const key of extraKeys) {
      if (key === "name") assertOptionalString((options as { name?: unknown } | undefined)?.name, "trace name");
    }
  }
  return { ...options } as O;
}

/**
 * One framework run (an agent call, a query): a CHAIN root span in a trace of its own, or, inside
 * a current trace, a subtree under the current span. Outcomes are idempotent: the first one wins.
 */
export interface FrameworkRun {
  readonly root: Span;
  /** Ends the root span with this output and the trace with the last assistant message of it. */
  succeed(output: unknown): void;
  fail(error: unknown): void;
  /** The caller stopped consuming the run (an abort, a broken-off stream): not a failure. */
  abandon(output?: unknown): void;
}

/** How a run is opened: the name of its trace and of its CHAIN root span. */
export interface RunStart {
  name: string;
  input?: unknown;
  metadata?: Record<string, unknown>;
}

/** Opens a run, or returns undefined when tracing is off so the caller passes straight through. */
export function openFrameworkRun(start: RunStart, options: FrameworkOptions): FrameworkRun | undefined {
  if (!getClient()?.enabled) return undefined;
  const { name, input } = start;
  const rootOptions = { kind: "CHAIN" as const, input, metadata: start.metadata };
  const host = getCurrentTrace();
  let trace: Trace | undefined;
  let root: Span;
  if (host && !host.ended) {
    root = (getCurrentSpan() ?? host).span(name, rootOptions);
  } else {
    trace = startTrace(name, {
      input: input === undefined ? undefined : traceInputFromArgs([input]),
      sessionId: options.sessionId,
      userId: options.userId,
      tags: options.tags,
      metadata: options.metadata,
    });
    root = trace.span(name, rootOptions);
  }
  let done = false;
  const once = (fn: () => void) => {
    if (done) return;
    done = true;
    fn();
  };
  return {
    root,
    succeed: (output) =>
      once(() => {
        if (output !== undefined) root.setOutput(output);
        root.end();
        if (output !== undefined) trace?.setOutput(traceOutputFromResult(output));
        trace?.end();
      }),
    fail: (error) =>
      once(() => {
        root.setError(error).end();
        trace?.setStatus("ERROR").setMetadata({ error: error instanceof Error ? error.message : String(error) }).end();
      }),
    abandon: (output) =>
      once(() => {
        if (output !== undefined) root.setOutput(output);
        root.setMetadata({ abandoned: true }).end();
        if (output !== undefined) trace?.setOutput(traceOutputFromResult(output));
        trace?.setMetadata({ abandoned: true }).end();
      }),
  };
}
