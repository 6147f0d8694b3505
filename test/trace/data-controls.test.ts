/**
 * Data controls of a client: `mask` sees every value recorded in every layer before it is
 * serialized, `recordInputs` / `recordOutputs` leave values out, `sampleRate` keeps a share of
 * whole traces decided from their ids, and what is not recorded (disabled, not sampled) builds no
 * ids and takes no snapshot. Also: several clients in one process, each with its own project.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { Client, PandaProbeError, trace, withTrace, type PandaProbeOptions } from "../../src/index.js";
import { idFraction, isUuid } from "../../src/wire/ids.js";
import type { Envelope } from "../../src/export/types.js";
import type { TraceData, TraceScoreData } from "../../src/wire/types.js";
import { startCollector, type Collector } from "../support/collector.js";
import { validateScore, validateTrace } from "../support/contract.js";
import { mergeTraces } from "../support/tracing.js";
import { corpus, expectRedacted, REDACTED, redactingMask, SECRET } from "../support/secrets.js";

let collector: Collector;
const clients: Client[] = [];
beforeAll(async () => {
  collector = await startCollector();
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.shutdown()));
  expect(collector.contractFailures).toEqual([]);
  collector.reset();
  vi.restoreAllMocks();
});
afterAll(() => collector.close());

function client(options: PandaProbeOptions = {}): Client {
  const c = new Client({ apiKey: "sk_pp_test", projectName: "data-controls", endpoint: collector.url, flushInterval: 0.05, ...options }, {});
  clients.push(c);
  return c;
}

const bodies = () => collector.requests.map((r) => r.body);
const sentTraces = (): TraceData[] => mergeTraces(collector.traces());

/** An in-memory exporter for runs of thousands of traces; every body is checked against the contract. */
function capture() {
  const traces: TraceData[] = [];
  const scores: TraceScoreData[] = [];
  return {
    traces,
    scores,
    exporter: {
      enqueue(envelope: Envelope) {
        const body = JSON.parse(envelope.body);
        if (envelope.path === "/traces") {
          validateTrace(body);
          traces.push(body);
        } else {
          validateScore(body);
          scores.push(body);
        }
      },
      flush: async () => {},
      shutdown: async () => {},
    },
  };
}

/** Every layer of the core records the corpus once: manual trace and spans, decorators, withTrace, logTrace, a score. */
async function recordEverywhere(c: Client): Promise<void> {
  const t = c.startTrace("manual", { input: corpus(), metadata: corpus() });
  const s = t.span("llm", { kind: "LLM", input: corpus(), metadata: corpus(), modelParameters: { temperature: 0.1, stop: [SECRET], note: corpus() } });
  s.setOutput(corpus()).setError(new Error(`upstream refused ${SECRET}`)).end();
  t.setOutput(corpus()).end();

  const step = c.span((arg: unknown) => ({ echoed: arg }), { name: "step" });
  await c.trace(async (arg: unknown) => step(arg), { name: "decorated" })(corpus());
  expect(() =>
    c.trace(() => {
      throw new Error(`failed on ${SECRET}`);
    }, { name: "thrown" })(),
  ).toThrow(SECRET);

  class Agent {
    run(question: unknown) {
      return { answer: question };
    }
  }
  const descriptor = Object.getOwnPropertyDescriptor(Agent.prototype, "run")!;
  (trace({ name: "method", client: c }) as (t: object, k: string, d: PropertyDescriptor) => void)(Agent.prototype, "run", descriptor);
  Object.defineProperty(Agent.prototype, "run", descriptor);
  new Agent().run(corpus());

  await withTrace("with-trace", { client: c, input: corpus(), metadata: corpus() }, (wt) => wt.setOutput(corpus()));

  c.logTrace({
    name: "logged",
    input: corpus(),
    output: corpus(),
    metadata: corpus(),
    started_at: new Date().toISOString(),
    spans: [{ name: "logged-span", input: corpus(), error: `bad ${SECRET}`, model_parameters: { stop: [SECRET] } }],
  } as never);
  c.score(t.traceId, "quality", 1, { metadata: corpus() });
  await c.flush();
}

