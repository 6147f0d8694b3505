/**
 * What a backend would store from the upserts the test collector accepted: per trace id, the
 * latest fields of each `POST /traces` and every span by id, from trace bodies and span batches.
 */
import type { SpanData } from "../../src/wire/types.js";
import type { Collector } from "../support/collector.js";
import type { StoredTrace } from "./scenario.js";

export function storedTraces(collector: Collector): StoredTrace[] {
  const byId = new Map<string, StoredTrace>();
  const spansOf = new Map<string, Map<string, SpanData>>();
  const mergeSpans = (traceId: string, spans: SpanData[]) => {
    const spanMap = spansOf.get(traceId) ?? new Map<string, SpanData>();
    spansOf.set(traceId, spanMap);
    for (const span of spans) spanMap.set(span.span_id, { ...spanMap.get(span.span_id), ...span });
  };
  for (const body of collector.traces()) {
    const { spans, ...header } = body;
    const previous = byId.get(body.trace_id);
    byId.set(body.trace_id, { ...previous, ...header, spans: [], upserts: (previous?.upserts ?? 0) + 1 });
    mergeSpans(body.trace_id, spans);
  }
  for (const batch of collector.spanBatches()) mergeSpans(batch.traceId, batch.spans);
  return [...byId.values()].map((trace) => ({ ...trace, spans: [...(spansOf.get(trace.trace_id)?.values() ?? [])] }));
}
