/**
 * The local collector the demo sends to when PANDAPROBE_ENDPOINT is not set: the package's own
 * `pandaprobe dev` (dist/collector/cli.js) as a child process. It runs in a process group of its
 * own, so a Ctrl-C in the terminal reaches the demo server alone: the server sends what it still
 * holds, then stops the collector. A collector already listening on the port is used as it is.
 */
import { spawn } from "node:child_process";

export interface LocalCollector {
  /** Its endpoint, which is also the viewer's address. */
  url: string;
  /** The journal it keeps, when this demo started it. */
  dataFile: string | undefined;
  /** Stops the collector this demo started (one that was already running is left running). */
  stop(): Promise<void>;
}

const LISTENING = /^PandaProbe local collector listening on (\S+)$/m;

/** Whether a PandaProbe collector answers at `url` (its read route's shape, not just any server). */
async function isCollector(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/sessions?limit=1`, { signal: AbortSignal.timeout(2000) });
    const body = (await res.json()) as { items?: unknown };
    return res.ok && Array.isArray(body.items);
  } catch {
    return false;
  }
}

export async function startLocalCollector(cli: string, options: { port: number; dataFile: string }): Promise<LocalCollector> {
  const child = spawn(process.execPath, [cli, "dev", "--port", String(options.port), "--data", options.dataFile], {
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  // Whatever way this process ends, the collector it started does not outlive it.
  const killOnExit = () => child.kill("SIGTERM");
  process.on("exit", killOnExit);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  let output = "";
  let announced: (url: string) => void = () => {};
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    const found = LISTENING.exec(output);
    if (found) announced(found[1]!);
  };
  child.stdout.on("data", collect);
  child.stderr.on("data", collect);

  const url = await new Promise<string | undefined>((resolve, reject) => {
    announced = resolve;
    child.once("error", reject);
    void exited.then(() => resolve(undefined));
  });

  if (url === undefined) {
    process.off("exit", killOnExit);
    const existing = `http://127.0.0.1:${options.port}`;
    if (/port is in use/.test(output) && (await isCollector(existing))) {
      return { url: existing, dataFile: undefined, stop: async () => {} };
    }
    throw new Error(`the local collector did not start:\n${output.trim()}`);
  }
  // Started: its banner is summed up by the demo's; what it says later (errors) is shown.
  child.stdout.off("data", collect).resume();
  child.stderr.off("data", collect).pipe(process.stderr);
  return {
    url,
    dataFile: options.dataFile,
    async stop() {
      process.off("exit", killOnExit);
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}
