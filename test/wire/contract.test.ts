import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { TraceData, TraceScoreData } from "../../src/wire/types.js";
import { contractErrors, validateScore, validateSpans, validateTrace } from "../support/contract.js";

function fixture(name: string): TraceData {
  return JSON.parse(readFileSync(new URL(`../fixtures/${name}`, import.meta.url), "utf8")) as TraceData;
}

const FIXTURES = ["trace-summarization.json", "trace-error.json"];

/** A fresh, valid trace to break one field at a time. */
function trace(): TraceData {
  return fixture("trace-summarization.json");
}

function score(): TraceScoreData {
  return fixture("score.json") as unknown as TraceScoreData;
}

/** Loosely typed copy, for writing invalid values. */
function loose<T>(value: T): Record<string, any> {
  return structuredClone(value) as Record<string, any>;
}

describe("ingestion contract: valid bodies", () => {
  it.each(FIXTURES)("accepts the fixture %s as TraceCreate", (name) => {
    expect(contractErrors("trace", fixture(name))).toEqual([]);
    expect(() => validateTrace(fixture(name))).not.toThrow();
  });

  it.each(FIXTURES)("accepts the spans of %s as a SpanCreate[] batch", (name) => {
    expect(() => validateSpans(fixture(name).spans)).not.toThrow();
  });

  it("accepts a minimal RUNNING trace without spans or optional fields", () => {
    const body: TraceData = {
      trace_id: "0b6b3f9e-8f4c-4a43-9d0e-6a1f2f0e5c11",
      name: "t",
      status: "RUNNING",
      started_at: "2026-01-01T00:00:00.000Z",
      spans: [],
    };
    expect(contractErrors("trace", body)).toEqual([]);
  });

  it("accepts a programmatic score for every data type", () => {
    for (const [data_type, value] of [
      ["NUMERIC", "0.85"],
      ["BOOLEAN", "true"],
      ["CATEGORICAL", "PASS"],
    ] as const) {
      expect(() => validateScore({ ...score(), data_type, value })).not.toThrow();
    }
    const { reason: _r, metadata: _m, ...minimal } = score();
    expect(contractErrors("score", minimal)).toEqual([]);
  });

  it("accepts nulls nested inside input/output/metadata (only top-level optional fields must be absent)", () => {
    const body = loose(trace());
    body["output"] = { messages: [{ role: "assistant", content: null }] };
    body["metadata"] = { note: null };
    expect(contractErrors("trace", body)).toEqual([]);
  });
});

