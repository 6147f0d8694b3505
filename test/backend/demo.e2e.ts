/**
 * The demo's scenario (test/demo/scenario.ts) against the real backend: `npm run demo` sends to it,
 * and what the backend persisted is read back through its read routes, as a user's viewer would.
 * The backend validates every body itself (a refusal would show as a missing trace or a relay 422).
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { launchChromium } from "../support/chromium.js";
import { startDemo, type DemoProcess } from "../demo/demo-process.js";
import { chat, expectDelivered, waitForTurns, type StoredTrace } from "../demo/scenario.js";
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

/** Each session's traces through `GET /traces?session_id=`, each with its spans through `GET /traces/{id}`. */
async function readBack(sessionIds: readonly string[]): Promise<StoredTrace[]> {
  const lists = await Promise.all(
    sessionIds.map((id) => account.get<{ items: { trace_id: string }[] }>(`/traces?session_id=${encodeURIComponent(id)}&limit=100`)),
  );
  return Promise.all(lists.flatMap((list) => list.items).map((item) => account.get<StoredTrace>(`/traces/${item.trace_id}`)));
}

it("the backend holds every turn of the demo's two conversations once, with sessions, users, span trees and time to first token", async () => {
  const sessions = await chat(context, page, demo.url, `${mkdtempSync(join(tmpdir(), "demo-shots-"))}/`);
  await waitForTurns(readBack, sessions, 90_000);
  await demo.stop();
  expect(demo.output()).not.toMatch(/\[demo\] tracing:/);
  expect(relayStatuses.every((status) => status >= 200 && status < 300)).toBe(true);
  expectDelivered(await readBack([sessions.first, sessions.second]), sessions);
});
