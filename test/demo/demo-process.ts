/**
 * `npm run demo` as a user runs it, in a child process of its own process group, pointed at a
 * collector; resolves once it printed its URL.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

export interface DemoProcess {
  url: string;
  /** Milliseconds from the spawn to the printed URL: build and start-up. */
  startMs: number;
  /** Everything it printed so far. */
  output(): string;
  /** SIGTERM to npm and the demo server (which flushes its traces first); resolves once all of them have exited. */
  stop(): Promise<void>;
}

export async function startDemo(env: Record<string, string>, timeoutMs = 120_000): Promise<DemoProcess> {
  const started = Date.now();
  const childEnv: NodeJS.ProcessEnv = { ...process.env, DEMO_PORT: "0", ...env };
  // The fake model, whatever the developer's shell holds.
  delete childEnv.OPENAI_API_KEY;
  const child: ChildProcess = spawn("npm", ["run", "demo"], { cwd: ROOT, env: childEnv, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  // The pipes close when the last process holding them (the node grandchild) has exited.
  const closed = Promise.all(
    [child.stdout!, child.stderr!].map((stream) => new Promise<void>((resolve) => stream.once("close", () => resolve()))),
  );

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`npm run demo printed no URL within ${timeoutMs} ms:\n${output}`)), timeoutMs);
    const look = () => {
      const found = /PandaProbe demo chat\s+(http:\/\/\S+)/.exec(output);
      if (found) {
        clearTimeout(timer);
        resolve(found[1]!);
      }
    };
    child.stdout!.on("data", look);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`npm run demo exited (${code}) before printing a URL:\n${output}`));
    });
  });

  return {
    url,
    startMs: Date.now() - started,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        // The whole group: npm, its shell and the node process.
        process.kill(-child.pid!, "SIGTERM");
      }
      await Promise.all([exited, closed]);
    },
  };
}
