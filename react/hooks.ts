"use client";
import * as React from "react";
import {
  getSessionId,
  getUserId,
  span,
  startTrace as coreStartTrace,
  trace as coreTrace,
  type Client,
  type Trace,
  type TraceOptions,
} from "pandaprobe";
import { resolveClient } from "./client-cache.js";
import { treeContext, type Tree } from "./context.js";
import { warnWithoutProvider } from "./dev.js";

/**
 * The core's `startTrace`, `trace` and `span`, with the tree's session and user ids as defaults
 * (`trace` and `span` as function wrappers, their form a client has, without the method-decorator one).
 */
export interface BoundTrace {
  startTrace: typeof coreStartTrace;
  trace: Client["trace"];
  span: Client["span"];
}

function useTree(hook: string): Tree {
  const tree = React.useContext(treeContext());
  if (!tree.provided) warnWithoutProvider(hook);
  return tree;
}

const subscribeNothing = () => () => {};

/**
 * False on the server and in the hydrating render, true after: the provider's client is made only
 * in a browser render, and the hydrating render matches the server's.
 */
function useHydrated(): boolean {
  return React.useSyncExternalStore(
    subscribeNothing,
    () => true,
    () => false,
  );
}

/** The client of this point of the tree: the provider's, else the core's global one. */
export function usePandaProbe(): Client | undefined {
  const tree = useTree("usePandaProbe");
  const hydrated = useHydrated();
  return hydrated ? resolveClient(tree) : tree.client;
}

/** The effective session id here: the tree's, else the core's (scoped, then imperative) at render time. */
export function useSession(): string | undefined {
  return useTree("useSession").session ?? getSessionId();
}

export function useUser(): string | undefined {
  return useTree("useUser").user ?? getUserId();
}

/**
 * The tree's ids go in as if they were options the caller left out: an explicit option wins over
 * them, and they win over scoped (`session()`) and imperative (`setSession`) ids, which the core
 * still applies where the tree has none.
 */
function withTreeIds<O extends TraceOptions>(tree: Tree, options: O | undefined): O | undefined {
  if (tree.session === undefined && tree.user === undefined) return options;
  const bound = { ...options } as O;
  if (bound.sessionId === undefined && tree.session !== undefined) bound.sessionId = tree.session;
  if (bound.userId === undefined && tree.user !== undefined) bound.userId = tree.user;
  return bound;
}

function bind(tree: Tree): BoundTrace {
  // The client is looked up per call: in a browser the first trace can be what makes the provider's
  // client (a server has none from options), and one init()ed later is picked up.
  const startTrace = ((name: string, options?: TraceOptions, fn?: (trace: Trace) => unknown) => {
    const client = resolveClient(tree);
    const bound = withTreeIds(tree, options);
    if (fn === undefined) return client ? client.startTrace(name, bound) : coreStartTrace(name, bound);
    return client ? client.startTrace(name, bound, fn) : coreStartTrace(name, bound, fn);
  }) as typeof coreStartTrace;
  const trace: Client["trace"] = (fn, options) => {
    const bound = withTreeIds(tree, options);
    const wrap = (client: Client | undefined) => (client ? client.trace(fn, bound) : coreTrace(fn, bound));
    // Wrapped now, so a mistake is an error here; rewrapped when a call finds another client
    // (an app's init() replaced the one of the wrapping), as the core's trace() looks it up per call.
    let client = resolveClient(tree);
    let traced = wrap(client);
    const wrapper = function (this: unknown, ...args: unknown[]) {
      const now = resolveClient(tree);
      if (now !== client) traced = wrap((client = now));
      return traced.apply(this, args);
    };
    Object.defineProperty(wrapper, "name", { value: fn.name, configurable: true });
    Object.defineProperty(wrapper, "length", { value: fn.length, configurable: true });
    return wrapper as typeof fn;
  };
  return { startTrace, trace, span };
}

/**
 * `{ startTrace, trace, span }` bound to the tree's ids; the same functions while the ids and the
 * client stay, new ones when they change. A function kept from an earlier render keeps that
 * render's ids, so a flow that began in one conversation finishes in it.
 */
export function useTrace(): BoundTrace {
  const tree = useTree("useTrace");
  return React.useMemo(() => bind(tree), [tree]);
}
