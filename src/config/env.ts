import { checkValue, KINDS, type Kind } from "./check.js";
import { configError, type PandaProbeOptions, type ResolvedConfig } from "./options.js";

export type Env = Record<string, string | undefined>;

/** Options whose values are objects or functions, which no variable can hold. */
const NO_VARIABLE = ["fetch", "exporter", "dangerouslyAllowBrowser", "mask", "waitUntil"];

/**
 * The options `PANDAPROBE_*` variables set (`batchSize` from PANDAPROBE_BATCH_SIZE, ...), parsed
 * and checked. A variable is read only when no option overrides it, so a malformed one that an
 * option replaces is no error. One set to nothing is unset (a compose file passes `${VAR}` the host
 * lacks as ""; the Python SDK reads an empty endpoint as its default), except a boolean, which
 * Python reads as false.
 */
export function readEnv(env: Env, options: PandaProbeOptions | undefined): PandaProbeOptions {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(KINDS) as (keyof PandaProbeOptions)[]) {
    if (NO_VARIABLE.includes(key) || (options as Record<string, unknown> | null | undefined)?.[key] !== undefined) continue;
    const name = `PANDAPROBE_${key.replace(/[A-Z]/g, "_$&").toUpperCase()}`;
    const raw = env[name];
    if (raw === undefined || (raw === "" && KINDS[key] !== "boolean")) continue;
    const value = parse(raw, KINDS[key], name);
    checkValue(key, value, name);
    out[key] = value;
  }
  return out;
}

/** Numbers of every numeric kind parse alike; their ranges are checked after. */
function parse(raw: string, kind: Kind, name: string): unknown {
  if (kind === "string" || kind === "nonEmptyString" || kind === "exportMode") return raw;
  if (kind === "boolean") {
    const v = raw.trim().toLowerCase();
    if (v === "true" || v === "1" || v === "yes") return true;
    if (v === "false" || v === "0" || v === "no" || v === "") return false;
    throw configError(`${name} must be true/1/yes or false/0/no, got ${JSON.stringify(raw)}.`);
  }
  const n = Number(raw);
  if (raw.trim() === "" || Number.isNaN(n)) throw configError(`${name} must be a number, got ${JSON.stringify(raw)}.`);
  return n;
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
