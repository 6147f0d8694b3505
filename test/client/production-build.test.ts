import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Client, logTrace, onError, score, session, setUser, span, startTrace, user } from "../../src/index.js";
import { traceToCollector, type Tracing } from "../support/tracing.js";

/**
 * Production builds (`process.env.NODE_ENV === "production"`, which bundlers inline) leave the
 * developer's argument checks out, as React leaves out its warnings. Where a check is gone, bad
 * input must still never throw into the app: it is absorbed, and the trace still goes out valid
 * (the collector checks every body against the contract). Node reads the variable at run time,
 * so these tests can switch it.
 */
let tracing: Tracing;
const nodeEnv = process.env.NODE_ENV;
beforeAll(async () => {
  tracing = await traceToCollector();
});
afterAll(() => tracing.close());
beforeEach(() => {
  process.env.NODE_ENV = "production";
});
afterEach(async () => {
  process.env.NODE_ENV = nodeEnv;
  await tracing.reset();
});

const bad = <T>(value: unknown) => value as T;

describe("production builds absorb what development builds reject", () => {
  it("non-string ids and tags are left out, non-object model data is ignored; the trace is sent", async () => {
    setUser(bad(7));
    try {
      session(bad(42), () =>
        user(bad({ id: 1 }), () =>
          startTrace("absorbed", { tags: bad("not-an-array") }, (t) => {
            t.setTags(bad(["kept", 3, null]));
            t.span("step", undefined, (s) => {
              s.setModelParameters(bad(null)).setTokenUsage(bad(null)).setCost(bad(null));
              s.setOutput("done");
            });
          }),
        ),
      );
      logTrace({ name: "logged", session_id: bad(5) });
    } finally {
      // Imperative ids stay with this test's async flow: cleared in it, not in a hook.
      setUser(undefined);
    }
    const traces = await tracing.sent();
    const sent = traces.find((t) => t.name === "absorbed");
    expect(sent).toMatchObject({ status: "COMPLETED", tags: ["kept"] });
    for (const t of traces) {
      expect(t).not.toHaveProperty("session_id");
      expect(t).not.toHaveProperty("user_id");
    }
    expect(sent!.spans[0]).toMatchObject({ name: "step", status: "OK", output: "done" });
    expect(sent!.spans[0]).not.toHaveProperty("token_usage");
  });

  it("a wrapped function with typo'd options still runs and is traced", async () => {
    const step = span((x: number) => x * 2, bad({ knd: "LLM", name: "double" }));
    expect(startTrace("wrapped", undefined, () => step(21))).toBe(42);
    const [sent] = await tracing.sent();
    expect(sent!.spans[0]).toMatchObject({ name: "double", input: 21, output: 42 });
  });

  it("a score the backend would refuse for its value is reported and not sent", async () => {
    const reports: Error[] = [];
    const off = onError((error) => reports.push(error));
    try {
      score(crypto.randomUUID(), "quality", 4);
      await tracing.client.flush();
    } finally {
      off();
    }
    expect(tracing.collector.scores()).toEqual([]);
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ code: "http_error", status: 422 });
    expect(reports[0]!.message).toMatch(/score "quality" not sent: a NUMERIC score must be a number in \[0, 1\], got "4"/);
  });

  it("a score whose metadata is not an object is sent without it", async () => {
    score(crypto.randomUUID(), "quality", 0.5, { metadata: bad("grader-7") });
    await tracing.sent();
    expect(tracing.collector.scores()).toHaveLength(1);
    expect(tracing.collector.scores()[0]).not.toHaveProperty("metadata");
  });

  it("logTrace leaves out the counts, costs and times the contract refuses, and sends the rest of the trace", async () => {
    logTrace({
      name: "imported",
      spans: [
        {
          name: "llm",
          kind: "LLM",
          token_usage: bad({ prompt_tokens: 5, completion_tokens: null, total_tokens: "7" }),
          cost: bad({ input: 0.01, output: "0.02" }),
          completion_start_time: bad(new Date(1.7e15)),
        },
      ],
    });
    const [sent] = await tracing.sent();
    expect(sent!.spans[0]).toMatchObject({ name: "llm", token_usage: { prompt_tokens: 5 }, cost: { input: 0.01 } });
    expect(sent!.spans[0]).not.toHaveProperty("completion_start_time");
  });

  it("logTrace of something unreadable is reported through onError, not thrown; a bad date is left out", async () => {
    const reported: Error[] = [];
    const off = onError((error) => reported.push(error));
    try {
      expect(() => logTrace(bad(null))).not.toThrow();
      logTrace({ name: "dated", started_at: "not a date", spans: bad("nope") });
    } finally {
      off();
    }
    expect(reported.map((e) => (e as Error & { code?: string }).code)).toEqual(["internal"]);
    const [sent] = await tracing.sent();
    expect(sent).toMatchObject({ name: "dated", spans: [] });
    expect(Date.parse(sent!.started_at)).not.toBeNaN();
  });

  it("Node still checks init options: a typo is a config error at startup, whatever NODE_ENV says", () => {
    expect(() => new Client(bad({ apiKey: "k", projectName: "p", batchSiz: 5 }))).toThrow(/unknown option "batchSiz"\. Did you mean "batchSize"\?/);
  });
});
