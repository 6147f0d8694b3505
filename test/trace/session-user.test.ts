import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  getSessionId,
  getUserId,
  logTrace,
  session,
  setSession,
  setUser,
  startTrace,
  trace,
  user,
} from "../../src/index.js";
import { byName, traceToCollector, type Tracing } from "../support/tracing.js";

let tracing: Tracing;
beforeAll(async () => {
  tracing = await traceToCollector();
});
afterAll(() => tracing.close());
afterEach(() => {
  setSession(undefined);
  setUser(undefined);
  return tracing.reset();
});

describe("scoped ids: session() and user()", () => {
  it("are in effect inside the callback and gone after it", () => {
    expect(getSessionId()).toBeUndefined();
    const seen = session("conversation-123", () => user("user-abc", () => [getSessionId(), getUserId()]));
    expect(seen).toEqual(["conversation-123", "user-abc"]);
    expect([getSessionId(), getUserId()]).toEqual([undefined, undefined]);
  });

  it("nest, the inner value winning and the outer one back on exit", () => {
    session("outer", () => {
      expect(session("inner", () => getSessionId())).toBe("inner");
      expect(getSessionId()).toBe("outer");
    });
  });

  it("restore the outer value when the callback throws, and rethrow the same error", () => {
    const boom = new Error("boom");
    session("outer", () => {
      expect(() =>
        session("inner", () => {
          throw boom;
        }),
      ).toThrow(boom);
      expect(getSessionId()).toBe("outer");
    });
  });

  it("return the callback's promise, which keeps the id across awaits and rejects unchanged", async () => {
    const boom = new Error("async boom");
    const seen: (string | undefined)[] = [];
    const failing = session("s-async", async () => {
      await new Promise((r) => setTimeout(r, 5));
      seen.push(getSessionId());
      throw boom;
    });
    expect(getSessionId()).toBeUndefined();
    await expect(failing).rejects.toBe(boom);
    expect(seen).toEqual(["s-async"]);
    expect(getSessionId()).toBeUndefined();
  });

  it("reject non-string ids and callbacks at the call", () => {
    expect(() => session(42 as unknown as string, () => 1)).toThrow(/session id must be a string, got a number/);
    expect(() => user(undefined as unknown as string, () => 1)).toThrow(/user id must be a string/);
    expect(() => session("s", "not a function" as unknown as () => void)).toThrow(/must be a function/);
  });
});

describe("imperative ids: setSession() and setUser()", () => {
  it("stay until changed, and undefined clears them", async () => {
    setSession("imperative");
    setUser("someone");
    await new Promise((r) => setTimeout(r, 1));
    expect([getSessionId(), getUserId()]).toEqual(["imperative", "someone"]);
    setSession(undefined);
    expect(getSessionId()).toBeUndefined();
    expect(getUserId()).toBe("someone");
  });

  it("lose to a scoped id, and are back after the scope", () => {
    setSession("imperative");
    expect(session("scoped", () => getSessionId())).toBe("scoped");
    expect(getSessionId()).toBe("imperative");
  });

  it("stay with the request that set them: concurrent flows never see each other's", async () => {
    const flow = async (id: string) => {
      await Promise.resolve();
      setUser(id);
      await new Promise((r) => setTimeout(r, Math.random() * 5));
      return getUserId();
    };
    // Each flow runs in its own async context, as each HTTP request does on a server.
    const results = await Promise.all(["a", "b", "c"].map((id) => session("s", () => flow(id))));
    expect(results).toEqual(["a", "b", "c"]);
  });

  it("reject non-string ids", () => {
    expect(() => setSession(123 as unknown as string)).toThrow(TypeError);
    expect(() => setUser(null as unknown as string)).toThrow(/user id must be a string, got null/);
  });
});

describe("precedence on traces: explicit option > innermost scope > imperative value", () => {
  it("applies to startTrace, trace() and logTrace", async () => {
    setSession("imperative-s");
    setUser("imperative-u");
    startTrace("imperative-only").end();
    session("scoped-s", () => {
      startTrace("scoped").end();
      startTrace("explicit", { sessionId: "explicit-s", userId: "explicit-u" }).end();
      trace(() => "ok", { name: "decorated" })();
      trace(() => "ok", { name: "decorated-explicit", sessionId: "explicit-s" })();
      logTrace({ name: "logged", started_at: new Date().toISOString() } as never);
    });
    const sent = await tracing.sent();
    const ids = (name: string) => {
      const t = byName(sent, name);
      return [t.session_id, t.user_id];
    };
    expect(ids("imperative-only")).toEqual(["imperative-s", "imperative-u"]);
    expect(ids("scoped")).toEqual(["scoped-s", "imperative-u"]);
    expect(ids("explicit")).toEqual(["explicit-s", "explicit-u"]);
    expect(ids("decorated")).toEqual(["scoped-s", "imperative-u"]);
    expect(ids("decorated-explicit")).toEqual(["explicit-s", "imperative-u"]);
    expect(ids("logged")).toEqual(["scoped-s", "imperative-u"]);
  });

  it("takes the ids when a trace starts: a running trace keeps its ids when the scope changes", async () => {
    const t = session("first", () => startTrace("started-in-first"));
    session("second", () => t.end());
    const [sent] = await tracing.sent();
    expect(sent!.session_id).toBe("first");
  });

  it("omits ids nobody set", async () => {
    startTrace("anonymous").end();
    const [sent] = await tracing.sent();
    expect(sent).not.toHaveProperty("session_id");
    expect(sent).not.toHaveProperty("user_id");
  });

  it("reproduces the seed's multi-turn example: one trace per turn, all in one session", async () => {
    const history: { role: string; content: string }[] = [];
    const reply = trace(async (messages: typeof history) => {
      await new Promise((r) => setTimeout(r, 1));
      return { role: "assistant", content: `echo ${messages.length}` };
    }, { name: "chat-turn" });
    await session("conversation-123", () =>
      user("user-abc", async () => {
        for (const input of ["hi", "how are you?", "bye"]) {
          history.push({ role: "user", content: input });
          const answer = await reply(history);
          history.push(answer);
        }
      }),
    );
    const turns = await tracing.sent();
    expect(turns).toHaveLength(3);
    expect(turns.map((t) => [t.session_id, t.user_id])).toEqual(Array(3).fill(["conversation-123", "user-abc"]));
    // Each trace holds only its own turn, although the history had grown by then.
    expect(turns.map((t) => t.input)).toEqual([
      { messages: [{ role: "user", content: "hi" }] },
      { messages: [{ role: "user", content: "how are you?" }] },
      { messages: [{ role: "user", content: "bye" }] },
    ]);
  });
});
