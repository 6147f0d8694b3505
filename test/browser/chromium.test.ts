/**
 * The browser runtime in real Chromium: pages bundled from src/index.browser.ts post to their own
 * origin's relay route, which forwards to a real collector on 127.0.0.1. Each test runs in a fresh
 * browser context (its own IndexedDB, kept across reloads and tabs of that context) and asserts on
 * what the collector received: every trace, unique ids, every body valid against the contract.
 *
 * Needs Debian's Chromium at /usr/bin/chromium (`apt-get install -y --no-install-recommends chromium`).
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { BrowserContext, Page } from "playwright-core";
import type { Browser } from "playwright-core";
import type { TraceData } from "../../src/wire/types.js";
import { startCollector, type Collector } from "../support/collector.js";
import { bundlePage, launchChromium, startPageServer, TEST_API_KEY, TEST_PROJECT, type PageServer } from "../support/chromium.js";
import type {} from "./pages/app.js";

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

let browser: Browser;
let collector: Collector;
let server: PageServer;
let contexts: BrowserContext[] = [];

beforeAll(async () => {
  collector = await startCollector({ apiKey: TEST_API_KEY, projectName: TEST_PROJECT });
  const [app, prod, zone] = await Promise.all([
    bundlePage("plain-app.ts"),
    // Minified for the browser, esbuild sets NODE_ENV to production: the build an app ships.
    bundlePage("plain-app.ts", { minify: true }),
    bundlePage("zone-app.ts", { target: "es2016" }),
  ]);
  server = await startPageServer(collector, { app, prod, zone });
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await collector?.close();
});

beforeEach(() => collector.reset());

afterEach(async () => {
  expect(collector.contractFailures).toEqual([]);
  await Promise.all(contexts.map((context) => context.close()));
  contexts = [];
});

/** A fresh profile: its own IndexedDB, shared by its tabs and kept across reloads. */
async function newContext(): Promise<BrowserContext> {
  const context = await browser.newContext();
  contexts.push(context);
  return context;
}

async function open(context: BrowserContext, bundle = "app", options?: Record<string, unknown>): Promise<Page> {
  const page = await context.newPage();
  await page.goto(server.pageUrl(bundle, options ? { options: JSON.stringify(options) } : undefined));
  return page;
}

/** Accepted bodies (re-sends included) of traces whose name starts with `${label}-`. */
function bodies(label: string): TraceData[] {
  return collector.traces().filter((t) => t.name.startsWith(`${label}-`));
}

function uniqueIds(label: string): Set<string> {
  return new Set(bodies(label).map((t) => t.trace_id));
}

async function waitDelivered(label: string, ids: readonly string[], timeoutMs = 10_000): Promise<void> {
  await collector.waitFor(() => ids.every((id) => uniqueIds(label).has(id)), timeoutMs);
  expect([...uniqueIds(label)].sort()).toEqual([...ids].sort());
}

function byName(name: string): TraceData | undefined {
  return collector.traces().find((t) => t.name === name);
}

describe("offline", () => {
  it("keeps 100 traces made offline in IndexedDB across a reload and delivers them all once back online", async () => {
    const context = await newContext();
    const page = await open(context);
    await context.setOffline(true);
    const ids = await page.evaluate(() => window.pp.makeTraces("offline", 100));
    await expect.poll(() => page.evaluate(() => window.pp.queued()), { timeout: 5000 }).toBe(100);

    // Still offline, the reload itself fails: the page that held the traces is gone.
    await expect(page.reload()).rejects.toThrow(/ERR_INTERNET_DISCONNECTED/);
    expect(bodies("offline")).toEqual([]);

    await context.setOffline(false);
    await page.goto(server.pageUrl("app"));
    await waitDelivered("offline", ids);
    await expect.poll(() => page.evaluate(() => window.pp.queued()), { timeout: 5000 }).toBe(0);
  });

  it("sends as soon as the browser is back online, not when the backoff of the offline failures ends", async () => {
    const context = await newContext();
    // Pins the backoff jitter to its upper end, so the wait the offline failures built up is known.
    await context.addInitScript(() => {
      Math.random = () => 0.99;
      addEventListener("online", () => ((window as unknown as { onlineEvents: number }).onlineEvents += 1));
      (window as unknown as { onlineEvents: number }).onlineEvents = 0;
    });
    const page = await open(context);
    await context.setOffline(true);
    const ids = await page.evaluate(() => window.pp.makeTraces("back-online", 20));
    // Failed attempts at about 0, 0.5, 1.5 and 3.5 s: the next one is due near 7.4 s.
    await sleep(4000);
    expect(bodies("back-online")).toEqual([]);

    await context.setOffline(false);
    const backOnline = Date.now();
    await expect.poll(() => page.evaluate(() => (window as unknown as { onlineEvents: number }).onlineEvents)).toBe(1);
    await waitDelivered("back-online", ids, 8000);
    console.log(`[chromium] back online: delivered ${Date.now() - backOnline} ms after the online event`);
    expect(Date.now() - backOnline).toBeLessThan(1500);
  }, 20_000);
});

