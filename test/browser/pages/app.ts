/**
 * The app every browser test page runs: the SDK from src/index.browser.ts, initialised on load the
 * way an app would (relay endpoint, no key), plus `window.pp`, the handles the tests drive through
 * `page.evaluate`. Options come from the `options` query parameter (JSON) over the defaults.
 */
import { getSessionId, init, onError, session, startTrace, flush } from "../../../src/index.browser.js";

/** The IndexedDB database the SDK's queue lives in (src/platform/browser.ts). */
const QUEUE_DB = "pandaprobe-queue";

export interface PageApi {
  /** Background errors the SDK reported, in order. */
  errors: { code: string; message: string }[];
  /** Ends `count` traces named `${label}-${i}`, each with `spans` spans carrying `spanBytes` of input; returns their ids. */
  makeTraces(label: string, count: number, spans?: number, spanBytes?: number): string[];
  /** From now on, the page's own `pagehide` listener ends `count` traces (apps closing work as the user leaves). */
  endOnPagehide(label: string, count: number): void;
  /** Records waiting in the SDK's IndexedDB queue (read with raw IndexedDB, as DevTools would). */
  queued(): Promise<number>;
  flush(): Promise<void>;
  /** What `getSessionId()` returned at each point of the scoped-context scenario. */
  seen: Record<string, string | undefined>;
  /** session("s-scope", async ...) across a sync start, awaits, a timer and a click listener. */
  contextScenario(): Promise<void>;
}

declare global {
  interface Window {
    pp: PageApi;
  }
}

const errors: PageApi["errors"] = [];

function makeTraces(label: string, count: number, spans = 1, spanBytes = 16): string[] {
  const input = "x".repeat(spanBytes);
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const trace = startTrace(`${label}-${i}`, { input: { messages: [{ role: "user", content: `question ${i}` }] } });
    for (let s = 0; s < spans; s++) trace.span(`step-${s}`, { kind: "TOOL", input }).setOutput("ok").end();
    trace.setOutput({ messages: [{ role: "assistant", content: `answer ${i}` }] });
    trace.end();
    ids.push(trace.traceId);
  }
  return ids;
}

function endOnPagehide(label: string, count: number): void {
  addEventListener("pagehide", () => makeTraces(label, count));
}

async function queued(): Promise<number> {
  // Opening a database that does not exist would create it without the SDK's stores.
  const known = await indexedDB.databases();
  if (!known.some((db) => db.name === QUEUE_DB)) return 0;
  return new Promise((resolve, reject) => {
    const open = indexedDB.open(QUEUE_DB);
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const db = open.result;
      const count = db.transaction("records").objectStore("records").count();
      count.onsuccess = () => {
        db.close();
        resolve(count.result);
      };
      count.onerror = () => reject(count.error);
    };
  });
}

const seen: PageApi["seen"] = {};
const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Compiled to ES2016 in the zone page, so its awaits are generator steps zone.js can follow. */
async function contextScenario(): Promise<void> {
  const button = document.getElementById("btn")!;
  await session("s-scope", async () => {
    const before = startTrace("before-await");
    seen.sync = getSessionId();
    await Promise.resolve();
    seen.afterMicrotask = getSessionId();
    await delay(5);
    seen.afterTimerAwait = getSessionId();
    startTrace("after-await").end();
    before.span("child-after-await").end();
    before.end();
    await new Promise<void>((resolve) =>
      setTimeout(() => {
        seen.inTimer = getSessionId();
        startTrace("in-timer").end();
        resolve();
      }, 5),
    );
    button.addEventListener(
      "click",
      () => {
        seen.onClick = getSessionId();
        startTrace("on-click").end();
      },
      { once: true },
    );
  });
  seen.outside = getSessionId();
}

/**
 * Starts the app. Called by the page entries: package.json lists only the SDK entries as having side
 * effects, so a bundler drops a bare `import "./app.js"` of this repository's files.
 */
export function start(): void {
  onError((error) => errors.push({ code: (error as { code?: string }).code ?? "unknown", message: error.message }));
  const query = new URLSearchParams(location.search).get("options");
  init({ endpoint: "/api/pandaprobe", flushInterval: 0.2, ...(query ? JSON.parse(query) : {}) });
  window.pp = { errors, makeTraces, endOnPagehide, queued, flush, seen, contextScenario };
}
