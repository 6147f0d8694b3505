/**
 * OpenAI Agents SDK (`@openai/agents`): a trace processor that turns each SDK trace (one `run()`,
 * or the runs grouped by `withTrace()`) into one PandaProbe trace.
 *
 *   import { addTraceProcessor } from "@openai/agents";
 *   addTraceProcessor(pandaprobeTraceProcessor({ sessionId: "conv-1" }));
 *
 *   trace "OpenAIAgentsSDK"
 *   └── CHAIN  <SDK trace name, "Agent workflow">
 *       └── AGENT  <agent name>            (input and output of its model calls)
 *           ├── LLM    <model>             (a Responses or Chat Completions call: messages, usage, parameters)
 *           ├── TOOL   <function name>     (arguments in, result or error out)
 *           ├── AGENT  Handoff             (from_agent in, to_agent out)
 *           └── OTHER  <guardrail name>    (triggered or not)
 *
 * The SDK reports each span when it ends, with its own start and end times; the trace is sent
 * whole when the SDK trace ends, so names known only at the end (the model) are kept.
 */
import { getClient, getSessionId, getUserId, logTrace, type PrebuiltSpan, type PrebuiltTrace, type SpanKind } from "pandaprobe";
import { traceInputFromArgs, traceOutputFromResult } from "pandaprobe/integration-kit";
import { frameworkOptions, type FrameworkOptions } from "./framework-run.js";
import { guarded, safeParameters } from "./llm-call.js";
import { chatCompletionsApi, chatUsage } from "./openai-chat.js";
import { isObject, parseArguments, type Obj } from "./openai-record.js";
import { responsesApi, responsesMessages, responsesUsage } from "./openai-responses.js";

export interface OpenAIAgentsOptions extends FrameworkOptions {
  /** Name of the traces; "OpenAIAgentsSDK" by default, as PandaProbe's other SDKs name them. */
  name?: string;
}

/** The SDK's trace and span objects, read structurally (every field optional). */
interface SdkTrace {
  readonly traceId?: string;
  readonly name?: string;
  readonly groupId?: string | null;
  readonly metadata?: Record<string, unknown>;
}

interface SdkSpan {
  readonly traceId?: string;
  readonly spanId?: string;
  readonly parentId?: string | null;
  readonly spanData?: Obj & { type?: string };
  readonly startedAt?: string | null;
  readonly endedAt?: string | null;
  readonly error?: { message?: string; data?: unknown } | null;
}

/** The `TracingProcessor` interface of `@openai/agents`. */
export interface PandaProbeTraceProcessor {
  onTraceStart(trace: SdkTrace): Promise<void>;
  onTraceEnd(trace: SdkTrace): Promise<void>;
  onSpanStart(span: SdkSpan): Promise<void>;
  onSpanEnd(span: SdkSpan): Promise<void>;
  shutdown(timeout?: number): Promise<void>;
  forceFlush(): Promise<void>;
}

/** A span as it is filled in; the client snapshots its values to JSON when the trace is logged. */
type Recorded = Omit<PrebuiltSpan, "input" | "output" | "metadata" | "model_parameters"> & {
  span_id: string;
  input?: unknown;
  output?: unknown;
  model_parameters?: Record<string, unknown>;
  metadata: Record<string, unknown>;
};

interface Run {
  readonly root: Recorded;
  readonly startedAt: string;
  readonly sessionId: string | undefined;
  readonly userId: string | undefined;
  readonly metadata: Record<string, unknown>;
  readonly spans: Recorded[];
  readonly bySdkId: Map<string, Recorded>;
  /** The same spans by their own id, for walking up from a model call to its agent. */
  readonly byId: Map<string, Recorded>;
  firstInput: unknown;
  lastOutput: unknown;
}

const TRACE_NAME = "OpenAIAgentsSDK";

const KIND_OF: Record<string, SpanKind> = {
  agent: "AGENT",
  handoff: "AGENT",
  response: "LLM",
  generation: "LLM",
  function: "TOOL",
};

/** The SDK's name for a span: its data's name, else its type capitalised. */
function spanName(data: Obj | undefined): string {
  if (typeof data?.name === "string" && data.name) return data.name;
  const type = typeof data?.type === "string" ? data.type : "span";
  return type.charAt(0).toUpperCase() + type.slice(1);
}

function isoNow(): string {
  return new Date().toISOString();
}

/** The usage of task and turn spans sums their model calls: kept as metadata, so tokens are not counted twice. */
function agentsUsage(usage: unknown): Record<string, number> | undefined {
  if (!isObject(usage)) return undefined;
  const kept: Record<string, number> = {};
  for (const [key, value] of Object.entries(usage)) if (typeof value === "number") kept[key] = value;
  return Object.keys(kept).length ? kept : undefined;
}

function messagesOf(io: unknown): unknown[] {
  return isObject(io) && Array.isArray(io.messages) ? io.messages : [];
}

/**
 * The SDK's own protocol items (`callId`, `function_call_result` with a typed output) in the
 * Responses API's shape, which `responsesMessages` reads.
 */
