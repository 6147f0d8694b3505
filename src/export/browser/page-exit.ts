import { jsonByteLength } from "../../wire/serialize.js";
import type { SendResult } from "../http-sender.js";
import type { Envelope } from "../types.js";
import type { BrowserExporterOptions } from "./options.js";

export type PageExit = [
  /** The page is being hidden or closed: what is sent now may have to outlive it. */
  departing: () => boolean,
  /** The page is being hidden or closed (again): starts the departure, with the whole budget if it is a new one. */
  depart: () => void,
  /** Sends copies with `keepalive`, which the browser completes after the page is gone, as far as the budget goes. */
  keepalive: (envelopes: readonly Envelope[]) => void,
  /** The answer to this departure's keepalive copy of a body, which the drain takes instead of sending again. */
  keptCopy: (body: string) => Promise<SendResult> | undefined,
  /** That keepalive copy failed: the body is retried like any other send. */
  forget: (body: string) => void,
  /** Visible again, or restored from the back/forward cache after pagehide: ends the departure. */
  stay: () => void,
];

/**
 * Requests a page makes are cancelled when it closes unless they are sent with `keepalive`, and
 * keepalive requests in flight may carry 64 KiB in all (`keepaliveBudget`, 60 KB by default).
 */
export function createPageExit({ send, keepaliveBudget = 60_000 }: Pick<BrowserExporterOptions, "send" | "keepaliveBudget">): PageExit {
  /** What keepalive may still carry while the page goes away (browsers count requests in flight); undefined while it is visible. */
  let budget: number | undefined;
  /** The keepalive requests of this departure, by body. */
  const leaving = new Map<string, Promise<SendResult>>();

  // - A body goes out with keepalive once per departure.
  // - A body that would overdraw the budget stays behind (a smaller one may still fit).
  // - An answer gives its bytes back, for it is no longer in flight: a tab hidden for long still
  //   has budget when it closes.
  const keepalive = (envelopes: readonly Envelope[]) => {
    for (const envelope of envelopes) {
      if (leaving.has(envelope.body)) continue;
      const bytes = jsonByteLength(envelope.body);
      if (bytes > budget!) continue;
      budget! -= bytes;
      leaving.set(envelope.body, send(envelope, true).finally(() => budget !== undefined && (budget += bytes)));
    }
  };

  // - A page hidden again (pagehide after visibilitychange) goes on with the departure: what is
  //   in flight stays counted.
  const depart = () => {
    budget ??= keepaliveBudget;
  };

  // - Only the page showing again ends the departure, and it forgets its keepalive copies: sends
  //   are ordinary again.
  const stay = () => {
    budget = undefined;
    leaving.clear();
  };

  return [
    () => budget !== undefined,
    depart,
    keepalive,
    (body) => leaving.get(body),
    (body) => void leaving.delete(body),
    stay,
  ];
}
