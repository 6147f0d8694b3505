#!/usr/bin/env node
/**
 * The local collector's numbers (not part of `npm run bench`):
 *   - ingest rate: 20-span traces per second from one client posting one after another
 *     (each answered after its fsync), and from 8 concurrent clients (group commit);
 *   - with 10,000 traces stored: the restart (journal replay) time and the viewer's load time in
 *     Chromium, from navigation to the first page of sessions and traces on screen.
 *
 *   node bench/collector.mjs [--traces 10000]
 */
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { chromium } from "playwright-core";
import { build as vite } from "vite";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const out = join(root, "bench/.build/collector");
const total = Number(process.argv[process.argv.indexOf("--traces") + 1]) || 10_000;

await vite({ configFile: join(root, "src/collector/viewer/vite.config.ts"), build: { outDir: join(out, "viewer") }, logLevel: "silent" });
await build({ entryPoints: [join(root, "src/collector/cli.ts")], outfile: join(out, "cli.mjs"), bundle: true, platform: "node", format: "esm", target: "node20", logLevel: "silent" });

function trace(i) {
  const t0 = Date.UTC(2026, 0, 1) + i * 1000;
  const iso = (ms) => new Date(t0 + ms).toISOString();
  const root = randomUUID();
  return {
    trace_id: randomUUID(),
    name: "agent-turn",
    status: i % 50 === 0 ? "ERROR" : "COMPLETED",
    input: { messages: [{ role: "user", content: `question ${i}` }] },
    output: { messages: [{ role: "assistant", content: `answer ${i}` }] },
    started_at: iso(0),
    ended_at: iso(900),
    session_id: `session-${Math.floor(i / 5)}`,
    user_id: `user-${i % 40}`,
    spans: Array.from({ length: 20 }, (_, s) => ({
      span_id: s === 0 ? root : randomUUID(),
      ...(s ? { parent_span_id: root } : {}),
      name: s ? `step-${s}` : "agent",
      kind: s ? "LLM" : "AGENT",
      status: "OK",
      started_at: iso(s * 40),
      ended_at: iso(s * 40 + 35),
      ...(s
        ? { model: "gpt-4o-mini", input: { messages: [{ role: "user", content: "hello ".repeat(20) }] }, output: { messages: [{ role: "assistant", content: "world ".repeat(20) }] }, token_usage: { prompt_tokens: 40, completion_tokens: 20, total_tokens: 60 }, completion_start_time: iso(s * 40 + 10) }
        : {}),
    })),
  };
}

async function start(dataFile) {
  const child = spawn(process.execPath, [join(out, "cli.mjs"), "dev", "--port", "0", "--data", dataFile], { stdio: ["ignore", "pipe", "inherit"] });
  const began = performance.now();
  const url = await new Promise((resolve) => {
    let text = "";
    child.stdout.on("data", (chunk) => {
      text += chunk;
      const match = /listening on (\S+)/.exec(text);
      if (match) resolve(match[1]);
    });
  });
  return { child, url, startMs: performance.now() - began };
}

async function post(url, body) {
  const res = await fetch(`${url}/traces`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  if (res.status !== 202) throw new Error(`POST /traces: ${res.status} ${await res.text()}`);
}

const dir = mkdtempSync(join(tmpdir(), "pandaprobe-collector-bench-"));
const dataFile = join(dir, "bench.jsonl");
try {
  let { child, url } = await start(dataFile);
  let sent = 0;
  const sequential = 500;
  let began = performance.now();
  for (; sent < sequential; sent++) await post(url, trace(sent));
  const oneClient = sequential / ((performance.now() - began) / 1000);

  began = performance.now();
  const concurrent = 2000;
  let next = sent;
  await Promise.all(Array.from({ length: 8 }, async () => { while (next < sent + concurrent) await post(url, trace(next++)); }));
  const eightClients = concurrent / ((performance.now() - began) / 1000);
  sent += concurrent;
  while (sent < total) {
    await Promise.all(Array.from({ length: 8 }, () => post(url, trace(sent++))));
  }
  child.kill("SIGTERM");
  await new Promise((resolve) => child.on("exit", resolve));

  const restarted = await start(dataFile);
  ({ child, url } = restarted);
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--headless", "--no-sandbox", "--disable-gpu"] });
  const loads = [];
  for (let i = 0; i < 5; i++) {
    const page = await browser.newPage();
    const t = performance.now();
    await page.goto(`${url}/`);
    await page.locator('[data-testid="trace-item"]').first().waitFor();
    await page.locator('[data-testid="session"]').first().waitFor();
    loads.push(performance.now() - t);
    await page.close();
  }
  await browser.close();
  child.kill("SIGTERM");
  loads.sort((a, b) => a - b);
  console.log(`| measure | value |\n| --- | --- |`);
  console.log(`| ingest, 1 client, 20-span traces | ${oneClient.toFixed(0)} traces/s |`);
  console.log(`| ingest, 8 clients, 20-span traces | ${eightClients.toFixed(0)} traces/s |`);
  console.log(`| journal with ${total} traces | ${(statSync(dataFile).size / 1e6).toFixed(0)} MB |`);
  console.log(`| restart (replay ${total} traces) to listening | ${restarted.startMs.toFixed(0)} ms |`);
  console.log(`| viewer load, ${total} traces stored (median of 5) | ${loads[2].toFixed(0)} ms |`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
