import { checkOptions } from "../config/check.js";
import { missingCredentials, processEnv, readEnv } from "../config/env.js";
import { BatchExporter } from "../export/batch-exporter.js";
import { createHttpSender } from "../export/http-sender.js";
import { SDK_VERSION } from "../version.js";
import type { Platform } from "./platform.js";

/** Flushes of clients with something to send when Node's event loop drains. */
const live = new Set<() => Promise<void>>();
let exitHookInstalled = false;

/** Servers: credentials from options or the environment, a batching HTTP exporter. */
export const nodePlatform: Platform = {
  env: processEnv,
  readEnv,
  checkOptions,
  refuse: missingCredentials,
  flushOnExit(flush) {
    live.add(flush);
    const proc = (globalThis as { process?: { on?: (event: string, fn: () => void) => void } }).process;
    if (!exitHookInstalled && typeof proc?.on === "function") {
      exitHookInstalled = true;
      // beforeExit fires again after the flush's work is done; an empty flush schedules nothing.
      proc.on("beforeExit", () => {
        for (const f of live) void f();
      });
    }
    return () => live.delete(flush);
  },
  createExporter(config, { report, log }) {
    return new BatchExporter({
      send: createHttpSender({
        endpoint: config.endpoint,
        headers: {
          "Content-Type": "application/json",
          "X-API-Key": config.apiKey ?? "",
          "X-Project-Name": config.projectName ?? "",
          "User-Agent": `pandaprobe-js/${SDK_VERSION}`,
        },
        timeoutMs: config.timeout * 1000,
        fetch: config.fetch,
      }),
      batchSize: config.batchSize,
      flushIntervalMs: config.flushInterval * 1000,
      maxQueueSize: config.maxQueueSize,
      maxRetries: config.maxRetries,
      maxConcurrency: config.maxConcurrentRequests,
      report,
      log,
    });
  },
};
