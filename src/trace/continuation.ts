import { activeContext } from "./trace-context.js";
import type { Recorder } from "./recorder.js";
import type { Span } from "./span.js";
import { Trace } from "./trace.js";
import { formatTraceHeaders, type RemoteParent } from "./traceparent.js";
import { CONTINUED } from "./continued-mark.js";
import type { TraceHeader } from "../wire/types.js";

/**
 * The part of another tier's trace that runs here (a server continuing the page's turn). It owns
 * none of the trace's own fields: name, input, output, status, started_at, session and user stay
 * what the tier that started the trace sends, in whatever order the backend applies the upserts,
 * because only its spans go out, each a child of the remote span (or top-level under the trace).
 */
export class ContinuedTrace extends Trace {
  constructor(
    remote: RemoteParent,
    ids: { sessionId: string | undefined; userId: string | undefined },
    recorder: Recorder | undefined,
  ) {
    // The name is never sent; it names the trace in debug logs only. The other tier's sampling
    // decision stands here too (Trace).
    super("continued", undefined, ids, recorder, remote);
    // A span with no parent here is a child of the remote span.
    this.topParentSpanId = remote.parentSpanId;
  }

  /** The remote span this tier's top-level spans hang under. */
  get remoteParentSpanId(): string | undefined {
    return this.topParentSpanId;
  }

  override header(): TraceHeader {
    return Object.assign(super.header(), { [CONTINUED]: true });
  }
}

/**
 * The trace-context headers (`traceparent`, `tracestate`, and `baggage` with the trace's session
 * and user) that make the receiving tier's work part of this trace, under `target` (a span, or a
 * trace: its top level), by default the current span, else the current trace. Empty outside a
 * trace and for a trace of a client that is off (the next tier then traces on its own); for a trace
 * sampled out, they say so (flag 00), so the next tier records none of it either.
 */
export function traceHeaders(target?: Trace | Span): Record<string, string> {
  let trace: Trace | undefined;
  let span: Span | undefined;
  if (target === undefined) {
    const ctx = activeContext();
    trace = ctx.trace;
    span = ctx.span?.trace === trace ? ctx.span : undefined;
  } else if ("spanId" in target) {
    span = target;
    trace = target.trace;
  } else {
    trace = target;
  }
  if (trace === undefined) return {};
  if (!trace.recording) {
    // Only the decision travels: no span, no session or user, for a trace nobody records.
    return trace.sampledOut ? formatTraceHeaders({ traceId: trace.traceId, parentSpanId: undefined, sampled: false }) : {};
  }
  // Duck-typed rather than instanceof: the ESM and CommonJS copies of the SDK have a class each.
  const parentSpanId = span?.spanId ?? (trace as { remoteParentSpanId?: string }).remoteParentSpanId;
  return formatTraceHeaders({ traceId: trace.traceId, parentSpanId, sessionId: trace.sessionId, userId: trace.userId });
}
