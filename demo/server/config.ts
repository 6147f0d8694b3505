/** The demo server's settings, from the environment. */
export const LOCAL_API_KEY = "sk_pp_local_demo";
export const LOCAL_PROJECT = "pandaprobe-demo";
/** `pandaprobe dev`'s own defaults, so `npm run collector` later shows what the demo stored. */
export const COLLECTOR_PORT = 8723;
export const COLLECTOR_DATA = ".pandaprobe/collector.jsonl";

export interface DemoConfig {
  /** Port of the page, the relay and /api/chat; 0 picks a free one. */
  port: number;
  host: string;
  /** Where traces go: the relay forwards there, and the server's own client sends there. */
  pandaprobe: { endpoint: string; apiKey: string; projectName: string };
  /** The local collector to start when PANDAPROBE_ENDPOINT is not set; traces then go to it. */
  collector: { port: number; dataFile: string } | undefined;
  /** A real model when OPENAI_API_KEY is set; otherwise the built-in fake one. */
  openai: { apiKey: string; baseURL: string | undefined; model: string } | undefined;
}

function port(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === "") return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${name} must be a port number, got ${JSON.stringify(value)}`);
  return n;
}

export function readConfig(env: NodeJS.ProcessEnv = process.env): DemoConfig {
  const collector = env.PANDAPROBE_ENDPOINT
    ? undefined
    : { port: port("PANDAPROBE_COLLECTOR_PORT", env.PANDAPROBE_COLLECTOR_PORT, COLLECTOR_PORT), dataFile: env.PANDAPROBE_COLLECTOR_DATA || COLLECTOR_DATA };
  return {
    port: port("DEMO_PORT", env.DEMO_PORT, 8724),
    host: env.DEMO_HOST || "127.0.0.1",
    pandaprobe: {
      // With a local collector, the URL it printed replaces this (its port may have been 0).
      endpoint: env.PANDAPROBE_ENDPOINT || `http://127.0.0.1:${collector!.port}`,
      apiKey: env.PANDAPROBE_API_KEY || LOCAL_API_KEY,
      projectName: env.PANDAPROBE_PROJECT_NAME || LOCAL_PROJECT,
    },
    collector,
    openai: env.OPENAI_API_KEY
      ? { apiKey: env.OPENAI_API_KEY, baseURL: env.OPENAI_BASE_URL || undefined, model: env.OPENAI_MODEL || "gpt-4o-mini" }
      : undefined,
  };
}
