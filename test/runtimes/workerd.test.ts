/**
 * The edge build in Cloudflare's own runtime (workerd, driven directly: see test/support/workerd.ts):
 * a Worker configured from its bindings, tracing every request in its session and user scope, with
 * waitUntil from cloudflare:workers. Concurrent requests interleave across timers and fetches.
 */
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCollector, type Collector } from "../support/collector.js";
import { installPackedPackage, type InstalledPackage } from "../support/package-install.js";
import { startWorkerd, type Workerd } from "../support/workerd.js";

const API_KEY = "sk_pp_workerd";
const CONCURRENT = 40;

interface Seen {
  sessionId: string | null;
  userId: string | null;
}
interface Answer {
  traceId: string;
  before: Seen;
  afterTimer: Seen;
  afterFetch: Seen;
}

let pkg: InstalledPackage;
let collector: Collector;
let worker: Workerd;

beforeAll(async () => {
  [pkg, collector] = await Promise.all([installPackedPackage(), startCollector({ apiKey: API_KEY, projectName: "workerd" })]);
  copyFileSync(join(import.meta.dirname, "../fixtures/workerd/worker.mjs"), join(pkg.app, "worker.mjs"));
  worker = await startWorkerd({
    entry: "worker.mjs",
    cwd: pkg.app,
    bindings: { PANDAPROBE_API_KEY: API_KEY, PANDAPROBE_PROJECT_NAME: "workerd", PANDAPROBE_ENDPOINT: collector.url },
  });
});

afterAll(async () => {
  if (process.env.SHOW_WORKERD) console.log(worker?.output());
  await worker?.close();
  await collector?.close();
  pkg?.cleanup();
});

const ask = (query: string, path = "/"): Promise<Answer> => fetch(`${worker.url}${path}?${query}`).then((r) => r.json() as Promise<Answer>);

describe("the edge build in workerd", () => {
  it("is the bundle wrangler would make: no Node built-in but node:async_hooks", () => {
    const imports = [...worker.bundle.matchAll(/\bfrom\s*"((?:node:)?[a-z_:/]+)"|\bimport\(\s*"([^"]+)"\)|\brequire\(\s*"([^"]+)"\)/g)].map(
      (m) => m[1] ?? m[2] ?? m[3],
    );
    expect([...new Set(imports)].sort()).toEqual(["cloudflare:workers", "node:async_hooks"]);
  });

  it("delivers a trace for each of many concurrent requests, each with its own ids across awaits", async () => {
    collector.reset();
    const answers = await Promise.all(
      Array.from({ length: CONCURRENT }, (_, i) => ask(`session=s-${i}&user=u-${i}&wait=${(i * 37) % 120}`)),
    );
    answers.forEach((answer, i) => {
      const ids = { sessionId: `s-${i}`, userId: `u-${i}` };
      expect([answer.before, answer.afterTimer, answer.afterFetch]).toEqual([ids, ids, ids]);
    });
    // Every response went out before its trace's delivery finished: waitUntil kept each one alive.
    await collector.waitFor(() => collector.traces().length >= CONCURRENT, 30_000);
    const traces = collector.traces();
    expect(traces).toHaveLength(CONCURRENT);
    expect(collector.contractFailures).toEqual([]);
    answers.forEach((answer, i) => {
      const trace = traces.find((t) => t.trace_id === answer.traceId)!;
      expect(trace).toMatchObject({ session_id: `s-${i}`, user_id: `u-${i}`, name: "worker-request" });
      expect(trace.spans?.map((s) => s.name).sort()).toEqual(["answer", "upstream"]);
      expect(trace.input).toEqual({ sessionId: `s-${i}`, userId: `u-${i}` });
    });
  });

  it("setSession sets nothing (no enterWith in workerd), says so once, and the scope's id stands", async () => {
    collector.reset();
    const first = await ask("session=scoped&user=someone", "/set-session");
    const second = await ask("session=scoped-2&user=someone", "/set-session");
    expect(first.afterFetch.sessionId).toBe("scoped");
    expect(second.afterFetch.sessionId).toBe("scoped-2");
    await collector.waitFor(() => collector.traces().length >= 2, 30_000);
    expect(collector.traces().map((t) => t.session_id).sort()).toEqual(["scoped", "scoped-2"]);
    await expect.poll(() => worker.output().match(/setSession\(\)\/setUser\(\) set nothing/g)?.length).toBe(1);
  });

  it("never settles one request's promise from another request's context (workerd warns and cancels such continuations)", () => {
    expect(worker.output()).not.toMatch(/different request context|Cannot perform I\/O on behalf of a different request/);
  });
});