describe("closing tabs", () => {
  // Whether IndexedDB commits before the tab is torn down is a race: three tabs close, every one must deliver.
  it("delivers traces ended right before the tab closes, and those its pagehide listener ends", async () => {
    for (let round = 0; round < 3; round++) {
      collector.reset();
      const context = await newContext();
      const page = await open(context);
      // Labels per round: a later round must not count what an earlier round's reload delivers late.
      await page.evaluate((label) => window.pp.endOnPagehide(label, 10), `on-pagehide-${round}`);
      const ids = await page.evaluate((label) => window.pp.makeTraces(label, 20), `before-close-${round}`);
      await page.close({ runBeforeUnload: true });
      await sleep(500);
      const beforeNextLoad = { beforeClose: uniqueIds(`before-close-${round}`).size, onPagehide: uniqueIds(`on-pagehide-${round}`).size };

      // The next page of the site drains what the closed one left in IndexedDB.
      await open(context);
      console.log(
        `[chromium] closed tab, round ${round}: delivered before the next page load: ${beforeNextLoad.beforeClose}/20 ` +
          `ended before close, ${beforeNextLoad.onPagehide}/10 ended on pagehide`,
      );
      await waitDelivered(`before-close-${round}`, ids, 5000);
      await collector.waitFor(() => uniqueIds(`on-pagehide-${round}`).size === 10, 5000);
    }
  }, 40_000);

  it("delivers traces whose requests are in flight when the tab closes, before any next load", async () => {
    // Each trace's first request hangs, as on a slow network; a copy sent later is accepted. Only
    // this test's traces: a page an earlier test closed may still re-send its own late.
    const hung = new Set<string>();
    const ours = (request: { json: unknown }) => (request.json as { name?: string } | undefined)?.name?.startsWith("in-flight-");
    collector.respond((request) => {
      if (!ours(request)) return undefined;
      const id = (request.json as { trace_id: string }).trace_id;
      if (hung.has(id)) return undefined;
      hung.add(id);
      return { stall: true };
    });
    // A 2 s request timeout: Chromium sometimes keeps a closed page's renderer until its fetches end,
    // and its pagehide (the keepalive copies) comes only then.
    const page = await open(await newContext(), "app", { timeout: 2 });
    const ids = await page.evaluate((label) => window.pp.makeTraces(label, 4), "in-flight");
    await collector.waitFor((requests) => requests.filter((r) => r.outcome === "stalled" && ours(r)).length === 4);
    expect(await page.evaluate(() => window.pp.queued())).toBe(4);

    await page.close({ runBeforeUnload: true });
    // No page of the site opens again: the copies sent with keepalive as the tab closed are what arrives.
    await waitDelivered("in-flight", ids, 8000);
  }, 20_000);
});

