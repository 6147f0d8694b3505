import { PandaProbeError } from "../errors.js";
import type { Exporter } from "../export/types.js";

/** Options of `init()` / `new Client()`. Every one can also come from a `PANDAPROBE_*` variable. */
export interface PandaProbeOptions {
  apiKey?: string;
  projectName?: string;
  /** Base URL of the PandaProbe API (or, in a browser, of the app's relay route). */
  endpoint?: string;
  environment?: string;
  release?: string;
  /** `false`: no network, no timers, every wrapper a pass-through. */
  enabled?: boolean;
  /** Requests sent together once this many traces are queued. */
  batchSize?: number;
  /** Seconds between background sends of what is queued. */
  flushInterval?: number;
  /** Traces held while the endpoint is slow or down; past it the oldest is dropped. */
  maxQueueSize?: number;
  debug?: boolean;
  /** Retries of one request on network errors, timeouts, 429 and 5xx. */
  maxRetries?: number;
  /** Seconds before a request that got no answer is abandoned (and retried). */
  timeout?: number;
  /** Requests in flight at once. */
  maxConcurrentRequests?: number;
  /** Largest request body in bytes; bigger values are truncated with a visible marker. */
  maxPayloadSize?: number;
  /** The fetch to send with (tests, edge runtimes, proxies). */
  fetch?: typeof fetch;
  /** Where serialized traces go instead of the built-in HTTP exporter (custom sinks, tests). */
  exporter?: Exporter;
  /** Browsers refuse an apiKey (it would reach every visitor) unless this is true. */
  dangerouslyAllowBrowser?: boolean;
}

export interface ResolvedConfig {
  apiKey: string | undefined;
  projectName: string | undefined;
  endpoint: string;
  environment: string | undefined;
  release: string | undefined;
  enabled: boolean;
  batchSize: number;
  flushInterval: number;
  maxQueueSize: number;
  debug: boolean;
  maxRetries: number;
  timeout: number;
  maxConcurrentRequests: number;
  maxPayloadSize: number;
  fetch: typeof fetch | undefined;
  exporter: Exporter | undefined;
  dangerouslyAllowBrowser: boolean;
}

export const DEFAULT_ENDPOINT = "https://api.pandaprobe.com";

type Kind = "string" | "boolean" | "positiveInt" | "nonNegativeInt" | "positiveNumber" | "function" | "exporter";
interface Spec {
  kind: Kind;
  env?: string;
}

/** The single source of truth for option names, their types and their environment variables. */
const SPECS: Record<keyof PandaProbeOptions, Spec> = {
  apiKey: { kind: "string", env: "API_KEY" },
  projectName: { kind: "string", env: "PROJECT_NAME" },
  endpoint: { kind: "string", env: "ENDPOINT" },
  environment: { kind: "string", env: "ENVIRONMENT" },
  release: { kind: "string", env: "RELEASE" },
  enabled: { kind: "boolean", env: "ENABLED" },
  batchSize: { kind: "positiveInt", env: "BATCH_SIZE" },
  flushInterval: { kind: "positiveNumber", env: "FLUSH_INTERVAL" },
  maxQueueSize: { kind: "positiveInt", env: "MAX_QUEUE_SIZE" },
  debug: { kind: "boolean", env: "DEBUG" },
  maxRetries: { kind: "nonNegativeInt", env: "MAX_RETRIES" },
  timeout: { kind: "positiveNumber", env: "TIMEOUT" },
  maxConcurrentRequests: { kind: "positiveInt", env: "MAX_CONCURRENT_REQUESTS" },
  maxPayloadSize: { kind: "positiveInt", env: "MAX_PAYLOAD_SIZE" },
  fetch: { kind: "function" },
  exporter: { kind: "exporter" },
  dangerouslyAllowBrowser: { kind: "boolean" },
};

const DEFAULTS = {
  endpoint: DEFAULT_ENDPOINT,
  enabled: true,
  batchSize: 10,
  flushInterval: 5,
  maxQueueSize: 1000,
  debug: false,
  maxRetries: 3,
  timeout: 10,
  maxConcurrentRequests: 4,
  maxPayloadSize: 5 * 1024 * 1024,
  dangerouslyAllowBrowser: false,
};

const KNOWN = Object.keys(SPECS) as (keyof PandaProbeOptions)[];

function configError(message: string): PandaProbeError {
  return new PandaProbeError("config", `PandaProbe: ${message}`);
}

