// @vitest-environment happy-dom
import { cleanup, render, renderHook, screen } from "@testing-library/react";
import { init, session, setSession, setUser } from "pandaprobe";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { usePandaProbe, useSession, useTrace, useUser } from "../../react/index.js";
import { capture } from "./capture.js";

const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
afterEach(() => {
  cleanup();
  setSession(undefined);
  setUser(undefined);
});
afterAll(() => warn.mockRestore());

describe("hooks without a provider", () => {
  it("render, fall back to the core's ids, and say once (in development) that the provider is missing", () => {
    setSession("imperative-session");
    setUser("imperative-user");
    function Ids() {
      const client = usePandaProbe();
      return <span data-testid="ids">{`${useSession()} ${useUser()} ${client === undefined ? "no-client" : "client"}`}</span>;
    }
    render(
      <>
        <Ids />
        <Ids />
      </>,
    );
    expect(screen.getAllByTestId("ids").map((e) => e.textContent)).toEqual([
      "imperative-session imperative-user no-client",
      "imperative-session imperative-user no-client",
    ]);
    renderHook(() => useTrace());
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toMatch(/usePandaProbe\(\) is used outside <PandaProbeProvider>.*global client/);
  });

  it("before init(), useTrace() hands out traces that record nothing", () => {
    const { result } = renderHook(() => useTrace());
    const trace = result.current.startTrace("nowhere");
    trace.end();
    expect(trace.recording).toBe(false);
  });

  it("after init(), trace with the global client and the core's scoped and imperative ids", async () => {
    const sink = capture();
    const client = init({ exporter: sink.exporter });
    const { result } = renderHook(() => [useTrace(), usePandaProbe()] as const);
    const [bound, seen] = result.current;
    expect(seen).toBe(client);

    setSession("imperative-session");
    bound.startTrace("imperative").end();
    session("scoped-session", () => bound.startTrace("scoped").end());
    bound.startTrace("explicit", { sessionId: "explicit-session", userId: "explicit-user" }).end();
    await bound.trace(async () => "ok", { name: "wrapped" })();

    expect(sink.trace("imperative").session_id).toBe("imperative-session");
    expect(sink.trace("scoped").session_id).toBe("scoped-session");
    expect([sink.trace("explicit").session_id, sink.trace("explicit").user_id]).toEqual(["explicit-session", "explicit-user"]);
    expect(sink.trace("wrapped").output).toEqual({ messages: [{ role: "assistant", content: "ok" }] });
  });
});