describe("mask", () => {
  it("sees inputs, outputs, metadata, model parameters and errors of every core layer; no secret reaches the collector", async () => {
    const { mask, seen } = redactingMask();
    await recordEverywhere(client({ mask }));
    expect(sentTraces().map((t) => t.name).sort()).toEqual(["decorated", "logged", "manual", "method", "thrown", "with-trace"]);
    expectRedacted(bodies());
    expect([...seen].sort()).toEqual(["error", "input", "metadata", "model_parameters", "output"]);
    const manual = sentTraces().find((t) => t.name === "manual")!;
    expect(manual.input).toEqual({ note: `my key is ${REDACTED}`, password: REDACTED, nested: [{ token: `Bearer ${REDACTED}` }, [REDACTED]] });
    expect(manual.spans[0]!.error).toContain(`upstream refused ${REDACTED}`);
    expect(manual.spans[0]!.model_parameters).toMatchObject({ temperature: 0.1, stop: [REDACTED] });
    const score = collector.requests.find((r) => r.path === "/evaluations/trace-scores")!;
    expect((score.json as TraceScoreData).metadata).toMatchObject({ password: REDACTED });
  });

  it("without a mask the same run does send the secret (the control for the test above)", async () => {
    await recordEverywhere(client());
    expect(bodies().join("\n")).toContain(SECRET);
  });

  it("gets a copy of its own: changing it in place leaves the trace's values as they were for later upserts", async () => {
    const c = client({
      mask: (value) => {
        if (value && typeof value === "object" && !Array.isArray(value)) (value as Record<string, unknown>).password = REDACTED;
        return value;
      },
    });
    const t = c.startTrace("in-place", { input: corpus() });
    const late = t.span("late");
    t.end();
    late.end();
    await c.flush();
    const headers = collector.traces().filter((b) => b.name === "in-place");
    expect(headers.length).toBeGreaterThan(0);
    for (const h of headers) expect(h.input).toMatchObject({ password: REDACTED, note: `my key is ${SECRET}` });
  });

  it("that throws: the value becomes a visible marker, the trace is still delivered, one report, the app never sees it", async () => {
    const reports: PandaProbeError[] = [];
    const c = client({
      mask: (value, field) => {
        if (field === "input" || field === "metadata") throw new Error("mask bug");
        return value;
      },
    });
    c.onError((e) => reports.push(e as PandaProbeError));
    const result = c.startTrace("masked-badly", { input: corpus(), metadata: { k: SECRET } }, (t) => {
      t.span("child", { input: SECRET }).setOutput("fine").end();
      return "app result";
    });
    expect(result).toBe("app result");
    c.startTrace("second", { input: SECRET }).end();
    await c.flush();
    const traces = sentTraces();
    expect(traces.map((t) => t.name).sort()).toEqual(["masked-badly", "second"]);
    const first = traces.find((t) => t.name === "masked-badly")!;
    expect(first.input).toBe("[mask failed]");
    expect(first.metadata).toEqual({ mask: "[mask failed]" });
    expect(first.spans[0]).toMatchObject({ input: "[mask failed]", output: "fine" });
    expect(bodies().join("\n")).not.toContain(SECRET);
    expect(reports.map((r) => r.code)).toEqual(["mask"]);
  });

  it("returning undefined leaves the field out; what is not JSON is made JSON-safe", async () => {
    const c = client({ mask: (value, field) => (field === "input" ? undefined : field === "output" ? new Map([["k", 1n]]) : value) });
    c.startTrace("shapes", { input: SECRET }).setOutput("x").end();
    await c.flush();
    const [sent] = sentTraces();
    expect(sent!.input).toBeUndefined();
    expect(sent!.output).toEqual({ k: "1" });
  });
});

describe("recordInputs / recordOutputs", () => {
  it("false on the client: no trace, span or logged trace of it records that side", async () => {
    const c = client({ recordInputs: false });
    await recordEverywhere(c);
    const traces = sentTraces();
    expect(traces.length).toBe(6);
    for (const t of traces) {
      expect(t.input).toBeUndefined();
      for (const s of t.spans) expect(s.input).toBeUndefined();
    }
    expect(traces.find((t) => t.name === "manual")!.output).toBeDefined();

    collector.reset();
    const d = client({ recordOutputs: false });
    await recordEverywhere(d);
    for (const t of sentTraces()) {
      expect(t.output).toBeUndefined();
      for (const s of t.spans) expect(s.output).toBeUndefined();
    }
    expect(sentTraces().find((t) => t.name === "manual")!.input).toBeDefined();
  });

  it("come from PANDAPROBE_RECORD_INPUTS / PANDAPROBE_RECORD_OUTPUTS / PANDAPROBE_SAMPLE_RATE", () => {
    const c = new Client({ exporter: capture().exporter }, { PANDAPROBE_RECORD_INPUTS: "false", PANDAPROBE_RECORD_OUTPUTS: "0", PANDAPROBE_SAMPLE_RATE: "0.5" });
    clients.push(c);
    expect(c.config).toMatchObject({ recordInputs: false, recordOutputs: false, sampleRate: 0.5 });
    expect(() => new Client({ exporter: capture().exporter }, { PANDAPROBE_SAMPLE_RATE: "1.5" })).toThrow(
      "PANDAPROBE_SAMPLE_RATE must be a number from 0 to 1, got 1.5.",
    );
    expect(() => new Client({ exporter: capture().exporter, sampleRate: -0.1 }, {})).toThrow('option "sampleRate" must be a number from 0 to 1');
    expect(() => new Client({ exporter: capture().exporter, mask: "redact" as never }, {})).toThrow('option "mask" must be a function');
  });
});

