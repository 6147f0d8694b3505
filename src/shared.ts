import type { Client } from "./client/client.js";
import type { ContextManager } from "./context/context.js";
import type { Platform } from "./platform/platform.js";
import type { ErrorHandler } from "./client/report.js";

/**
 * The SDK's global state, one per realm however many copies of the SDK are loaded: an app that
 * both imports (ESM) and requires (CommonJS) pandaprobe, or bundles both builds, still has one
 * global client, one carrier of scopes and one set of error handlers, as OpenTelemetry's API keeps
 * its globals. The key names this shape: a change to it takes a new key.
 */
export interface Shared {
  client?: Client;
  autoInitDone?: boolean;
  /** The disabled client that hands out non-recording traces while there is no global one. */
  inert?: Client;
  /** Shutdowns of the clients init() replaced, which flush() and shutdown() wait for. */
  retired?: Promise<unknown>;
  manager?: ContextManager;
  platform?: Platform;
  handlers: Set<ErrorHandler>;
}

const KEY = Symbol.for("pandaprobe.shared.v1");

export const shared: Shared = ((globalThis as { [KEY]?: Shared })[KEY] ??= { handlers: new Set() });
