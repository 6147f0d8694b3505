/**
 * Pacing against a fixed-window rate limit that answers 429 without `Retry-After` (PandaProbe:
 * 100 `POST /traces` per minute per API key, the window starting with the key's first request).
 *
 * Per route, sends are counted in windows that open with the first send after the previous one
 * ended. A 429 in a window where N requests were accepted teaches the limit N: the route waits
 * until the window ends, then sends at most N per window, so a burst costs one 429 and then none.
 * A 429 with nothing accepted (another process used the key's quota, or our window estimate is
 * off) waits one whole window from now: whatever window the server counts in has ended by then.
 */

/** The backend's window: a fixed minute per API key. */
export const RATE_WINDOW_MS = 60_000;

/** Why a route is held back. */
export type DelayReason = "retry-after" | "rate-limited" | "paced";

export type Reservation =
  /** Send now; hand `ticket` back to `answered`. */
  | { readonly ticket: number }
  /** Ask again at `until` (`ms` from now). `limit` is the learned requests per window, if any. */
  | { readonly ms: number; readonly until: number; readonly reason: DelayReason; readonly limit?: number };

interface RouteState {
  /** Id of the open window; 0 when none is open. */
  window: number;
  /** Estimated end of the open window; the first send at or after it opens a new one. */
  windowEnd: number;
  /** Whether an answer to a send of the open window arrived (the server's window began before it). */
  answered: boolean;
  sent: number;
  accepted: number;
  /** Requests per window, learned from a 429; undefined until one came. */
  limit?: number;
  /** The window the limit was learned in: answers still arriving from it may raise the limit. */
  learnedIn: number;
  blockedUntil: number;
  blockReason: DelayReason;
}

/** Routes share a server limit per endpoint, not per URL: `/traces/{id}/spans` is one route. */
export function routeOf(path: string): string {
  return path.replace(/^\/traces\/[^/]+\/spans$/, "/traces/{id}/spans");
}

export class Pacer {
  private readonly routes = new Map<string, RouteState>();
  private lastWindow = 0;
  /** Slack after the estimated end, for timer and clock rounding on either side. */
  private readonly marginMs: number;

  constructor(
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.marginMs = Math.ceil(windowMs / 100);
  }

  /** The requests per window learned for the route, if any. */
  limit(route: string): number | undefined {
    return this.routes.get(route)?.limit;
  }

  /** How long the route must wait before its next send; 0 when it may send now. */
  waitMs(route: string): number {
    const s = this.state(route);
    const now = this.now();
    const until = now < s.blockedUntil ? s.blockedUntil : s.limit !== undefined && s.sent >= s.limit && now < s.windowEnd ? s.windowEnd : now;
    return until - now;
  }

  /** Counts a send when the route may send now; otherwise says how long to wait. */
  reserve(route: string): Reservation {
    const s = this.state(route);
    const now = this.now();
    if (now < s.blockedUntil) return this.delay(s, s.blockedUntil, s.blockReason, now);
    if (s.window === 0 || now >= s.windowEnd) this.open(s, now);
    if (s.limit !== undefined && s.sent >= s.limit) return this.delay(s, s.windowEnd, "paced", now);
    s.sent++;
    return { ticket: s.window };
  }

  /**
   * Learns from the answer to a send `reserve` allowed. `status` is undefined for a network failure;
   * `retryAfterMs` is the (already capped) Retry-After of a 429, which then decides alone.
   */
  answered(route: string, ticket: number, status: number | undefined, retryAfterMs?: number): void {
    const s = this.state(route);
    const now = this.now();
    const current = ticket === s.window;
    if (current && !s.answered) {
      // The server opened its window no later than this answer: counting from here never ends early.
      s.answered = true;
      s.windowEnd = now + this.windowMs + this.marginMs;
    }
    if (status !== 429) {
      if (current && status !== undefined) s.accepted++;
      if (ticket === s.learnedIn && s.limit !== undefined) s.limit = Math.max(s.limit, s.accepted);
      return;
    }
    if (retryAfterMs !== undefined) return this.block(s, now + retryAfterMs, "retry-after");
    // A 429 to a send of an earlier window says nothing about this one; its retry will learn.
    if (!current) return;
    if (s.accepted > 0) {
      s.limit = s.accepted;
      s.learnedIn = s.window;
      this.block(s, s.windowEnd, "rate-limited");
    } else {
      s.window = 0;
      this.block(s, now + this.windowMs + this.marginMs, "rate-limited");
    }
  }

  private open(s: RouteState, now: number): void {
    s.window = ++this.lastWindow;
    s.windowEnd = now + this.windowMs + this.marginMs;
    s.answered = false;
    s.sent = 0;
    s.accepted = 0;
  }

  private block(s: RouteState, until: number, reason: DelayReason): void {
    if (until <= s.blockedUntil) return;
    s.blockedUntil = until;
    s.blockReason = reason;
  }

  private delay(s: RouteState, until: number, reason: DelayReason, now: number): Reservation {
    return { ms: until - now, until, reason, ...(s.limit === undefined ? {} : { limit: s.limit }) };
  }

  private state(route: string): RouteState {
    let s = this.routes.get(route);
    if (s === undefined) {
      s = { window: 0, windowEnd: 0, answered: false, sent: 0, accepted: 0, learnedIn: 0, blockedUntil: 0, blockReason: "paced" };
      this.routes.set(route, s);
    }
    return s;
  }
}
