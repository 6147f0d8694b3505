/**
 * The headers that carry a PandaProbe trace from one tier to the next (W3C Trace Context and
 * W3C Baggage), and their parsing. Pure functions: no SDK state.
 *
 *   traceparent: 00-<trace id: the trace's UUID, 32 hex>-<parent id: first 16 hex of the span's UUID>-<01: sampled, 00: not>
 *   tracestate:  pandaprobe=<the span's whole UUID, 32 hex, or "t" for the trace itself>[,<other vendors' entries>]
 *   baggage:     pandaprobe.session_id=<percent-encoded>,pandaprobe.user_id=<percent-encoded>
 *
 * The trace id maps both ways (a UUID is 128 bits, as is a W3C trace id). A span id is a UUID too,
 * 128 bits, which the 64-bit parent id cannot hold: it carries the span's first 64 bits (other
 * tools see a valid, stable parent id) and the whole span id travels in the `pandaprobe`
 * tracestate entry. A request without that entry was not sent by a PandaProbe-traced tier and is
 * not continued: nothing says its trace exists in PandaProbe. Work done in a trace outside any of
 * its spans hangs at the trace's top level: the entry is `t` and the parent id is the first 64 bits
 * of the trace id (W3C wants a non-zero one). The sampled flag hands on the decision of the tier
 * that started the trace, which every tier after it follows.
 */

import { UUID_PATTERN } from "../wire/ids.js";

export const TRACESTATE_KEY = "pandaprobe";
export const SESSION_BAGGAGE_KEY = "pandaprobe.session_id";
export const USER_BAGGAGE_KEY = "pandaprobe.user_id";

/** What one tier hands the next: where its work hangs in the trace, and the trace's ids. */
export interface RemoteParent {
  /** The trace's UUID. */
  traceId: string;
  /** The UUID of the span the next tier's work is a child of; undefined: the trace's top level. */
  parentSpanId: string | undefined;
  sessionId?: string;
  userId?: string;
  /** False when the tier that started the trace sampled it out (traceparent flag 00). */
  sampled?: boolean;
}

/** The tracestate value that stands for the trace itself rather than one of its spans. */
const TOP_LEVEL = "t";
const HEX32 = /^[0-9a-f]{32}$/;
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZEROS = /^0+$/;
/** The spec's cap on a baggage header, which a server may enforce; ids beyond it are not sent. */
const MAX_BAGGAGE_BYTES = 8192;

/** `0af76519-16cd-43dd-8448-eb211c80319c` -> `0af7651916cd43dd8448eb211c80319c`; undefined when not a UUID. */
export function uuidToHex(id: string): string | undefined {
  const lower = id.toLowerCase();
  return UUID_PATTERN.test(lower) ? lower.replace(/-/g, "") : undefined;
}

