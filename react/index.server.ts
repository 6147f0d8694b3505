/**
 * `pandaprobe/react` under the `react-server` condition (React Server Components): no hooks and no
 * context here. The provider renders the client one, whose module RSC bundlers turn into a client
 * reference; it is safe to evaluate anyway, as it creates its context on first use.
 */
import { createElement, type ReactElement, type ReactNode } from "react";
import type { PandaProbeOptions } from "pandaprobe";
import { PandaProbeProvider as ClientProvider } from "./provider.js";

export { PandaProbeSession, PandaProbeUser } from "./provider.js";
export { withPandaProbe } from "./with-ids.js";

export interface PandaProbeServerProviderProps {
  session?: string;
  user?: string;
  /** Plain data only: props cross to the browser, so no `fetch`, `exporter` or client here. */
  options?: PandaProbeOptions;
  children?: ReactNode;
}

/** Hands the request's ids (and the browser client's options) to the client components below. */
export function PandaProbeProvider(props: PandaProbeServerProviderProps): ReactElement {
  const { children, ...rest } = props;
  return createElement(ClientProvider, rest, children);
}