function apiItem(item: unknown): unknown {
  if (!isObject(item)) return item;
  if (item.type === "function_call") return { ...item, call_id: item.call_id ?? item.callId };
  if (item.type !== "function_call_result") return item;
  const output = isObject(item.output) && "text" in item.output ? item.output.text : item.output;
  return { type: "function_call_output", call_id: item.call_id ?? item.callId, output };
}

/** A Responses API call: its items as messages, its output as the assistant message, model, usage and knobs. */
function fillResponse(span: Recorded, data: Obj): void {
  const body = isObject(data._response) ? data._response : {};
  const input = Array.isArray(data._input) ? data._input.map(apiItem) : data._input;
  span.input = { messages: responsesMessages({ instructions: body.instructions, input }) };
  const result = responsesApi.fromResponse(body);
  span.output = { messages: [result.message] };
  if (result.model) {
    span.model = result.model;
    span.name = result.model;
  }
  if (result.usage) span.token_usage = result.usage;
  span.model_parameters = safeParameters({
    temperature: body.temperature,
    top_p: body.top_p,
    max_output_tokens: body.max_output_tokens,
    tool_choice: body.tool_choice,
    parallel_tool_calls: body.parallel_tool_calls,
    reasoning: body.reasoning,
    service_tier: body.service_tier,
  });
}

/** A Chat Completions call, as the SDK records it: messages in and out, model, config and usage. */
function fillGeneration(span: Recorded, data: Obj): void {
  span.input = { messages: Array.isArray(data.input) ? data.input : [] };
  // Chat Completions models report the whole completion as their output, usage included.
  const outputs = Array.isArray(data.output) ? data.output : [];
  const completions = outputs.filter((item) => isObject(item) && Array.isArray(item.choices)).map((item) => chatCompletionsApi.fromResponse(item));
  span.output = { messages: completions.length ? completions.map((c) => c.message) : outputs };
  if (typeof data.model === "string") {
    span.model = data.model;
    span.name = data.model;
  }
  const usage = isObject(data.usage) ? data.usage : undefined;
  // The SDK reports Responses-style usage (input/output tokens); a Chat Completions model may pass its own on.
  const reported = usage && ("prompt_tokens" in usage ? chatUsage(usage) : responsesUsage(usage));
  const tokens = reported ?? completions[0]?.usage;
  if (tokens) span.token_usage = tokens;
  if (isObject(data.model_config)) span.model_parameters = safeParameters(data.model_config);
}

function fill(span: Recorded, data: Obj): void {
  switch (data.type) {
    case "response":
      return fillResponse(span, data);
    case "generation":
      return fillGeneration(span, data);
    case "function":
      span.input = parseArguments(data.input);
      if (data.output !== undefined && data.output !== null) span.output = parseArguments(data.output);
      if (data.mcp_data) span.metadata.mcp_data = data.mcp_data;
      return;
    case "agent":
      for (const key of ["tools", "handoffs", "output_type"]) if (data[key] !== undefined) span.metadata[key] = data[key];
      return;
    case "handoff":
      span.input = { from_agent: data.from_agent ?? null };
      span.output = { to_agent: data.to_agent ?? null };
      Object.assign(span.metadata, { from_agent: data.from_agent, to_agent: data.to_agent });
      return;
    case "guardrail":
      span.metadata.triggered = data.triggered;
      return;
    case "task":
    case "turn": {
      const usage = agentsUsage(data.usage);
      if (usage) span.metadata.usage = usage;
      if (data.turn !== undefined) span.metadata.turn = data.turn;
      if (data.agent_name !== undefined) span.metadata.agent_name = data.agent_name;
      return;
    }
    case "custom":
      if (data.data !== undefined) span.metadata.data = data.data;
      return;
  }
}

/** The agent a model call belongs to shows that call's input (its first) and output (its last). */
function propagateToAgent(run: Run, llm: Recorded): void {
  const { byId } = run;
  for (let parent = byId.get(llm.parent_span_id ?? ""); parent; parent = byId.get(parent.parent_span_id ?? "")) {
    if (parent.kind !== "AGENT") continue;
    parent.input ??= llm.input;
    parent.output = llm.output;
    return;
  }
}

