/**
 * One trace per turn, from the click to the rendered answer, across a page in real Chromium and
 * its Node server: the page's `fetch` carries the trace context (`instrumentFetch`), the server
 * continues it (`continueTrace` in a Node handler, `continueTraceHandler` around a Fetch route
 * handler), and the local collector (`pandaprobe dev`, the backend's merge rules and read API)
 * reads back one trace whose name, input and output are the page's, with the server's spans under
 * the page's span, whichever of the page's trace and the server's spans arrives first.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext } from "playwright-core";
import { startCollector, type Collector } from "../../src/collector/server.js";
import { init, onError, shutdown } from "../../src/index.js";
import { bundlePage, launchChromium } from "../support/chromium.js";
import {
  expectOneTrace,
  expectOrder,
  startChatServer,
  startOrderingProxy,
  type ChatServer,
  type Order,
  type OrderingProxy,
  type StoredTrace,
} from "../support/continuation-app.js";
import type {} from "./pages/continuation-app.js";

const API_KEY = "sk_pp_continuation";
const PROJECT = "continuation";
let dir: string;
let collector: Collector;
let proxy: OrderingProxy;
let server: ChatServer;
let browser: Browser;
let context: BrowserContext;
const serverErrors: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "pandaprobe-continuation-"));
  collector = await startCollector({ port: 0, dataFile: join(dir, "collector.jsonl") });
  proxy = await startOrderingProxy(collector.url);
  // This process is the app's server: its SDK sends to the same store through the proxy.
  init({ endpoint: proxy.url, apiKey: API_KEY, projectName: PROJECT, flushInterval: 0.1 });
  onError((error) => serverErrors.push(error.message));
  server = await startChatServer({ endpoint: proxy.url, apiKey: API_KEY, projectName: PROJECT, bundle: await bundlePage("continuation-app.ts") });
  browser = await launchChromium();
  context = await browser.newContext();
  await context.addCookies([{ name: "user", value: "alice", url: server.origin }]);
}, 60_000);

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await server?.close();
  await shutdown();
  await proxy?.close();
  await collector?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function readBack(traceId: string, spans: number): Promise<StoredTrace> {
  let last: StoredTrace | undefined;
  await expect
    .poll(
      async () => {
        const res = await fetch(`${collector.url}/traces/${traceId}`, { headers: { "x-api-key": API_KEY, "x-project-name": PROJECT } });
        last = res.ok ? ((await res.json()) as StoredTrace) : undefined;
        return last?.spans.length;
      },
      { timeout: 30_000, interval: 200 },
    )
    .toBe(spans);
  return last!;
}

const cases: [Order, string, string][] = [
  ["page-first", "/api/chat", "POST /api/chat"],
  ["server-first", "/api/chat", "POST /api/chat"],
  ["page-first", "/api/chat-route", "POST /api/chat-route"],
  ["server-first", "/api/chat-route", "POST /api/chat-route"],
];

describe("a turn of a chat app is one trace across the page and its server", () => {
  it.each(cases)("%s arrival, server route %s", async (order, route, serverSpanName) => {
    proxy.order = order;
    const page = await context.newPage();
    await page.goto(server.pageUrl());
    const sessionId = `conv-${order}-${route}`;
    const question = `what is ${order} on ${route}?`;
    // The page claims to be mallory; the server's auth (the cookie) says alice.
    const turn = await page.evaluate(([r, q, s]) => window.chat.turn(r!, q!, s!, "mallory"), [route, question, sessionId]);
    expect(turn.answer).toBe(`echo: ${question}`);

    expectOneTrace(await readBack(turn.traceId, 4), turn, question, sessionId, serverSpanName);
    expectOrder(proxy, turn.traceId, order);

    // One trace for the turn: the server made none of its own.
    const list = await fetch(`${collector.url}/traces?session_id=${encodeURIComponent(sessionId)}`, { headers: { "x-api-key": API_KEY, "x-project-name": PROJECT } });
    expect(((await list.json()) as { total: number }).total).toBe(1);
    expect(await page.evaluate(() => window.chat.errors)).toEqual([]);
    await page.close();
  });

  it("a request made outside any trace carries no context, and the server's work is not continued", async () => {
    proxy.order = "page-first";
    const page = await context.newPage();
    await page.goto(server.pageUrl());
    const before = proxy.passed.length;
    const text = await page.evaluate(async () => (await fetch("/api/chat", { method: "POST", body: JSON.stringify({ question: "untraced" }) })).text());
    expect(text).toBe("echo: untraced");
    // No continued trace: the server's spans had nowhere to go, and nothing was sent for them.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(proxy.passed.slice(before)).toEqual([]);
    expect(serverErrors).toEqual([]);
    await page.close();
  });
});
