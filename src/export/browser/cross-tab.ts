/**
 * The tabs of a site share one queue: one sends at a time (Web Locks), the others wake it
 * (BroadcastChannel). A record sent twice is harmless (the backend upserts).
 */

/** The channel on which a tab tells the others that it wrote to the queue; `wake` runs on their messages. */
export function openWakeChannel(name: string, wake: () => void): BroadcastChannel | undefined {
  const channel = typeof BroadcastChannel === "function" ? new BroadcastChannel(name) : undefined;
  if (channel) channel.onmessage = () => wake();
  return channel;
}

/** Runs `send` once no other tab of the site is sending; settles when it is done. */
export function sendAlone(name: string, send: () => Promise<void>): Promise<void> {
  // - Without Web Locks (old browsers, tests) this tab just sends.
  // - A lock that is taken means another tab is sending: this one waits its turn rather than
  //   giving up, for that tab may close (or be discarded) before it reads what this one wrote.
  const locks = (globalThis.navigator as { locks?: LockManager } | undefined)?.locks;
  return locks ? locks.request(name, send) : send();
}
