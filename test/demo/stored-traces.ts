/**
 * What a backend would store from the upserts a collector accepted: per trace id, the latest fields
 * of each `POST /traces` and every span by id, from trace bodies and span batches alike.
 */
import type { SpanData, TraceData } from "../../src/wire/types.js";
import type { Collector } from "../support/collector.js";

export interface StoredTrace extends Omit<TraceData, "spans"> {
  spans: SpanData[];
  /** How many `POST /traces` bodies of this id were accepted. */
  upserts: number;
}

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
  return [...byId.values()]
    .map((trace) => ({ ...trace, spans: [...(spansOf.get(trace.trace_id)?.values() ?? [])] }))
    .sort((a, b) => a.started_at.localeCompare(b.started_at));
}

/** The text of the last message of a `{messages: [...]}` input or output. */
export function lastMessage(value: unknown): string | undefined {
  const messages = (value as { messages?: { content?: unknown }[] } | undefined)?.messages;
  const content = messages?.at(-1)?.content;
  return typeof content === "string" ? content : undefined;
}
