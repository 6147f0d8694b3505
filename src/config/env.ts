import type { ResolvedConfig } from "./options.js";
import { configError, type EnvReader } from "./options.js";

export type Env = Record<string, string | undefined>;

/** Options whose values are objects or functions, which no variable can hold. */
const NO_VARIABLE = ["fetch", "exporter", "dangerouslyAllowBrowser"];

/** `batchSize` is read from PANDAPROBE_BATCH_SIZE, and so on for every option a variable can hold. */
export function envReader(env: Env): EnvReader {
  return (key, kind) => {
    if (NO_VARIABLE.includes(key)) return undefined;
    const name = `PANDAPROBE_${key.replace(/[A-Z]/g, "_$&").toUpperCase()}`;
    const raw = env[name];
    if (raw === undefined) return undefined;
    if (kind === "string") return [raw, name];
    if (kind === "boolean") {
      const v = raw.trim().toLowerCase();
      if (v === "true" || v === "1" || v === "yes") return [true, name];
      if (v === "false" || v === "0" || v === "no" || v === "") return [false, name];
      throw configError(`${name} must be true/1/yes or false/0/no, got ${JSON.stringify(raw)}.`);
    }
    const n = Number(raw);
    if (raw.trim() === "" || Number.isNaN(n)) throw configError(`${name} must be a number, got ${JSON.stringify(raw)}.`);
    return [n, name];
  };
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
