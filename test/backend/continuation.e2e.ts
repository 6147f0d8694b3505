/**
 * Trace continuation against the real backend: a page in Chromium and this process as its Node
 * server, one trace per turn, read back through the backend's API with the page's name, input and
 * output and the server's spans under the page's span, whether the page's trace or the server's
 * spans arrive first (the backend persists traces asynchronously and answers 404 to spans of a
 * trace it has not stored yet).
 */
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import type { Browser, BrowserContext } from "playwright-core";
import { init, onError, shutdown } from "../../src/index.js";
import type {} from "../browser/pages/continuation-app.js";
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
import { freshAccount, poll, type Account } from "./kit.js";

const kit = inject("backend");
let account: Account;
let proxy: OrderingProxy;
let server: ChatServer;
let browser: Browser;
let context: BrowserContext;
const serverErrors: string[] = [];

beforeAll(async () => {
  account = await freshAccount(kit, "continuation");
  proxy = await startOrderingProxy(kit.endpoint);
  init({ endpoint: proxy.url, apiKey: account.apiKey, projectName: account.projectName, flushInterval: 0.1 });
  onError((error) => serverErrors.push(error.message));
  const credentials = { endpoint: proxy.url, apiKey: account.apiKey, projectName: account.projectName };
  server = await startChatServer({ ...credentials, bundle: await bundlePage("continuation-app.ts") });
  browser = await launchChromium();
  context = await browser.newContext();
  await context.addCookies([{ name: "user", value: "alice", url: server.origin }]);
});

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await server?.close();
  await shutdown();
  await proxy?.close();
  await account?.revoke();
});

const cases: [Order, string][] = [
  ["page-first", "/api/chat"],
  ["server-first", "/api/chat"],
  ["page-first", "/api/chat-route"],
  ["server-first", "/api/chat-route"],
];

it.each(cases)("one trace per turn, %s arrival, server route %s", async (order, route) => {
  proxy.order = order;
  const page = await context.newPage();
  await page.goto(server.pageUrl());
  const sessionId = `conv-${kit.run}-${order}${route.replace(/\//g, "-")}`;
  const question = `what is ${order} on ${route}?`;
  const turn = await page.evaluate(([r, q, s]) => window.chat.turn(r!, q!, s!, "mallory"), [route, question, sessionId]);

  const stored = await poll(
    async () => {
      const trace = await account.get<StoredTrace>(`/traces/${turn.traceId}`);
      return trace.spans.length === 4 ? trace : undefined;
    },
    60_000,
    "stored with its 4 spans",
  );
  expectOneTrace(stored, turn, question, sessionId, `POST ${route}`);
  expectOrder(proxy, turn.traceId, order);
  const list = await account.get<{ total: number }>(`/traces?session_id=${encodeURIComponent(sessionId)}`);
  expect(list.total).toBe(1);
  expect(await page.evaluate(() => window.chat.errors)).toEqual([]);
  await page.close();
});

afterAll(() => {
  // 404s of spans sent before their trace was stored are retried, not reported; nothing else failed.
  expect(serverErrors).toEqual([]);
});
