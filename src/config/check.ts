import { closestName } from "../base/suggest.js";
import { DEFAULT_ENDPOINT } from "../wire/endpoint.js";
import { projectNameProblem } from "../wire/limits.js";
import { configError, type PandaProbeOptions, type ResolvedConfig } from "./options.js";

export type Kind =
  | "string"
  | "nonEmptyString"
  | "boolean"
  | "positiveInt"
  | "nonNegativeInt"
  | "positiveNumber"
  | "fraction"
  | "function"
  | "exporter"
  | "exportMode";

/** The single source of truth for option names and their types (their variables: `config/env.ts`). */
export const KINDS: Record<keyof PandaProbeOptions, Kind> = {
  apiKey: "string",
  projectName: "string",
  endpoint: "string",
  environment: "string",
  release: "string",
  enabled: "boolean",
  batchSize: "positiveInt",
  flushInterval: "positiveNumber",
  maxQueueSize: "positiveInt",
  debug: "boolean",
  maxRetries: "nonNegativeInt",
  timeout: "positiveNumber",
  maxConcurrentRequests: "positiveInt",
  maxPayloadSize: "positiveInt",
  fetch: "function",
  exporter: "exporter",
  dangerouslyAllowBrowser: "boolean",
  queueDir: "nonEmptyString",
  maxQueueBytes: "positiveInt",
  mask: "function",
  recordInputs: "boolean",
  recordOutputs: "boolean",
  sampleRate: "fraction",
  exportMode: "exportMode",
  waitUntil: "function",
};

const KNOWN = Object.keys(KINDS) as (keyof PandaProbeOptions)[];

const isType = (type: string) => (value: unknown) => typeof value === type;
const isNumber = (value: unknown): value is number => typeof value === "number";

/** Per kind: the check, and what the error says a value must be. */
const CHECKS: Record<Kind, [(value: unknown) => boolean, string]> = {
  string: [isType("string"), "a string"],
  nonEmptyString: [(v) => typeof v === "string" && v !== "", "a non-empty string"],
  boolean: [isType("boolean"), "a boolean"],
  function: [isType("function"), "a function"],
  exporter: [
    (e) => ["enqueue", "flush", "shutdown"].every((m) => typeof (e as Record<string, unknown> | null)?.[m] === "function"),
    "an object with enqueue, flush and shutdown methods",
  ],
  exportMode: [(v) => v === "batch" || v === "immediate", '"batch" or "immediate"'],
  positiveInt: [(v) => isNumber(v) && Number.isInteger(v) && v >= 1, "a positive integer"],
  nonNegativeInt: [(v) => isNumber(v) && Number.isInteger(v) && v >= 0, "an integer >= 0"],
  positiveNumber: [(v) => isNumber(v) && Number.isFinite(v) && v > 0, "a positive number"],
  fraction: [(v) => isNumber(v) && v >= 0 && v <= 1, "a number from 0 to 1"],
};

function suggest(key: string): string {
  const best = closestName(key, KNOWN);
  return best ? ` Did you mean "${best}"?` : ` Known options: ${KNOWN.join(", ")}.`;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return typeof value;
}

/** Throws a `config` error naming `source` (an option or a variable) when value is not of its kind. */
export function checkValue(key: keyof PandaProbeOptions, value: unknown, source: string): void {
  const [check, expected] = CHECKS[KINDS[key]];
  if (!check(value)) throw configError(`${source} must be ${expected}, got ${describe(value)}.`);
}

/**
 * The developer's mistakes in `init()` options: a typo, a wrong type, a malformed endpoint, each
 * a `config` error naming the option. Node always checks; browsers only in development builds.
 */
export function checkOptions(options: PandaProbeOptions | undefined, config: ResolvedConfig): void {
  if (options !== undefined && (options === null || typeof options !== "object")) {
    throw configError(`options must be an object, got ${describe(options)}.`);
  }
  const given = (options ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if (!(key in KINDS)) throw configError(`unknown option "${key}".${suggest(key)}`);
    if (given[key] !== undefined) checkValue(key as keyof PandaProbeOptions, given[key], `option "${key}"`);
  }
  checkEndpoint(config.endpoint);
  checkProjectName(config.projectName, given["projectName"] !== undefined ? `option "projectName"` : "PANDAPROBE_PROJECT_NAME");
}

/** The backend would answer 422 to every request. An empty name is missing, which `refuse` says. */
function checkProjectName(name: string | undefined, source: string): void {
  const problem = name ? projectNameProblem(name) : undefined;
  if (problem) throw configError(`${source} ${problem}.`);
}

/** A scheme-less or malformed endpoint would only show up later as endless network errors. */
function checkEndpoint(endpoint: string): void {
  let protocol: string | undefined;
  try {
    // In a page, a relative endpoint ("/api/pandaprobe") is the app's own relay route.
    protocol = new URL(endpoint, (globalThis as { location?: { href: string } }).location?.href).protocol;
  } catch {
    protocol = undefined;
  }
  if (protocol !== "http:" && protocol !== "https:") {
    throw configError(`endpoint must be an http(s) URL such as ${DEFAULT_ENDPOINT}, got ${JSON.stringify(endpoint)}.`);
  }
}
