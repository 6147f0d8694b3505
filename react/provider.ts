"use client";
import * as React from "react";
import type { Client, PandaProbeOptions } from "pandaprobe";
import { optionsKey, standIn } from "./client-cache.js";
import { treeContext, type Tree } from "./context.js";
import { treeId } from "./dev.js";

export interface PandaProbeProviderProps {
  /** Session id of every trace started in this subtree (a conversation); undefined inherits. */
  session?: string;
  /** User id of every trace started in this subtree; undefined inherits. */
  user?: string;
  /** The client to trace with; wins over `options`. */
  client?: Client;
  /**
   * Init options (in a browser: `endpoint` of the app's relay route, no apiKey). The client is made
   * once per distinct options in the browser, never during server rendering.
   */
  options?: PandaProbeOptions;
  children?: React.ReactNode;
}

/**
 * The options with each function (`fetch`) replaced by the stand-in of the first one this
 * provider got there: an inline `fetch={(url, init) => ...}` is a new function per render, and
 * would otherwise be a new configuration, so a new client (and queue) per render.
 */
function useStableOptions(options: PandaProbeOptions | undefined): PandaProbeOptions | undefined {
  const origins = React.useRef<Record<string, (...args: unknown[]) => unknown>>({});
  if (options === undefined) return undefined;
  let stable = options;
  for (const [name, value] of Object.entries(options)) {
    if (typeof value !== "function") {
      delete origins.current[name];
      continue;
    }
    const origin = (origins.current[name] ??= value);
    stable = { ...stable, [name]: standIn(origin, value) };
  }
  return stable;
}

/** Gives its subtree a client and the session and user ids; nested providers override the outer ones. */
export function PandaProbeProvider(props: PandaProbeProviderProps): React.ReactElement {
  const context = treeContext();
  const parent = React.useContext(context);
  const { client } = props;
  const session = treeId(props.session, "<PandaProbeProvider> session");
  const user = treeId(props.user, "<PandaProbeProvider> user");
  const options = useStableOptions(props.options);
  const optionsId = options === undefined ? undefined : optionsKey(options);
  const value = React.useMemo<Tree>(
    () => ({
      client: client ?? (options ? undefined : parent.client),
      options: client ? undefined : (options ?? parent.options),
      session: session ?? parent.session,
      user: user ?? parent.user,
      provided: true,
    }),
    // An inline options={{...}} is a new object per render: its key stands for it, so equal
    // options keep the tree value (and the hooks' functions) stable.
    [parent, client, optionsId, session, user],
  );
  return React.createElement(context.Provider, { value }, props.children);
}

function useOverride(field: "session" | "user", given: string | undefined, children: React.ReactNode): React.ReactElement {
  const id = treeId(given, `<PandaProbe${field === "session" ? "Session" : "User"}> id`);
  const context = treeContext();
  const parent = React.useContext(context);
  const value = React.useMemo<Tree>(
    () => (id === undefined ? parent : { ...parent, [field]: id }),
    [parent, field, id],
  );
  return React.createElement(context.Provider, { value }, children);
}

/** Scopes a session id (a conversation) for its subtree; undefined inherits the outer one. */
export function PandaProbeSession(props: { id?: string; children?: React.ReactNode }): React.ReactElement {
  return useOverride("session", props.id, props.children);
}

/** Scopes a user id for its subtree (a login); undefined inherits the outer one. */
export function PandaProbeUser(props: { id?: string; children?: React.ReactNode }): React.ReactElement {
  return useOverride("user", props.id, props.children);
}