describe("ingestion contract: rejections", () => {
  /** Asserts that `body` is rejected with an error mentioning `pattern`. */
  function rejects(kind: "trace" | "spans" | "score", body: unknown, pattern: RegExp): void {
    const errors = contractErrors(kind, body);
    expect(errors.length, "expected the body to be rejected").toBeGreaterThan(0);
    expect(errors.join("\n")).toMatch(pattern);
  }

  it("rejects a null optional field on a trace (optional fields are omitted, never null)", () => {
    const body = loose(trace());
    body["session_id"] = null;
    rejects("trace", body, /\/session_id must be string/);
  });

  it("rejects null optional fields on a span", () => {
    const body = loose(trace());
    body["spans"][0]["parent_span_id"] = null;
    body["spans"][0]["output"] = null;
    body["spans"][0]["token_usage"] = null;
    const errors = contractErrors("trace", body).join("\n");
    expect(errors).toMatch(/\/spans\/0\/parent_span_id must be string/);
    expect(errors).toMatch(/\/spans\/0\/output must NOT be valid/);
    expect(errors).toMatch(/\/spans\/0\/token_usage must be object/);
  });

  it("rejects a missing trace_id", () => {
    const { trace_id: _omit, ...body } = trace();
    rejects("trace", body, /must have required property 'trace_id'/);
  });

  it("rejects a missing span_id and a non-uuid id", () => {
    const body = loose(trace());
    delete body["spans"][0]["span_id"];
    body["trace_id"] = "trace-1";
    const errors = contractErrors("trace", body).join("\n");
    expect(errors).toMatch(/\/spans\/0 must have required property 'span_id'/);
    expect(errors).toMatch(/\/trace_id must match format "uuid"/);
  });

  it("rejects bad enum values", () => {
    const body = loose(trace());
    body["status"] = "DONE";
    body["spans"][0]["kind"] = "llm";
    body["spans"][0]["status"] = "SUCCESS";
    const errors = contractErrors("trace", body).join("\n");
    expect(errors).toMatch(/^\/status must be equal to one of the allowed values/m);
    expect(errors).toMatch(/^\/spans\/0\/kind must be equal to one of the allowed values/m);
    expect(errors).toMatch(/^\/spans\/0\/status must be equal to one of the allowed values/m);
    rejects("score", { ...score(), data_type: "FLOAT" }, /\/data_type must be equal to one of the allowed values/);
  });

  it("rejects a 513-character name and an empty name (1..512)", () => {
    rejects("trace", { ...trace(), name: "x".repeat(513) }, /\/name must NOT have more than 512 characters/);
    expect(contractErrors("trace", { ...trace(), name: "x".repeat(512) })).toEqual([]);
    rejects("trace", { ...trace(), name: "" }, /\/name must NOT have fewer than 1 characters/);
    const body = loose(trace());
    body["spans"][0]["name"] = "y".repeat(513);
    rejects("trace", body, /\/spans\/0\/name must NOT have more than 512 characters/);
  });

  it("rejects 256-character session_id, user_id, environment, release and model", () => {
    const long = "s".repeat(256);
    for (const field of ["session_id", "user_id", "environment", "release"]) {
      rejects("trace", { ...trace(), [field]: long }, new RegExp(`/${field} must NOT have more than 255 characters`));
      expect(contractErrors("trace", { ...trace(), [field]: "s".repeat(255) })).toEqual([]);
    }
    const body = loose(trace());
    body["spans"][0]["model"] = long;
    rejects("trace", body, /\/spans\/0\/model must NOT have more than 255 characters/);
  });

  it("rejects timestamps that are not millisecond UTC ISO 8601", () => {
    rejects("trace", { ...trace(), started_at: "2026-02-23T16:45:00Z" }, /\/started_at must match pattern/);
    rejects("trace", { ...trace(), ended_at: "2026-02-23T16:45:03.200+00:00" }, /\/ended_at must match pattern/);
    rejects("trace", { ...trace(), started_at: "2026-02-23T16:45:00.123456Z" }, /\/started_at must match pattern/);
    rejects("trace", { ...trace(), started_at: "2026-13-45T16:45:00.000Z" }, /\/started_at must match format "date-time"/);
    const body = loose(trace());
    body["spans"][0]["completion_start_time"] = 1_700_000_000_000;
    rejects("trace", body, /\/spans\/0\/completion_start_time must be string/);
  });

  it("rejects unknown fields (typos) on traces, spans and scores", () => {
    rejects("trace", { ...trace(), session: "abc" }, /must NOT have additional properties \(unknown field "session"\)/);
    const body = loose(trace());
    body["spans"][0]["parent_id"] = body["spans"][0]["span_id"];
    rejects("trace", body, /\/spans\/0 must NOT have additional properties \(unknown field "parent_id"\)/);
    rejects("score", { ...score(), comment: "x" }, /unknown field "comment"/);
  });

  it("rejects more than 500 spans in a trace and in a span batch; an empty batch too", () => {
    const base = trace();
    const span = base.spans[0]!;
    const spans = Array.from({ length: 501 }, () => ({ ...span }));
    rejects("trace", { ...base, spans }, /\/spans must NOT have more than 500 items/);
    expect(contractErrors("trace", { ...base, spans: spans.slice(0, 500) })).toEqual([]);
    rejects("spans", spans, /must NOT have more than 500 items/);
    rejects("spans", [], /must NOT have fewer than 1 items/);
    expect(() => validateSpans(spans)).toThrow(/SpanCreate\[\] violates the ingestion contract/);
  });

  it("rejects a score with a numeric value, a non-programmatic source or a missing data_type", () => {
    rejects("score", { ...score(), value: 0.85 }, /\/value must be string/);
    rejects("score", { ...score(), source: "ANNOTATION" }, /\/source must be equal to constant/);
    const { data_type: _omit, ...noType } = score();
    rejects("score", noType, /must have required property 'data_type'/);
  });

  it("rejects bad token_usage, cost, metadata and tags", () => {
    const body = loose(trace());
    body["spans"][0]["token_usage"] = { prompt_tokens: -1, completion_tokens: 1.5, total_tokens: "3" };
    body["spans"][0]["cost"] = { total_cost: "0.01" };
    body["metadata"] = ["not", "an", "object"];
    body["tags"] = ["ok", 7];
    const errors = contractErrors("trace", body).join("\n");
    expect(errors).toMatch(/\/spans\/0\/token_usage\/prompt_tokens must be >= 0/);
    expect(errors).toMatch(/\/spans\/0\/token_usage\/completion_tokens must be integer/);
    expect(errors).toMatch(/\/spans\/0\/token_usage\/total_tokens must be integer/);
    expect(errors).toMatch(/\/spans\/0\/cost\/total_cost must be number/);
    expect(errors).toMatch(/^\/metadata must be object/m);
    expect(errors).toMatch(/^\/tags\/1 must be string/m);
  });

  it("validate* throw an Error listing every ajv error (instancePath + message)", () => {
    const body = { ...trace(), status: "DONE", name: "" };
    expect(() => validateTrace(body)).toThrow(Error);
    try {
      validateTrace(body);
    } catch (error) {
      const message = (error as Error).message;
      expect(message).toMatch(/^TraceCreate violates the ingestion contract:/);
      expect(message).toContain("/status must be equal to one of the allowed values");
      expect(message).toContain("/name must NOT have fewer than 1 characters");
    }
    expect(() => validateScore({ ...score(), value: 1 })).toThrow(/\/value must be string/);
    expect(() => validateTrace("not an object")).toThrow(/\/ must be object/);
  });
});
