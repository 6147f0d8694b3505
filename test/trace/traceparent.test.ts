/**
 * The trace-context headers one tier hands the next: W3C `traceparent` with the trace's UUID as
 * its trace id, the span's whole UUID in our `tracestate` entry, session and user in `baggage`.
 */
import { describe, expect, it } from "vitest";
import { formatTraceHeaders, hexToUuid, mergeHeader, parseTraceHeaders, uuidToHex } from "../../src/trace/traceparent.js";

const TRACE = "0af76519-16cd-43dd-8448-eb211c80319c";
const SPAN = "b7ad6b71-6920-4331-9d4e-6f0f1f2e3d4c";
const read = (headers: Record<string, string>) => (name: string) => headers[name];

describe("the id mapping", () => {
  it("maps a UUID to the 32 hex digits of a W3C trace id and back", () => {
    expect(uuidToHex(TRACE)).toBe("0af7651916cd43dd8448eb211c80319c");
    expect(hexToUuid("0af7651916cd43dd8448eb211c80319c")).toBe(TRACE);
    expect(uuidToHex(TRACE.toUpperCase())).toBe("0af7651916cd43dd8448eb211c80319c");
    expect(uuidToHex("not-a-uuid")).toBeUndefined();
    expect(hexToUuid("0af7651916cd43dd")).toBeUndefined();
  });
});

describe("formatTraceHeaders", () => {
  it("writes traceparent with the span's first 64 bits and the whole span id in tracestate", () => {
    expect(formatTraceHeaders({ traceId: TRACE, parentSpanId: SPAN })).toEqual({
      traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169204331-01",
      tracestate: "pandaprobe=b7ad6b71692043319d4e6f0f1f2e3d4c",
    });
  });

  it("stands for the trace's top level with `t`, its parent id the trace's first 64 bits", () => {
    expect(formatTraceHeaders({ traceId: TRACE, parentSpanId: undefined })).toEqual({
      traceparent: "00-0af7651916cd43dd8448eb211c80319c-0af7651916cd43dd-01",
      tracestate: "pandaprobe=t",
    });
  });

  it("hands on a decision to sample the trace out as the sampled flag 00, which reads back as not sampled", () => {
    const headers = formatTraceHeaders({ traceId: TRACE, parentSpanId: undefined, sampled: false });
    expect(headers.traceparent).toBe("00-0af7651916cd43dd8448eb211c80319c-0af7651916cd43dd-00");
    expect(parseTraceHeaders(read(headers))).toEqual({ traceId: TRACE, parentSpanId: undefined, sampled: false });
    // Flags other than bit 0 (W3C's random-trace-id, 02) say nothing about sampling.
    expect(parseTraceHeaders(read({ ...headers, traceparent: headers.traceparent!.replace(/-00$/, "-03") }))?.sampled).toBeUndefined();
  });

  it("percent-encodes session and user into baggage, which reads them back unchanged", () => {
    const ids = { sessionId: "conv 1,=;%é", userId: "user@example.com" };
    const headers = formatTraceHeaders({ traceId: TRACE, parentSpanId: SPAN, ...ids });
    expect(headers.baggage).toBe("pandaprobe.session_id=conv%201%2C%3D%3B%25%C3%A9,pandaprobe.user_id=user%40example.com");
    expect(parseTraceHeaders(read(headers))).toEqual({ traceId: TRACE, parentSpanId: SPAN, ...ids });
  });
});

describe("parseTraceHeaders", () => {
  const valid = formatTraceHeaders({ traceId: TRACE, parentSpanId: SPAN });

  it("reads what the other tier wrote, among other vendors' entries and members", () => {
    const parsed = parseTraceHeaders(
      read({
        traceparent: valid.traceparent!,
        tracestate: `congo=t61rcWkgMzE, ${valid.tracestate}`,
        baggage: "k=v, pandaprobe.user_id=u1;prop=1",
      }),
    );
    expect(parsed).toEqual({ traceId: TRACE, parentSpanId: SPAN, userId: "u1" });
  });

  it("keeps the span of our entry when a hop between changed the parent id (a proxy of another tracer)", () => {
    const traceparent = "00-0af7651916cd43dd8448eb211c80319c-00f067aa0ba902b7-01";
    expect(parseTraceHeaders(read({ traceparent, tracestate: valid.tracestate! }))?.parentSpanId).toBe(SPAN);
  });

  it("does not continue a request no PandaProbe tier sent, or one whose headers break the spec", () => {
    const cases: Record<string, string>[] = [
      {},
      { traceparent: valid.traceparent! }, // another tracer's: no trace of ours to join
      { traceparent: valid.traceparent!, tracestate: "pandaprobe=xyz" },
      { traceparent: "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169204331-01", tracestate: valid.tracestate! },
      { traceparent: "00-00000000000000000000000000000000-b7ad6b7169204331-01", tracestate: valid.tracestate! },
      { traceparent: "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01", tracestate: valid.tracestate! },
      { traceparent: `${valid.traceparent}-extra`, tracestate: valid.tracestate! },
      { traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b71692043-01", tracestate: valid.tracestate! },
    ];
    for (const headers of cases) expect(parseTraceHeaders(read(headers)), JSON.stringify(headers)).toBeUndefined();
  });

  it("accepts a later version's extra fields, and leaves out a baggage id that does not decode", () => {
    const parsed = parseTraceHeaders(
      read({
        traceparent: `01-${valid.traceparent!.slice(3)}-future`,
        tracestate: valid.tracestate!,
        baggage: "pandaprobe.session_id=%E0%A4%A,pandaprobe.user_id=ok",
      }),
    );
    expect(parsed).toEqual({ traceId: TRACE, parentSpanId: SPAN, userId: "ok" });
  });
});

describe("mergeHeader", () => {
  it("puts our tracestate entry first, replacing an earlier one of ours", () => {
    expect(mergeHeader("tracestate", "a=1,pandaprobe=old,b=2", "pandaprobe=new")).toBe("pandaprobe=new,a=1,b=2");
    expect(mergeHeader("tracestate", null, "pandaprobe=new")).toBe("pandaprobe=new");
  });

  it("replaces our baggage members and keeps the app's", () => {
    expect(mergeHeader("baggage", "app=1, pandaprobe.user_id=forged", "pandaprobe.user_id=u")).toBe("app=1,pandaprobe.user_id=u");
  });
});
