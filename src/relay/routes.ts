import { isUuid } from "../wire/ids.js";

/** An ingestion route the relay forwards, with the upstream path it maps to. */
export type Route =
  | { kind: "trace"; upstreamPath: "/traces" }
  | { kind: "spans"; upstreamPath: string; traceId: string }
  | { kind: "score"; upstreamPath: "/evaluations/trace-scores" };

/** A path that ends like an ingestion route but carries a trace id that is not a UUID. */
export interface BadTraceId {
  kind: "bad_trace_id";
}

/**
 * The route a request path ends with, whatever the app mounted the relay under
 * (`/api/pandaprobe/traces`, `/telemetry/traces/<uuid>/spans`, ...). One trailing slash is tolerated.
 * Only the three ingestion routes exist; everything else is undefined (404).
 */
export function matchRoute(pathname: string): Route | BadTraceId | undefined {
  const path = pathname.endsWith("/") ? pathname.slice(0, -1) : pathname;
  if (/(^|\/)traces$/.test(path)) return { kind: "trace", upstreamPath: "/traces" };
  if (/(^|\/)evaluations\/trace-scores$/.test(path)) return { kind: "score", upstreamPath: "/evaluations/trace-scores" };
  const spans = /(?:^|\/)traces\/([^/]+)\/spans$/.exec(path);
  if (spans) {
    const traceId = spans[1]!;
    // The id goes into the upstream URL: only a UUID may, so nothing else can be smuggled into the path.
    if (!isUuid(traceId)) return { kind: "bad_trace_id" };
    return { kind: "spans", upstreamPath: `/traces/${traceId}/spans`, traceId };
  }
  return undefined;
}
