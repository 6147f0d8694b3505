import * as asyncHooks from "node:async_hooks";
import { runOnlyContextManager, type RunOnlyStorage } from "./context/run-only.js";
import { setContextManager, StackContextManager } from "./context/context-manager.js";
import { edgePlatform } from "./platform/edge.js";
import { setPlatform } from "./platform/platform.js";
import { refuseImperativeIds } from "./trace/trace-context.js";

/**
 * Fetch-based server runtimes (the `workerd`, `edge-light` and `worker` conditions): scopes ride on
 * AsyncLocalStorage from node:async_hooks (Workers with `nodejs_als` or `nodejs_compat`, Vercel and
 * Next.js edge, Deno); where a bundler left the module empty, on the explicit stack (synchronous
 * code, and up to the first await). Only `run` is used: workerd implements no `enterWith`.
 */
const Storage = (asyncHooks as { AsyncLocalStorage?: new () => RunOnlyStorage }).AsyncLocalStorage;
setContextManager(typeof Storage === "function" ? runOnlyContextManager(new Storage()) : new StackContextManager());
setPlatform(edgePlatform);
refuseImperativeIds(
  "setSession()/setUser() set nothing in this runtime: it cannot scope a value to the rest of a request " +
    "(no AsyncLocalStorage.enterWith), and one shared by every concurrent request would mix their ids. " +
    "Wrap the request in session(id, fn) / user(id, fn), or pass sessionId/userId to startTrace().",
);

export * from "./api.js";