/** Edit distance, to suggest the option a typo meant. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const next = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = row[j]!;
      row[j] = next;
    }
  }
  return row[b.length]!;
}

function suggest(key: string): string {
  const lower = key.toLowerCase();
  let best: string | undefined;
  let bestScore = 3;
  for (const known of KNOWN) {
    const score = known.toLowerCase() === lower ? 0 : distance(lower, known.toLowerCase());
    if (score < bestScore) {
      best = known;
      bestScore = score;
    }
  }
  return best ? ` Did you mean "${best}"?` : ` Known options: ${KNOWN.join(", ")}.`;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return typeof value;
}

function checkValue(key: string, spec: Spec, value: unknown, source: string): unknown {
  const bad = (expected: string) =>
    configError(`${source} must be ${expected}, got ${describe(value)}.`);
  switch (spec.kind) {
    case "string":
      if (typeof value !== "string") throw bad("a string");
      return value;
    case "boolean":
      if (typeof value !== "boolean") throw bad("a boolean");
      return value;
    case "function":
      if (typeof value !== "function") throw bad("a function");
      return value;
    case "exporter": {
      const e = value as Partial<Exporter> | null;
      if (typeof e?.enqueue !== "function" || typeof e.flush !== "function" || typeof e.shutdown !== "function") {
        throw bad("an object with enqueue, flush and shutdown methods");
      }
      return value;
    }
    case "positiveInt":
      if (typeof value !== "number" || !Number.isInteger(value) || value < 1) throw bad("a positive integer");
      return value;
    case "nonNegativeInt":
      if (typeof value !== "number" || !Number.isInteger(value) || value < 0) throw bad("an integer >= 0");
      return value;
    case "positiveNumber":
      if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) throw bad("a positive number");
      return value;
  }
  throw configError(`unknown kind for ${key}`);
}

function parseEnv(spec: Spec, raw: string, name: string): unknown {
  switch (spec.kind) {
    case "boolean": {
      const v = raw.trim().toLowerCase();
      if (v === "true" || v === "1" || v === "yes") return true;
      if (v === "false" || v === "0" || v === "no" || v === "") return false;
      throw configError(`${name} must be true/1/yes or false/0/no, got ${JSON.stringify(raw)}.`);
    }
    case "string":
      return raw;
    default: {
      const n = Number(raw);
      if (raw.trim() === "" || Number.isNaN(n)) {
        throw configError(`${name} must be a number, got ${JSON.stringify(raw)}.`);
      }
      return n;
    }
  }
}

export type Env = Record<string, string | undefined>;

/**
 * Options over environment over defaults. Throws a `config` error naming the option or
 * variable at fault: a typo, a wrong type, an unparsable value.
 */
export function resolveConfig(options: PandaProbeOptions | undefined, env: Env | undefined): ResolvedConfig {
  if (options !== undefined && (options === null || typeof options !== "object")) {
    throw configError(`options must be an object, got ${describe(options)}.`);
  }
  const given = (options ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if (!(key in SPECS)) throw configError(`unknown option "${key}".${suggest(key)}`);
  }
  const out: Record<string, unknown> = { ...DEFAULTS };
  for (const key of KNOWN) {
    const spec = SPECS[key];
    const value = given[key];
    if (value !== undefined) {
      out[key] = checkValue(key, spec, value, `option "${key}"`);
      continue;
    }
    const envName = spec.env && `PANDAPROBE_${spec.env}`;
    const raw = envName ? env?.[envName] : undefined;
    if (envName && raw !== undefined) {
      out[key] = checkValue(key, spec, parseEnv(spec, raw, envName), envName);
    }
  }
  checkEndpoint(out.endpoint as string);
  return out as unknown as ResolvedConfig;
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

/** The process environment where there is one (Node, Bun, Deno with permissions); else undefined. */
export function processEnv(): Env | undefined {
  try {
    const proc = (globalThis as { process?: { env?: Env } }).process;
    return proc?.env;
  } catch {
    return undefined;
  }
}

/** Why a config cannot send, or undefined when it can. */
export function missingCredentials(config: ResolvedConfig): string | undefined {
  const missing = [
    config.apiKey ? undefined : "apiKey (PANDAPROBE_API_KEY)",
    config.projectName ? undefined : "projectName (PANDAPROBE_PROJECT_NAME)",
  ].filter(Boolean);
  if (missing.length === 0) return undefined;
  return `tracing is enabled but ${missing.join(" and ")} ${missing.length > 1 ? "are" : "is"} missing.`;
}
