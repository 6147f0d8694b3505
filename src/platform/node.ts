import { checkOptions } from "../config/check.js";
import { missingCredentials, processEnv, readEnv } from "../config/env.js";
import { BatchExporter } from "../export/batch-exporter.js";
import { createSpanHold } from "../export/span-hold.js";
import { DurableExporter } from "../export/durable-exporter.js";
import { FileQueue } from "../export/file-queue.js";
import { createHttpSender } from "../export/http-sender.js";
import { createNodeHttpSender } from "../export/node-http-sender.js";
import { SDK_VERSION } from "../base/version.js";
import { keepAliveWith } from "../export/keep-alive.js";
import type { Platform } from "./platform.js";
import { waitUntilFinder } from "./wait-until.js";

/** Flushes of clients with something to send when Node's event loop drains. */
const live = new Set<() => Promise<void>>();
let exitHookInstalled = false;
/** How long a draining process is held for deliveries still under way; the Python SDK waits as long at exit. */
const EXIT_GRACE_MS = 10_000;
/** Set while an exit flush runs: later `beforeExit`s hold the process only within the same grace. */
let exitDeadline: number | undefined;

function onBeforeExit(): void {
  exitDeadline ??= Date.now() + EXIT_GRACE_MS;
  // A custom exporter's flush may throw or reject: neither may reach the host as its own error.
  const flushed = Promise.all([...live].map((f) => new Promise<void>((resolve) => resolve(f()))));
  const left = exitDeadline - Date.now();
  // Retry timers never hold a process on their own; while it drains they must, or an envelope
  // waiting to retry (a 429's Retry-After, a 503) is lost without a word.
  const hold = left > 0 ? setTimeout(() => {}, left) : undefined;
  const done = () => {
    clearTimeout(hold);
    exitDeadline = undefined;
  };
  flushed.then(done, done);
}

/** Servers: credentials from options or the environment, a batching HTTP exporter. */
export const nodePlatform: Platform = {
  env: processEnv,
  readEnv,
  checkOptions,
  refuse: missingCredentials,
  // The batch exporter's own cadence: holding a trace as long adds no delay a flush would not.
  // A short-lived function (immediate mode) may be frozen before the hold ends.
  spanHold: (config) => (config.exportMode === "immediate" ? undefined : (send) => createSpanHold(config.flushInterval * 1000, send)),
  flushOnExit(flush) {
    live.add(flush);
    const proc = (globalThis as { process?: { on?: (event: string, fn: () => void) => void } }).process;
    if (!exitHookInstalled && typeof proc?.on === "function") {
      exitHookInstalled = true;
      // beforeExit fires again after the flush's work is done; an empty flush holds nothing.
      // Next.js's edge sandbox defines process.on to throw: no exit hook there, and no error.
      try {
        proc.on("beforeExit", onBeforeExit);
      } catch {
        // Nothing to hook: the runtime does not exit as Node does.
      }
    }
    return () => live.delete(flush);
  },
  createExporter(config, { report, log }) {
    const target = {
      endpoint: config.endpoint,
      headers: {
        "Content-Type": "application/json",
        "X-API-Key": config.apiKey ?? "",
        "X-Project-Name": config.projectName ?? "",
        "User-Agent": `pandaprobe-js/${SDK_VERSION}`,
      },
      timeoutMs: config.timeout * 1000,
    };
    const batch = new BatchExporter({
      // node:http costs a fraction of fetch's CPU per request; a `fetch` option (a proxy, a test stub) is used as given.
      send: config.fetch
        ? createHttpSender({ ...target, fetch: config.fetch })
        : createNodeHttpSender({ ...target, maxSockets: config.maxConcurrentRequests }),
      batchSize: config.exportMode === "immediate" ? 1 : config.batchSize,
      flushIntervalMs: config.flushInterval * 1000,
      maxQueueSize: config.maxQueueSize,
      maxRetries: config.maxRetries,
      maxConcurrency: config.maxConcurrentRequests,
      report,
      log,
    });
    const { queueDir } = config;
    const exporter =
      queueDir === undefined
        ? batch
        : new DurableExporter({
            open: () => FileQueue.open({ dir: queueDir, maxBytes: config.maxQueueBytes }),
            inner: batch,
            capacity: config.maxQueueSize,
            scanIntervalMs: config.flushInterval * 1000,
            report,
            log,
          });
    return keepAliveWith(exporter, waitUntilFinder(config));
  },
};
