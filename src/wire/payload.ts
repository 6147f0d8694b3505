import { MAX_SPANS_PER_REQUEST } from "./limits.js";
import { jsonByteLength, truncateString } from "./serialize.js";
import type { SpanData, TraceHeader } from "./types.js";

type Holder = Record<string, unknown>;

/** UTF-8 takes 1 to 3 bytes per UTF-16 unit: most bodies are decided without counting. */
const fits = (body: string, maxBytes: number): boolean =>
  body.length <= maxBytes && (body.length * 3 <= maxBytes || jsonByteLength(body) <= maxBytes);

/** The header is the trace's own copy, made per record: setting its spans is cheaper than a spread. */
function bodyOf(header: TraceHeader, spans: SpanData[]): string {
  (header as Holder).spans = spans;
  return JSON.stringify(header);
}

/**
 * Replaces values longer than `floor` characters, largest first, by a visible marker until the
 * body fits. Object-typed fields stay objects so the payload keeps its schema.
 */
function shrink(header: TraceHeader, spans: SpanData[], maxBytes: number, floor: number): string {
  const fields: [Holder, string, string][] = [];
  for (const holder of [header, ...spans] as Holder[]) {
    for (const key of ["input", "output", "metadata", "model_parameters", "token_usage"]) {
      const json = JSON.stringify(holder[key]);
      if (json?.length > floor) fields.push([holder, key, json]);
    }
  }
  fields.sort((a, b) => b[2].length - a[2].length);
  let body = bodyOf(header, spans);
  for (const [holder, key, json] of fields) {
    if (fits(body, maxBytes)) break;
    // The preview ends in the serializer's marker, which says how much was cut.
    const text = "[pandaprobe: truncated to fit maxPayloadSize] " + truncateString(json, 600);
    holder[key] = key == "input" || key == "output" ? text : { _truncated: text };
    body = bodyOf(header, spans);
  }
  return body;
}

/**
 * First the few values that alone take an eighth of the cap, then halves of the spans, each body
 * with the header; a single span that still does not fit loses its values, largest first.
 */
function pushFitting(out: string[], header: TraceHeader, spans: SpanData[], maxBytes: number): void {
  let body = bodyOf(header, spans);
  const split = spans.length > 1;
  if (fits(body, maxBytes) || fits((body = shrink(header, spans, maxBytes, split ? maxBytes / 8 : 0)), maxBytes) || !split) {
    out.push(body);
  } else {
    const middle = spans.length >> 1;
    pushFitting(out, header, spans.slice(0, middle), maxBytes);
    pushFitting(out, header, spans.slice(middle), maxBytes);
  }
}

/**
 * The request bodies of one trace: its header with at most 500 spans each, within maxBytes,
 * all with the same trace_id (the backend upserts them into one trace).
 */
export function traceBodies(header: TraceHeader, spans: SpanData[], maxBytes: number): string[] {
  const out: string[] = [];
  let i = 0;
  do pushFitting(out, header, spans.slice(i, (i += MAX_SPANS_PER_REQUEST)), maxBytes);
  while (i < spans.length);
  return out;
}
