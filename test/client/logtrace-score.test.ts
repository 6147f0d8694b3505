/**
 * logTrace and score at the API boundary: what the backend or the relay would refuse with a 422,
 * after the call returned and the data was lost, is either written the way the contract wants
 * or, when it is the developer's mistake, a TypeError at the call (development builds).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Client, logTrace, score, type SpanData, type TraceData } from "../../src/index.js";
import { byName, traceToCollector, type Tracing } from "../support/tracing.js";

let tracing: Tracing;
beforeAll(async () => {
  tracing = await traceToCollector();
});
afterAll(() => tracing.close());
afterEach(() => tracing.reset());

/** A trace as the backend's seed data and its GET routes write it: absent fields are null. */
function exportedWithNulls(): TraceData {
  const root = "b4000001-0001-4000-8000-000000000001";
  return {
    trace_id: crypto.randomUUID(),
    name: "exported-with-nulls",
    status: "ERROR",
    input: { document_url: "s3://acme-docs/invoices/INV-2026-00891.pdf" },
    output: null,
    started_at: "2026-02-23T09:22:00.000Z",
    ended_at: "2026-02-23T09:22:35.120Z",
    spans: [
      {
        span_id: root,
        parent_span_id: null,
        name: "extraction-pipeline",
        kind: "CHAIN",
        status: "ERROR",
        output: null,
        model: null,
        error: "Pipeline failed: upstream LLM provider returned 503",
        started_at: "2026-02-23T09:22:00.050Z",
        ended_at: "2026-02-23T09:22:35.080Z",
      },
      {
        span_id: "b4000001-0002-4000-8000-000000000002",
        parent_span_id: root,
        name: "structured-extraction",
        kind: "LLM",
        status: "ERROR",
        output: null,
        model: "claude-sonnet-4-20250514",
        token_usage: null,
        error: null,
        completion_start_time: null,
        cost: null,
        started_at: "2026-02-23T09:22:01.000Z",
      },
    ],
  } as unknown as TraceData;
}

describe("logTrace", () => {
  it("sends a trace whose absent fields are null (the backend's own export format) with them left out", async () => {
    logTrace(exportedWithNulls());
    const sent = byName(await tracing.sent(), "exported-with-nulls");
    const [root, llm] = sent.spans as [SpanData, SpanData];
    expect(sent).not.toHaveProperty("output");
    expect(root).not.toHaveProperty("parent_span_id");
    expect(root).not.toHaveProperty("model");
    expect(root.error).toBe("Pipeline failed: upstream LLM provider returned 503");
    expect(llm.parent_span_id).toBe(root.span_id);
    expect(llm.model).toBe("claude-sonnet-4-20250514");
    for (const field of ["error", "token_usage", "cost", "completion_start_time", "output"]) {
      expect(llm).not.toHaveProperty(field);
    }
  });

  it("rejects ids that are not UUIDs, naming the field", () => {
    const spans = [{ name: "step", span_id: "step-1" }];
    expect(() => logTrace({ name: "t", trace_id: "run-42" })).toThrow(/logTrace trace_id must be a UUID, got the string "run-42"/);
    expect(() => logTrace({ name: "t", spans })).toThrow(/logTrace spans\[0\] span_id must be a UUID/);
    expect(() => logTrace({ name: "t", spans: [{ name: "child", parent_span_id: "root" }] })).toThrow(
      /spans\[0\] parent_span_id must be a UUID/,
    );
    expect(() => logTrace({ name: "t", trace_id: 42 as never })).toThrow(/trace_id must be a string/);
  });

  it("rejects costs and token counts the backend or the relay would refuse", () => {
    expect(() => logTrace({ name: "t", spans: [{ name: "llm", cost: { total: "0.0021" as never } }] })).toThrow(
      /spans\[0\] cost\.total must be a number, got the string "0.0021"/,
    );
    expect(() => logTrace({ name: "t", spans: [{ name: "llm", cost: { total: NaN } }] })).toThrow(/cost\.total must be a number/);
    expect(() => logTrace({ name: "t", spans: [{ name: "llm", token_usage: { prompt_tokens: 12.5 } }] })).toThrow(
      /spans\[0\] token_usage\.prompt_tokens must be a whole number of tokens/,
    );
    expect(() => logTrace({ name: "t", spans: [{ name: "llm", token_usage: { completion_tokens: null as never } }] })).toThrow(
      /token_usage\.completion_tokens/,
    );
    expect(() => logTrace({ name: "t", spans: [{ name: "llm", model: 4 as never }] })).toThrow(/spans\[0\]\.model must be a string/);
  });

  it("rejects a date and time without a zone, which JavaScript would read as local time and Python as UTC", () => {
    expect(() => logTrace({ name: "t", started_at: "2024-06-01T10:00:00.123456" })).toThrow(
      /logTrace started_at has no time zone/,
    );
    expect(() => logTrace({ name: "t", spans: [{ name: "s", ended_at: "2024-06-01 10:00:00" }] })).toThrow(
      /spans\[0\] ended_at has no time zone/,
    );
  });

  it("takes dates with a zone, microseconds included, and plain dates", async () => {
    logTrace({
      name: "zoned-times",
      started_at: "2024-06-01T12:00:00.123456+02:00",
      ended_at: "2024-06-01",
      spans: [{ name: "s", started_at: "2024-06-01T10:00:00.5Z", ended_at: new Date("2024-06-01T10:00:01Z") }],
    });
    const sent = byName(await tracing.sent(), "zoned-times");
    expect(sent.started_at).toBe("2024-06-01T10:00:00.123Z");
    expect(sent.ended_at).toBe("2024-06-01T00:00:00.000Z");
    expect(sent.spans[0]).toMatchObject({ started_at: "2024-06-01T10:00:00.500Z", ended_at: "2024-06-01T10:00:01.000Z" });
  });
});

