/**
 * The demo end to end as a user runs it: `npm run demo` (which builds what it needs and starts the
 * local collector, the demo server and the page), the scenario of test/demo/scenario.ts in real
 * Chromium, then:
 *   - read back through the collector's read routes, as test/backend/demo.e2e.ts reads the real
 *     backend: two sessions, their users, every turn once as one trace (the page's, with the
 *     server's spans under its answer span), span trees, time to first token, the failing and the
 *     offline turn;
 *   - the viewer, in Chromium: the two sessions, their traces in order, a turn's span tree (the
 *     server's spans nested under the page's answer), its answer span with its model and time to
 *     first token, the failing turn's error;
 *   - a turn answered just before the stop, asked without trace context (as a curl would), still
 *     arrives as the server's own trace (the server sends its queue, then stops the collector), and
 *     the collector's file holds every body once, each valid against the contract: the page's
 *     traces and the server's spans of them, posted on their own.
 *
 * Screenshots go to test/demo/.screenshots/ (docs/screenshots/ with UPDATE_SCREENSHOTS=1).
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { replay } from "../../src/collector/journal.js";
import { duration } from "../../src/collector/viewer/format.js";
import { tempDir } from "../collector/support.js";
import { launchChromium } from "../support/chromium.js";
import { contractErrors } from "../support/contract.js";
import { startDemo, type DemoProcess } from "./demo-process.js";
import { readApi, readBack, readUntil, type ReadBack } from "./read-back.js";
import { chat, expectReadBack, lastMessage, SECOND, spanTree, type Conversations } from "./scenario.js";

const SHOTS = fileURLToPath(new URL(process.env.UPDATE_SCREENSHOTS ? "../../docs/screenshots/" : "./.screenshots/", import.meta.url));
const temp = tempDir();
const journal = join(temp.dir, "collector.jsonl");

let demo: DemoProcess;
let browser: Browser;
let context: BrowserContext;
/** Status of every answer the relay route gave the page. */
const relayStatuses: number[] = [];

beforeAll(async () => {
  [demo, browser] = await Promise.all([
    // Free ports (others may run on this machine) and a fresh file: the defaults otherwise.
    startDemo({ PANDAPROBE_COLLECTOR_PORT: "0", PANDAPROBE_COLLECTOR_DATA: journal }),
    launchChromium(),
  ]);
  console.log(`[demo] npm run demo: URLs printed ${demo.startMs} ms after the spawn`);
  context = await browser.newContext({ viewport: { width: 900, height: 820 } });
  mkdirSync(SHOTS, { recursive: true });
}, 180_000);

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await demo?.stop();
  temp.remove();
});

const ids = (page: Page, testId: string, attribute: string) =>
  page.locator(`[data-testid="${testId}"]`).evaluateAll((els, name) => els.map((el) => el.getAttribute(name)), attribute);

/** The viewer shows what the read routes returned: sessions, their traces in order, a turn's first token, the failing turn's error. */
async function expectViewerShows(viewerUrl: string, read: ReadBack, { first, second }: Conversations): Promise<void> {
  const page = await context.newPage();
  await page.setViewportSize({ width: 1440, height: 900 });
  await page.goto(viewerUrl);
  await page.locator('[data-testid="live"]', { hasText: "live" }).waitFor();
  // The most recent session first.
  await expect.poll(() => ids(page, "session", "data-session-id")).toEqual([second, first]);

  await page.locator(`[data-testid="session"][data-session-id="${first}"]`).click();
  await expect.poll(() => ids(page, "trace-item", "data-trace-id")).toEqual(read.sessionTraces[first]);
  const turn = read.traces.find((t) => t.session_id === first && t.name === "chat-turn" && lastMessage(t.input) === "What is a session?")!;
  const answer = turn.spans.find((s) => s.name === "answer")!;
  await page.locator(`[data-testid="trace-item"][data-trace-id="${turn.trace_id}"]`).click();
  // The page's spans and the server's, as one tree: chat-api and its model call under the answer.
  const rows = spanTree(turn);
  await expect.poll(() => ids(page, "span-row", "data-span-id")).toEqual(rows.map(([, s]) => s.span_id));
  expect(await ids(page, "span-row", "data-depth")).toEqual(rows.map(([depth]) => String(depth)));
  await page.locator(`[data-testid="span-row"][data-span-id="${answer.span_id}"]`).click();
  const detail = page.locator('[data-testid="span-detail"]');
  await expect.poll(() => detail.locator("h3").textContent()).toContain("answer");
  expect(await detail.textContent()).toContain("fake-gpt-mini");
  expect(await detail.locator('[data-testid="ttft"]').textContent()).toBe(duration(answer.time_to_first_token_ms));
  expect(await page.locator('[data-testid="trace-detail"]').textContent()).toContain(lastMessage(turn.output));
  await page.screenshot({ path: `${SHOTS}demo-viewer.png` });

  await page.locator(`[data-testid="session"][data-session-id="${second}"]`).click();
  await expect.poll(() => ids(page, "trace-item", "data-trace-id")).toEqual(read.sessionTraces[second]);
  const failed = read.traces.find((t) => t.session_id === second && t.name === "chat-turn" && lastMessage(t.input) === SECOND.failing)!;
  const failedItem = page.locator(`[data-testid="trace-item"][data-trace-id="${failed.trace_id}"]`);
  expect(await failedItem.textContent()).toContain("ERROR");
  await failedItem.click();
  const failedAnswer = failed.spans.find((s) => s.name === "answer")!;
  await page.locator(`[data-testid="span-row"][data-span-id="${failedAnswer.span_id}"]`).click();
  await expect.poll(() => page.locator('[data-testid="span-error"]').textContent()).toContain("asked me to fail");
  expect(await page.locator('[data-testid="trace-detail"] h2').textContent()).toContain("ERROR");
  await page.screenshot({ path: `${SHOTS}demo-viewer-error.png` });
  await page.close();
}

