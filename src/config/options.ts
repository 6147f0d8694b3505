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

export type Kind = "string" | "boolean" | "positiveInt" | "nonNegativeInt" | "positiveNumber" | "function" | "exporter";

/** The single source of truth for option names and their types (their variables: `config/env.ts`). */
const KINDS: Record<keyof PandaProbeOptions, Kind> = {
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

const KNOWN = Object.keys(KINDS) as (keyof PandaProbeOptions)[];

const isType = (type: string) => (value: unknown) => typeof value === type;
const isNumber = (value: unknown): value is number => typeof value === "number";

/** Per kind: the check, and what the error says a value must be. */
const CHECKS: Record<Kind, [(value: unknown) => boolean, string]> = {
  string: [isType("string"), "a string"],
  boolean: [isType("boolean"), "a boolean"],
  function: [isType("function"), "a function"],
  exporter: [
    (e) => ["enqueue", "flush", "shutdown"].every((m) => typeof (e as Record<string, unknown> | null)?.[m] === "function"),
    "an object with enqueue, flush and shutdown methods",
  ],
  positiveInt: [(v) => isNumber(v) && Number.isInteger(v) && v >= 1, "a positive integer"],
  nonNegativeInt: [(v) => isNumber(v) && Number.isInteger(v) && v >= 0, "an integer >= 0"],
  positiveNumber: [(v) => isNumber(v) && Number.isFinite(v) && v > 0, "a positive number"],
};

export function configError(message: string): PandaProbeError {
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
    const score = distance(lower, known.toLowerCase());
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

/**
 * Reads one option from `PANDAPROBE_*` variables: the parsed value and the variable's name, or
 * undefined when it is unset. Only where a runtime has an environment (`config/env.ts`), so
 * browser bundles leave the parsing out.
 */
export type EnvReader = (key: keyof PandaProbeOptions, kind: Kind) => [value: unknown, source: string] | undefined;

/**
 * Options over environment over defaults. Throws a `config` error naming the option or
 * variable at fault: a typo, a wrong type, an unparsable value.
 */
export function resolveConfig(options: PandaProbeOptions | undefined, env: EnvReader | undefined): ResolvedConfig {
  if (options !== undefined && (options === null || typeof options !== "object")) {
    throw configError(`options must be an object, got ${describe(options)}.`);
  }
  const given = (options ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if (!(key in KINDS)) throw configError(`unknown option "${key}".${suggest(key)}`);
  }
  const out: Record<string, unknown> = { ...DEFAULTS };
  for (const key of KNOWN) {
    const kind = KINDS[key];
    // A variable is read (and parsed) only when no option overrides it.
    const found = given[key] !== undefined ? [given[key], `option "${key}"`] : env?.(key, kind);
    if (found) {
      const [value, source] = found;
      const [check, expected] = CHECKS[kind];
      if (!check(value)) throw configError(`${source} must be ${expected}, got ${describe(value)}.`);
      out[key] = value;
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