export function pandaprobeTraceProcessor(options?: OpenAIAgentsOptions): PandaProbeTraceProcessor {
  const settings = frameworkOptions(options, ["name"], "pandaprobeTraceProcessor()");
  const runs = new Map<string, Run>();

  const start = (trace: SdkTrace) => {
    if (!trace.traceId || !getClient()?.enabled) return;
    const startedAt = isoNow();
    const root: Recorded = {
      span_id: crypto.randomUUID(),
      name: trace.name || "Agent workflow",
      kind: "CHAIN",
      started_at: startedAt,
      metadata: {},
    };
    const metadata: Record<string, unknown> = { ...(isObject(trace.metadata) ? trace.metadata : {}), ...settings.metadata, openai_trace_id: trace.traceId };
    if (trace.groupId) metadata.group_id = trace.groupId;
    // Read here, in the run's flow: the scoped ids of the caller of run().
    runs.set(trace.traceId, {
      root,
      startedAt,
      sessionId: settings.sessionId ?? getSessionId(),
      userId: settings.userId ?? getUserId(),
      metadata,
      spans: [root],
      bySdkId: new Map(),
      byId: new Map([[root.span_id, root]]),
      firstInput: undefined,
      lastOutput: undefined,
    });
  };

  const spanStarted = (span: SdkSpan) => {
    const run = runs.get(span.traceId ?? "");
    if (!run || !span.spanId) return;
    const data = span.spanData;
    const recorded: Recorded = {
      span_id: crypto.randomUUID(),
      parent_span_id: run.bySdkId.get(span.parentId ?? "")?.span_id ?? run.root.span_id,
      name: spanName(data),
      kind: KIND_OF[data?.type ?? ""] ?? "OTHER",
      started_at: span.startedAt ?? isoNow(),
      metadata: {},
    };
    run.bySdkId.set(span.spanId, recorded);
    run.byId.set(recorded.span_id, recorded);
    run.spans.push(recorded);
  };

  const spanEnded = (span: SdkSpan) => {
    const run = runs.get(span.traceId ?? "");
    const recorded = run?.bySdkId.get(span.spanId ?? "");
    if (!run || !recorded) return;
    recorded.ended_at = span.endedAt ?? isoNow();
    if (span.error) {
      recorded.status = "ERROR";
      const detail = span.error.data === undefined ? "" : `\n${JSON.stringify(span.error.data)}`;
      recorded.error = `${span.error.message ?? "error"}${detail}`;
    } else {
      recorded.status = "OK";
    }
    if (span.spanData) fill(recorded, span.spanData);
    if (recorded.kind === "LLM") {
      propagateToAgent(run, recorded);
      run.firstInput ??= recorded.input;
      if (messagesOf(recorded.output).length) run.lastOutput = recorded.output;
    }
    // A run that throws ends its spans but never its SDK trace: its failed top-level span ends it here.
    const topLevel = !span.parentId || span.parentId === span.traceId;
    if (topLevel && span.error && run.spans.every((s) => s === run.root || s.ended_at !== undefined)) end(span.traceId!);
  };

  const end = (traceId: string) => {
    const run = runs.get(traceId);
    if (!run) return;
    runs.delete(traceId);
    const endedAt = isoNow();
    // Tool errors are answers the model reads and recovers from; any other error failed the run.
    const failure = run.spans.find((s) => s.status === "ERROR" && s.kind !== "TOOL");
    for (const span of run.spans) {
      if (span.ended_at !== undefined || span === run.root) continue;
      span.ended_at = endedAt;
      span.metadata.abandoned = true;
    }
    Object.assign(run.root, {
      input: run.firstInput,
      output: run.lastOutput,
      ended_at: endedAt,
      status: failure ? "ERROR" : "OK",
      error: failure?.error,
    });
    logTrace({
      name: settings.name ?? TRACE_NAME,
      status: failure ? "ERROR" : "COMPLETED",
      input: run.firstInput === undefined ? undefined : traceInputFromArgs([run.firstInput]),
      output: run.lastOutput === undefined ? undefined : traceOutputFromResult(run.lastOutput),
      session_id: run.sessionId,
      user_id: run.userId,
      tags: settings.tags,
      metadata: failure ? { ...run.metadata, error: failure.error } : run.metadata,
      started_at: run.startedAt,
      ended_at: endedAt,
      spans: run.spans.map(({ metadata, ...span }) => (Object.keys(metadata).length ? { ...span, metadata } : span)),
    } as PrebuiltTrace);
  };

  return {
    onTraceStart: async (trace) => guarded(() => start(trace)),
    onSpanStart: async (span) => guarded(() => spanStarted(span)),
    onSpanEnd: async (span) => guarded(() => spanEnded(span)),
    onTraceEnd: async (trace) => guarded(() => end(trace.traceId ?? "")),
    forceFlush: async () => {
      await getClient()?.flush();
    },
    // The PandaProbe client is the app's: the Agents SDK shutting down its processors does not stop it.
    shutdown: async () => {
      await getClient()?.flush();
    },
  };
}

/**
 * The adapter PandaProbe's Node SDK offers under `pandaprobe/integrations/openai-agents`:
 * `new OpenAIAgentsAdapter(options).createTraceProcessor()`, or `.instrument()` to register it.
 */
export class OpenAIAgentsAdapter {
  private readonly options: OpenAIAgentsOptions | undefined;

  constructor(options?: OpenAIAgentsOptions) {
    frameworkOptions(options, ["name"], "OpenAIAgentsAdapter");
    this.options = options;
  }

  createTraceProcessor(): PandaProbeTraceProcessor {
    return pandaprobeTraceProcessor(this.options);
  }

  /** Adds the processor to the SDK's own (keeping its exporter); false when `@openai/agents` is not installed. */
  async instrument(): Promise<boolean> {
    try {
      const agents = (await import("@openai/agents")) as { addTraceProcessor?: (processor: unknown) => void };
      if (typeof agents.addTraceProcessor !== "function") return false;
      agents.addTraceProcessor(this.createTraceProcessor());
      return true;
    } catch {
      return false;
    }
  }
}
