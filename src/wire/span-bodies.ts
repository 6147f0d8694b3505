import { traceBodies } from "./payload.js";
import type { SpanData, TraceHeader } from "./types.js";

/** `{"spans":` and the closing `}` around the array in a body made from an empty header. */
const PREFIX = '{"spans":'.length;

/**
 * The request bodies of `POST /traces/{id}/spans` for these spans: JSON arrays of at most 500
 * spans within maxBytes, split and shrunk exactly as trace bodies are (an empty header makes the
 * same body around the array, so what fits there fits here).
 */
export function spanBodies(spans: SpanData[], maxBytes: number): string[] {
  if (spans.length === 0) return [];
  return traceBodies({} as TraceHeader, spans, maxBytes).map((body) => body.slice(PREFIX, -1));
}
