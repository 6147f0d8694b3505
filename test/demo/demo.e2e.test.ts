/**
 * The demo end to end, through `npm run demo` and real Chromium, against the test collector: every
 * turn of the scenario (test/demo/scenario.ts) arrives once, on the page's side (click to last
 * rendered token) and the server's (the model call), in its session with its user; every body is
 * valid against the contract. test/backend/demo.e2e.ts runs the same against the real backend.
 *
 * Screenshots of the chat go to test/demo/.screenshots/ (docs/screenshots/ with UPDATE_SCREENSHOTS=1).
 */
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { launchChromium } from "../support/chromium.js";
import { startCollector, type Collector } from "../support/collector.js";
import { startDemo, type DemoProcess } from "./demo-process.js";
import { chat, expectDelivered, waitForTurns } from "./scenario.js";
import { storedTraces } from "./stored-traces.js";

const API_KEY = "sk_pp_demo_e2e";
const PROJECT = "demo-e2e";
const SHOTS = fileURLToPath(new URL(process.env.UPDATE_SCREENSHOTS ? "../../docs/screenshots/" : "./.screenshots/", import.meta.url));

let collector: Collector;
let demo: DemoProcess;
let browser: Browser;
let context: BrowserContext;
let page: Page;
/** Status of every answer the relay route gave the page. */
const relayStatuses: number[] = [];

beforeAll(async () => {
  collector = await startCollector({ apiKey: API_KEY, projectName: PROJECT });
  [demo, browser] = await Promise.all([
    startDemo({ PANDAPROBE_ENDPOINT: collector.url, PANDAPROBE_API_KEY: API_KEY, PANDAPROBE_PROJECT_NAME: PROJECT }),
    launchChromium(),
  ]);
  console.log(`[demo] npm run demo: URL printed ${demo.startMs} ms after the spawn`);
  context = await browser.newContext({ viewport: { width: 900, height: 820 } });
  page = await context.newPage();
  page.on("response", (response) => {
    if (new URL(response.url()).pathname.startsWith("/api/pandaprobe/")) relayStatuses.push(response.status());
  });
  mkdirSync(SHOTS, { recursive: true });
}, 180_000);

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await demo?.stop();
  await collector?.close();
});

it("delivers every turn of two conversations once, offline and failing turns included, with sessions, users and time to first token", async () => {
  const sessions = await chat(context, page, demo.url, SHOTS);
  const readBack = async (ids: readonly string[]) => storedTraces(collector).filter((t) => ids.includes(t.session_id!));
  await waitForTurns(readBack, sessions, 60_000);
  // The server flushes what it holds on SIGTERM: whatever it would still send has arrived after this.
  await demo.stop();
  expect(demo.output()).not.toMatch(/\[demo\] tracing:/);

  expect(collector.contractFailures).toEqual([]);
  expect(relayStatuses.length).toBeGreaterThanOrEqual(7);
  expect(relayStatuses.every((status) => status >= 200 && status < 300)).toBe(true);
  const stored = storedTraces(collector);
  expectDelivered(stored, sessions);
  // The collector sees every request: no trace was even re-sent.
  expect(stored.map((t) => t.upserts)).toEqual(stored.map(() => 1));
}, 240_000);
