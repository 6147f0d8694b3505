/**
 * LangChain and LangGraph callback handlers: every run tree LangChain reports becomes a PandaProbe
 * trace (or, inside a current trace, a subtree of it), each run a span under its parent run's span.
 *
 *   const handler = new LangGraphCallbackHandler({ sessionId: "conv-1", userId: "user-1" });
 *   await graph.invoke({ messages }, { callbacks: [handler] });
 */
import { BaseCallbackHandler } from "@langchain/core/callbacks/base";
import type { DocumentInterface } from "@langchain/core/documents";
import type { Serialized } from "@langchain/core/load/serializable";
import type { BaseMessage } from "@langchain/core/messages";
import type { LLMResult } from "@langchain/core/outputs";
import type { ChainValues } from "@langchain/core/utils/types";
import {
  getClient,
  getCurrentSpan,
  getCurrentTrace,
  type Client,
  type Span,
  type SpanKind,
  type SpanOptions,
  type Trace,
} from "pandaprobe";
import {
  DEV,
  traceInputFromArgs,
  traceOutputFromResult,
  withhold,
  type RecordSwitches,
} from "pandaprobe/integration-kit";
import {
  llmOutput,
  modelParameters,
  normalize,
  requestedModel,
  responseModel,
  langchainUsage,
  toolInput,
  toWireDocument,
  toWireMessage,
  unwrapSingle,
} from "./langchain-convert.js";
import { frameworkOptions } from "./framework-run.js";
import { guarded } from "./llm-call.js";

export interface LangChainHandlerOptions extends RecordSwitches {
  /** The client whose project the traces this handler opens go to; by default the global one (`init()`). */
  client?: Client;
  /** Beats `session()` and `setSession()` for the traces this handler opens. */
  sessionId?: string;
  /** Beats `user()` and `setUser()` for the traces this handler opens. */
  userId?: string;
  tags?: string[];
  metadata?: Record<string, unknown>;
  /**
   * Seconds without any LangChain event after which a run tree that never reported its end is
   * closed (LangChain reports nothing when a consumer abandons a stream). Default 300.
   */
  idleTimeout?: number;
}

type Json = Record<string, unknown>;

/** One run tree: the trace it opened (none when it nests in the caller's trace) and its runs. */
interface RunTree {
  readonly rootRunId: string;
  readonly trace: Trace | undefined;
  readonly runIds: string[];
  lastEvent: number;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** Its root ended: the trace is done, the runs are kept only for late children. */
  closed: boolean;
}

interface Run {
  readonly span: Span;
  readonly tree: RunTree;
  /** An internal run (LangSmith-hidden): its children attach to its parent's span, it has none. */
  readonly hidden: boolean;
  /** Streamed text so far, the output of a model call that never reports its end. */
  streamed?: string;
  firstToken?: boolean;
  defersInputs?: boolean;
}

const DEFAULT_IDLE_TIMEOUT = 300;

/**
 * Checked where the developer passes them: a typo'd key would be ignored, and an ill-typed id, tag
 * or metadata would fail inside every run, where the handler swallows it and traces nothing.
 */
function checkOptions(options: LangChainHandlerOptions): void {
  frameworkOptions(options, ["idleTimeout", "client", "recordInputs", "recordOutputs"], "callback handler");
  const timeout = options.idleTimeout;
  if (timeout !== undefined && !(typeof timeout === "number" && timeout > 0 && Number.isFinite(timeout))) {
    throw new TypeError("PandaProbe: idleTimeout must be a positive number of seconds.");
  }
}
const HIDDEN_TAG = "langsmith:hidden";
const NODE_TAG = /^graph:step:\d+$/;

function serializedName(serialized: Serialized | undefined, fallback: string): string {
  const id = serialized?.id;
  return (serialized as { name?: string } | undefined)?.name ?? (Array.isArray(id) ? id.at(-1) : undefined) ?? fallback;
}

/** Graphs (a LangGraph agent, a subgraph node) and legacy agent executors are agents; other chains are steps. */
function chainKind(serialized: Serialized | undefined): SpanKind {
  const id = serialized?.id ?? [];
  const className = id.at(-1) ?? "";
  if (id[0] === "langgraph" && /Graph|Pregel/.test(className)) return "AGENT";
  return /Agent(Executor)?$/.test(className) ? "AGENT" : "CHAIN";
}

