import { DEV } from "../base/dev.js";
import { createBrowserExporter } from "../export/browser/exporter.js";
import { createBrowserHttpSender } from "../export/http-sender.js";
import { openIdbStore } from "../export/browser/idb-store.js";
import { memoryStore } from "../export/browser/store.js";
import { DEFAULT_ENDPOINT, DEFAULT_MAX_BODY_BYTES } from "../wire/endpoint.js";
import type { Platform } from "./platform.js";

const QUEUE_NAME = "pandaprobe-queue";
/** Bytes the queue may hold across tabs; the count bound is `maxQueueSize`. */
const MAX_QUEUE_BYTES = 8 * 1024 * 1024;

/**
 * Browsers: no process environment, no secret key (the page sends to the app's relay route), and
 * an IndexedDB queue that holds every trace until the backend acknowledged it.
 */
export const browserPlatform: Platform = {
  env: () => undefined,
  // A body over the relay's default cap would be refused with 413 and lost: pages truncate to it
  // instead (an app that raises the relay's maxBodyBytes raises maxPayloadSize with it).
  defaults: { maxPayloadSize: DEFAULT_MAX_BODY_BYTES },
  // Refused in production builds as well; the explanation of how to set up a relay is for developers.
  refuse(config) {
    if (!config.apiKey && config.endpoint === DEFAULT_ENDPOINT) {
      return DEV && process.env.NODE_ENV !== "production"
        ? "in a browser, set endpoint to your app's relay route (served by createRelayHandler from 'pandaprobe/relay')."
        : "in a browser, set endpoint to your app's relay route.";
    }
    if (config.apiKey && !config.dangerouslyAllowBrowser) {
      return DEV && process.env.NODE_ENV !== "production"
        ? "an apiKey in a browser would expose your secret key to every visitor. Send to your app's relay " +
            "route instead (endpoint: '/api/pandaprobe', served by createRelayHandler from 'pandaprobe/relay'), " +
            "or set dangerouslyAllowBrowser: true if this page is private."
        : "an apiKey in a browser is refused without dangerouslyAllowBrowser: true.";
    }
    return undefined;
  },
  createExporter(config, { report, log }) {
    const bounds = { maxCount: config.maxQueueSize, maxBytes: MAX_QUEUE_BYTES };
    const headers: Record<string, string> = {};
    if (config.apiKey) headers["X-API-Key"] = config.apiKey;
    if (config.projectName) headers["X-Project-Name"] = config.projectName;
    return createBrowserExporter({
      openStore: (onClosed) => openIdbStore(QUEUE_NAME, bounds, onClosed),
      memoryStore: memoryStore(bounds),
      send: createBrowserHttpSender({ endpoint: config.endpoint, headers, timeoutMs: config.timeout * 1000, fetch: config.fetch }),
      name: QUEUE_NAME,
      batchSize: config.batchSize,
      flushIntervalMs: config.flushInterval * 1000,
      maxConcurrency: config.maxConcurrentRequests,
      report,
      log,
    });
  },
};
