import type { SettleOutcome } from "./types.js";

/**
 * Scores and spans of a trace go only after the trace itself was accepted: the backend answers
 * 500 (score) or 404 (spans) for a trace it has not persisted. The gate tracks, per trace id, the
 * `POST /traces` envelopes still under way, by enqueue order, so a follower waits only for those
 * enqueued before it (waiting for later ones could deadlock a slot on an envelope queued behind).
 */

/** Paths whose request names a trace that must exist first. */
export function followsTrace(path: string): boolean {
  return path === "/evaluations/trace-scores" || /^\/traces\/[^/]+\/spans$/.test(path);
}

interface TraceState {
  /** Enqueue seqs of this trace's `/traces` envelopes not yet settled (mostly one). */
  readonly pending: number[];
  delivered: boolean;
  /** How the last undelivered one left, when none was delivered. */
  failed?: Exclude<SettleOutcome, "delivered">;
  /** Followers waiting, each for the envelopes enqueued before its own seq; made when one waits. */
  waiters?: { seq: number; resolve: (decision: GateDecision) => void }[];
}

/** What a follower does once its trace's earlier envelopes have left: go, or leave as its trace did. */
export type GateDecision = "send" | Exclude<SettleOutcome, "delivered">;

export class TraceGate {
  private readonly traces = new Map<string, TraceState>();

  /** A `/traces` envelope of `traceId` entered the queue as `seq`. */
  queued(traceId: string, seq: number): void {
    let state = this.traces.get(traceId);
    if (state === undefined) this.traces.set(traceId, (state = { pending: [seq], delivered: false }));
    else state.pending.push(seq);
  }

  /** That envelope left: followers with nothing earlier under way get their decision. */
  settled(traceId: string, seq: number, outcome: SettleOutcome): void {
    const state = this.traces.get(traceId);
    const index = state?.pending.indexOf(seq) ?? -1;
    if (state === undefined || index < 0) return;
    state.pending.splice(index, 1);
    if (outcome === "delivered") state.delivered = true;
    else if (!state.delivered) state.failed = outcome;
    // Most traces never have a follower wait on them: nothing to sort, nothing to allocate.
    const waiters = state.waiters;
    const ready = waiters?.filter((w) => !this.earlierPending(state, w.seq));
    if (waiters !== undefined) state.waiters = waiters.filter((w) => this.earlierPending(state, w.seq));
    // A trace with nothing under way is forgotten: a later follower simply goes (its trace left before it came).
    if (state.pending.length === 0 && !state.waiters?.length) this.traces.delete(traceId);
    if (ready !== undefined) for (const w of ready) w.resolve(this.decision(state));
  }

  /**
   * For a follower enqueued as `seq`: its decision now, or a promise of it once the trace's
   * envelopes enqueued before it have left. A trace refused or abandoned takes its followers along.
   */
  decide(traceId: string, seq: number): GateDecision | Promise<GateDecision> {
    const state = this.traces.get(traceId);
    if (state === undefined) return "send";
    if (!this.earlierPending(state, seq)) return this.decision(state);
    return new Promise((resolve) => (state.waiters ??= []).push({ seq, resolve }));
  }

  private earlierPending(state: TraceState, seq: number): boolean {
    for (const pendingSeq of state.pending) if (pendingSeq < seq) return true;
    return false;
  }

  private decision(state: TraceState): GateDecision {
    return state.delivered || state.failed === undefined ? "send" : state.failed;
  }
}
