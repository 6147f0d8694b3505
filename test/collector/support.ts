/**
 * The local collector under test: in process on a temporary journal, or as a real child process
 * (the built CLI) for crash tests; plain HTTP helpers; the backend's seed traces with fresh ids.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { startCollector, type Collector } from "../../src/collector/server.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const SEED_DIR = join(ROOT, "../shared/pandaprobe-api/seed-traces");

export function tempDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), "pandaprobe-collector-"));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function startTemp(dataFile: string, viewerDir?: string): Promise<Collector> {
  return startCollector({ port: 0, dataFile, viewerDir });
}

export interface Answer<T = any> {
  status: number;
  body: T;
}

export async function call<T = any>(base: string, method: string, path: string, body?: unknown): Promise<Answer<T>> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { "content-type": "application/json", "x-api-key": "sk_pp_any", "x-project-name": "collector-tests" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as T };
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

/** Seed bodies by file name, every UUID replaced by a fresh one (consistently across files); undefined without ../shared. */
export function freshSeeds(): Map<string, any> | undefined {
  if (!existsSync(SEED_DIR)) return undefined;
  const fresh = new Map<string, string>();
  const seeds = new Map<string, any>();
  for (const file of readdirSync(SEED_DIR).filter((f) => f.endsWith(".json")).sort()) {
    const text = readFileSync(join(SEED_DIR, file), "utf8").replace(UUID, (id) => {
      const key = id.toLowerCase();
      if (!fresh.has(key)) fresh.set(key, randomUUID());
      return fresh.get(key)!;
    });
    seeds.set(file, JSON.parse(text));
  }
  return seeds;
}

/** A small valid trace with `spans` spans (a root and its children), as the SDK would send it. */
export function makeTrace(options: { spans?: number; session?: string; user?: string; name?: string; at?: number } = {}) {
  const start = options.at ?? Date.UTC(2026, 0, 1, 12);
  const iso = (offset: number) => new Date(start + offset).toISOString();
  const root = randomUUID();
  const count = options.spans ?? 2;
  return {
    trace_id: randomUUID(),
    name: options.name ?? "turn",
    status: "COMPLETED",
    input: { messages: [{ role: "user", content: "hello" }] },
    output: { messages: [{ role: "assistant", content: "hi there" }] },
    started_at: iso(0),
    ended_at: iso(1000),
    ...(options.session ? { session_id: options.session } : {}),
    ...(options.user ? { user_id: options.user } : {}),
    spans: Array.from({ length: count }, (_, i) => ({
      span_id: i === 0 ? root : randomUUID(),
      ...(i === 0 ? {} : { parent_span_id: root }),
      name: i === 0 ? "agent" : `llm-${i}`,
      kind: i === 0 ? "AGENT" : "LLM",
      status: "OK",
      started_at: iso(10 + i),
      ended_at: iso(900),
      ...(i === 0
        ? {}
        : {
            model: "gpt-4o-mini",
            input: { messages: [{ role: "user", content: "hello" }] },
            output: { messages: [{ role: "assistant", content: "hi there" }] },
            token_usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
            cost: { total: 0.001 },
            completion_start_time: iso(210 + i),
          }),
    })),
  };
}

let cliBundle: Promise<string> | undefined;

/** The CLI bundled from src as `npm run build` bundles it (into a temporary file, once per test file). */
export function bundledCli(dir: string): Promise<string> {
  cliBundle ??= build({
    entryPoints: [join(ROOT, "src/collector/cli.ts")],
    outfile: join(dir, "cli.mjs"),
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    logLevel: "silent",
  }).then(() => join(dir, "cli.mjs"));
  return cliBundle;
}

export interface Child {
  url: string;
  process: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

/** Starts `pandaprobe dev --port 0 --data <file>` as a child process and waits for the URL it prints. */
export async function spawnCollector(cli: string, dataFile: string): Promise<Child> {
  const child = spawn(process.execPath, [cli, "dev", "--port", "0", "--data", dataFile], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match) resolve(match[1]!);
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    void exited.then((code) => reject(new Error(`collector exited (${code}) before listening:\n${output}`)));
  });
  return { url, process: child, output: () => output, exited };
}
