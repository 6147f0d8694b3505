import { MAX_SPANS_PER_REQUEST } from "./limits.js";
import { jsonByteLength } from "./serialize.js";
import type { TraceHeader } from "./trace.js";
import type { JsonValue, SpanData, TraceData } from "./wire.js";

const PREVIEW_CHARS = 512;

function fits(body: string, maxBytes: number): boolean {
  // UTF-8 takes 1 to 3 bytes per UTF-16 unit: most bodies are decided without counting.
  if (body.length > maxBytes) return false;
  if (body.length * 3 <= maxBytes) return true;
  return jsonByteLength(body) <= maxBytes;
}

function marker(json: string): string {
  return `[pandaprobe: truncated ${json.length} characters to fit the payload cap] ${json.slice(0, PREVIEW_CHARS)}`;
}

/** The header is the trace's own copy, made per record: setting its spans is cheaper than a spread. */
function bodyOf(header: TraceHeader, spans: SpanData[]): string {
  (header as TraceData).spans = spans;
  return JSON.stringify(header);
}

type Holder = Record<string, unknown>;
const SHRINKABLE = ["input", "output", "metadata", "model_parameters", "token_usage"] as const;

/** Replaces the largest values by a visible marker until the body fits or no big value is left. */
function shrinkLargest(header: TraceHeader, spans: SpanData[], maxBytes: number, floor: number): string {
  const fields: { holder: Holder; key: string; json: string }[] = [];
  for (const holder of [header as Holder, ...(spans as unknown as Holder[])]) {
    for (const key of SHRINKABLE) {
      const value = holder[key];
      if (value === undefined) continue;
      const json = JSON.stringify(value);
      if (json.length > floor) fields.push({ holder, key, json });
    }
  }
  fields.sort((a, b) => b.json.length - a.json.length);
  let body = bodyOf(header, spans);
  for (const field of fields) {
    if (fits(body, maxBytes)) break;
    const text = marker(field.json);
    // Object-typed fields stay objects so the payload keeps its schema.
    field.holder[field.key] = field.key === "input" || field.key === "output" ? text : ({ _truncated: text } as JsonValue);
    body = bodyOf(header, spans);
  }
  return body;
}

function pushFitting(out: string[], header: TraceHeader, spans: SpanData[], maxBytes: number): void {
  const body = bodyOf(header, spans);
  if (fits(body, maxBytes)) {
    out.push(body);
    return;
  }
  // First the few values that alone take a large share of the cap, then split the spans.
  const shrunk = shrinkLargest(header, spans, maxBytes, maxBytes / 8);
  if (fits(shrunk, maxBytes)) {
    out.push(shrunk);
  } else if (spans.length > 1) {
    const middle = spans.length >> 1;
    pushFitting(out, header, spans.slice(0, middle), maxBytes);
    pushFitting(out, header, spans.slice(middle), maxBytes);
  } else {
    out.push(shrinkLargest(header, spans, maxBytes, 0));
  }
}

/**
 * The request bodies of one trace: its header with at most 500 spans each, within maxBytes,
 * all with the same trace_id (the backend upserts them into one trace).
 */
export function traceBodies(header: TraceHeader, spans: SpanData[], maxBytes: number): string[] {
  const out: string[] = [];
  if (spans.length === 0) {
    pushFitting(out, header, spans, maxBytes);
    return out;
  }
  for (let i = 0; i < spans.length; i += MAX_SPANS_PER_REQUEST) {
    pushFitting(out, header, spans.slice(i, i + MAX_SPANS_PER_REQUEST), maxBytes);
  }
  return out;
}