/** Math.random from a seeded generator (xorshift32), so the share a sample rate keeps is the same on every run. */
function seededRandom(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

describe("sampleRate", () => {
  it("over 10,000 traces at 0.25 keeps 25% within one point; a kept trace keeps every span and score, a dropped one sends nothing", async () => {
    vi.spyOn(Math, "random").mockImplementation(seededRandom(20261206));
    const sink = capture();
    const c = client({ exporter: sink.exporter, sampleRate: 0.25 });
    const ids: string[] = [];
    for (let i = 0; i < 10_000; i++) {
      await c.startTrace("turn", { input: `q${i}` }, async (t) => {
        ids.push(t.traceId);
        t.span("retrieve", undefined, () => "docs");
        await c.span(async () => "nested", { name: "inner" })();
        t.span("llm", undefined, (s) => s.setOutput("answer"));
      });
      c.score(ids[i]!, "quality", 1);
    }
    await c.flush();
    const kept = new Set(sink.traces.map((t) => t.trace_id));
    expect(Math.abs(kept.size / 10_000 - 0.25)).toBeLessThan(0.01);
    for (const t of sink.traces) expect(t.spans.map((s) => s.name)).toEqual(["retrieve", "inner", "llm"]);
    expect(sink.traces).toHaveLength(kept.size);
    expect(new Set(sink.scores.map((s) => s.trace_id))).toEqual(kept);
    expect(sink.scores).toHaveLength(kept.size);
    // The decision is the id's alone: the same ids at the same rate give the same traces.
    expect(new Set(ids.filter((id) => idFraction(id) < 0.25))).toEqual(kept);
    expect(ids.every(isUuid)).toBe(true);
  });

  it("is decided from the id alone, whatever its case or dashes (a W3C traceparent's 32 digits)", () => {
    const id = "4bf92f35-77b3-4da6-a3ce-929d0e0e4736";
    expect(idFraction(id)).toBe(0x0e0e4736 / 2 ** 32);
    expect(idFraction(id.toUpperCase())).toBe(idFraction(id));
    expect(idFraction(id.replace(/-/g, ""))).toBe(idFraction(id));
    expect(idFraction("ffffffff")).toBeLessThan(1);
    expect(idFraction("not-hex!")).toBe(0);
  });

  it("a trace decided before it had an id gets one that every other tier decides the same way", async () => {
    const rate = 0.5;
    const local = client({ sampleRate: rate });
    for (let i = 0; i < 200; i++) {
      const t = local.startTrace("turn");
      // Read after the decision: the id is made then, and ends in the draw that decided it.
      expect(isUuid(t.traceId)).toBe(true);
      expect(idFraction(t.traceId) < rate).toBe(t.recording);
    }
  });

  it("0 sends nothing at all, scores included; logged traces follow their id's decision", async () => {
    const c = client({ sampleRate: 0 });
    const t = c.startTrace("dropped", { input: "x" });
    t.span("s").end();
    t.end();
    c.score(t.traceId, "quality", 1);
    c.logTrace({ name: "logged", started_at: new Date().toISOString() } as never);
    await c.flush();
    expect(collector.requests).toEqual([]);
    expect(t.recording).toBe(false);
  });
});

describe("off means off", () => {
  /** An input that counts reads of its data: a snapshot reads them all (development checks look only at its type). */
  function watched() {
    const reads = { count: 0 };
    const value = new Proxy({ a: 1, b: [1, 2] }, { get: (target, key) => (key === "a" || key === "b" ? reads.count++ : 0, Reflect.get(target, key)) });
    return { value, reads };
  }

  for (const [how, options] of [
    ["enabled: false", { enabled: false }],
    ["sampleRate: 0", { sampleRate: 0 }],
  ] as const) {
    it(`${how}: no ids, no snapshot, no request`, async () => {
      const uuids = vi.spyOn(crypto, "randomUUID");
      const { value, reads } = watched();
      const c = client(options);
      const result = await c.startTrace("turn", { input: value, metadata: value }, async (t) => {
        const s = t.span("step", { input: value, modelParameters: value });
        s.setOutput(value).setMetadata(value).setError(new Error("e")).end();
        await t.span("async", { input: value }, async (inner) => inner.setOutput(value));
        await c.span(async (x: unknown) => x, { name: "inner" })(value);
        t.setOutput(value);
        return "done";
      });
      expect(result).toBe("done");
      expect(reads.count).toBe(0);
      expect(uuids).not.toHaveBeenCalled();
      await c.flush();
      expect(collector.requests).toEqual([]);
    });
  }

  it("ids are still there for whoever reads them", () => {
    const t = client({ enabled: false }).startTrace("off");
    expect(t.traceId).toMatch(/^[0-9a-f-]{36}$/);
    expect(t.span("s").spanId).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe("several clients", () => {
  it("trace(fn, { client }), @trace({ client }) and withTrace({ client }) send to that client's project", async () => {
    const a = client({ projectName: "project-a" });
    const b = client({ projectName: "project-b" });
    await trace(async () => "x", { name: "to-b", client: b })();
    await a.trace(async () => "y", { name: "to-a" })();
    await withTrace("with-b", { client: b }, () => "z");
    await Promise.all([a.flush(), b.flush()]);
    const projectOf = (name: string) => collector.requests.find((r) => (r.json as TraceData).name === name)!.headers["x-project-name"];
    expect([projectOf("to-b"), projectOf("to-a"), projectOf("with-b")]).toEqual(["project-b", "project-a", "project-b"]);
  });
});
