/**
 * The relay's hand-written validator must say exactly what the project's JSON schema (compiled by
 * ajv) says: same verdict and same offending fields, for the fixtures and for mutated variants.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { validateBody } from "../../src/wire/validate.js";
import type { BodyKind } from "../../src/wire/validate.js";
import { contractErrorField, contractErrorObjects } from "../support/contract.js";

type Body = Record<string, any>;

function fixture(name: string): Body {
  return JSON.parse(readFileSync(new URL(`../fixtures/${name}`, import.meta.url), "utf8")) as Body;
}

const trace = () => fixture("trace-summarization.json");
const errorTrace = () => fixture("trace-error.json");
const span = () => errorTrace()["spans"][2] as Body;
const score = () => fixture("score.json");

/** A copy of `base` with `edit` applied. */
function mutate(base: Body, edit: (body: Body) => void): Body {
  const copy = structuredClone(base);
  edit(copy);
  return copy;
}

const emoji = "\u{1F43C}";
const manySpans = (n: number) => Array.from({ length: n }, () => span());

const CASES: [label: string, kind: BodyKind, body: unknown][] = [
  ["fixture trace-summarization", "trace", trace()],
  ["fixture trace-error", "trace", errorTrace()],
  ["fixture spans as a batch", "spans", errorTrace()["spans"]],
  ["score", "score", score()],
  ["minimal score", "score", mutate(score(), (b) => (delete b["reason"], delete b["metadata"]))],
  ["trace without spans", "trace", mutate(trace(), (b) => (b["spans"] = []))],
  ["trace with 500 spans", "trace", mutate(trace(), (b) => (b["spans"] = manySpans(500)))],
  ["trace with 501 spans", "trace", mutate(trace(), (b) => (b["spans"] = manySpans(501)))],
  ["batch of 500 spans", "spans", manySpans(500)],
  ["batch of 501 spans", "spans", manySpans(501)],
  ["empty span batch", "spans", []],
  ["span batch that is an object", "spans", span()],
  ["null body", "trace", null],
  ["array as trace", "trace", [trace()]],
  ["string as score", "score", "quality"],
  ...(["trace_id", "name", "status", "started_at", "spans"] as const).map(
    (f): [string, BodyKind, unknown] => [`trace without ${f}`, "trace", mutate(trace(), (b) => delete b[f])],
  ),
  ...(["span_id", "name", "kind", "status", "started_at"] as const).map(
    (f): [string, BodyKind, unknown] => [`span without ${f}`, "spans", [mutate(span(), (b) => delete b[f])]],
  ),
  ...(["trace_id", "name", "value", "data_type", "source"] as const).map(
    (f): [string, BodyKind, unknown] => [`score without ${f}`, "score", mutate(score(), (b) => delete b[f])],
  ),
  ["unknown trace field", "trace", mutate(trace(), (b) => (b["smuggled"] = "x"))],
  ["unknown span field", "trace", mutate(trace(), (b) => (b["spans"][0]["trace_id"] = b["trace_id"]))],
  ["unknown score field", "score", mutate(score(), (b) => (b["user_id"] = "u"))],
  ["__proto__ key", "trace", JSON.parse(JSON.stringify(trace()).replace(/^\{/, '{"__proto__":{"x":1},'))],
  ["constructor key", "trace", mutate(trace(), (b) => (b["constructor"] = 1))],
  ["toString key in a span", "spans", [mutate(span(), (b) => (b["toString"] = "x"))]],
  ["extra token_usage key (allowed)", "spans", [mutate(span(), (b) => (b["token_usage"] = { prompt_tokens: 3, cached: 1 }))]],
  ["negative token count", "spans", [mutate(span(), (b) => (b["token_usage"] = { prompt_tokens: -1 }))]],
  ["fractional token count", "spans", [mutate(span(), (b) => (b["token_usage"] = { total_tokens: 1.5 }))]],
  ["negative fractional token count", "spans", [mutate(span(), (b) => (b["token_usage"] = { total_tokens: -1.5 }))]],
  ["token count 2.0 (an integer)", "spans", [mutate(span(), (b) => (b["token_usage"] = { total_tokens: 2.0 }))]],
  ["token count as string", "spans", [mutate(span(), (b) => (b["token_usage"] = { total_tokens: "3" }))]],
  ["token_usage array", "spans", [mutate(span(), (b) => (b["token_usage"] = [1]))]],
  ["cost numbers", "spans", [mutate(span(), (b) => (b["cost"] = { input: 0.001, output: 0, total: -1 }))]],
  ["cost with a string", "spans", [mutate(span(), (b) => (b["cost"] = { input: "0.001" }))]],
  ["cost null value", "spans", [mutate(span(), (b) => (b["cost"] = { input: null }))]],
  ["cost as a number", "spans", [mutate(span(), (b) => (b["cost"] = 3))]],
  ["bad span kind", "trace", mutate(trace(), (b) => (b["spans"][0]["kind"] = "BOGUS"))],
  ["lowercase span kind", "spans", [mutate(span(), (b) => (b["kind"] = "llm"))]],
  ["bad span status", "spans", [mutate(span(), (b) => (b["status"] = "COMPLETED"))]],
  ["bad trace status", "trace", mutate(trace(), (b) => (b["status"] = "OK"))],
  ["numeric status", "trace", mutate(trace(), (b) => (b["status"] = 1))],
  ["bad score data_type", "score", mutate(score(), (b) => (b["data_type"] = "TEXT"))],
  ["score source ANNOTATION", "score", mutate(score(), (b) => (b["source"] = "ANNOTATION"))],
  ["numeric score value", "score", mutate(score(), (b) => (b["value"] = 0.85))],
  ["empty score name", "score", mutate(score(), (b) => (b["name"] = ""))],
  ["long score name (no limit)", "score", mutate(score(), (b) => (b["name"] = "s".repeat(2000)))],
  ["score metadata array", "score", mutate(score(), (b) => (b["metadata"] = []))],
  ["uppercase uuid", "trace", mutate(trace(), (b) => (b["trace_id"] = b["trace_id"].toUpperCase()))],
  ["uuid without dashes", "trace", mutate(trace(), (b) => (b["trace_id"] = b["trace_id"].replace(/-/g, "")))],
  ["urn uuid", "trace", mutate(trace(), (b) => (b["trace_id"] = `urn:uuid:${b["trace_id"]}`))],
  ["uuid with trailing newline", "score", mutate(score(), (b) => (b["trace_id"] = `${b["trace_id"]}\n`))],
  ["numeric span_id", "spans", [mutate(span(), (b) => (b["span_id"] = 42))]],
  ["bad parent_span_id", "spans", [mutate(span(), (b) => (b["parent_span_id"] = "root"))]],
  ["timestamp without milliseconds", "trace", mutate(trace(), (b) => (b["started_at"] = "2026-02-23T16:45:00Z"))],
  ["timestamp with offset", "trace", mutate(trace(), (b) => (b["started_at"] = "2026-02-23T16:45:00.000+00:00"))],
  ["timestamp lowercase", "trace", mutate(trace(), (b) => (b["started_at"] = "2026-02-23t16:45:00.000z"))],
  ["timestamp month 13", "trace", mutate(trace(), (b) => (b["ended_at"] = "2026-13-01T00:00:00.000Z"))],
  ["timestamp day 0", "trace", mutate(trace(), (b) => (b["ended_at"] = "2026-01-00T00:00:00.000Z"))],
  ["Feb 29 of a leap year", "trace", mutate(trace(), (b) => (b["ended_at"] = "2024-02-29T00:00:00.000Z"))],
  ["Feb 29 of 2100", "trace", mutate(trace(), (b) => (b["ended_at"] = "2100-02-29T00:00:00.000Z"))],
  ["Feb 29 of 2000", "trace", mutate(trace(), (b) => (b["ended_at"] = "2000-02-29T00:00:00.000Z"))],
  ["April 31", "trace", mutate(trace(), (b) => (b["ended_at"] = "2026-04-31T00:00:00.000Z"))],
  ["hour 24", "spans", [mutate(span(), (b) => (b["ended_at"] = "2026-02-23T24:00:00.000Z"))]],
  ["minute 60", "spans", [mutate(span(), (b) => (b["ended_at"] = "2026-02-23T10:60:00.000Z"))]],
  ["leap second", "spans", [mutate(span(), (b) => (b["ended_at"] = "2016-12-31T23:59:60.000Z"))]],
  ["second 60 not at 23:59", "spans", [mutate(span(), (b) => (b["ended_at"] = "2016-12-31T22:59:60.000Z"))]],
  ["completion_start_time as epoch", "spans", [mutate(span(), (b) => (b["completion_start_time"] = 1771836120000))]],
  ["empty trace name", "trace", mutate(trace(), (b) => (b["name"] = ""))],
  ["trace name of 512", "trace", mutate(trace(), (b) => (b["name"] = "n".repeat(512)))],
  ["trace name of 513", "trace", mutate(trace(), (b) => (b["name"] = "n".repeat(513)))],
  ["span name of 512 emoji (1024 UTF-16 units)", "spans", [mutate(span(), (b) => (b["name"] = emoji.repeat(512)))]],
  ["span name of 513 emoji", "spans", [mutate(span(), (b) => (b["name"] = emoji.repeat(513)))]],
  ["lone surrogates count one each", "spans", [mutate(span(), (b) => (b["name"] = "\uD83D".repeat(512)))]],
  ["session_id of 255", "trace", mutate(trace(), (b) => (b["session_id"] = "s".repeat(255)))],
  ["session_id of 256", "trace", mutate(trace(), (b) => (b["session_id"] = "s".repeat(256)))],
  ["empty session_id (allowed)", "trace", mutate(trace(), (b) => (b["session_id"] = ""))],
  ["user_id of 256", "trace", mutate(trace(), (b) => (b["user_id"] = "u".repeat(256)))],
  ["environment of 256", "trace", mutate(trace(), (b) => (b["environment"] = "e".repeat(256)))],
  ["release of 256", "trace", mutate(trace(), (b) => (b["release"] = "r".repeat(256)))],
  ["model of 256", "spans", [mutate(span(), (b) => (b["model"] = "m".repeat(256)))]],
  ["numeric user_id", "trace", mutate(trace(), (b) => (b["user_id"] = 7))],
  ["null session_id", "trace", mutate(trace(), (b) => (b["session_id"] = null))],
  ["null input", "trace", mutate(trace(), (b) => (b["input"] = null))],
  ["null span output", "spans", [mutate(span(), (b) => (b["output"] = null))]],
  ["string input (allowed)", "trace", mutate(trace(), (b) => (b["input"] = "hello"))],
  ["nested nulls (allowed)", "trace", mutate(trace(), (b) => (b["output"] = { messages: [{ role: "assistant", content: null }] }))],
  ["metadata array", "trace", mutate(trace(), (b) => (b["metadata"] = ["a"]))],
  ["metadata null", "trace", mutate(trace(), (b) => (b["metadata"] = null))],
  ["metadata string", "spans", [mutate(span(), (b) => (b["metadata"] = "x"))]],
  ["model_parameters array", "spans", [mutate(span(), (b) => (b["model_parameters"] = []))]],
  ["tags with a number", "trace", mutate(trace(), (b) => (b["tags"] = ["a", 1]))],
  ["tags as string", "trace", mutate(trace(), (b) => (b["tags"] = "a,b"))],
  ["numeric error text", "spans", [mutate(span(), (b) => (b["error"] = 503))]],
  ["spans as object", "trace", mutate(trace(), (b) => (b["spans"] = { 0: span() }))],
  ["a null span", "trace", mutate(trace(), (b) => (b["spans"] = [null]))],
  [
    "several faults at once",
    "trace",
    mutate(trace(), (b) => {
      b["name"] = "";
      b["extra"] = true;
      b["spans"][0]["kind"] = "X";
      delete b["spans"][0]["started_at"];
      b["spans"].push({ span_id: "nope" });
    }),
  ],
];

function fieldsOf(errors: { field: string }[]): string[] {
  return [...new Set(errors.map((e) => e.field))].sort();
}

describe("relay validator agrees with the ingestion schema (ajv)", () => {
  it("covers both verdicts", () => {
    const verdicts = CASES.map(([, kind, body]) => contractErrorObjects(kind, body).length === 0);
    expect(verdicts.filter(Boolean).length).toBeGreaterThan(15);
    expect(verdicts.filter((v) => !v).length).toBeGreaterThan(50);
  });

  it.each(CASES)("%s", (_label, kind, body) => {
    const expected = contractErrorObjects(kind, body);
    const actual = validateBody(kind, body);
    expect(actual.length === 0).toBe(expected.length === 0);
    expect(fieldsOf(actual)).toEqual(fieldsOf(expected.map((e) => ({ field: contractErrorField(e) }))));
  });
});

describe("relay validator messages", () => {
  it("names each fault in the backend's 422 shape (missing fields first, then in the body's key order)", () => {
    const body = mutate(trace(), (b) => {
      b["spans"][0]["kind"] = "BOGUS";
      b["name"] = "";
      b["smuggled"] = 1;
      delete b["started_at"];
    });
    expect(validateBody("trace", body)).toEqual([
      { field: "started_at", message: "field required" },
      { field: "name", message: "must be at least 1 character(s)" },
      { field: "spans.0.kind", message: "must be one of AGENT, TOOL, LLM, RETRIEVER, CHAIN, EMBEDDING, OTHER" },
      { field: "smuggled", message: "unknown field" },
    ]);
  });

  it("reports at most 100 errors for a hostile body", () => {
    expect(validateBody("spans", Array.from({ length: 500 }, () => ({})))).toHaveLength(100);
  });
});
