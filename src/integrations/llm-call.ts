import { getClient, getCurrentSpan, getCurrentTrace, type Client, type Span } from "pandaprobe";
import { DEV, assertIds, assertKnownKeys, traceInputFromArgs, traceOutputFromResult, withhold, type RecordSwitches } from "pandaprobe/integration-kit";

/** What a wrapper or integration is given: ids (explicit, so they beat scoped ones), its client, its record switches. */
export interface IntegrationOptions extends RecordSwitches {
  sessionId?: string;
  userId?: string;
  /** The client whose project the traces this wrapper opens go to; by default the global one (`init()`). */
  client?: Client;
}

export const INTEGRATION_OPTION_KEYS = ["sessionId", "userId", "client", "recordInputs", "recordOutputs"];

/**
 * A wrapper's options, checked where the developer passes them: a typo'd key or a non-string id
 * would otherwise only fail inside each traced call, where tracing swallows it and records nothing.
 */
export function integrationIds(options: IntegrationOptions | undefined, what: string): IntegrationOptions | undefined {
  if (DEV && process.env.NODE_ENV !== "production") {
    assertKnownKeys(options, INTEGRATION_OPTION_KEYS, `${what} option`);
    assertIds(options);
  }
  return options && { ...options };
}

/** The client a wrapper records with: its own, else the global one; undefined when that one is off. */
export function activeClient(options: IntegrationOptions | undefined): Client | undefined {
  const client = options?.client ?? getClient();
  return client?.enabled ? client : undefined;
}

/** Knobs worth recording; anything else a request carries (keys, headers, user data) is left out. */
const SAFE_PARAMETERS = new Set([
  "temperature",
  "top_p",
  "top_k",
  "max_tokens",
  "max_completion_tokens",
  "max_output_tokens",
  "seed",
  "stop",
  "stop_sequences",
  "response_format",
  "reasoning_effort",
  "reasoning",
  "frequency_penalty",
  "presence_penalty",
  "n",
  "tool_choice",
  "parallel_tool_calls",
  "stream",
  "service_tier",
  "thinking",
  "text",
  "truncation",
]);

export function safeParameters(request: Record<string, unknown>): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  for (const key of Object.keys(request)) {
    if (SAFE_PARAMETERS.has(key) && request[key] !== undefined) kept[key] = request[key];
  }
  return kept;
}

/** One model call being recorded: its LLM span and, outside any trace, the trace opened for it. */
export interface LlmCall {
  readonly span: Span;
  /** Ends the span OK with the call's output (and the standalone trace, with the assistant message). */
  succeed(output: unknown): void;
  /** Ends the span ERROR (and the standalone trace). */
  fail(error: unknown): void;
}

/**
 * Opens an LLM span for a model call: nested in the current span or trace when there is one (and
 * recorded only if that trace is), otherwise in a trace of its own on the wrapper's client that
 * takes the explicit, then scoped, then imperative ids. Returns undefined when nothing is
 * recorded, so the caller passes straight through.
 */
export function openLlmCall(name: string, messages: unknown, options: IntegrationOptions | undefined): LlmCall | undefined {
  const client = activeClient(options);
  if (!client) return undefined;
  const input = options?.recordInputs === false ? undefined : messages;
  const trace = getCurrentTrace();
  if (trace && !trace.ended) {
    if (!trace.recording) return undefined;
    const span = withhold((getCurrentSpan() ?? trace).span(name, { kind: "LLM", input }), options, true);
    return {
      span,
      succeed: (output) => span.setOutput(output).end(),
      fail: (error) => span.setError(error).end(),
    };
  }
  const standalone = withhold(
    client.startTrace(name, {
      input: input === undefined ? undefined : traceInputFromArgs([messages]),
      sessionId: options?.sessionId,
      userId: options?.userId,
    }),
    options,
  );
  if (!standalone.recording) return undefined;
  const span = withhold(standalone.span(name, { kind: "LLM", input }), options, true);
  return {
    span,
    succeed: (output) => {
      span.setOutput(output).end();
      standalone.setOutput(traceOutputFromResult(output)).end();
    },
    fail: (error) => {
      span.setError(error).end();
      standalone.setStatus("ERROR").setMetadata({ error: error instanceof Error ? error.message : String(error) }).end();
    },
  };
}

/** Marks a wrapped function so wrapping a client twice does not trace each call twice. */
export const WRAPPED = Symbol.for("pandaprobe.wrapped");

export function isWrapped(fn: unknown): boolean {
  return typeof fn === "function" && (fn as unknown as Record<symbol, unknown>)[WRAPPED] === true;
}

export function markWrapped<F extends object>(fn: F): F {
  Object.defineProperty(fn, WRAPPED, { value: true });
  return fn;
}

/**
 * `withOptions()` builds a new client of the same class with fresh resources: the copy is wrapped
 * too (with the same ids), or every call made through it would go untraced.
 */
export function wrapDerivedClients(client: object, wrap: <C>(derived: C) => C): void {
  const withOptions = (client as { withOptions?: unknown }).withOptions;
  if (typeof withOptions !== "function" || isWrapped(withOptions)) return;
  const derive = markWrapped(function (this: unknown, ...args: unknown[]) {
    return wrap(withOptions.apply(this, args));
  });
  try {
    Object.defineProperty(client, "withOptions", { value: derive, writable: true, configurable: true, enumerable: false });
  } catch {
    // A frozen client keeps its own withOptions.
  }
}

/**
 * The caller cancelled the request (a signal, a stream's abort()): abandoned, not failed. The
 * Stainless SDKs throw APIUserAbortError, whose `name` some of their versions leave unset; Mistral's
 * throws RequestAbortedError; fetch-based ones (Gemini) let fetch's AbortError through.
 */
const USER_ABORTS = ["APIUserAbortError", "RequestAbortedError", "AbortError"];

export function isUserAbort(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const { name, constructor } = error as { name?: unknown; constructor?: { name?: unknown } };
  return USER_ABORTS.includes(name as string) || USER_ABORTS.includes(constructor?.name as string);
}

/** Tracing must never break the host's run: a failure of the bookkeeping is dropped. */
export function guarded(fn: () => void): void {
  try {
    fn();
  } catch {
    // The host's run goes on untouched.
  }
}
