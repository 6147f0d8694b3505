import { DEV } from "./base/dev.js";
import { checkOptions } from "./config/check.js";
import { setContextManager, StackContextManager } from "./context/context-manager.js";
import { loadedZone, ZoneContextManager } from "./context/zone.js";
import { browserPlatform } from "./platform/browser.js";
import { setPlatform } from "./platform/platform.js";

// Browser entry: scopes ride on zones when the app loads zone.js, else on an explicit stack
// (synchronous code and up to the first await); traces wait in IndexedDB until acknowledged.
const zone = loadedZone();
setContextManager(zone ? new ZoneContextManager(zone) : new StackContextManager());
// Option checks are for developers: production bundles leave them out, as React does its warnings.
setPlatform(DEV && process.env.NODE_ENV !== "production" ? { ...browserPlatform, checkOptions } : browserPlatform);

export * from "./api.js";
