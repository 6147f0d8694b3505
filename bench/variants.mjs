/**
 * The benchmarked workloads. Every variant runs the same agent turn: a root async function that
 * awaits three async children (retrieve -> llm -> format), with the same small inputs and outputs,
 * and, where the library supports it, session "s" and user "u" on the trace.
 *
 * Every variant is `{ name, call(), flush(), verify() }`:
 *   call()   one traced agent turn (returns a promise)
 *   flush()  awaited once per measured batch, so background export work is paid inside the batch
 *   verify() runs a few calls outside the timed region and checks the library really recorded them
 *
 * No variant touches the network: pandaprobe and langsmith get a fetch stub that answers at once,
 * @langfuse/tracing gets a real OpenTelemetry SDK tracer provider whose span processor drops spans,
 * and the global fetch is replaced by a tripwire that counts any request that would leave the process.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import { createRequire } from "node:module";

// ---------------------------------------------------------------------------------------------
// The shared workload: small, realistic inputs and outputs.

export const MESSAGES = [
  { role: "system", content: "You are a concise assistant for a travel agency." },
  { role: "user", content: "What is the capital of France?" },
];
const DOCS = ["Paris is the capital and largest city of France."];
const ANSWER = "The capital of France is Paris.";

async function retrieve(query) {
  return query.length > 0 ? DOCS : [];
}
async function callModel(messages) {
  return messages.length > 0 ? ANSWER : "";
}
async function format(text) {
  return text.trim();
}
const lastUserContent = (messages) => messages[messages.length - 1].content;

/** Anything that reaches the real network during the run is counted here (and fails). */
export const tripwire = { requests: [] };
export function installFetchTripwire() {
  globalThis.fetch = async (url) => {
    tripwire.requests.push(String(url));
    throw new Error(`benchmark tripwire: unexpected network request to ${url}`);
  };
}

function okResponse(body = "{}", status = 202) {
  return new Response(body, { status, headers: { "content-type": "application/json" } });
}

function assert(condition, message) {
  if (!condition) throw new Error(`verify: ${message}`);
}

// ---------------------------------------------------------------------------------------------
// (2) untraced

export function untraced() {
  async function agent(messages) {
    const docs = await retrieve(lastUserContent(messages));
    const answer = await callModel(messages, docs);
    return format(answer);
  }
  return {
    name: "untraced",
    call: () => agent(MESSAGES),
    flush: async () => {},
    verify: async () => assert((await agent(MESSAGES)) === ANSWER, "untraced answer"),
  };
}

/**
 * The same untraced code in a process where an AsyncLocalStorage is active: from then on Node 20's
 * promise hooks add work to every promise of the process. What tracing that is off costs is
 * measured against this, since the SDK's scopes make any process that loads it such a process.
 */
export function untracedAls() {
  new AsyncLocalStorage().enterWith({});
  return { ...untraced(), name: "untraced-als" };
}

/**
 * The code of the pandaprobe agent turn (its async callbacks included) with the SDK replaced by
 * no-ops, in an ALS-active process: the untraced cost of that very code, for the off variants.
 */
export function untracedAlsShape(pp) {
  new AsyncLocalStorage().enterWith({});
  const noSpan = { setOutput: () => noSpan };
  const noTrace = { span: (_name, _options, fn) => fn(noSpan), setOutput: () => noTrace };
  const same = (_id, fn) => fn();
  const call = pandaprobeAgentTurn({ SpanKind: pp.SpanKind, session: same, user: same }, { startTrace: (_name, _options, fn) => fn(noTrace) });
  return {
    name: "untraced-als-shape",
    call,
    flush: async () => {},
    verify: async () => assert((await call()) === ANSWER, "untraced-als-shape answer"),
  };
}

// ---------------------------------------------------------------------------------------------
// (3) the floor: what any tracer must at least do for this shape.

