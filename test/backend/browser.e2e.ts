/**
 * A page's IndexedDB queue, through the app's relay route (createRelayHandler), to the real backend,
 * in real Chromium: a burst beyond the rate limit and an offline spell lose nothing.
 */
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import type { Browser } from "playwright-core";
import { createRelayHandler, toNodeHandler } from "../../src/relay/index.js";
import type {} from "../browser/pages/app.js";
import { bundlePage, launchChromium, startPageServer, type PageServer } from "../support/chromium.js";
import { freshAccount, poll, type Account } from "./kit.js";

const kit = inject("backend");
let browser: Browser;
let server: PageServer;
let account: Account;

beforeAll(async () => {
  account = await freshAccount(kit, "browser");
  const relay = toNodeHandler(createRelayHandler({ apiKey: account.apiKey, projectName: account.projectName, endpoint: kit.endpoint }));
  [browser, server] = await Promise.all([launchChromium(), bundlePage("plain-app.ts").then((app) => startPageServer(relay, { app }))]);
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
  await account?.revoke();
});

/** Names of the traces the backend stored for this account. */
async function storedNames(): Promise<string[]> {
  const page = await account.get<{ items: { name: string }[]; total: number }>("/traces?limit=200");
  return page.items.map((t) => t.name);
}

it("a burst of 150 traces, then 10 made offline, all reach the backend once back online; nothing doubled", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(server.pageUrl("app"));
  const started = performance.now();
  await page.evaluate(() => window.pp.makeTraces("burst", 150));
  // The relay answers for PandaProbe's minute after the first 100; the queue keeps the rest meanwhile.
  await poll(async () => ((await page.evaluate(() => window.pp.queued())) === 0 ? true : undefined), 180_000, "emptied");
  const burstSeconds = (performance.now() - started) / 1000;

  await context.setOffline(true);
  await page.evaluate(() => window.pp.makeTraces("offline", 10));
  await new Promise((resolve) => setTimeout(resolve, 1500));
  expect(await page.evaluate(() => window.pp.queued())).toBe(10);
  await context.setOffline(false);
  await poll(async () => ((await page.evaluate(() => window.pp.queued())) === 0 ? true : undefined), 120_000, "emptied after going online");

  const names = await poll(async () => {
    const stored = await storedNames();
    return stored.length >= 160 ? stored : undefined;
  }, 60_000, "persisted");
  const expected = [...Array.from({ length: 150 }, (_, i) => `burst-${i}`), ...Array.from({ length: 10 }, (_, i) => `offline-${i}`)];
  expect(names.sort()).toEqual(expected.sort());
  // Every report the page's SDK made: the relay's 429s are waits, not losses; nothing was refused.
  const errors = await page.evaluate(() => window.pp.errors);
  expect(errors.filter((e) => !/429|network|offline|Failed to fetch/i.test(e.message))).toEqual([]);
  console.log(`browser burst of 150 through the relay: queue empty after ${burstSeconds.toFixed(1)} s`);
  await context.close();
}, 400_000);
