/**
 * `npm run demo` as a user runs it, in a child process of its own process group; resolves once it
 * printed its URLs.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

export interface DemoProcess {
  /** The chat page. */
  url: string;
  /** The local collector's viewer (and endpoint), when the demo started one. */
  viewerUrl: string | undefined;
  /** Milliseconds from the spawn to the printed URL: build and start-up. */
  startMs: number;
  /** Everything it printed so far. */
  output(): string;
  /** SIGTERM to npm and the demo server (which flushes its traces, then stops the collector it started); resolves once all of them have exited. */
  stop(): Promise<void>;
}

export async function startDemo(env: Record<string, string>, timeoutMs = 120_000): Promise<DemoProcess> {
  const started = Date.now();
  // The fake model and only the given destination, whatever the developer's shell holds.
  const childEnv: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => name !== "OPENAI_API_KEY" && !name.startsWith("PANDAPROBE_")));
  Object.assign(childEnv, { DEMO_PORT: "0" }, env);
  const child: ChildProcess = spawn("npm", ["run", "demo"], { cwd: ROOT, env: childEnv, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  // The pipes close when the last process holding them (the node grandchild) has exited.
  const closed = Promise.all(
    [child.stdout!, child.stderr!].map((stream) => new Promise<void>((resolve) => stream.once("close", () => resolve()))),
  );

  // The URLs come in one block, which ends with how to stop.
  const printed = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`npm run demo printed no URL within ${timeoutMs} ms:\n${output}`)), timeoutMs);
    const look = () => {
      if (/Ctrl-C stops it all/.test(output)) {
        clearTimeout(timer);
        resolve(output);
      }
    };
    child.stdout!.on("data", look);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`npm run demo exited (${code}) before printing a URL:\n${output}`));
    });
  });

  const chat = /PandaProbe demo chat\s+(http:\/\/\S+)/.exec(printed);
  if (!chat) throw new Error(`npm run demo printed no chat URL:\n${printed}`);
  return {
    url: chat[1]!,
    viewerUrl: /trace viewer\s+(http:\/\/\S+)/.exec(printed)?.[1],
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