describe("tabs of one site", () => {
  it("delivers every trace of two tabs producing at once, through the one shared queue", async () => {
    const context = await newContext();
    const [a, b] = await Promise.all([open(context), open(context)]);
    // Five bursts of ten per tab, interleaved with the other tab's sends and drains.
    const produce = (page: Page, label: string) =>
      page.evaluate(async (label) => {
        const ids: string[] = [];
        for (let burst = 0; burst < 5; burst++) {
          ids.push(...window.pp.makeTraces(`${label}${burst}`, 10));
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        return ids;
      }, label);
    const [idsA, idsB] = await Promise.all([produce(a, "tab-a"), produce(b, "tab-b")]);
    const ids = [...idsA, ...idsB];
    await collector.waitFor(() => ids.every((id) => collector.traces().some((t) => t.trace_id === id)), 15_000);
    await sleep(500);
    await expect.poll(() => Promise.all([a, b].map((p) => p.evaluate(() => window.pp.queued())))).toEqual([0, 0]);

    // Only this test's traces: a page an earlier test closed may still re-send its own late.
    const received = collector.traces().filter((t) => t.name.startsWith("tab-")).map((t) => t.trace_id);
    expect(new Set(received)).toEqual(new Set(ids));
    console.log(`[chromium] two tabs: ${ids.length} traces, ${received.length} accepted bodies, ${received.length - ids.length} duplicates`);
  });
});

describe("a tab that dies while it holds the sending lock", () => {
  it("the other tab sends what it wrote meanwhile, without ending another trace", async () => {
    // Tab A's request hangs (a slow relay), so A holds the Web Lock while tab B writes a trace.
    const hung = new Set<string>();
    collector.respond((request) => {
      const body = request.json as { trace_id?: string; name?: string } | undefined;
      if (!body?.name?.startsWith("holder-") || hung.has(body.trace_id!)) return undefined;
      hung.add(body.trace_id!);
      return { stall: true };
    });
    const context = await newContext();
    // A 2 s request timeout bounds the wait should A's renderer outlive the crash below for a while
    // (Chromium sometimes keeps it until its fetch ends); B must send either way.
    const [a, b] = await Promise.all([open(context, "app", { timeout: 2 }), open(context, "app", { timeout: 2 })]);
    const held = await a.evaluate(() => window.pp.makeTraces("holder", 1));
    await collector.waitFor((requests) => requests.some((r) => r.outcome === "stalled"));
    const ids = await b.evaluate(() => window.pp.makeTraces("waiting", 1));
    // Several of B's flush intervals (0.2 s) pass while A holds the lock.
    await sleep(1000);
    expect(uniqueIds("waiting").size).toBe(0);

    // A's renderer dies before its request is answered (a tab the browser discards or kills):
    // no pagehide, no keepalive. B gets the lock and sends A's trace with its own.
    const cdp = await context.newCDPSession(a);
    // Never answered: the renderer that would answer is gone.
    void cdp.send("Page.crash").catch(() => {});
    await waitDelivered("holder", held, 5000);
    await waitDelivered("waiting", ids, 5000);
    await expect.poll(() => b.evaluate(() => window.pp.queued()), { timeout: 5000 }).toBe(0);
  }, 30_000);
});

describe("outages", () => {
  for (const [build, bundle] of [["development", "app"], ["production", "prod"]]) {
    it(`keeps every trace through 3 s of 503 and delivers them all when the backend recovers (${build} build)`, async () => {
      const recovered = Date.now() + 3000;
      collector.respond(() => (Date.now() < recovered ? { status: 503, body: { detail: "Service Unavailable" } } : undefined));
      const page = await open(await newContext(), bundle);
      const ids = await page.evaluate(() => window.pp.makeTraces("outage", 30));
      await waitDelivered("outage", ids, 30_000);
      const refused = collector.requests.filter((r) => r.status === 503).length;
      expect(refused).toBeGreaterThan(0);
      console.log(`[chromium] 503 outage, ${build} build: ${refused} requests refused; all 30 delivered ${Date.now() - recovered} ms after recovery`);
      // Nothing the backend refused was given up on and reported.
      expect(await page.evaluate(() => window.pp.errors)).toEqual([]);
    }, 40_000);
  }
});

describe("a relay route behind a login redirect", () => {
  it("reports the redirect as an http_error instead of taking the login page's 200 for a delivery", async () => {
    const page = await open(await newContext(), "app", { endpoint: "/login-wall" });
    await page.evaluate(() => window.pp.makeTraces("signed-out", 1));
    await page.waitForFunction(() => window.pp.errors.length > 0);
    expect(await page.evaluate(() => window.pp.errors)).toEqual([
      { code: "http_error", message: "POST /login-wall/traces: redirected; endpoint must answer itself" },
    ]);
    expect(collector.requests).toEqual([]);
  }, 20_000);
});

describe("without IndexedDB", () => {
  const breakers: Record<string, () => void> = {
    "indexedDB is missing": () => {
      delete (window as { indexedDB?: IDBFactory }).indexedDB;
    },
    "indexedDB.open throws": () => {
      IDBFactory.prototype.open = () => {
        throw new DOMException("The user denied permission to access the database.", "SecurityError");
      };
    },
  };

  for (const [i, [why, breakIndexedDb]] of Object.entries(breakers).entries()) {
    it(`queues in memory and delivers when ${why}, reporting "storage" once`, async () => {
      const context = await newContext();
      await context.addInitScript(breakIndexedDb);
      const page = await open(context);
      // A label per case: the page of the case before re-sends what is still in its memory queue
      // when it closes (at least once), and such a late body must not count here.
      const label = `memory${i}`;
      const ids = await page.evaluate((label) => window.pp.makeTraces(label, 20), label);
      await waitDelivered(label, ids);
      const errors = await page.evaluate(() => window.pp.errors);
      expect(errors.map((e) => e.code)).toEqual(["storage"]);
      expect(errors[0]!.message).toMatch(/IndexedDB unavailable/);
    });
  }
});

describe("scoped ids in the browser", () => {
  const ALL = ["sync", "afterMicrotask", "afterTimerAwait", "inTimer", "onClick"] as const;

  async function runScenario(bundle: string): Promise<Record<string, string | undefined>> {
    const page = await open(await newContext(), bundle);
    await page.evaluate(() => window.pp.contextScenario());
    await page.click("#btn");
    await collector.waitFor(() => ["before-await", "after-await", "in-timer", "on-click"].every((n) => byName(n)));
    return page.evaluate(() => window.pp.seen);
  }

  it("with zone.js (code compiled to ES2016), session() holds across awaits, timers and a click listener", async () => {
    const seen = await runScenario("zone");
    expect(seen).toEqual(Object.fromEntries(ALL.map((point) => [point, "s-scope"])));
    expect(seen.outside).toBeUndefined();
    for (const name of ["before-await", "after-await", "in-timer", "on-click"]) {
      expect(byName(name)?.session_id, name).toBe("s-scope");
    }
  });

  it("without zone.js, the scope ends at the first await; trace handles opened before it keep the id", async () => {
    const seen = await runScenario("app");
    expect(seen).toEqual({ sync: "s-scope" });
    const before = byName("before-await")!;
    expect(before.session_id).toBe("s-scope");
    expect(before.spans.map((s) => s.name)).toEqual(["child-after-await"]);
    for (const name of ["after-await", "in-timer", "on-click"]) expect(byName(name)?.session_id, name).toBeUndefined();
  });
});
