"use client";
import * as React from "react";
import type { Client, PandaProbeOptions } from "pandaprobe";

/** What a point of the tree knows: where its client comes from, and its session and user ids. */
export interface Tree {
  /** A client handed to a provider (`client` prop). */
  readonly client: Client | undefined;
  /** Init options of the nearest provider that had no `client`; the client is made from them in the browser. */
  readonly options: PandaProbeOptions | undefined;
  readonly session: string | undefined;
  readonly user: string | undefined;
  /** False outside every `<PandaProbeProvider>`: the hooks then fall back to the core. */
  readonly provided: boolean;
}

export const NO_PROVIDER: Tree = {
  client: undefined,
  options: undefined,
  session: undefined,
  user: undefined,
  provided: false,
};

let context: React.Context<Tree> | undefined;

/**
 * Created on first use, not at import: under the `react-server` condition React has no
 * `createContext`, and the server entry imports this module to render the client provider.
 */
export function treeContext(): React.Context<Tree> {
  return (context ??= React.createContext(NO_PROVIDER));
}
