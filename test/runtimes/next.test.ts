/**
 * A Next.js 16 App Router app on the packed SDK (test/fixtures/next-app), built with no PANDAPROBE_*
 * variable (the relay route is evaluated while "Collecting page data") and served by `next start`:
 * a server component's provider whose ids reach the traces of the page in Chromium, a Node and an
 * edge route handler each tracing an LLM call in the request's session and user scope (also when
 * the response goes out before the call ended), and a server action.
 */
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "../support/chromium.js";
import { startCollector, type Collector } from "../support/collector.js";
import { startFakeOpenAI, type FakeOpenAI } from "../support/fake-openai.js";
import { buildNextApp, type NextApp, type NextServer } from "../support/next-app.js";
import { installPackedPackage, type InstalledPackage } from "../support/package-install.js";
import type { TraceData } from "../../src/wire/types.js";

const API_KEY = "sk_pp_next";
const PROJECT = "next-app";

let pkg: InstalledPackage;
let app: NextApp;
let server: NextServer;
let collector: Collector;
let openai: FakeOpenAI;
let browser: Browser;

beforeAll(async () => {
  pkg = await installPackedPackage();
  [app, collector, openai, browser] = await Promise.all([
    buildNextApp(pkg),
    startCollector({ apiKey: API_KEY, projectName: PROJECT }),
    startFakeOpenAI(),
    launchChromium(),
  ]);
  server = await app.start({
    PANDAPROBE_API_KEY: API_KEY,
    PANDAPROBE_PROJECT_NAME: PROJECT,
    PANDAPROBE_ENDPOINT: collector.url,
    FAKE_OPENAI_URL: openai.baseURL,
  });
}, 600_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await Promise.all([collector?.close(), openai?.close()]);
  pkg?.cleanup();
});

/** The one trace with these ids, once it arrived. */
async function traceWith(sessionId: string, userId: string): Promise<TraceData> {
  const find = () => collector.traces().filter((t) => t.session_id === sessionId && t.user_id === userId);
  await collector.waitFor(() => find().length > 0, 30_000);
  expect(find()).toHaveLength(1);
  return find()[0]!;
}

describe("a Next.js 16 app", () => {
  it("builds without the key: the relay route checks it at its first request, not at evaluation", () => {
    expect(app.build.output).toMatch(/ƒ \/api\/pandaprobe\/\[\.\.\.path\]/);
    expect(app.build.output).not.toMatch(/apiKey/);
  });

  it.each(["chat", "edge-chat"])("/api/%s traces its LLM call in the request's session and user", async (route) => {
    const answer = (await (await fetch(`${server.url}/api/${route}?session=${route}-s&user=${route}-u`)).json()) as { runtime: string; ids: string[] };
    expect(answer.ids).toEqual([`${route}-s`, `${route}-u`]);
    const trace = await traceWith(`${route}-s`, `${route}-u`);
    const llm = trace.spans?.find((span) => span.kind === "LLM");
    expect(llm).toMatchObject({ model: "gpt-4o-mini" });
    expect(JSON.stringify(llm?.input)).toContain(`hi from ${answer.runtime}`);
    expect(collector.contractFailures).toEqual([]);
  });

  it.each(["chat", "edge-chat"])("/api/%s: a trace that ends after the response was sent still arrives", async (route) => {
    const response = await fetch(`${server.url}/api/${route}?session=${route}-late&user=late-u&late=1`);
    expect(await response.json()).toMatchObject({ late: true });
    const trace = await traceWith(`${route}-late`, "late-u");
    expect(trace.spans?.some((span) => span.kind === "LLM")).toBe(true);
  });

  it("the edge route keeps concurrent requests' ids apart", async () => {
    const ids = Array.from({ length: 12 }, (_, i) => `edge-many-${i}`);
    const answers = await Promise.all(ids.map((id) => fetch(`${server.url}/api/edge-chat?session=${id}&user=${id}-u`).then((r) => r.json())));
    expect(answers.map((a: { ids: string[] }) => a.ids)).toEqual(ids.map((id) => [id, `${id}-u`]));
    for (const id of ids) await traceWith(id, `${id}-u`);
  });

  it("the server component's ids reach the page's traces, through the relay route", async () => {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${server.url}/?session=page-s&user=page-u`);
    await page.click("#trace");
    await page.waitForSelector("text=/traced /");
    const traceId = (await page.textContent("#status"))!.replace("traced ", "");
    const trace = await traceWith("page-s", "page-u");
    expect(trace).toMatchObject({ trace_id: traceId, name: "client-click" });
    expect(trace.spans?.map((s) => s.name)).toEqual(["render"]);
    await page.close();
  });

  it("a server action is traced with its session and user", async () => {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${server.url}/`);
    await page.click("#action");
    await page.waitForSelector("text=/action /");
    const traceId = (await page.textContent("#status"))!.replace("action ", "");
    const trace = await traceWith("action-session", "action-user");
    expect(trace).toMatchObject({ trace_id: traceId, name: "server-action", input: { text: "hello" } });
    await page.close();
  });

  it("logs nothing alarming: no exit-hook error from the edge sandbox, no relay configuration error", () => {
    expect(server.output()).not.toMatch(/process\.on|not configured|is not set/);
  });
});