describe("score", () => {
  const client = (): Client => tracing.client;

  it("rejects a trace id that is not a UUID, as the Python SDK does, instead of sending a score the backend refuses", () => {
    expect(() => score("conversation-123", "quality", 1)).toThrow(TypeError);
    expect(() => score("conversation-123", "quality", 1)).toThrow(/traceId must be a UUID, got the string "conversation-123"/);
    expect(() => client().score(`${crypto.randomUUID()}\n`, "quality", 1)).toThrow(/traceId must be a UUID/);
  });

  it("rejects an empty name, a score that is not a finite number and metadata that is not an object", () => {
    const id = crypto.randomUUID();
    expect(() => score(id, "", 1)).toThrow(/score name must not be empty/);
    expect(() => score(id, "quality", NaN)).toThrow(/score value must be a finite number, got NaN/);
    expect(() => score(id, "quality", Infinity)).toThrow(/finite number/);
    expect(() => score(id, "quality", 1, { metadata: "grader-7" as never })).toThrow(/score metadata must be an object/);
    expect(() => score(id, "quality", 1, { metadata: [1] as never })).toThrow(/score metadata must be an object/);
  });

  it("rejects what the backend refuses by type: NUMERIC outside [0, 1] (numeric strings too), BOOLEAN other than true/false", () => {
    const id = crypto.randomUUID();
    expect(() => score(id, "quality", 4)).toThrow(/a NUMERIC score must be a number in \[0, 1\], got "4"/);
    expect(() => score(id, "quality", -0.1)).toThrow(/NUMERIC score must be a number in \[0, 1\]/);
    expect(() => score(id, "quality", "1.0001")).toThrow(/NUMERIC score/);
    expect(() => score(id, "quality", "abc", { dataType: "NUMERIC" })).toThrow(/NUMERIC score must be a number/);
    expect(() => score(id, "ok", "yes", { dataType: "BOOLEAN" })).toThrow(/a BOOLEAN score must be true or false, got "yes"/);
  });

  it("takes the bounds and the other types as they are", async () => {
    const id = crypto.randomUUID();
    score(id, "low", 0);
    score(id, "high", "1.0");
    score(id, "level", "4", { dataType: "CATEGORICAL" });
    score(id, "ok", false);
    await tracing.client.flush();
    expect(tracing.collector.contractFailures).toEqual([]);
    expect(tracing.collector.scores().map((s) => [s.name, s.value, s.data_type]).sort()).toEqual([
      ["high", "1.0", "NUMERIC"],
      ["level", "4", "CATEGORICAL"],
      ["low", "0", "NUMERIC"],
      ["ok", "false", "BOOLEAN"],
    ]);
  });

  it("sends a score with null metadata or a null reason (the official SDK's) without them, and takes an upper-case UUID", async () => {
    const id = crypto.randomUUID().toUpperCase();
    score(id, "quality", 0.5, { metadata: null as never, reason: null });
    await tracing.client.flush();
    expect(tracing.collector.contractFailures).toEqual([]);
    expect(tracing.collector.scores()).toEqual([
      { trace_id: id, name: "quality", value: "0.5", data_type: "NUMERIC", source: "PROGRAMMATIC" },
    ]);
  });
});
