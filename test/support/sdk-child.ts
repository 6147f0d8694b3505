/**
 * Node processes that trace with the SDK as an app would, for tests that kill or restart them:
 * the SDK built once into a temporary folder, and a child process running a fixture against it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

export interface BuiltSdk {
  /** The temporary folder it was built into, where callers may write scripts that import it. */
  readonly dir: string;
  /** file: URL of the Node entry, bundled as one ES module. */
  readonly url: string;
  remove(): void;
}

export async function buildNodeSdk(): Promise<BuiltSdk> {
  const dir = mkdtempSync(join(tmpdir(), "pandaprobe-child-sdk-"));
  const { build } = await import("vite");
  await build({
    configFile: false,
    logLevel: "silent",
    root: process.cwd(),
    build: {
      lib: { entry: "src/index.ts", formats: ["es"], fileName: () => "pandaprobe.mjs" },
      outDir: dir,
      emptyOutDir: false,
      rollupOptions: { external: [/^node:/] },
      minify: false,
      write: true,
    },
  });
  return { dir, url: pathToFileURL(join(dir, "pandaprobe.mjs")).href, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface Child {
  readonly proc: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stdout(): string;
  stderr(): string;
}

/** Runs `fixture` with `env` over this process's (PANDAPROBE_* left out); one still running after `limitMs` is killed. */
export function runChild(fixture: string, env: Record<string, string>, limitMs = 60_000): Child {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("PANDAPROBE_")));
  const proc = spawn(process.execPath, [fixture], { env: { ...clean, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  proc.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
  proc.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const stuck = setTimeout(() => proc.kill("SIGKILL"), limitMs);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    proc.on("close", (code, signal) => {
      clearTimeout(stuck);
      done({ code, signal });
    }),
  );
  return { proc, exited, stdout: () => stdout, stderr: () => stderr };
}
