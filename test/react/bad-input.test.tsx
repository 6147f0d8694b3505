// @vitest-environment happy-dom
import { cleanup, render, renderHook } from "@testing-library/react";
import { Client } from "pandaprobe";
import type { ReactNode } from "react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { PandaProbeProvider, PandaProbeSession, PandaProbeUser, useTrace, withPandaProbe } from "../../react/index.js";
import { capture } from "./capture.js";

afterEach(() => {
  cleanup();
  vi.unstubAllEnvs();
});

/** A JavaScript caller's mistake, which TypeScript would have refused. */
const unchecked = <T,>(value: unknown) => value as T;

describe("a non-string id given to the tree (a database's numeric conversation id)", () => {
  it("is a TypeError in development, where it is written", () => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const cases: [ReactNode, RegExp][] = [
      [<PandaProbeSession id={unchecked(42)} />, /<PandaProbeSession> id must be a string, got a number/],
      [<PandaProbeUser id={unchecked(null)} />, /<PandaProbeUser> id must be a string, got null/],
      [<PandaProbeProvider session={unchecked(7)} />, /<PandaProbeProvider> session must be a string, got a number/],
      [<PandaProbeProvider user={unchecked({ id: "u" })} />, /<PandaProbeProvider> user must be a string, got an object/],
    ];
    for (const [element, message] of cases) expect(() => render(element)).toThrow(message);
    errors.mockRestore();
  });

  it("is passed over in production: the outer id applies, as the core passes over a non-string id", () => {
    vi.stubEnv("NODE_ENV", "production");
    const sink = capture();
    const client = new Client({ exporter: sink.exporter });
    const wrapper = ({ children }: { children: ReactNode }) => (
      <PandaProbeProvider client={client} session="conv-1" user="alice">
        <PandaProbeSession id={unchecked(42)}>
          <PandaProbeUser id={unchecked(null)}>{children}</PandaProbeUser>
        </PandaProbeSession>
      </PandaProbeProvider>
    );
    renderHook(() => useTrace(), { wrapper }).result.current.startTrace("numeric-id").end();
    expect([sink.trace("numeric-id").session_id, sink.trace("numeric-id").user_id]).toEqual(["conv-1", "alice"]);
  });
});

describe("withPandaProbe() ids", () => {
  it("a typo'd key (the core's sessionId for session) is a TypeError in development, not ids silently left out", () => {
    expect(() => withPandaProbe(unchecked({ sessionId: "conv-1" }), () => "ran")).toThrow(
      /withPandaProbe\(\) ids: unknown key "sessionId"; expected session, user/,
    );
  });
});
