/**
 * The demo end to end, through `npm run demo` and real Chromium: two conversations of two users,
 * one turn made offline, one failing turn. What the collector received, merged as a backend stores
 * upserts, must hold every turn exactly once: the page's trace of each turn (click to last rendered
 * token) and the server's trace around the model call, in the conversation's session with its user.
 *
 * Screenshots of the chat go to test/demo/.screenshots/ (docs/screenshots/ with UPDATE_SCREENSHOTS=1).
 */
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import type { SpanData } from "../../src/wire/types.js";
import { launchChromium } from "../support/chromium.js";
import { startCollector, type Collector } from "../support/collector.js";
import { startDemo, type DemoProcess } from "./demo-process.js";
import { lastMessage, storedTraces, type StoredTrace } from "./stored-traces.js";

const API_KEY = "sk_pp_demo_e2e";
const PROJECT = "demo-e2e";
const SHOTS = fileURLToPath(new URL(process.env.UPDATE_SCREENSHOTS ? "../../docs/screenshots/" : "./.screenshots/", import.meta.url));

const FIRST = ["Hello!", "What is a session?", "How is time to first token measured?"];
const SECOND = { online: "Hello!", offline: "Do you work offline?", back: "Tell me something", failing: "Please fail this one" };

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

async function send(text: string): Promise<{ status: string; text: string }> {
  const index = await page.locator("[data-role=assistant]").count();
  await page.fill("input[aria-label=message]", text);
  await page.click("button[type=submit]");
  await page.waitForFunction(
    (i) => {
      const answer = document.querySelectorAll<HTMLElement>("[data-role=assistant]")[i];
      return answer !== undefined && answer.dataset.status !== "streaming";
    },
    index,
    { timeout: 30_000 },
  );
  const answer = page.locator("[data-role=assistant]").nth(index);
  return { status: (await answer.getAttribute("data-status"))!, text: await answer.innerText() };
}

async function sessionId(): Promise<string> {
  return (await page.locator("[data-testid=session-id]").innerText()).trim();
}

const byName = (traces: StoredTrace[], name: string) => traces.filter((t) => t.name === name);
const spanNamed = (trace: StoredTrace, name: string): SpanData => {
  const found = trace.spans.find((s) => s.name === name);
  if (!found) throw new Error(`trace ${trace.name} ${trace.trace_id} has no span ${name}: ${trace.spans.map((s) => s.name)}`);
  return found;
};

/** A span's time to first token lies within it. */
function expectFirstToken(span: SpanData): void {
  expect(span.completion_start_time, `${span.name} has a time to first token`).toBeDefined();
  const first = Date.parse(span.completion_start_time!);
  expect(first).toBeGreaterThanOrEqual(Date.parse(span.started_at));
  expect(first).toBeLessThanOrEqual(Date.parse(span.ended_at!));
}