/** The reverse of `uuidToHex`; undefined when not 32 hex digits. */
export function hexToUuid(hex: string): string | undefined {
  if (!HEX32.test(hex)) return undefined;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The three headers for a trace and span (the `baggage` one only when there is an id to carry). */
export function formatTraceHeaders(parent: RemoteParent): Record<string, string> {
  const trace = uuidToHex(parent.traceId);
  const span = parent.parentSpanId === undefined ? TOP_LEVEL : uuidToHex(parent.parentSpanId);
  if (trace === undefined || span === undefined) return {};
  const headers: Record<string, string> = {
    traceparent: `00-${trace}-${(span === TOP_LEVEL ? trace : span).slice(0, 16)}-${parent.sampled === false ? "00" : "01"}`,
    tracestate: `${TRACESTATE_KEY}=${span}`,
  };
  const members: string[] = [];
  if (parent.sessionId !== undefined) members.push(`${SESSION_BAGGAGE_KEY}=${encodeURIComponent(parent.sessionId)}`);
  if (parent.userId !== undefined) members.push(`${USER_BAGGAGE_KEY}=${encodeURIComponent(parent.userId)}`);
  const baggage = members.join(",");
  if (baggage !== "" && baggage.length <= MAX_BAGGAGE_BYTES) headers.baggage = baggage;
  return headers;
}

/**
 * A header value with ours merged into the one a request already has: our tracestate entry goes
 * first (W3C: the updated entry moves to the left) and replaces an earlier one of ours; our
 * baggage members replace earlier ones of the same keys and keep the others.
 */
export function mergeHeader(name: "tracestate" | "baggage", existing: string | null | undefined, ours: string): string {
  if (!existing) return ours;
  const keys = new Set(ours.split(",").map(keyOf));
  const kept = existing
    .split(",")
    .map((member) => member.trim())
    .filter((member) => member !== "" && !keys.has(keyOf(member)));
  return name === "tracestate" ? [ours, ...kept].join(",") : [...kept, ours].join(",");
}

function keyOf(member: string): string {
  const eq = member.indexOf("=");
  return (eq < 0 ? member : member.slice(0, eq)).trim();
}

/** Reads the headers a request carries (names lowercase); undefined where no PandaProbe tier sent it. */
export function parseTraceHeaders(get: (name: string) => string | undefined): RemoteParent | undefined {
  const traceparent = get("traceparent")?.trim().toLowerCase();
  const m = traceparent === undefined ? null : TRACEPARENT.exec(traceparent);
  if (!m) return undefined;
  const [, version, traceHex, parentHex, flags, rest] = m as unknown as [string, string, string, string, string, string?];
  // Version ff is invalid; version 00 has exactly four fields; later versions may append fields.
  if (version === "ff" || (version === "00" && rest !== undefined)) return undefined;
  if (ZEROS.test(traceHex) || ZEROS.test(parentHex)) return undefined;
  const entry = tracestateEntry(get("tracestate"));
  const traceId = hexToUuid(traceHex);
  if (traceId === undefined || entry === undefined) return undefined;
  const parent: RemoteParent = { traceId, parentSpanId: entry === TOP_LEVEL ? undefined : hexToUuid(entry) };
  // Bit 0 of the flags is W3C's "sampled"; the others are not ours to read.
  if (!(parseInt(flags, 16) & 1)) parent.sampled = false;
  const baggage = parseBaggage(get("baggage"));
  const sessionId = baggage.get(SESSION_BAGGAGE_KEY);
  const userId = baggage.get(USER_BAGGAGE_KEY);
  if (sessionId !== undefined) parent.sessionId = sessionId;
  if (userId !== undefined) parent.userId = userId;
  return parent;
}

/** The value of our tracestate entry (the first, should a broken hop have left two). */
function tracestateEntry(header: string | undefined): string | undefined {
  if (!header) return undefined;
  for (const member of header.split(",")) {
    const eq = member.indexOf("=");
    if (eq > 0 && member.slice(0, eq).trim() === TRACESTATE_KEY) {
      const value = member.slice(eq + 1).trim().toLowerCase();
      return HEX32.test(value) || value === TOP_LEVEL ? value : undefined;
    }
  }
  return undefined;
}

/** Our baggage members, decoded; a member that does not decode is left out. */
function parseBaggage(header: string | undefined): Map<string, string> {
  const found = new Map<string, string>();
  if (!header || header.length > MAX_BAGGAGE_BYTES) return found;
  for (const member of header.split(",")) {
    const eq = member.indexOf("=");
    if (eq <= 0) continue;
    const key = member.slice(0, eq).trim();
    if ((key !== SESSION_BAGGAGE_KEY && key !== USER_BAGGAGE_KEY) || found.has(key)) continue;
    // Properties (`;prop`) are not ours to read.
    const raw = member.slice(eq + 1).split(";")[0]!.trim();
    try {
      const value = decodeURIComponent(raw);
      if (value !== "") found.set(key, value);
    } catch {
      // Not valid percent-encoding: no id rather than a garbled one.
    }
  }
  return found;
}
