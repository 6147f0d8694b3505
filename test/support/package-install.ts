/**
 * The package as users get it: built (`npm run build`) and packed (`npm pack`) from a copy of the
 * repository, so the shared tree's own dist/ is never touched, then unpacked into throwaway projects'
 * node_modules. Dependencies and peers are linked from the repository's node_modules (no registry).
 *
 *   const pkg = await installPackedPackage();
 *   await pkg.node(pkg.app, "import { init } from 'pandaprobe'; ...", { esm: true });
 *   await pkg.cleanup();
 */
import { execFile } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
export const REPO = resolve(import.meta.dirname, "../..");

/** What `npm pack --json` reports about the tarball. */
export interface PackReport {
  filename: string;
  /** Bytes of the .tgz. */
  size: number;
  unpackedSize: number;
  files: { path: string; size: number }[];
}

export interface NodeRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface InstalledPackage {
  pack: PackReport;
  /** The package.json as shipped. */
  manifest: Record<string, unknown>;
  /** A project with the package, its dependency, every optional peer and the type packages. */
  app: string;
  /** A project with the package and its one dependency: no peer at all. */
  bare: string;
  /** Runs `code` with this Node in `cwd`: an ES module with `esm`, else CommonJS. */
  node(cwd: string, code: string, options?: { esm?: boolean; flags?: string[]; env?: Record<string, string> }): Promise<NodeRun>;
  /** Runs a TypeScript compiler (the repository's by default) with `tsconfig` (a path relative to `cwd`). */
  tsc(cwd: string, tsconfig: string, compiler?: string): Promise<NodeRun>;
  cleanup(): void;
}

/** Top-level names (or scopes) linked into the full project; `idb` is the one dependency. */
const APP_MODULES = ["idb", "react", "react-dom", "scheduler", "openai", "@anthropic-ai", "ai", "@ai-sdk", "@langchain", "zone.js", "@types"];
/** Never copied into the build copy: installs, outputs, history. */
const SKIP = new Set(["node_modules", ".git", "dist", "coverage", ".vite", ".build", ".build-wrappers"]);

export async function installPackedPackage(): Promise<InstalledPackage> {
  const root = mkdtempSync(join(tmpdir(), "pandaprobe-package-"));
  try {
    const source = join(root, "source");
    cpSync(REPO, source, { recursive: true, filter: (path) => !SKIP.has(basename(path)) });
    symlinkSync(join(REPO, "node_modules"), join(source, "node_modules"), "dir");
    // npm_config_* of a parent `npm test` (e.g. dry-run) must not change what is built and packed.
    const env = { ...cleanEnv(), npm_config_update_notifier: "false", npm_config_fund: "false" };
    await run("npm", ["run", "build"], { cwd: source, env });
    const tarballs = join(root, "tarballs");
    mkdirSync(tarballs);
    const { stdout } = await run("npm", ["pack", "--json", "--pack-destination", tarballs], { cwd: source, env });
    const pack = (JSON.parse(stdout) as PackReport[])[0]!;

    const app = project(root, "app");
    const bare = project(root, "bare");
    await Promise.all([unpack(join(tarballs, pack.filename), app), unpack(join(tarballs, pack.filename), bare)]);
    for (const name of APP_MODULES) link(app, name);
    link(bare, "idb");
    link(bare, "@types/node");

    const manifest = JSON.parse(readFileSync(join(app, "node_modules/pandaprobe/package.json"), "utf8")) as Record<string, unknown>;
    return {
      pack,
      manifest,
      app,
      bare,
      node: (cwd, code, options = {}) =>
        capture(process.execPath, [...(options.flags ?? []), ...(options.esm ? ["--input-type=module"] : []), "-e", code], cwd, {
          ...cleanEnv(),
          ...options.env,
        }),
      // TypeScript 5 compiles in JavaScript: on a loaded machine a project with provider types takes a while.
      tsc: (cwd, tsconfig, compiler = join(REPO, "node_modules/.bin/tsc")) => capture(compiler, ["-p", tsconfig], cwd, cleanEnv(), 120_000),
      cleanup: () => rmSync(root, { recursive: true, force: true }),
    };
  } catch (error) {
    rmSync(root, { recursive: true, force: true });
    throw error;
  }
}

/** An ESM project (`"type": "module"`, as a new Node project is) with an empty node_modules. */
function project(root: string, name: string): string {
  const dir = join(root, name);
  mkdirSync(join(dir, "node_modules/pandaprobe"), { recursive: true });
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name, private: true, type: "module" }));
  return dir;
}

async function unpack(tarball: string, dir: string): Promise<void> {
  await run("tar", ["-xzf", tarball, "-C", join(dir, "node_modules/pandaprobe"), "--strip-components=1"]);
}

function link(dir: string, name: string): void {
  const target = join(dir, "node_modules", name);
  mkdirSync(dirname(target), { recursive: true });
  symlinkSync(join(REPO, "node_modules", name), target, "dir");
}

/** The environment without what vitest or a parent npm sets (NODE_ENV=test, npm_config_*, NODE_OPTIONS). */
function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined || key.startsWith("npm_") || key.startsWith("VITEST") || key === "NODE_ENV" || key === "NODE_OPTIONS") continue;
    if (key.startsWith("PANDAPROBE_")) continue;
    env[key] = value;
  }
  return env;
}

function capture(file: string, args: string[], cwd: string, env: Record<string, string>, timeout = 30_000): Promise<NodeRun> {
  return new Promise((done) => {
    execFile(file, args, { cwd, env, timeout }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
      done({ code, stdout, stderr });
    });
  });
}
