/**
 * The Next.js fixture (test/fixtures/next-app) as an app on the packed SDK: copied next to the
 * unpacked package, built with `next build` (no PANDAPROBE_* variable at all, as a CI or Docker
 * build without secrets) and served with `next start` with the run-time environment given.
 */
import { execFile, spawn } from "node:child_process";
import { cpSync, mkdirSync, symlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import { freePort, stopChild } from "./child.js";
import { REPO, type InstalledPackage } from "./package-install.js";

const FIXTURE = join(REPO, "test/fixtures/next-app");
/** What the fixture imports, and what Next.js itself resolves from the project. */
const MODULES = ["next", "@next", "@swc", "styled-jsx", "caniuse-lite", "postcss", "client-only", "react", "react-dom", "scheduler", "openai", "idb"];
const NEXT_BIN = join(REPO, "node_modules/next/dist/bin/next");

export interface NextApp {
  dir: string;
  /** `next build`'s output, and how long it took in ms. */
  build: { output: string; ms: number };
  start(env: Record<string, string>): Promise<NextServer>;
}

export interface NextServer {
  url: string;
  output(): string;
  close(): Promise<void>;
}

/** The environment of a shell with nothing of ours or of the test runner in it. */
function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined || /^(npm_|VITEST|PANDAPROBE_|__NEXT)/.test(key) || ["NODE_ENV", "NODE_OPTIONS"].includes(key)) continue;
    env[key] = value;
  }
  // The app's node_modules links into the repository's: the build root must contain both.
  return { ...env, NEXT_TELEMETRY_DISABLED: "1", NEXT_FIXTURE_ROOT: "/" };
}

export async function buildNextApp(pkg: InstalledPackage): Promise<NextApp> {
  const dir = join(dirname(pkg.app), "next-app");
  cpSync(FIXTURE, dir, { recursive: true });
  mkdirSync(join(dir, "node_modules/@types"), { recursive: true });
  symlinkSync(join(pkg.app, "node_modules/pandaprobe"), join(dir, "node_modules/pandaprobe"), "dir");
  for (const name of MODULES) symlinkSync(join(REPO, "node_modules", name), join(dir, "node_modules", name), "dir");
  const started = Date.now();
  const output = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, [NEXT_BIN, "build"], { cwd: dir, env: baseEnv(), timeout: 600_000, maxBuffer: 1 << 26 }, (error, stdout, stderr) =>
      error ? reject(new Error(`next build failed:\n${stdout}\n${stderr}`)) : resolve(stdout + stderr),
    );
  });
  return { dir, build: { output, ms: Date.now() - started }, start: (env) => startNext(dir, env) };
}

async function startNext(dir: string, env: Record<string, string>): Promise<NextServer> {
  const port = await freePort();
  const child = spawn(process.execPath, [NEXT_BIN, "start", "-p", String(port), "-H", "127.0.0.1"], { cwd: dir, env: { ...baseEnv(), ...env } });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`next start exited (${child.exitCode}):\n${output}`);
    if (/Ready in/.test(output)) break;
    if (Date.now() > deadline) throw new Error(`next start not ready within 120 s:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return { url, output: () => output, close: () => stopChild(child) };
}
