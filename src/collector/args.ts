import { resolve } from "node:path";

/** The command line of `pandaprobe dev`. */
export const DEFAULT_PORT = 8723;
export const DEFAULT_DATA_FILE = ".pandaprobe/collector.jsonl";

const USAGE = `Usage: pandaprobe dev [--port ${DEFAULT_PORT}] [--host 127.0.0.1] [--data ${DEFAULT_DATA_FILE}]

Starts the PandaProbe local collector: the ingestion and read API of the PandaProbe backend
and a trace viewer, on this machine, keeping what it receives in a JSONL file.
Point the SDK at it with PANDAPROBE_ENDPOINT=http://127.0.0.1:<port> (any API key is accepted).`;

export interface CliOptions {
  port: number;
  host: string;
  dataFile: string;
}

/** The options, or a message saying what is wrong. */
export function parseArgs(argv: readonly string[], env: Record<string, string | undefined>): CliOptions | string {
  const [command, ...rest] = argv;
  if (command !== "dev") return USAGE;
  const options: CliOptions = { port: DEFAULT_PORT, host: "127.0.0.1", dataFile: DEFAULT_DATA_FILE };
  const envPort = env.PANDAPROBE_COLLECTOR_PORT;
  const port = (value: string | undefined): number | undefined =>
    value !== undefined && /^\d+$/.test(value) && Number(value) <= 65535 ? Number(value) : undefined;
  if (envPort) {
    const p = port(envPort);
    if (p === undefined) return `PANDAPROBE_COLLECTOR_PORT must be a port number, got ${JSON.stringify(envPort)}.`;
    options.port = p;
  }
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    const [flag, inline] = arg.split(/=(.*)/s, 2) as [string, string | undefined];
    const value = inline ?? rest[++i];
    if (flag === "--port") {
      const p = port(value);
      if (p === undefined) return `--port must be a port number, got ${JSON.stringify(value)}.`;
      options.port = p;
    } else if (flag === "--host" && value) options.host = value;
    else if (flag === "--data" && value) options.dataFile = value;
    else return `Unknown or incomplete option ${JSON.stringify(arg)}.\n\n${USAGE}`;
  }
  options.dataFile = resolve(options.dataFile);
  return options;
}