it("two conversations, an offline and a failing turn: one trace per turn, read back from the collector once each, shown by its viewer, kept in its file", async () => {
  expect(demo.viewerUrl).toBeDefined();
  const page = await context.newPage();
  page.on("response", (response) => {
    if (new URL(response.url()).pathname.startsWith("/api/pandaprobe/")) relayStatuses.push(response.status());
  });
  const sessions = await chat(context, page, demo.url, SHOTS);
  const api = readApi(new URL(demo.viewerUrl!).origin);
  const read = await readUntil(() => readBack(api, [sessions.first, sessions.second]), (r) => expectReadBack(r, sessions), 30_000);
  expect(relayStatuses.length).toBeGreaterThanOrEqual(7);
  expect(relayStatuses.every((status) => status >= 200 && status < 300)).toBe(true);

  await expectViewerShows(demo.viewerUrl!, read, sessions);

  // A turn answered right before the stop, without trace context: the server's own trace, still queued when the signal comes.
  const last = await fetch(`${demo.url}/api/chat`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ messages: [{ role: "user", content: "One last question" }], sessionId: "last-turn", userId: "user-ada" }),
  });
  expect(await last.text()).toContain('"type":"done"');
  await demo.stop();
  expect(demo.output()).not.toMatch(/\[demo\] tracing:/);

  // The collector's file: every accepted body valid, every trace posted once, every span sent once.
  const { entries, skipped } = replay(journal);
  expect(skipped).toBe(0);
  const traceBodies = entries.flatMap((e) => (e.op === "trace" ? [e.body] : []));
  const spanBatches = entries.flatMap((e) => (e.op === "spans" ? [e.body] : []));
  expect(entries.length).toBe(traceBodies.length + spanBatches.length);
  expect(traceBodies.flatMap((body) => contractErrors("trace", body))).toEqual([]);
  expect(spanBatches.flatMap((body) => contractErrors("spans", body))).toEqual([]);
  const lastTurn = traceBodies.filter((t) => t.session_id === "last-turn");
  expect(lastTurn.map((t) => [t.name, lastMessage(t.input), t.status])).toEqual([["chat-api", "One last question", "COMPLETED"]]);
  expect(traceBodies.map((t) => t.trace_id).sort()).toEqual([...read.traces.map((t) => t.trace_id), lastTurn[0]!.trace_id].sort());
  // The server never posts a trace it continues: only spans, to the page's traces.
  const spanTraces = new Set(entries.flatMap((e) => (e.op === "spans" ? [e.trace_id] : [])));
  expect([...spanTraces].every((id) => read.traces.some((t) => t.trace_id === id))).toBe(true);
  expect(spanTraces.size).toBe(6);
  const spanIds = [...traceBodies.flatMap((t) => t.spans), ...spanBatches.flat()].map((s) => s.span_id);
  expect(new Set(spanIds).size).toBe(spanIds.length);
  expect(spanIds.length).toBe(read.traces.reduce((n, t) => n + t.spans.length, lastTurn[0]!.spans.length));
}, 120_000);
