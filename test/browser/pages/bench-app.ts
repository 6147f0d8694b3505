/**
 * The benchmark page: the test app plus `window.bench`, run by bench/browser.mjs.
 */
import { startTrace } from "../../../src/index.browser.js";
import { start } from "./app.js";

export interface EndTimings {
  /** performance.now() around trace.end(): the synchronous part, on the interaction path. */
  endMs: number[];
  /** From trace.end() returning to the trace being committed to IndexedDB (wall time, for information). */
  persistedMs: number[];
  /** Whether performance.now() has its fine (5 µs) resolution. */
  isolated: boolean;
}

declare global {
  interface Window {
    bench: {
      timeEnd(count: number, spans: number, spanBytes: number, gapMs: number): Promise<EndTimings>;
      fetchRate(count: number, concurrency: number, bytes: number): Promise<number>;
    };
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** gapMs between traces keeps production under the drain rate, so the byte bound never evicts. */
async function timeEnd(count: number, spans: number, spanBytes: number, gapMs: number): Promise<EndTimings> {
  // The exporter posts on this channel once a batch is committed; another instance hears it.
  const channel = new BroadcastChannel("pandaprobe-queue");
  const endMs: number[] = [];
  const persistedMs: number[] = [];
  for (let i = 0; i < count; i++) {
    const trace = startTrace(`bench-${i}`, { input: { messages: [{ role: "user", content: `question ${i}` }] } });
    for (let s = 0; s < spans; s++) {
      trace.span(`step-${s}`, { kind: "TOOL", input: `${i}:${s}:`.padEnd(spanBytes, "x") }).setOutput("ok").end();
    }
    // Each end in a task of its own, like one interaction's handler.
    await sleep(gapMs);
    const committed = new Promise<number>((resolve) => (channel.onmessage = () => resolve(performance.now())));
    const before = performance.now();
    trace.end();
    const after = performance.now();
    endMs.push(after - before);
    persistedMs.push((await committed) - after);
  }
  channel.close();
  return { endMs, persistedMs, isolated: globalThis.crossOriginIsolated };
}

/** Requests per second the page gets from plain fetch through the relay: the ceiling of any drain. */
async function fetchRate(count: number, concurrency: number, bytes: number): Promise<number> {
  const body = "x".repeat(bytes);
  let next = 0;
  const worker = async () => {
    while (next++ < count) await (await fetch("/api/pandaprobe/ping", { method: "POST", body })).text();
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  return count / ((performance.now() - started) / 1000);
}

start();
window.bench = { timeEnd, fetchRate };
