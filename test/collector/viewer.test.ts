/**
 * The viewer in real Chromium, served by the collector: sessions with their traces in order, a
 * trace's span tree with model, tokens and time to first token, and a trace that arrives while the
 * page is open appearing without a reload. Saves collector-viewer.png to test/collector/.screenshots/
 * (docs/, for the README, with UPDATE_SCREENSHOTS=1).
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser } from "playwright-core";
import { build } from "vite";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Collector } from "../../src/collector/server.js";
import { launchChromium } from "../support/chromium.js";
import { call, makeTrace, startTemp, tempDir } from "./support.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const temp = tempDir();
let collector: Collector;
let browser: Browser;

beforeAll(async () => {
  const viewerDir = join(temp.dir, "viewer");
  await build({ configFile: join(ROOT, "src/collector/viewer/vite.config.ts"), build: { outDir: viewerDir }, logLevel: "silent" });
  collector = await startTemp(join(temp.dir, "viewer.jsonl"), viewerDir);
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await collector?.close();
  temp.remove();
});

it("shows a session's traces in order, a trace's span tree, and a new trace live", async () => {
  const t0 = Date.UTC(2031, 0, 1, 9);
  const turns = ["What is PandaProbe?", "Does it work offline?"].map((question, i) => {
    const trace = makeTrace({ spans: 4, session: "conversation-1", user: "ada", name: `chat-turn`, at: t0 + i * 60_000 });
    trace.input = { messages: [{ role: "user", content: question }] };
    return trace;
  });
  const failing = { ...makeTrace({ spans: 2, session: "conversation-2", user: "grace", name: "chat-turn", at: t0 + 5 * 60_000 }), status: "ERROR" };
  failing.spans[1] = { ...failing.spans[1]!, status: "ERROR", error: "RateLimitError: 429 from the model provider" } as (typeof failing.spans)[number];
  for (const body of [...turns, failing]) expect((await call(collector.url, "POST", "/traces", body)).status).toBe(202);

  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  await page.goto(`${collector.url}/`);
  await page.locator('[data-testid="live"]', { hasText: "live" }).waitFor();
  await page.locator('[data-testid="session"][data-session-id="conversation-1"]').click();
  const items = page.locator('[data-testid="trace-item"]');
  await expect.poll(() => items.evaluateAll((els) => els.map((el) => el.getAttribute("data-trace-id")))).toEqual(turns.map((t) => t.trace_id));

  await items.first().click();
  const rows = page.locator('[data-testid="span-row"]');
  await expect.poll(() => rows.evaluateAll((els) => els.map((el) => [el.textContent?.match(/agent|llm-\d/)?.[0], el.getAttribute("data-depth")]))).toEqual([
    ["agent", "0"],
    ["llm-1", "1"],
    ["llm-2", "1"],
    ["llm-3", "1"],
  ]);
  await rows.nth(1).click();
  const detail = page.locator('[data-testid="span-detail"]');
  await expect.poll(() => detail.textContent()).toContain("gpt-4o-mini");
  expect(await detail.textContent()).toContain("15 total (10 in, 5 out)");
  expect(await detail.locator('[data-testid="ttft"]').textContent()).toBe("200 ms");
  expect(await page.locator('[data-testid="trace-detail"]').textContent()).toContain("What is PandaProbe?");

  // A third turn arrives while the page is open.
  const third = makeTrace({ spans: 3, session: "conversation-1", user: "ada", name: "chat-turn", at: t0 + 2 * 60_000 });
  expect((await call(collector.url, "POST", "/traces", third)).status).toBe(202);
  await expect.poll(() => items.count(), { timeout: 15_000 }).toBe(3);
  expect(await items.last().getAttribute("data-trace-id")).toBe(third.trace_id);

  const shots = join(ROOT, process.env.UPDATE_SCREENSHOTS ? "docs" : "test/collector/.screenshots");
  mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: join(shots, "collector-viewer.png") });

  // The user filter narrows sessions; the failing turn shows its error.
  await page.locator('[data-testid="user"][data-user-id="grace"]').click();
  await expect.poll(() => page.locator('[data-testid="session"]').evaluateAll((els) => els.map((el) => el.getAttribute("data-session-id")))).toEqual(["conversation-2"]);
  await page.locator('[data-testid="trace-item"]').first().click();
  await page.locator('[data-testid="span-row"]').nth(1).click();
  await expect.poll(() => page.locator('[data-testid="span-error"]').textContent()).toContain("RateLimitError");
  await page.close();
});
