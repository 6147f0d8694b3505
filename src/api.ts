/** The public surface shared by every runtime entry (Node, browsers). */
export { Client, type ScoreOptions } from "./client/client.js";
export type { PandaProbeOptions } from "./config/options.js";
export type { Mask, MaskField } from "./export/controls.js";
export type { ContextManager } from "./context/context-manager.js";
export type { Context } from "./trace/trace-context.js";
export { getSessionId, getUserId, session, setSession, setUser, user } from "./trace/scope.js";
export { PandaProbeError, type PandaProbeErrorCode } from "./base/errors.js";
export {
  flush,
  getClient,
  getCurrentSpan,
  getCurrentTrace,
  init,
  logTrace,
  score,
  shutdown,
  span,
  startTrace,
  trace,
} from "./client/global.js";
export { ScoreDataType, SpanKind, SpanStatusCode, TraceStatus } from "./wire/enums.js";
export type { PrebuiltSpan, PrebuiltTrace } from "./wire/prebuilt.js";
export type { Span, SpanOptions } from "./trace/span.js";
export type { Trace, TraceOptions } from "./trace/trace.js";
export type { JsonValue, SpanData, TokenUsage, TraceData, TraceScoreData } from "./wire/types.js";
export { onError } from "./client/report.js";
export { continueTrace, continueTraceHandler, type ContinueTraceOptions, type TraceContextCarrier } from "./client/continue-trace.js";
export { traceHeaders } from "./trace/continuation.js";
export { instrumentFetch, type InstrumentFetchOptions } from "./trace/propagate-fetch.js";
export type { SpanFnOptions, TraceFnOptions } from "./trace/decorators.js";
export { SDK_VERSION } from "./base/version.js";
// The names PandaProbe's official Node SDK exports, so code written against it runs unchanged.
export { getSpanStack, withSpan, withTrace } from "./client/with-scope.js";
export type {
  SpanDecoratorOptions,
  TraceDecoratorOptions,
  WithSpanOptions,
  WithTraceOptions,
} from "./trace/compat-options.js";
export type { Trace as TraceContext, TraceOptions as TraceContextOptions } from "./trace/trace.js";
export type { Span as SpanContext, SpanOptions as SpanContextOptions } from "./trace/span.js";
export type { PandaProbeOptions as ConfigOptions, ResolvedConfig as SdkConfig } from "./config/options.js";
export type { TraceScoreData as ScoreData } from "./wire/types.js";
export { SDK_VERSION as VERSION } from "./base/version.js";