describe("npm run demo", () => {
  let first: string;
  let second: string;

  it("chats: three turns as Ada, then a new conversation as Grace with an offline turn and a failing one", async () => {
    await page.goto(demo.url);
    await page.waitForSelector("input[aria-label=message]");
    first = await sessionId();
    for (const question of FIRST) {
      const answer = await send(question);
      expect(answer.status).toBe("done");
      expect(answer.text).toMatch(/first token/);
    }
    await page.screenshot({ path: `${SHOTS}demo-chat.png` });

    await page.selectOption("select[aria-label=user]", "user-grace");
    second = await sessionId();
    expect(second).not.toBe(first);
    expect(await page.locator("[data-role=assistant]").count()).toBe(0);
    expect((await send(SECOND.online)).status).toBe("done");

    await context.setOffline(true);
    const offline = await send(SECOND.offline);
    expect(offline.status).toBe("offline");
    expect(offline.text).toMatch(/You are offline/);
    await page.screenshot({ path: `${SHOTS}demo-chat-offline.png` });
    await context.setOffline(false);

    expect((await send(SECOND.back)).status).toBe("done");
    const failing = await send(SECOND.failing);
    expect(failing.status).toBe("error");
    expect(failing.text).toMatch(/asked me to fail/);
    await page.screenshot({ path: `${SHOTS}demo-chat-error.png` });
  }, 180_000);

  it("delivers every turn once: the page's and the server's traces, in the right sessions with the right users", async () => {
    // 7 turns in the page (one offline, so none on the server), 6 on the server.
    await collector.waitFor(() => {
      const traces = storedTraces(collector);
      return byName(traces, "chat-turn").length === 7 && byName(traces, "chat-api").length === 6;
    }, 60_000);
    // The server flushes what it holds on SIGTERM: nothing may come after this that was not already counted.
    await demo.stop();
    expect(demo.output()).not.toMatch(/\[demo\] tracing:/);

    expect(collector.contractFailures).toEqual([]);
    expect(relayStatuses.length).toBeGreaterThanOrEqual(7);
    expect(relayStatuses.every((status) => status >= 200 && status < 300)).toBe(true);

    const traces = storedTraces(collector);
    expect(new Set(traces.map((t) => t.session_id))).toEqual(new Set([first, second]));
    // Nothing doubled: one trace per turn and side, each accepted once.
    expect(traces.map((t) => t.upserts)).toEqual(traces.map(() => 1));

    const inSession = (id: string, name: string) => byName(traces, name).filter((t) => t.session_id === id);
    const page1 = inSession(first, "chat-turn");
    const server1 = inSession(first, "chat-api");
    const page2 = inSession(second, "chat-turn");
    const server2 = inSession(second, "chat-api");
    expect(page1.map((t) => lastMessage(t.input))).toEqual(FIRST);
    expect(server1.map((t) => lastMessage(t.input))).toEqual(FIRST);
    expect(page2.map((t) => lastMessage(t.input))).toEqual([SECOND.online, SECOND.offline, SECOND.back, SECOND.failing]);
    expect(server2.map((t) => lastMessage(t.input))).toEqual([SECOND.online, SECOND.back, SECOND.failing]);
    for (const t of [...page1, ...server1]) expect(t.user_id).toBe("user-ada");
    for (const t of [...page2, ...server2]) expect(t.user_id).toBe("user-grace");

    // The two traces of a turn name each other.
    for (const server of [...server1, ...server2]) {
      const browserTrace = traces.find((t) => t.trace_id === server.metadata?.["browser_trace_id"]);
      expect(browserTrace?.name).toBe("chat-turn");
      expect(browserTrace?.metadata?.["server_trace_id"]).toBe(server.trace_id);
    }

    // The server's model calls: one LLM span each, with time to first token.
    for (const server of [...server1, ...server2]) {
      const llm = server.spans.filter((s) => s.kind === "LLM");
      expect(llm).toHaveLength(1);
      expect(llm[0]!.model).toBe("fake-gpt-mini");
      expectFirstToken(llm[0]!);
    }
    for (const server of [...server1, server2[0]!, server2[1]!]) {
      expect(server.status).toBe("COMPLETED");
      const llm = server.spans.find((s) => s.kind === "LLM")!;
      expect(llm.status).toBe("OK");
      expect(llm.token_usage?.completion_tokens).toBeGreaterThan(0);
      expect(lastMessage(server.output)?.length).toBeGreaterThan(20);
    }

    // The page's turns: first rendered token on the answer span, then the render.
    for (const turn of [...page1, page2[0]!, page2[2]!]) {
      expect(turn.status).toBe("COMPLETED");
      const answer = spanNamed(turn, "answer");
      expect(answer.status).toBe("OK");
      expect(answer.model).toBe("fake-gpt-mini");
      expectFirstToken(answer);
      expect(spanNamed(turn, "render").status).toBe("OK");
      expect(lastMessage(turn.output)).toBe(lastMessage(traces.find((t) => t.trace_id === turn.metadata?.["server_trace_id"])?.output));
    }

    // Offline: the request failed, the page answered itself, and the trace arrived once back online.
    const offline = page2[1]!;
    expect(offline.status).toBe("COMPLETED");
    expect(offline.metadata?.["offline"]).toBe(true);
    expect(spanNamed(offline, "answer").status).toBe("ERROR");
    expectFirstToken(spanNamed(offline, "offline-reply"));
    expect(lastMessage(offline.output)).toMatch(/You are offline/);

    // The failing turn: an error on both sides, with the model's message.
    const failedPage = page2[3]!;
    const failedServer = server2[2]!;
    expect(failedPage.status).toBe("ERROR");
    expect(spanNamed(failedPage, "answer").error).toMatch(/asked me to fail/);
    expect(failedServer.status).toBe("ERROR");
    const failedCall = failedServer.spans.find((s) => s.kind === "LLM")!;
    expect(failedCall.status).toBe("ERROR");
    expect(failedCall.error).toMatch(/asked me to fail/);
  }, 120_000);
});
