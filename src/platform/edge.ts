import { checkOptions } from "../config/check.js";
import { missingCredentials, processEnv, readEnv } from "../config/env.js";
import { BatchExporter } from "../export/batch-exporter.js";
import { createHttpSender } from "../export/http-sender.js";
import { keepAliveWith } from "../export/keep-alive.js";
import { createSpanHold } from "../export/span-hold.js";
import { SDK_VERSION } from "../base/version.js";
import type { Platform } from "./platform.js";
import { waitUntilFinder } from "./wait-until.js";

/**
 * Fetch-based server runtimes (Cloudflare Workers, Vercel and Next.js edge, Deno Deploy): the
 * server's credentials and environment, fetch as the transport, no exit hook (an isolate is never
 * told it is going away).
 *
 * Workers let a request's code do I/O only for that request, and stop what it started once its
 * response and its waitUntil promises are done. So by default each ended trace is sent at once,
 * from the request that ended it (`exportMode: "immediate"`), and no delivery ever waits for a
 * slot another request would free: the in-flight bound is the queue's.
 */
export const edgePlatform: Platform = {
  env: processEnv,
  readEnv,
  checkOptions,
  refuse: missingCredentials,
  defaults: { exportMode: "immediate" },
  spanHold: (config) => (config.exportMode === "immediate" ? undefined : (send) => createSpanHold(config.flushInterval * 1000, send)),
  createExporter(config, { report, log }) {
    const immediate = config.exportMode === "immediate";
    const send = createHttpSender({
      endpoint: config.endpoint,
      headers: {
        "X-API-Key": config.apiKey ?? "",
        "X-Project-Name": config.projectName ?? "",
        "User-Agent": `pandaprobe-js/${SDK_VERSION}`,
      },
      timeoutMs: config.timeout * 1000,
      fetch: config.fetch,
    });
    const batch = new BatchExporter({
      send,
      batchSize: immediate ? 1 : config.batchSize,
      flushIntervalMs: config.flushInterval * 1000,
      maxQueueSize: config.maxQueueSize,
      maxRetries: config.maxRetries,
      maxConcurrency: immediate ? config.maxQueueSize : config.maxConcurrentRequests,
      report,
      log,
    });
    return keepAliveWith(batch, waitUntilFinder(config));
  },
};
