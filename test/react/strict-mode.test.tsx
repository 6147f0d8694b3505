// @vitest-environment happy-dom
import "fake-indexeddb/auto";
import { act, cleanup, fireEvent, render, screen } from "@testing-library/react";
import { getClient, type Client, type PandaProbeOptions, type TraceData } from "pandaprobe";
import { StrictMode } from "react";
import { afterAll, describe, expect, it, vi } from "vitest";
import { PandaProbeProvider, usePandaProbe, useTrace } from "../../react/index.js";
import { validateTrace } from "../support/contract.js";

/** What reached the relay route: the real browser exporter sends through this fetch. */
const received: TraceData[] = [];
const relayFetch: typeof fetch = async (url, init) => {
  expect(String(url)).toBe("http://127.0.0.1:9/api/pandaprobe/traces");
  const body: unknown = JSON.parse(String(init?.body));
  validateTrace(body);
  received.push(body as TraceData);
  return new Response(JSON.stringify({ trace_id: (body as TraceData).trace_id, task_id: "t" }), { status: 202 });
};

/** Each exporter opens the IndexedDB queue once and one BroadcastChannel: counting them counts queues. */
const openQueue = vi.spyOn(indexedDB, "open");
const channels: string[] = [];
const NativeChannel = globalThis.BroadcastChannel;
globalThis.BroadcastChannel = class extends NativeChannel {
  constructor(name: string) {
    super(name);
    channels.push(name);
  }
};

const seen = new Set<Client | undefined>();
function SendButton() {
  const { startTrace } = useTrace();
  seen.add(usePandaProbe());
  return <button onClick={() => startTrace("send", { input: "hello" }).end()}>send</button>;
}

function App({ options }: { options: PandaProbeOptions }) {
  return (
    <StrictMode>
      <PandaProbeProvider options={options} session="conv-1">
        <SendButton />
      </PandaProbeProvider>
    </StrictMode>
  );
}

const options = () => ({ endpoint: "http://127.0.0.1:9/api/pandaprobe", fetch: relayFetch, flushInterval: 0.05 });

afterAll(async () => {
  await Promise.all([...seen].map((c) => c?.shutdown()));
  globalThis.BroadcastChannel = NativeChannel;
});

describe("Strict Mode and remounts", () => {
  it("make one client with one queue, and every trace is sent once", async () => {
    render(<App options={options()} />);
    fireEvent.click(screen.getByText("send"));
    cleanup();
    // A remount (a route change) with an equal inline options object: the same client.
    render(<App options={options()} />);
    fireEvent.click(screen.getByText("send"));

    expect(seen.size).toBe(1);
    const client = [...seen][0]!;
    expect(client).toBeDefined();
    await act(() => client.flush());

    expect(openQueue.mock.calls.map((call) => call[0])).toEqual(["pandaprobe-queue"]);
    expect(channels).toEqual(["pandaprobe-queue"]);
    expect(received.map((t) => [t.name, t.session_id])).toEqual([
      ["send", "conv-1"],
      ["send", "conv-1"],
    ]);
    expect(new Set(received.map((t) => t.trace_id)).size).toBe(2);
    // The app had no global client: the provider's became it, so module-level trace() records too.
    expect(getClient()).toBe(client);
    cleanup();
  });

  it("different options make a second client, which leaves the global one alone", () => {
    const first = getClient();
    render(<App options={{ ...options(), release: "2.0.0" }} />);
    expect(seen.size).toBe(2);
    expect(getClient()).toBe(first);
    expect(channels).toHaveLength(2);
    cleanup();
  });
});
