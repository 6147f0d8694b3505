/** The public surface shared by every runtime entry (Node, browsers). */
export { Client, type ScoreOptions } from "./client.js";
export type { PandaProbeOptions } from "./config/options.js";
export type { Context, ContextManager } from "./context/context.js";
export { getSessionId, getUserId, session, setSession, setUser, user } from "./context/scope.js";
export { PandaProbeError, type PandaProbeErrorCode } from "./errors.js";
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
} from "./global.js";
export { ScoreDataType, SpanKind, SpanStatusCode, TraceStatus } from "./model/enums.js";
export type { PrebuiltSpan, PrebuiltTrace } from "./model/prebuilt.js";
export type { Span, SpanOptions } from "./model/span.js";
export type { Trace, TraceOptions } from "./model/trace.js";
export type { JsonValue, SpanData, TokenUsage, TraceData, TraceScoreData } from "./model/wire.js";
export { onError } from "./report.js";
export type { SpanFnOptions, TraceFnOptions } from "./tracing/decorators.js";
export { SDK_VERSION } from "./version.js";