export function floor() {
  const als = new AsyncLocalStorage();
  let sink = 0;
  let lastBody = "";
  const iso = () => new Date().toISOString();

  function span(trace, name, kind, input, fn) {
    const s = {
      span_id: randomUUID(),
      parent_span_id: undefined,
      name,
      kind,
      status: "UNSET",
      input,
      output: undefined,
      started_at: iso(),
      ended_at: undefined,
    };
    trace.spans.push(s);
    return als.run(s, async () => {
      const out = await fn(input);
      s.output = out;
      s.status = "OK";
      s.ended_at = iso();
      return out;
    });
  }

  function agent(messages) {
    const trace = {
      trace_id: randomUUID(),
      name: "agent",
      status: "RUNNING",
      input: messages,
      output: undefined,
      started_at: iso(),
      ended_at: undefined,
      session_id: "s",
      user_id: "u",
      spans: [],
    };
    return als.run(trace, async () => {
      const query = lastUserContent(messages);
      const docs = await span(trace, "retrieve", "RETRIEVER", query, retrieve);
      const answer = await span(trace, "llm", "LLM", messages, (m) => callModel(m, docs));
      const out = await span(trace, "format", "TOOL", answer, format);
      trace.output = out;
      trace.status = "COMPLETED";
      trace.ended_at = iso();
      lastBody = JSON.stringify(trace);
      sink += lastBody.length;
      return out;
    });
  }
  return {
    name: "floor",
    call: () => agent(MESSAGES),
    flush: async () => {},
    verify: async () => {
      await agent(MESSAGES);
      const body = JSON.parse(lastBody);
      assert(body.spans.length === 3 && body.session_id === "s", "floor payload");
      assert(sink > 0, "floor sink");
    },
  };
}

// ---------------------------------------------------------------------------------------------
// (1) pandaprobe

/**
 * The measure ends where the serialized payload is handed to a no-op transport: the
 * client's `exporter` option receives each request body. `http: true` instead keeps the built-in
 * batching HTTP exporter and stubs only fetch (supplementary: what a real request adds).
 */
function pandaprobeClient(pp, captured, { http = false } = {}) {
  const transport = http
    ? {
        fetch: async (_url, init) => {
          captured.requests++;
          if (captured.keep) captured.bodies.push(init.body);
          return okResponse();
        },
      }
    : {
        exporter: {
          enqueue(envelope) {
            captured.requests++;
            if (captured.keep) captured.bodies.push(envelope.body);
          },
          flush: () => Promise.resolve(),
          shutdown: () => Promise.resolve(),
        },
      };
  return new pp.Client(
    { apiKey: "k", projectName: "p", endpoint: "http://127.0.0.1:9", ...transport },
    {}, // no PANDAPROBE_* variables: defaults apart from the options above
  );
}

function verifyPandaprobeBodies(captured, calls) {
  const traces = captured.bodies.map((b) => JSON.parse(b));
  assert(traces.length === calls, `pandaprobe: ${traces.length} trace bodies for ${calls} calls`);
  for (const t of traces) {
    assert(t.session_id === "s" && t.user_id === "u", "pandaprobe: session/user on the trace");
    assert(t.status === "COMPLETED" && t.ended_at, "pandaprobe: trace ended");
    assert(t.spans.length === 3, `pandaprobe: ${t.spans.length} spans`);
    assert(t.spans.every((s) => s.status === "OK" && s.ended_at && s.output !== undefined), "pandaprobe: spans ended with output");
  }
}

/**
 * The agent turn traced with `client`: startTrace callback form + t.span(name, {kind, input}, fn)
 * with explicit setOutput, inside session "s" and user "u". Also bench/socket-worker.mjs's workload.
 */
export function pandaprobeAgentTurn(pp, client) {
  const { session, user, SpanKind } = pp;
  const agent = (messages) =>
    client.startTrace("agent", { input: messages }, async (t) => {
      const query = lastUserContent(messages);
      const docs = await t.span("retrieve", { kind: SpanKind.RETRIEVER, input: query }, async (s) => {
        const r = await retrieve(query);
        s.setOutput(r);
        return r;
      });
      const answer = await t.span("llm", { kind: SpanKind.LLM, input: messages }, async (s) => {
        const r = await callModel(messages, docs);
        s.setOutput(r);
        return r;
      });
      const out = await t.span("format", { kind: SpanKind.TOOL, input: answer }, async (s) => {
        const r = await format(answer);
        s.setOutput(r);
        return r;
      });
      t.setOutput(out);
      return out;
    });
  return () => session("s", () => user("u", () => agent(MESSAGES)));
}

/** (1) the agent turn through a client whose exporter hands each body to a no-op. */
export function pandaprobe(pp, options) {
  const captured = { requests: 0, keep: false, bodies: [] };
  const client = pandaprobeClient(pp, captured, options);
  return pandaprobeVariant("pandaprobe", client, captured, pandaprobeAgentTurn(pp, client));
}

