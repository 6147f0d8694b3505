// @vitest-environment happy-dom
import { act, cleanup, render, renderHook, screen } from "@testing-library/react";
import { Client, session, setSession, setUser, user, type TraceData } from "pandaprobe";
import { useState, type ReactNode } from "react";
import { afterEach, describe, expect, it } from "vitest";
import {
  PandaProbeProvider,
  PandaProbeSession,
  PandaProbeUser,
  usePandaProbe,
  useSession,
  useTrace,
  useUser,
  withPandaProbe,
} from "../../react/index.js";
import { capture } from "./capture.js";

afterEach(() => {
  cleanup();
  setSession(undefined);
  setUser(undefined);
});

function Ids({ label }: { label: string }) {
  return <span data-testid={label}>{`${useSession() ?? "-"} ${useUser() ?? "-"}`}</span>;
}

const text = (label: string) => screen.getByTestId(label).textContent;

function ids(trace: TraceData) {
  return { session: trace.session_id, user: trace.user_id };
}

describe("nesting", () => {
  it("inner <PandaProbeSession> and <PandaProbeUser> override for their subtree only", () => {
    render(
      <PandaProbeProvider session="conv-1" user="alice">
        <Ids label="root" />
        <PandaProbeSession id="conv-2">
          <Ids label="session" />
          <PandaProbeUser id="bob">
            <Ids label="both" />
          </PandaProbeUser>
        </PandaProbeSession>
        <PandaProbeUser id="carol">
          <Ids label="user" />
        </PandaProbeUser>
        <Ids label="sibling" />
      </PandaProbeProvider>,
    );
    expect(text("root")).toBe("conv-1 alice");
    expect(text("session")).toBe("conv-2 alice");
    expect(text("both")).toBe("conv-2 bob");
    expect(text("user")).toBe("conv-1 carol");
    expect(text("sibling")).toBe("conv-1 alice");
  });

  it("an undefined id inherits the outer one (not logged in yet)", () => {
    render(
      <PandaProbeProvider session="conv-1" user="alice">
        <PandaProbeUser id={undefined}>
          <PandaProbeProvider session={undefined}>
            <Ids label="inner" />
          </PandaProbeProvider>
        </PandaProbeUser>
      </PandaProbeProvider>,
    );
    expect(text("inner")).toBe("conv-1 alice");
  });

  it("a nested provider keeps the outer client unless it brings its own", () => {
    const outer = new Client({ exporter: capture().exporter });
    const inner = new Client({ exporter: capture().exporter });
    const seen: Record<string, Client | undefined> = {};
    function Probe({ label }: { label: string }) {
      seen[label] = usePandaProbe();
      return null;
    }
    render(
      <PandaProbeProvider client={outer}>
        <PandaProbeProvider session="s">
          <Probe label="inherits" />
        </PandaProbeProvider>
        <PandaProbeProvider client={inner}>
          <Probe label="own" />
        </PandaProbeProvider>
      </PandaProbeProvider>,
    );
    expect(seen["inherits"]).toBe(outer);
    expect(seen["own"]).toBe(inner);
  });

  it("without tree ids, useSession()/useUser() read the core's ids at render", () => {
    setSession("imperative-session");
    render(
      <PandaProbeProvider>
        <Ids label="fallback" />
        <PandaProbeUser id="tree-user">
          <Ids label="mixed" />
        </PandaProbeUser>
      </PandaProbeProvider>,
    );
    expect(text("fallback")).toBe("imperative-session -");
    expect(text("mixed")).toBe("imperative-session tree-user");
  });
});

describe("useTrace(): precedence of ids", () => {
  function setup(tree: { session?: string; user?: string }) {
    const sink = capture();
    const client = new Client({ exporter: sink.exporter });
    const wrapper = ({ children }: { children: ReactNode }) => (
      <PandaProbeProvider client={client} {...tree}>
        {children}
      </PandaProbeProvider>
    );
    const { result } = renderHook(() => useTrace(), { wrapper });
    return { sink, bound: result.current };
  }

  it("explicit option > provider > scoped session() > imperative setSession()", () => {
    const { sink, bound } = setup({ session: "tree-session", user: "tree-user" });
    setSession("imperative-session");
    setUser("imperative-user");
    session("scoped-session", () =>
      user("scoped-user", () => {
        bound.startTrace("tree-wins").end();
        bound.startTrace("explicit-wins", { sessionId: "explicit-session" }).end();
      }),
    );
    expect(ids(sink.trace("tree-wins"))).toEqual({ session: "tree-session", user: "tree-user" });
    expect(ids(sink.trace("explicit-wins"))).toEqual({ session: "explicit-session", user: "tree-user" });
  });

  it("where the tree has no id, the core's scoped and then imperative ids apply", () => {
    const { sink, bound } = setup({ user: "tree-user" });
    setSession("imperative-session");
    bound.startTrace("imperative").end();
    session("scoped-session", () => bound.startTrace("scoped").end());
    expect(ids(sink.trace("imperative"))).toEqual({ session: "imperative-session", user: "tree-user" });
    expect(ids(sink.trace("scoped"))).toEqual({ session: "scoped-session", user: "tree-user" });
  });

  it("the callback form and trace() carry the tree's ids; span() records inside them", async () => {
    const { sink, bound } = setup({ session: "tree-session", user: "tree-user" });
    const answer = bound.span(async (question: string) => `echo: ${question}`, { name: "model", kind: "LLM" });
    const turn = bound.trace(async (question: string) => answer(question), { name: "turn" });
    await expect(turn("hi")).resolves.toBe("echo: hi");
    const value = bound.startTrace("callback", { tags: ["ui"] }, (trace) => {
      trace.setOutput("done");
      return 42;
    });
    expect(value).toBe(42);
    const traced = sink.trace("turn");
    expect(ids(traced)).toEqual({ session: "tree-session", user: "tree-user" });
    expect(traced.spans.map((s) => [s.name, s.kind, s.output])).toEqual([["model", "LLM", "echo: hi"]]);
    expect(ids(sink.trace("callback"))).toEqual({ session: "tree-session", user: "tree-user" });
    expect(sink.trace("callback").tags).toEqual(["ui"]);
  });

  it("traces go to the provider's client", () => {
    const { sink, bound } = setup({});
    bound.startTrace("mine").end();
    expect(sink.traces().map((t) => t.name)).toEqual(["mine"]);
  });
});

