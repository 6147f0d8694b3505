import { PandaProbeError } from "../base/errors.js";
import { closestName } from "../base/suggest.js";
import { DEFAULT_ENDPOINT, DEFAULT_MAX_BODY_BYTES } from "../wire/endpoint.js";
import { MAX_TIMER_MS } from "../base/timers.js";
import { projectNameProblem } from "../wire/limits.js";

/**
 * What `authorize` decides for one request:
 * - `true` or `{}`: accept;
 * - `{ userId }`: accept, and stamp every trace with this `user_id` (the server's own idea of the
 *   user, so a page cannot claim to be someone else); `{ userId: undefined }` (no signed-in user)
 *   removes the `user_id` a page sent;
 * - `false`: reject with 401;
 * - a `Response`: answered as is, plus CORS headers for a listed origin (e.g. a 403 with a reason);
 *   the SDK follows no redirect, so one is reported as an `http_error` and the trace dropped.
 */
export type AuthResult = boolean | { userId?: string } | Response;

export interface RelayOptions {
  /**
   * The PandaProbe API key (`sk_pp_...`). Stays on the server: never sent back to the browser.
   * Unset (undefined or ""): `PANDAPROBE_API_KEY` at the first request, so a build without secrets
   * (`next build` evaluates route modules) does not fail; missing then, requests are answered 500.
   */
  apiKey?: string | undefined;
  /** The PandaProbe project the traces go to; unset: `PANDAPROBE_PROJECT_NAME` at the first request. */
  projectName?: string | undefined;
  /** PandaProbe API base URL. Default `https://api.pandaprobe.com`. */
  endpoint?: string;
  /**
   * Decides whether a request may be forwarded, from the app's own auth (cookies, session header).
   * Called before the body is read; it must not consume the body. A throw answers 500.
   */
  authorize?: (req: Request) => AuthResult | Promise<AuthResult>;
  /** Largest accepted request body in bytes. Default 1 MiB. */
  maxBodyBytes?: number;
  /** Origins (`https://app.example.com`) allowed to call the relay cross-origin. Default: none (same origin only). */
  allowedOrigins?: readonly string[];
  /** Deadline for the upstream request, response body included. Default 10 000 ms. */
  timeoutMs?: number;
  /** The fetch used to reach PandaProbe. Default: the global `fetch`. */
  fetch?: typeof fetch;
}

/** Options after validation, with defaults applied. */
export interface ResolvedRelayOptions {
  apiKey: string;
  projectName: string;
  /** Without a trailing slash. */
  endpoint: string;
  authorize: ((req: Request) => AuthResult | Promise<AuthResult>) | undefined;
  maxBodyBytes: number;
  allowedOrigins: ReadonlySet<string>;
  timeoutMs: number;
  fetch: typeof fetch;
}

export const DEFAULT_TIMEOUT_MS = 10_000;

const KNOWN = [
  "apiKey",
  "projectName",
  "endpoint",
  "authorize",
  "maxBodyBytes",
  "allowedOrigins",
  "timeoutMs",
  "fetch",
] as const satisfies readonly (keyof RelayOptions)[];

function fail(message: string): never {
  throw new PandaProbeError("config", `createRelayHandler: ${message}`);
}

function unknownOption(name: string): never {
  const guess = closestName(name, KNOWN);
  fail(`unknown option "${name}"${guess ? ` (did you mean "${guess}"?)` : ""}; known options: ${KNOWN.join(", ")}`);
}

/** Unset (undefined, or "" as an unset variable reads) is for run time; anything else must be a real string now. */
function laterString(value: unknown, name: string): string | undefined {
  if (value === undefined || value === "") return undefined;
  if (typeof value !== "string" || value.trim() === "") fail(`option "${name}" must be a non-empty string`);
  return value;
}

/** Every forwarded request would get the backend's 422 otherwise. */
function checkedProjectName(name: string, source: string): string {
  const problem = projectNameProblem(name);
  if (problem) fail(`${source} ${problem}`);
  return name;
}

function positiveInteger(value: unknown, name: string, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > max) {
    fail(`option "${name}" must be an integer between 1 and ${max}`);
  }
  return value;
}