/** A pandaprobe variant: the call, a flush per batch, and a check that 20 calls give 20 complete traces. */
function pandaprobeVariant(name, client, captured, call) {
  return {
    name,
    client,
    captured,
    call,
    flush: () => client.flush(),
    verify: async () => {
      captured.keep = true;
      for (let i = 0; i < 20; i++) await call();
      await client.flush();
      verifyPandaprobeBodies(captured, 20);
      captured.keep = false;
      captured.bodies.length = 0;
    },
  };
}

/** Supplementary: (1) through the built-in HTTP exporter, fetch stubbed (one request per trace). */
export function pandaprobeHttp(pp) {
  return { ...pandaprobe(pp, { http: true }), name: "pandaprobe-http" };
}

/** Supplementary: the wrapper form (trace(fn) / span(fn)), which captures inputs and outputs itself like traceable/observe. */
export function pandaprobeWrappers(pp) {
  const captured = { requests: 0, keep: false, bodies: [] };
  const client = pandaprobeClient(pp, captured);
  const { session, user, SpanKind } = pp;
  const tRetrieve = client.span(retrieve, { name: "retrieve", kind: SpanKind.RETRIEVER });
  const tLlm = client.span(callModel, { name: "llm", kind: SpanKind.LLM });
  const tFormat = client.span(format, { name: "format", kind: SpanKind.TOOL });
  const agent = client.trace(
    async function agent(messages) {
      const docs = await tRetrieve(lastUserContent(messages));
      const answer = await tLlm(messages, docs);
      return tFormat(answer);
    },
    { name: "agent" },
  );
  return pandaprobeVariant("pandaprobe-wrappers", client, captured, () => session("s", () => user("u", () => agent(MESSAGES))));
}

/**
 * Off means off: the agent turn (startTrace + t.span, or trace(fn) + span(fn)) through a client that
 * records nothing, `enabled: false` or `sampleRate: 0` (every trace not sampled). It must cost next
 * to nothing beside untraced-als; verify checks that nothing is sent.
 */
function pandaprobeOff(pp, name, options, wrappers) {
  const captured = { requests: 0, keep: false, bodies: [] };
  const client = new pp.Client(
    {
      apiKey: "k",
      projectName: "p",
      endpoint: "http://127.0.0.1:9",
      ...options,
      exporter: { enqueue: () => captured.requests++, flush: () => Promise.resolve(), shutdown: () => Promise.resolve() },
    },
    {},
  );
  const call = wrappers ? wrapperTurn(pp, client) : pandaprobeAgentTurn(pp, client);
  return {
    name,
    client,
    captured,
    call,
    flush: () => client.flush(),
    verify: async () => {
      for (let i = 0; i < 20; i++) assert((await call()) === ANSWER, `${name}: answer`);
      await client.flush();
      assert(captured.requests === 0, `${name}: ${captured.requests} requests for traces not recorded`);
    },
  };
}

/** The wrapper form of the agent turn, as pandaprobeWrappers runs it. */
function wrapperTurn(pp, client) {
  const { session, user, SpanKind } = pp;
  const tRetrieve = client.span(retrieve, { name: "retrieve", kind: SpanKind.RETRIEVER });
  const tLlm = client.span(callModel, { name: "llm", kind: SpanKind.LLM });
  const tFormat = client.span(format, { name: "format", kind: SpanKind.TOOL });
  const agent = client.trace(
    async function agent(messages) {
      const docs = await tRetrieve(lastUserContent(messages));
      const answer = await tLlm(messages, docs);
      return tFormat(answer);
    },
    { name: "agent" },
  );
  return () => session("s", () => user("u", () => agent(MESSAGES)));
}

// ---------------------------------------------------------------------------------------------
// (4) langsmith traceable

