import { PandaProbeError } from "../base/errors.js";
import { DEFAULT_ENDPOINT } from "../wire/endpoint.js";
import type { Exporter } from "../export/types.js";
import type { Mask } from "../export/controls.js";

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
  /**
   * Node: a directory where traces wait until the backend acknowledged them, so a crash, a deploy
   * or a burst beyond `maxQueueSize` loses nothing; processes sharing it send each trace once.
   */
  queueDir?: string;
  /** Bytes `queueDir` may hold; past it the oldest traces are deleted (reported as `queue_overflow`). */
  maxQueueBytes?: number;
  /**
   * Sees every value this client records (inputs, outputs, metadata, model parameters, error
   * messages, score metadata) as a JSON copy, before it is serialized, and returns what to record.
   * One that throws has the value recorded as "[mask failed]" and is reported once (`mask`).
   */
  mask?: Mask;
  /** `false`: no trace or span of this client records its input. */
  recordInputs?: boolean;
  /** `false`: no trace or span of this client records its output. */
  recordOutputs?: boolean;
  /**
   * Share of traces recorded, 0 to 1 (default 1). Decided once per trace from its id, so every
   * tier and every upsert agree; the others cost next to nothing and their scores are dropped.
   */
  sampleRate?: number;
  /**
   * `"batch"` (Node's default): traces wait up to `flushInterval` to share requests. `"immediate"`
   * (edge runtimes' default, and for short-lived functions): each ended trace is sent at once, from
   * the request that ended it.
   */
  exportMode?: ExportMode;
  /**
   * Keeps a serverless invocation alive until a trace's delivery settled: called with its promise
   * (Vercel's `waitUntil` from `@vercel/functions`, Next.js's `after`, `waitUntil` from
   * `cloudflare:workers`). Without it, Vercel's and Next.js's own request context is used where present.
   */
  waitUntil?: (promise: Promise<unknown>) => void;
}

export type ExportMode = "batch" | "immediate";

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
  queueDir: string | undefined;
  maxQueueBytes: number;
  mask: Mask | undefined;
  /** Unset: true (left out of the defaults, which every page ships). */
  recordInputs: boolean | undefined;
  recordOutputs: boolean | undefined;
  /** Unset: 1. */
  sampleRate: number | undefined;
  exportMode: ExportMode;
  waitUntil: ((promise: Promise<unknown>) => void) | undefined;
}

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
  maxQueueBytes: 256 * 1024 * 1024,
  exportMode: "batch",
};

export function configError(message: string): PandaProbeError {
  return new PandaProbeError("config", `PandaProbe: ${message}`);
}

/**
 * Options over `PANDAPROBE_*` variables (already parsed) over the runtime's defaults over the
 * common ones. An option set to undefined counts as not given. Checking is the platform's
 * (`config/check.ts`), so production browser bundles ship only this merge.
 */
export function resolveConfig(
  options: PandaProbeOptions | undefined,
  fromEnv: PandaProbeOptions | undefined,
  runtimeDefaults: PandaProbeOptions | undefined,
): ResolvedConfig {
  const out: Record<string, unknown> = { ...DEFAULTS };
  for (const given of [runtimeDefaults, fromEnv, options] as Record<string, unknown>[]) {
    for (const key in given) if (given[key] !== undefined) out[key] = given[key];
  }
  return out as unknown as ResolvedConfig;
}