function parseEndpoint(value: unknown): string {
  if (value === undefined) return DEFAULT_ENDPOINT;
  if (typeof value !== "string") fail(`option "endpoint" must be a string URL`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    fail(`option "endpoint" is not a valid URL: ${JSON.stringify(value)}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") fail(`option "endpoint" must be an http(s) URL`);
  if (url.username || url.password) fail(`option "endpoint" must not contain credentials`);
  if (url.search || url.hash) fail(`option "endpoint" must not have a query string or fragment`);
  return url.href.replace(/\/+$/, "");
}

function parseOrigins(value: unknown): ReadonlySet<string> {
  if (value === undefined) return new Set();
  if (!Array.isArray(value)) fail(`option "allowedOrigins" must be an array of origins`);
  return new Set(
    value.map((origin: unknown) => {
      let parsed: URL | undefined;
      try {
        parsed = typeof origin === "string" ? new URL(origin) : undefined;
      } catch {
        parsed = undefined;
      }
      // An origin is scheme://host[:port] exactly, as browsers send it in the Origin header.
      if (!parsed || parsed.origin === "null" || parsed.origin !== origin) {
        fail(`option "allowedOrigins": ${JSON.stringify(origin)} is not an origin like "https://app.example.com"`);
      }
      return parsed.origin;
    }),
  );
}

/** Options as checked at creation: the credentials may still be unknown (a build without secrets). */
export type RelayConfig = Omit<ResolvedRelayOptions, "apiKey" | "projectName"> & {
  apiKey: string | undefined;
  projectName: string | undefined;
};

/**
 * Validates the options at creation, so a misconfigured relay fails at start-up rather than per
 * request; credentials not set yet are taken from the environment by `credentialed()`.
 */
export function resolveRelayOptions(options: RelayOptions): RelayConfig {
  if (typeof options !== "object" || options === null) fail("options must be an object");
  for (const name of Object.keys(options)) {
    if (!(KNOWN as readonly string[]).includes(name)) unknownOption(name);
  }
  if (options.authorize !== undefined && typeof options.authorize !== "function") {
    fail(`option "authorize" must be a function`);
  }
  if (options.fetch !== undefined && typeof options.fetch !== "function") fail(`option "fetch" must be a function`);
  const fetchImpl = options.fetch ?? globalThis.fetch;
  if (typeof fetchImpl !== "function") fail(`no global fetch in this runtime: pass the "fetch" option`);
  const projectName = laterString(options.projectName, "projectName");
  return {
    apiKey: laterString(options.apiKey, "apiKey"),
    projectName: projectName && checkedProjectName(projectName, `option "projectName"`),
    endpoint: parseEndpoint(options.endpoint),
    authorize: options.authorize,
    maxBodyBytes: positiveInteger(options.maxBodyBytes, "maxBodyBytes", DEFAULT_MAX_BODY_BYTES, Number.MAX_SAFE_INTEGER),
    allowedOrigins: parseOrigins(options.allowedOrigins),
    timeoutMs: positiveInteger(options.timeoutMs, "timeoutMs", DEFAULT_TIMEOUT_MS, MAX_TIMER_MS),
    fetch: fetchImpl,
  };
}

/**
 * The options with their credentials, taken from `PANDAPROBE_API_KEY` / `PANDAPROBE_PROJECT_NAME`
 * where the options left them unset; a `PandaProbeError` (code `config`) saying what is missing.
 */
export function credentialed(config: RelayConfig): ResolvedRelayOptions {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  const apiKey = config.apiKey ?? (env?.["PANDAPROBE_API_KEY"] || undefined);
  const fromEnv = env?.["PANDAPROBE_PROJECT_NAME"] || undefined;
  const projectName = config.projectName ?? (fromEnv && checkedProjectName(fromEnv, "PANDAPROBE_PROJECT_NAME"));
  const missing = [apiKey ? "" : "apiKey (PANDAPROBE_API_KEY)", projectName ? "" : "projectName (PANDAPROBE_PROJECT_NAME)"].filter(Boolean);
  if (missing.length > 0) fail(`${missing.join(" and ")} ${missing.length > 1 ? "are" : "is"} not set; traces are not forwarded`);
  return { ...config, apiKey: apiKey!, projectName: projectName! };
}
