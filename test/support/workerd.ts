/**
 * Cloudflare's runtime, workerd (the binary of the `workerd` npm package), running one Worker
 * bundled as wrangler bundles it (esbuild with the `workerd`, `worker`, `browser` conditions;
 * `node:*` and `cloudflare:*` left to the runtime), from a capnp config written here: no wrangler,
 * no network beyond 127.0.0.1.
 *
 *   const worker = await startWorkerd({ entry, cwd: pkg.app, bindings: { PANDAPROBE_ENDPOINT: url } });
 *   await fetch(`${worker.url}/?session=s1`);
 *   await worker.close();
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort, stopChild } from "./child.js";
import { REPO } from "./package-install.js";

const run = promisify(execFile);

export interface Workerd {
  url: string;
  /** The bundle workerd runs, as text (to look at its imports). */
  bundle: string;
  /** What workerd printed (console.warn/error of the Worker included). */
  output(): string;
  close(): Promise<void>;
}

export interface WorkerdOptions {
  /** The Worker's source, bundled from `cwd` (where node_modules/pandaprobe is). */
  entry: string;
  cwd: string;
  /** Text bindings; with nodejs_compat (and a compatibility date from 2025-04-01) also in process.env. */
  bindings: Record<string, string>;
  compatibilityFlags?: string[];
}

export async function startWorkerd(options: WorkerdOptions): Promise<Workerd> {
  const bundlePath = join(options.cwd, "worker.bundle.js");
  await run(
    join(REPO, "node_modules/.bin/esbuild"),
    [
      options.entry,
      "--bundle",
      "--format=esm",
      "--platform=neutral",
      "--conditions=workerd,worker,browser",
      "--main-fields=module,main",
      "--external:node:*",
      "--external:cloudflare:*",
      `--outfile=${bundlePath}`,
      "--log-level=warning",
    ],
    { cwd: options.cwd },
  );
  const port = await freePort();
  const bindings = Object.entries(options.bindings)
    .map(([name, text]) => `(name = ${JSON.stringify(name)}, text = ${JSON.stringify(text)})`)
    .join(", ");
  const flags = (options.compatibilityFlags ?? ["nodejs_compat"]).map((flag) => JSON.stringify(flag)).join(", ");
  const config = join(options.cwd, "workerd.capnp");
  writeFileSync(
    config,
    `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    # The default "internet" service refuses private addresses; the collector is on 127.0.0.1.
    (name = "loopback", network = (allow = ["public", "private", "local"])),
  ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
);
const worker :Workerd.Worker = (
  modules = [ (name = "worker", esModule = embed "worker.bundle.js") ],
  compatibilityDate = "2025-09-01",
  compatibilityFlags = [${flags}],
  bindings = [${bindings}],
  globalOutbound = "loopback",
);
`,
  );
  const child = spawn(join(REPO, "node_modules/.bin/workerd"), ["serve", config, "--verbose"], { cwd: options.cwd });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk));
  const url = `http://127.0.0.1:${port}`;
  await ready(url, child, () => output);
  return {
    url,
    bundle: readFileSync(bundlePath, "utf8"),
    output: () => output,
    close: () => stopChild(child),
  };
}

/** Polls until workerd answers; fails at once when it exits. */
async function ready(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`workerd exited (${child.exitCode}):\n${output()}`);
    const answered = await fetch(`${url}/__ping`).then(
      (response) => response.ok,
      () => false,
    );
    if (answered) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`workerd did not answer within 60 s:\n${output()}`);
}
