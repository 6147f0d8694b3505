/** The demo server's settings, from the environment. */
export const LOCAL_COLLECTOR = "http://127.0.0.1:8723";
export const LOCAL_API_KEY = "sk_pp_local_demo";
export const LOCAL_PROJECT = "pandaprobe-demo";

export interface DemoConfig {
  /** Port of the page, the relay and /api/chat; 0 picks a free one. */
  port: number;
  host: string;
  /** Where traces go: the relay forwards there, and the server's own client sends there. */
  pandaprobe: { endpoint: string; apiKey: string; projectName: string };
  /** A real model when OPENAI_API_KEY is set; otherwise the built-in fake one. */
  openai: { apiKey: string; baseURL: string | undefined; model: string } | undefined;
}

function port(value: string | undefined): number {
  if (value === undefined || value === "") return 8724;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`DEMO_PORT must be a port number, got ${JSON.stringify(value)}`);
  return n;
}

export function readConfig(env: NodeJS.ProcessEnv = process.env): DemoConfig {
  return {
    port: port(env.DEMO_PORT),
    host: env.DEMO_HOST || "127.0.0.1",
    pandaprobe: {
      endpoint: env.PANDAPROBE_ENDPOINT || LOCAL_COLLECTOR,
      apiKey: env.PANDAPROBE_API_KEY || LOCAL_API_KEY,
      projectName: env.PANDAPROBE_PROJECT_NAME || LOCAL_PROJECT,
    },
    openai: env.OPENAI_API_KEY
      ? { apiKey: env.OPENAI_API_KEY, baseURL: env.OPENAI_BASE_URL || undefined, model: env.OPENAI_MODEL || "gpt-4o-mini" }
      : undefined,
  };
}
