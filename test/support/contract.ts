/**
 * Validation of SDK payloads against the project's own ingestion contract
 * (`schema/ingestion.schema.json`), with ajv (draft 2020-12) + ajv-formats.
 *
 * The validators are compiled once, when this module is loaded.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import Ajv2020 from "ajv/dist/2020.js";
import type { ErrorObject, ValidateFunction } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

export type ContractKind = "trace" | "spans" | "score";

/** The parsed `schema/ingestion.schema.json`. */
export const ingestionSchema: {
  $id: string;
  $defs: Record<string, Record<string, unknown>>;
  [key: string]: unknown;
} = JSON.parse(
  // A path, not `new URL(..., import.meta.url)`: Vite rewrites that form to a page URL in DOM environments.
  readFileSync(join(dirname(fileURLToPath(import.meta.url)), "../../schema/ingestion.schema.json"), "utf8"),
);

/** `POST /traces/{trace_id}/spans` takes 1..500 spans. */
export const MAX_SPANS_PER_REQUEST = 500;

const ajv = new Ajv2020({ allErrors: true, strict: true });
addFormats(ajv);
ajv.addSchema(ingestionSchema);

function compileDef(name: string): ValidateFunction {
  const fn = ajv.getSchema(`${ingestionSchema.$id}#/$defs/${name}`);
  if (!fn) throw new Error(`schema/ingestion.schema.json has no $defs/${name}`);
  return fn;
}

const validators: Record<ContractKind, ValidateFunction> = {
  trace: compileDef("TraceCreate"),
  score: compileDef("CreateTraceScoreRequest"),
  spans: ajv.compile({
    type: "array",
    minItems: 1,
    maxItems: MAX_SPANS_PER_REQUEST,
    items: { $ref: `${ingestionSchema.$id}#/$defs/SpanCreate` },
  }),
};

function describeParams(error: ErrorObject): string {
  const p = error.params as Record<string, unknown>;
  if (error.keyword === "additionalProperties") return ` (unknown field "${String(p["additionalProperty"])}")`;
  if (error.keyword === "enum") return ` (allowed: ${JSON.stringify(p["allowedValues"])})`;
  if (error.keyword === "const") return ` (expected ${JSON.stringify(p["allowedValue"])})`;
  return "";
}

/** One readable line per ajv error: `<instancePath> <message>`, e.g. `/spans/0/kind must be equal to one of the allowed values (allowed: [...])`. */
export function formatContractError(error: ErrorObject): string {
  return `${error.instancePath || "/"} ${error.message ?? error.keyword}${describeParams(error)}`;
}

/**
 * Dotted field name for a 422 answer (`spans.0.name`), like the backend's `errors[].field`;
 * for a missing or unknown property the property itself is appended.
 */
export function contractErrorField(error: ErrorObject): string {
  const parts = error.instancePath.split("/").slice(1).map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
  const p = error.params as Record<string, unknown>;
  if (error.keyword === "required" && typeof p["missingProperty"] === "string") parts.push(p["missingProperty"]);
  if (error.keyword === "additionalProperties" && typeof p["additionalProperty"] === "string") {
    parts.push(p["additionalProperty"]);
  }
  return parts.length ? parts.join(".") : "body";
}

/** The raw ajv errors for `body` (empty when it is valid). */
export function contractErrorObjects(kind: ContractKind, body: unknown): ErrorObject[] {
  const validate = validators[kind];
  if (!validate) throw new Error(`unknown contract kind: ${String(kind)}`);
  return validate(body) ? [] : [...(validate.errors ?? [])];
}

/** The contract violations of `body`, one readable line each (empty when it is valid). */
export function contractErrors(kind: ContractKind, body: unknown): string[] {
  return contractErrorObjects(kind, body).map(formatContractError);
}

function assertContract(kind: ContractKind, what: string, body: unknown): void {
  const errors = contractErrors(kind, body);
  if (errors.length) {
    throw new Error(`${what} violates the ingestion contract:\n  - ${errors.join("\n  - ")}`);
  }
}

/** Throws unless `body` is a valid `TraceCreate` (the body of `POST /traces`). */
export function validateTrace(body: unknown): void {
  assertContract("trace", "TraceCreate", body);
}

/** Throws unless `body` is 1..500 valid `SpanCreate` (the body of `POST /traces/{trace_id}/spans`). */
export function validateSpans(body: unknown): void {
  assertContract("spans", "SpanCreate[]", body);
}

/** Throws unless `body` is a valid `CreateTraceScoreRequest` (the body of `POST /evaluations/trace-scores`). */
export function validateScore(body: unknown): void {
  assertContract("score", "CreateTraceScoreRequest", body);
}
