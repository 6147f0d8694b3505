// @vitest-environment happy-dom
import "fake-indexeddb/auto";
import { act, cleanup, render, waitFor } from "@testing-library/react";
import type { Client, TraceData } from "pandaprobe";
import { useState } from "react";
import { afterAll, describe, expect, it, vi } from "vitest";
import { PandaProbeProvider, usePandaProbe, useTrace } from "../../react/index.js";

/** Each browser exporter opens the IndexedDB queue once: counting opens counts clients that hold one. */
const openQueue = vi.spyOn(indexedDB, "open");

/** What reached the relay route, with the token the request carried. */
const received: { name: string; token: string | null }[] = [];
async function relay(url: RequestInfo | URL, request: RequestInit | undefined, token: string): Promise<Response> {
  const body = JSON.parse(String(request?.body)) as TraceData;
  received.push({ name: body.name, token });
  return new Response(JSON.stringify({ trace_id: body.trace_id, task_id: String(url) }), { status: 202 });
}

const seen = new Set<Client | undefined>();
afterAll(async () => {
  cleanup();
  await Promise.all([...seen].map((c) => c?.shutdown()));
});

describe("provider options with an inline function (a fetch that adds the user's token)", () => {
  it("keep one client across renders, whose requests use the latest function", async () => {
    let bound!: ReturnType<typeof useTrace>;
    const functions = new Set<unknown>();
    function Chat() {
      seen.add(usePandaProbe());
      bound = useTrace();
      functions.add(bound.startTrace);
      return null;
    }
    let setToken!: (token: string) => void;
    function App() {
      const [token, set] = useState("token-1");
      setToken = set;
      return (
        <PandaProbeProvider
          options={{ endpoint: "http://127.0.0.1:9/api/pandaprobe", fetch: (url, request) => relay(url, request, token) }}
          session="conv-1"
        >
          <Chat />
        </PandaProbeProvider>
      );
    }
    const { rerender } = render(<App />);
    for (let i = 0; i < 3; i++) rerender(<App />);
    bound.startTrace("first").end();
    await waitFor(() => expect(received).toEqual([{ name: "first", token: "token-1" }]));

    act(() => setToken("token-2"));
    bound.startTrace("second").end();
    await waitFor(() => expect(received).toContainEqual({ name: "second", token: "token-2" }));

    expect(seen.size).toBe(1);
    expect(functions.size).toBe(1);
    expect(openQueue).toHaveBeenCalledTimes(1);
  });
});
