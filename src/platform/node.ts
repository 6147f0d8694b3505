import { missingCredentials, processEnv } from "../config/options.js";
import { BatchExporter } from "../export/batch-exporter.js";
import { createHttpSender } from "../export/http-sender.js";
import { SDK_VERSION } from "../version.js";
import type { Platform } from "./platform.js";

/** Servers: credentials from options or the environment, a batching HTTP exporter. */
export const nodePlatform: Platform = {
  env: processEnv,
  refuse: missingCredentials,
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
