/**
 * The demo's scenario (test/demo/scenario.ts) against the real backend: `npm run demo` sends to it,
 * and what the backend persisted is read back through its read routes with the reader and the
 * expectations test/demo/demo.e2e.test.ts applies to the local collector.
 * The backend validates every body itself (a refusal would show as a missing trace or a relay 422).
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { launchChromium } from "../support/chromium.js";
import { startDemo, type DemoProcess } from "../demo/demo-process.js";
import { readBack, readUntil } from "../demo/read-back.js";
import { chat, expectReadBack } from "../demo/scenario.js";
import { freshAccount, type Account } from "./kit.js";

let account: Account;
let demo: DemoProcess;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const relayStatuses: number[] = [];

beforeAll(async () => {
  const kit = inject("backend");
  account = await freshAccount(kit, "demo");
  [demo, browser] = await Promise.all([
    startDemo({ PANDAPROBE_ENDPOINT: kit.endpoint, PANDAPROBE_API_KEY: account.apiKey, PANDAPROBE_PROJECT_NAME: account.projectName }),
    launchChromium(),
  ]);
  context = await browser.newContext({ viewport: { width: 900, height: 820 } });
  page = await context.newPage();
  page.on("response", (response) => {
    if (new URL(response.url()).pathname.startsWith("/api/pandaprobe/")) relayStatuses.push(response.status());
  });
});

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await demo?.stop();
  await account?.revoke();
});

it("the backend holds every turn of the demo's two conversations once, as one trace with the server's spans under the page's answer, with sessions, users and time to first token", async () => {
  const sessions = await chat(context, page, demo.url, `${mkdtempSync(join(tmpdir(), "demo-shots-"))}/`);
  const ids = [sessions.first, sessions.second];
  // Everything has arrived once it reads back whole; the stop then sends nothing more to wait for.
  await readUntil(() => readBack(account, ids), (read) => expectReadBack(read, sessions), 90_000);
  await demo.stop();
  expect(demo.output()).not.toMatch(/\[demo\] tracing:/);
  expect(relayStatuses.every((status) => status >= 200 && status < 300)).toBe(true);
  expectReadBack(await readBack(account, ids), sessions);
});
