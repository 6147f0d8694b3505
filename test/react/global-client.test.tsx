// @vitest-environment happy-dom
import "fake-indexeddb/auto";
import { act, cleanup, render, renderHook, waitFor } from "@testing-library/react";
import { getClient, init, type Client, type TraceData } from "pandaprobe";
import { useEffect } from "react";
import { afterEach, describe, expect, it } from "vitest";
import { PandaProbeProvider, usePandaProbe, useTrace } from "../../react/index.js";
import { capture } from "./capture.js";

afterEach(cleanup);

/** What reached the app's relay route through the real browser exporter. */
const received: TraceData[] = [];
const relayFetch: typeof fetch = async (_url, request) => {
  const body = JSON.parse(String(request?.body)) as TraceData;
  received.push(body);
  return new Response(JSON.stringify({ trace_id: body.trace_id, task_id: "t" }), { status: 202 });
};

describe("the provider's client and the app's own init()", () => {
  it("an init() after the provider's client became the global one does not silence the provider", async () => {
    // The app configures the core for its non-React code in an effect, after the provider's first render.
    const appSink = capture();
    let bound!: ReturnType<typeof useTrace>;
    let first: Client | undefined;
    function Chat() {
      first ??= usePandaProbe();
      bound = useTrace();
      return null;
    }
    function App() {
      useEffect(() => void init({ exporter: appSink.exporter }), []);
      return (
        <PandaProbeProvider options={{ endpoint: "http://127.0.0.1:9/api/pandaprobe", fetch: relayFetch }} session="conv-1">
          <Chat />
        </PandaProbeProvider>
      );
    }
    render(<App />);
    expect(getClient()).not.toBe(first);
    // init() shut the replaced global client down.
    await act(() => first!.shutdown());

    bound.startTrace("after-app-init").end();
    await waitFor(() => expect(received.map((t) => [t.name, t.session_id])).toEqual([["after-app-init", "conv-1"]]));
    expect(appSink.traces()).toEqual([]);
  });

  it("a function useTrace().trace() wrapped records with the client of each call, as the core's trace() does", async () => {
    const before = capture();
    const after = capture();
    init({ exporter: before.exporter });
    const { trace } = renderHook(() => useTrace()).result.current;
    const answer = trace(async function ask(question: string) {
      return `echo: ${question}`;
    }, { name: "turn" });
    // The app re-initialises (a new release, a login): init() shuts the first client down.
    init({ exporter: after.exporter });
    await expect(answer("hi")).resolves.toBe("echo: hi");
    expect([answer.name, answer.length]).toEqual(["ask", 1]);
    expect(before.traces()).toEqual([]);
    expect(after.trace("turn").output).toEqual({ messages: [{ role: "assistant", content: "echo: hi" }] });
  });
});