/** LangGraph's interrupts and parent commands travel as errors; they are control flow, not failures. */
function isControlFlow(error: unknown): boolean {
  return (error as { is_bubble_up?: unknown } | null)?.is_bubble_up === true;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The shared implementation. Handlers are awaited (`awaitHandlers`): each is synchronous
 * bookkeeping (spans are exported in the background), so awaiting costs a microtask, and it runs
 * the handler in the caller's async context, where the current trace and the scoped session and
 * user ids are; LangChain's background queue would run it wherever its queue happens to be.
 */
export abstract class PandaProbeCallbackHandler extends BaseCallbackHandler {
  private readonly sessionId: string | undefined;
  private readonly userId: string | undefined;
  private readonly tags: string[] | undefined;
  private readonly traceMetadata: Record<string, unknown> | undefined;
  private readonly idleTimeoutMs: number;
  private readonly client: Client | undefined;
  private readonly switches: RecordSwitches;
  private readonly runs = new Map<string, Run>();

  constructor(options: LangChainHandlerOptions = {}) {
    super();
    if (DEV && process.env.NODE_ENV !== "production") checkOptions(options);
    this.sessionId = options.sessionId;
    this.userId = options.userId;
    this.tags = options.tags;
    this.traceMetadata = options.metadata;
    this.idleTimeoutMs = (options.idleTimeout ?? DEFAULT_IDLE_TIMEOUT) * 1000;
    this.client = options.client;
    this.switches = { recordInputs: options.recordInputs, recordOutputs: options.recordOutputs };
    this.raiseError = false;
    this.awaitHandlers = true;
  }

  /** Runs are keyed by run id, so a copy must share them: the handler itself. */
  override copy(): this {
    return this;
  }

  /** The name of a trace opened for a run tree whose root run has this name. */
  protected abstract traceName(rootName: string): string;

  /** The span of a run tree's root run; a framework's handler may rename it or change its kind. */
  protected rootSpan(name: string, options: SpanOptions): { name: string; options: SpanOptions } {
    return { name, options };
  }

  override handleChainStart(
    chain: Serialized,
    inputs: ChainValues,
    runId: string,
    // LangChain passes these in BaseTracer's order, not in the order BaseCallbackHandler declares.
    parentRunId?: string,
    tags?: string[],
    metadata?: Record<string, unknown>,
    _runType?: string,
    runName?: string,
    extra?: Record<string, unknown>,
  ): void {
    guarded(() => {
      const node = tags?.some((tag) => NODE_TAG.test(tag)) === true;
      const name = runName ?? (node ? (metadata?.langgraph_node as string | undefined) : undefined) ?? serializedName(chain, "chain");
      const input = unwrapSingle(normalize(inputs), "input");
      const run = this.openRun(runId, parentRunId, name, {
        kind: chainKind(chain),
        input,
        metadata: node && metadata?.langgraph_step !== undefined ? { langgraph_step: metadata.langgraph_step } : undefined,
      }, tags?.includes(HIDDEN_TAG) === true, input);
      if (run && extra?.lc_defers_inputs === true) run.defersInputs = true;
    });
  }

  override handleChainEnd(outputs: ChainValues, runId: string, _parentRunId?: string, _tags?: string[], kwargs?: { inputs?: Record<string, unknown> }): void {
    guarded(() => {
      const output = unwrapSingle(normalize(outputs), "output");
      this.endRun(runId, (run) => {
        // A streamed chain learns its input only at the end.
        if (run.defersInputs && kwargs?.inputs !== undefined) {
          const input = unwrapSingle(normalize(kwargs.inputs), "input");
          run.span.setInput(input);
          if (run.tree.rootRunId === runId) run.tree.trace?.setInput(traceInputFromArgs([input]));
        }
        run.span.setOutput(output);
        return { output };
      });
    });
  }

  override handleChainError(error: unknown, runId: string): void {
    guarded(() => this.failRun(runId, error));
  }

  override handleChatModelStart(
    llm: Serialized,
    messages: BaseMessage[][],
    runId: string,
    parentRunId?: string,
    extraParams?: Record<string, unknown>,
    _tags?: string[],
    metadata?: Record<string, unknown>,
    runName?: string,
  ): void {
    guarded(() => {
      const input = { messages: (messages[0] ?? []).map(toWireMessage) };
      this.openLlmRun(llm, input, runId, parentRunId, extraParams, metadata, runName);
    });
  }

  override handleLLMStart(
    llm: Serialized,
    prompts: string[],
    runId: string,
    parentRunId?: string,
    extraParams?: Record<string, unknown>,
    _tags?: string[],
    metadata?: Record<string, unknown>,
    runName?: string,
  ): void {
    guarded(() => {
      const input = { messages: prompts.map((content) => ({ role: "user", content })) };
      this.openLlmRun(llm, input, runId, parentRunId, extraParams, metadata, runName);
    });
  }

  override handleLLMNewToken(token: string, _idx: unknown, runId: string, _parentRunId?: string, _tags?: string[], fields?: { chunk?: unknown }): void {
    guarded(() => {
      const run = this.touch(runId);
      if (!run) return;
      run.streamed = (run.streamed ?? "") + token;
      const toolCallChunks = (fields?.chunk as { message?: { tool_call_chunks?: unknown[] } } | undefined)?.message?.tool_call_chunks;
      if (!run.firstToken && (token !== "" || (toolCallChunks?.length ?? 0) > 0)) {
        run.firstToken = true;
        run.span.setCompletionStartTime(new Date());
      }
    });
  }

  override handleLLMEnd(output: LLMResult, runId: string): void {
    guarded(() => {
      this.endRun(runId, (run) => {
        const message = llmOutput(output);
        if (message !== undefined) run.span.setOutput(message);
        const usage = langchainUsage(output);
        if (usage) run.span.setTokenUsage(usage);
        const model = responseModel(output);
        if (model) run.span.setModel(model);
        return { output: message };
      });
    });
  }

  override handleLLMError(error: unknown, runId: string): void {
    guarded(() => this.failRun(runId, error));
  }

  override handleToolStart(
    tool: Serialized,
    input: string,
    runId: string,
    parentRunId?: string,
    _tags?: string[],
    _metadata?: Record<string, unknown>,
    runName?: string,
    toolCallId?: string,
  ): void {
    guarded(() => {
      const name = runName ?? serializedName(tool, "tool");
      const parsed = toolInput(input);
      this.openRun(runId, parentRunId, name, {
        kind: "TOOL",
        input: parsed,
        metadata: toolCallId ? { tool_call_id: toolCallId } : undefined,
      }, false, parsed);
    });
  }

  override handleToolEnd(output: unknown, runId: string): void {
    guarded(() => this.endRunWithOutput(runId, normalize(output)));
  }

  override handleToolError(error: unknown, runId: string): void {
    guarded(() => this.failRun(runId, error));
  }

  override handleRetrieverStart(
    retriever: Serialized,
    query: string,
    runId: string,
    parentRunId?: string,
    _tags?: string[],
    _metadata?: Record<string, unknown>,
    name?: string,
  ): void {
    guarded(() => {
      this.openRun(runId, parentRunId, name ?? serializedName(retriever, "retriever"), { kind: "RETRIEVER", input: query }, false, query);
    });
  }

  override handleRetrieverEnd(documents: DocumentInterface[], runId: string): void {
    guarded(() => this.endRunWithOutput(runId, documents.map((document) => toWireDocument(document))));
  }

  override handleRetrieverError(error: unknown, runId: string): void {
    guarded(() => this.failRun(runId, error));
  }

  private openLlmRun(
    llm: Serialized,
    input: { messages: unknown[] },
    runId: string,
    parentRunId: string | undefined,
    extraParams: Record<string, unknown> | undefined,
    metadata: Record<string, unknown> | undefined,
    runName: string | undefined,
  ): void {
    const invocation = extraParams?.invocation_params as Json | undefined;
    this.openRun(runId, parentRunId, runName ?? serializedName(llm, "llm"), {
      kind: "LLM",
      input,
      model: requestedModel(invocation, metadata),
      modelParameters: modelParameters(invocation, metadata),
    }, false, input);
  }

  /**
   * Opens the span of a run under its parent run's span. A run whose parent this handler never
   * saw roots a tree: nested in the current trace when there is one, else in a new trace.
   */
  private openRun(
    runId: string,
    parentRunId: string | undefined,
    name: string,
    options: SpanOptions,
    hidden: boolean,
    rootInput: unknown,
  ): Run | undefined {
    const parent = parentRunId === undefined ? undefined : this.runs.get(parentRunId);
    if (parent) {
      const tree = parent.tree;
      tree.lastEvent = Date.now();
      tree.runIds.push(runId);
      const run: Run = hidden ? { span: parent.span, tree, hidden } : { span: parent.span.span(name, options), tree, hidden };
      this.runs.set(runId, run);
      return run;
    }
    const root = this.rootSpan(name, options);
    const opened = this.openTree(runId, root.name, root.options, rootInput);
    if (!opened) return undefined;
    const run: Run = { span: opened.span, tree: opened.tree, hidden: false };
    this.runs.set(runId, run);
    this.watch(opened.tree);
    return run;
  }

  private openTree(runId: string, name: string, options: SpanOptions, input: unknown): { span: Span; tree: RunTree } | undefined {
    const client = this.client ?? getClient();
    if (!client?.enabled) return undefined;
    const host = getCurrentTrace();
    const { recordInputs } = this.switches;
    const spanOptions = recordInputs === false ? { ...options, input: undefined } : options;
    let trace: Trace | undefined;
    let span: Span;
    if (host && !host.ended) {
      span = withhold((getCurrentSpan() ?? host).span(name, spanOptions), this.switches);
    } else {
      trace = withhold(
        client.startTrace(this.traceName(name), {
          input: recordInputs === false ? undefined : traceInputFromArgs([input]),
          sessionId: this.sessionId,
          userId: this.userId,
          tags: this.tags,
          metadata: this.traceMetadata,
        }),
        this.switches,
      );
      // Kept even when not sampled (its spans record nothing), so the tree's later runs join it.
      span = trace.span(name, spanOptions);
    }
    return { span, tree: { rootRunId: runId, trace, runIds: [runId], lastEvent: Date.now(), timer: undefined, closed: false } };
  }

  /** The run, marking its tree active; undefined for runs not traced, hidden ones and ended ones. */
  private touch(runId: string): Run | undefined {
    const run = this.runs.get(runId);
    if (!run) return undefined;
    run.tree.lastEvent = Date.now();
    return run.hidden || run.span.ended ? undefined : run;
  }

  private endRun(runId: string, record: (run: Run) => { output: unknown }): void {
    const run = this.touch(runId);
    if (!run) return;
    const { output } = record(run);
    run.span.end();
    if (run.tree.rootRunId === runId) {
      this.closeTree(run.tree, (trace) => trace.setOutput(traceOutputFromResult(output)));
    }
  }

  private endRunWithOutput(runId: string, output: unknown): void {
    this.endRun(runId, (run) => {
      run.span.setOutput(output);
      return { output };
    });
  }

  private failRun(runId: string, error: unknown): void {
    const run = this.touch(runId);
    if (!run) return;
    if (isControlFlow(error)) {
      run.span.setMetadata({ interrupted: (error as Error).name }).end();
    } else {
      run.span.setError(error).end();
    }
    if (run.tree.rootRunId === runId) {
      this.closeTree(run.tree, (trace) => {
        if (!isControlFlow(error)) trace.setStatus("ERROR").setMetadata({ error: errorMessage(error) });
      });
    }
  }

  /**
   * Ends the tree's trace, and as abandoned the runs LangChain reported no end for. Those may still
   * be at work (a branch outliving its failed sibling): until the tree is idle, their children join
   * this trace under their spans instead of each opening a trace of its own.
   */
  private closeTree(tree: RunTree, finish: (trace: Trace) => void): void {
    tree.closed = true;
    const open = this.abandonOpenRuns(tree);
    if (tree.trace) {
      finish(tree.trace);
      tree.trace.end();
    }
    if (!open) this.forget(tree);
  }

  /** Ends the tree's open runs as abandoned, with the text a model streamed so far; true if there were any. */
  private abandonOpenRuns(tree: RunTree): boolean {
    let open = false;
    for (const runId of tree.runIds) {
      const run = this.runs.get(runId);
      if (run && !run.hidden && !run.span.ended) {
        open = true;
        if (run.streamed !== undefined) run.span.setOutput({ role: "assistant", content: run.streamed });
        run.span.setMetadata({ abandoned: true }).end();
      }
    }
    return open;
  }

  private forget(tree: RunTree): void {
    if (tree.timer !== undefined) clearTimeout(tree.timer);
    this.abandonOpenRuns(tree);
    for (const runId of tree.runIds) this.runs.delete(runId);
  }

  /**
   * Closes the tree once it has been idle for the timeout (the one way to notice an abandoned
   * stream), and forgets it then if its root ended with runs still open.
   */
  private watch(tree: RunTree): void {
    const check = () => {
      guarded(() => {
        const idle = Date.now() - tree.lastEvent;
        if (idle < this.idleTimeoutMs) {
          tree.timer = setTimeout(check, this.idleTimeoutMs - idle);
          unref(tree.timer);
        } else {
          if (!tree.closed) this.closeTree(tree, (trace) => trace.setMetadata({ abandoned: true }));
          this.forget(tree);
        }
      });
    };
    tree.timer = setTimeout(check, this.idleTimeoutMs);
    unref(tree.timer);
  }
}

/** A pending idle check must not keep a Node process alive. */
function unref(timer: ReturnType<typeof setTimeout>): void {
  (timer as { unref?: () => void }).unref?.();
}

/** Generic runnables LangChain names its wrappers after; a trace named so says nothing. */
const GENERIC_ROOT_NAMES = new Set(["RunnableSequence", "RunnableParallel", "RunnableLambda", "LangGraph"]);

/** For LangChain runnables: LCEL chains, agents, models, tools and retrievers called directly. */
export class LangChainCallbackHandler extends PandaProbeCallbackHandler {
  name = "PandaProbeLangChainCallbackHandler";

  protected traceName(rootName: string): string {
    return GENERIC_ROOT_NAMES.has(rootName) ? "LangChain" : rootName;
  }
}

/** For LangGraph graphs: the trace is named after the graph ("LangGraph" unless given a run name). */
export class LangGraphCallbackHandler extends PandaProbeCallbackHandler {
  name = "PandaProbeLangGraphCallbackHandler";

  protected traceName(rootName: string): string {
    return rootName;
  }
}

/** The official SDK's name for the handlers' options. */
export type AdapterOptions = LangChainHandlerOptions;
