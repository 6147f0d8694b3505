import { AsyncLocalStorageContextManager } from "./context/async-local-storage.js";
import { setContextManager } from "./context/context-manager.js";
import { nodePlatform } from "./platform/node.js";
import { setPlatform } from "./platform/platform.js";

// Node entry: scopes ride on AsyncLocalStorage; traces leave through the batching HTTP exporter.
setContextManager(new AsyncLocalStorageContextManager());
setPlatform(nodePlatform);

export * from "./api.js";