export async function langsmith() {
  const { Client } = await import("langsmith");
  const { traceable } = await import("langsmith/traceable");
  const captured = { requests: 0, info: 0, keep: false, bodies: [] };
  // Network stubbed at the client's own fetch hook: /info answers {} (defaults: multipart, no
  // compression), /runs/multipart answers 202. Everything up to the fetch call runs for real.
  const client = new Client({
    apiUrl: "http://127.0.0.1:9",
    apiKey: "x",
    autoBatchTracing: true,
    fetchImplementation: async (url, init) => {
      if (String(url).endsWith("/info")) {
        captured.info++;
        return okResponse("{}", 200);
      }
      captured.requests++;
      if (captured.keep) captured.bodies.push(await new Response(init.body).text());
      return okResponse("{}", 202);
    },
  });
  const common = { client, tracingEnabled: true, project_name: "bench" };
  const lsRetrieve = traceable(retrieve, { ...common, name: "retrieve", run_type: "retriever" });
  const lsLlm = traceable(callModel, { ...common, name: "llm", run_type: "llm" });
  const lsFormat = traceable(format, { ...common, name: "format", run_type: "tool" });
  const agent = traceable(
    async (messages) => {
      const docs = await lsRetrieve(lastUserContent(messages));
      const answer = await lsLlm(messages, docs);
      return lsFormat(answer);
    },
    { ...common, name: "agent", run_type: "chain", metadata: { session_id: "s", user_id: "u" } },
  );

  async function flush() {
    // traceable ends runs in the background; awaitPendingTraceBatches() gives them 1 ms to enqueue,
    // but it then waits for queued items to be sent, which only the 250 ms aggregation timer would do.
    // So: let them enqueue, drain the queue now, then wait for the requests as the docs say.
    await new Promise((r) => setTimeout(r, 1));
    while (client.autoBatchQueue.items.length > 0) await client.flush();
    await client.awaitPendingTraceBatches();
  }

  return {
    name: "langsmith",
    // ~5 ms per call: 200 calls per batch keeps one sample near a second, so the rounds stay tight.
    // Its flush costs ~2 ms of sleeps, i.e. ~10 µs per call at this batch size (<0.5%).
    callsPerBatch: Number(process.env.BENCH_LANGSMITH_CALLS ?? 200),
    client,
    captured,
    call: () => agent(MESSAGES),
    flush,
    verify: async () => {
      captured.keep = true;
      for (let i = 0; i < 20; i++) await agent(MESSAGES);
      await flush();
      const body = captured.bodies.join("\n");
      const posts = body.match(/name="post\.[0-9a-f-]{36}"/g) ?? [];
      const patches = body.match(/name="patch\.[0-9a-f-]{36}"/g) ?? [];
      // Runs are posted at start and patched at end; posts and patches of one batch are merged.
      assert(posts.length + patches.length >= 80, `langsmith: ${posts.length} posts + ${patches.length} patches for 80 runs`);
      assert(body.includes('"session_id":"s"'), "langsmith: session metadata on the run");
      captured.keep = false;
      captured.bodies.length = 0;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// (5) @langfuse/tracing observe

const requirePeer = createRequire(new URL("./peers/package.json", import.meta.url));

/** A real OTel SDK tracer provider (BasicTracerProvider) with `processor`, and the async-hooks context manager, registered globally. */
async function installOtel(processor) {
  const api = await import("@opentelemetry/api");
  const { BasicTracerProvider } = requirePeer("@opentelemetry/sdk-trace-base");
  const { AsyncLocalStorageContextManager } = requirePeer("@opentelemetry/context-async-hooks");
  const provider = new BasicTracerProvider({ spanProcessors: [processor] });
  api.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  if (!api.trace.setGlobalTracerProvider(provider)) throw new Error("could not register the OpenTelemetry tracer provider");
  return provider;
}

/** Runs `call` 20 times while `sink` keeps what it records, flushes, then hands the records to `check`. */
async function verifyTwenty(call, flush, sink, check) {
  sink.keep = true;
  try {
    for (let i = 0; i < 20; i++) await call();
    await flush();
    check(sink.kept);
  } finally {
    sink.keep = false;
    sink.kept.length = 0;
  }
}

/** A @langfuse/tracing variant over `processor`; `sink` keeps what it records while verify runs, for `check`. */
async function langfuseVariant(name, processor, sink, check) {
  const provider = await installOtel(processor);
  const call = await langfuseAgent();
  const flush = () => provider.forceFlush();
  return { name, call, flush, verify: () => verifyTwenty(call, flush, sink, check) };
}

/** The same agent turn, observed: a root and three children, session and user propagated. */
async function langfuseAgent() {
  const { observe, propagateAttributes } = await import("@langfuse/tracing");
  const lfRetrieve = observe(retrieve, { name: "retrieve", asType: "retriever" });
  const lfLlm = observe(callModel, { name: "llm", asType: "generation" });
  const lfFormat = observe(format, { name: "format", asType: "tool" });
  const agent = observe(
    async (messages) => {
      const docs = await lfRetrieve(lastUserContent(messages));
      const answer = await lfLlm(messages, docs);
      return lfFormat(answer);
    },
    { name: "agent", asType: "agent" },
  );
  return () => propagateAttributes({ sessionId: "s", userId: "u" }, () => agent(MESSAGES));
}

/**
 * (5) @langfuse/tracing as a Langfuse app runs it: Langfuse's own span processor (@langfuse/otel's
 * LangfuseSpanProcessor: propagated attributes, filtering, masking and media checks, batching),
 * whose exporter turns each batch into the OTLP JSON body that OTLPTraceExporter would POST (the
 * same JsonTraceSerializer) and hands it to a no-op: pandaprobe's measure ends at its body too.
 */
export async function langfuse() {
  const { LangfuseSpanProcessor } = requirePeer("@langfuse/otel");
  const { JsonTraceSerializer } = requirePeer("@opentelemetry/otlp-transformer");
  // bytes: the serialized bodies are used, as a real exporter would send them.
  const exported = { bytes: 0, keep: false, kept: [] };
  const exporter = {
    export(spans, done) {
      const body = JsonTraceSerializer.serializeRequest(spans);
      exported.bytes += body.byteLength;
      if (exported.keep) exported.kept.push(body);
      done({ code: 0 });
    },
    shutdown: () => Promise.resolve(),
    forceFlush: () => Promise.resolve(),
  };
  const processor = new LangfuseSpanProcessor({ exporter, publicKey: "pk-lf-bench", secretKey: "sk-lf-bench" });
  return langfuseVariant("langfuse", processor, exported, (bodies) => {
    const decoder = new TextDecoder();
    const spans = bodies.flatMap((body) =>
      JSON.parse(decoder.decode(body)).resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)),
    );
    const attr = (span, key) => span.attributes.find((a) => a.key === key)?.value.stringValue;
    assert(spans.length === 80, `langfuse: ${spans.length} spans serialized for 80 observations`);
    const roots = spans.filter((s) => s.name === "agent");
    assert(roots.length === 20, "langfuse: 20 roots");
    assert(
      spans.filter((s) => s.name !== "agent").every((c) => roots.some((r) => r.spanId === c.parentSpanId)),
      "langfuse: every child has its root as parent",
    );
    assert(roots.every((r) => typeof attr(r, "langfuse.observation.input") === "string"), "langfuse: input captured");
    assert(spans.every((s) => attr(s, "session.id") === "s" && attr(s, "user.id") === "u"), "langfuse: session/user on every span");
  });
}

/**
 * Supplementary lower bound: @langfuse/tracing with a span processor that only copies the
 * propagated session and user onto spans at start (what LangfuseSpanProcessor does there) and
 * does nothing with ended spans: no batching, no serialization, no export.
 */
export async function langfuseNoExport() {
  const { getPropagatedAttributesFromContext } = await import("@langfuse/core");
  const processor = {
    kept: [],
    keep: false,
    onStart(span, parentContext) {
      const attributes = getPropagatedAttributesFromContext(parentContext);
      for (const key in attributes) {
        span.setAttributes(attributes);
        break;
      }
    },
    onEnd(span) {
      if (this.keep) this.kept.push(span);
    },
    forceFlush: () => Promise.resolve(),
    shutdown: () => Promise.resolve(),
  };
  return langfuseVariant("langfuse-no-export", processor, processor, (spans) => {
    assert(spans.length === 80, `langfuse-no-export: ${spans.length} spans ended for 80 observations`);
    assert(spans.every((s) => s.attributes["session.id"] === "s" && s.attributes["user.id"] === "u"), "langfuse-no-export: session/user on every span");
  });
}

/** Every variant by name, for the worker and the profiler. */
export function variantFactories(pp) {
  return {
    untraced: () => untraced(),
    "untraced-als": () => untracedAls(),
    "untraced-als-shape": () => untracedAlsShape(pp),
    disabled: () => pandaprobeOff(pp, "disabled", { enabled: false }, false),
    unsampled: () => pandaprobeOff(pp, "unsampled", { sampleRate: 0 }, false),
    "disabled-wrappers": () => pandaprobeOff(pp, "disabled-wrappers", { enabled: false }, true),
    "unsampled-wrappers": () => pandaprobeOff(pp, "unsampled-wrappers", { sampleRate: 0 }, true),
    floor: () => floor(),
    pandaprobe: () => pandaprobe(pp),
    "pandaprobe-http": () => pandaprobeHttp(pp),
    "pandaprobe-wrappers": () => pandaprobeWrappers(pp),
    langfuse: () => langfuse(),
    "langfuse-no-export": () => langfuseNoExport(),
    langsmith: () => langsmith(),
  };
}