describe("withPandaProbe()", () => {
  it("scopes the core's ids for code outside the tree; inside the tree, the tree's ids still win", () => {
    const sink = capture();
    const client = new Client({ exporter: sink.exporter });
    const wrapper = ({ children }: { children: ReactNode }) => (
      <PandaProbeProvider client={client} session="tree-session">
        {children}
      </PandaProbeProvider>
    );
    const bound = renderHook(() => useTrace(), { wrapper }).result.current;
    const result = withPandaProbe({ session: "request-session", user: "request-user" }, () => {
      client.startTrace("outside-tree").end();
      bound.startTrace("inside-tree").end();
      return "result";
    });
    expect(result).toBe("result");
    expect(ids(sink.trace("outside-tree"))).toEqual({ session: "request-session", user: "request-user" });
    expect(ids(sink.trace("inside-tree"))).toEqual({ session: "tree-session", user: "request-user" });
  });
});

describe("ids changing over time", () => {
  it("traces started after the change carry the new id; running ones keep theirs", () => {
    const sink = capture();
    const client = new Client({ exporter: sink.exporter });
    let bound!: ReturnType<typeof useTrace>;
    let switchTo!: (next: { session: string; user?: string }) => void;
    function Probe() {
      bound = useTrace();
      return null;
    }
    function App() {
      const [ids, setIds] = useState<{ session: string; user?: string }>({ session: "conv-1" });
      switchTo = setIds;
      return (
        <PandaProbeProvider client={client} session={ids.session} user={ids.user}>
          <Probe />
        </PandaProbeProvider>
      );
    }
    render(<App />);
    const running = bound.startTrace("before");
    act(() => switchTo({ session: "conv-2", user: "alice" }));
    const after = bound.startTrace("after");
    running.end();
    after.end();
    expect(ids(sink.trace("before"))).toEqual({ session: "conv-1", user: undefined });
    expect(ids(sink.trace("after"))).toEqual({ session: "conv-2", user: "alice" });
  });
});

describe("useTrace(): identity", () => {
  it("is the same object and functions across renders while ids and client stay, new ones when they change", () => {
    const client = new Client({ exporter: capture().exporter });
    const other = new Client({ exporter: capture().exporter });
    let props = { session: "conv-1", client };
    const wrapper = ({ children }: { children: ReactNode }) => (
      // An inline options-free provider re-rendered with equal props must not rebind.
      <PandaProbeProvider {...props}>{children}</PandaProbeProvider>
    );
    const { result, rerender } = renderHook(() => useTrace(), { wrapper });
    const first = result.current;
    rerender();
    rerender();
    expect(result.current).toBe(first);
    expect(result.current.startTrace).toBe(first.startTrace);
    expect(result.current.trace).toBe(first.trace);

    props = { session: "conv-2", client };
    rerender();
    const second = result.current;
    expect(second.startTrace).not.toBe(first.startTrace);
    rerender();
    expect(result.current).toBe(second);

    props = { session: "conv-2", client: other };
    rerender();
    expect(result.current.startTrace).not.toBe(second.startTrace);
  });

  it("an inline options object with equal values keeps the functions", () => {
    const sink = capture();
    let tag = "a";
    const wrapper = ({ children }: { children: ReactNode }) => (
      <PandaProbeProvider options={{ exporter: sink.exporter, release: `r-${tag}` }}>{children}</PandaProbeProvider>
    );
    const { result, rerender } = renderHook(() => useTrace(), { wrapper });
    const first = result.current;
    rerender();
    expect(result.current).toBe(first);
    tag = "b";
    rerender();
    expect(result.current).not.toBe(first);
    result.current.startTrace("after-options-change").end();
    expect(sink.trace("after-options-change").release).toBe("r-b");
  });
});
