/**
 * Claude Agent SDK (`@anthropic-ai/claude-agent-sdk`): `query()` traced from the messages it streams.
 *
 *   import { query } from "@anthropic-ai/claude-agent-sdk";
 *   const tracedQuery = wrapClaudeAgentQuery(query, { sessionId: "conv-1" });
 *   for await (const message of tracedQuery({ prompt, options })) ...
 *
 * Each query is one trace (or, inside a current trace, a subtree of it):
 *
 *   CHAIN  ClaudeAgentSDK
 *   └── AGENT  ClaudeAgentSDK
 *       ├── LLM    claude-llm          (one per model turn: the conversation in, the assistant message out)
 *       ├── TOOL   <tool name>         (one per tool use: input, then the tool result or error)
 *       └── AGENT  <subagent type>     (a Task / Agent tool use; the subagent's turns and tools nest in it)
 *
 * The messages reach the caller unchanged, and the returned object is the SDK's `Query` itself
 * (interrupt(), setModel()... still work). The CLI streams each content block as its own
 * assistant message with the same message id: blocks sharing an id are one turn. Streamed
 * per-message usage is a snapshot taken when the message starts, so the query's total usage and
 * cost, from its result message, go on its last turn (as PandaProbe's other SDKs record them).
 */
import type { Span } from "pandaprobe";
import { frameworkOptions, openFrameworkRun, type FrameworkOptions, type FrameworkRun } from "./framework-run.js";
import { isObject, numberOr, reportedUsage, type Obj } from "./openai-record.js";
import { guarded, safeParameters } from "./llm-call.js";

export type ClaudeAgentOptions = FrameworkOptions;

type QueryArgs = { prompt: unknown; options?: Obj };

const NAME = "ClaudeAgentSDK";
const TURN_NAME = "claude-llm";
/** The tools that start a subagent (Claude Code renamed Task to Agent). */
const SUBAGENT_TOOLS = new Set(["Task", "Agent"]);

type Block = Obj & { type?: string };

function blocks(content: unknown): Block[] {
  return Array.isArray(content) ? content.filter(isObject) : [];
}

function textOf(content: unknown): string | null {
  if (typeof content === "string") return content;
  const texts = blocks(content).filter((b) => b.type === "text").map((b) => String(b.text ?? ""));
  return texts.length ? texts.join("") : null;
}

/** A tool result's content: text blocks joined, anything else kept as sent. */
function resultContent(content: unknown): unknown {
  if (typeof content === "string" || !Array.isArray(content)) return content;
  return content.every((b) => isObject(b) && b.type === "text") ? content.map((b) => (b as Obj).text).join("") : content;
}

function usageOf(usage: unknown) {
  if (!isObject(usage)) return undefined;
  const input = numberOr(usage.input_tokens);
  const output = numberOr(usage.output_tokens);
  const details = isObject(usage.output_tokens_details) ? usage.output_tokens_details : {};
  const cacheRead = numberOr(usage.cache_read_input_tokens);
  return reportedUsage({
    prompt_tokens: input,
    completion_tokens: output,
    total_tokens: input !== undefined && output !== undefined ? input + output : undefined,
    reasoning_tokens: numberOr(details.thinking_tokens) || undefined,
    cache_read_tokens: cacheRead || undefined,
  });
}

/** The initial conversation: the system prompt (when a plain string) and the prompt, when it is a string. */
function initialMessages(args: QueryArgs): unknown[] {
  const messages: unknown[] = [];
  const system = args.options?.systemPrompt;
  if (typeof system === "string" && system) messages.push({ role: "system", content: system });
  if (typeof args.prompt === "string") messages.push({ role: "user", content: args.prompt });
  return messages;
}

function modelParameters(options: Obj | undefined): Record<string, unknown> | undefined {
  if (!options) return undefined;
  const kept = safeParameters({ thinking: options.thinking, max_tokens: options.maxTokens });
  for (const key of ["maxTurns", "maxThinkingTokens", "effort", "permissionMode"]) if (options[key] !== undefined) kept[key] = options[key];
  return Object.keys(kept).length ? kept : undefined;
}

/** One model turn being recorded: the blocks of one assistant message id. */
interface Turn {
  readonly span: Span;
  readonly id: string | undefined;
  text: string | null;
  readonly reasoning: string[];
  readonly toolCalls: unknown[];
  /** The first token arrived (time to first token is set once). */
  answered: boolean;
}

/** The main agent, or a subagent: its span, its conversation, its turn in flight. */
interface Lane {
  readonly span: Span;
  /** A subagent run in the background: its tool result only says it started; a task notification ends it. */
  background?: boolean;
  readonly messages: unknown[];
  turn: Turn | undefined;
  lastTurn: Span | undefined;
}

/** The bookkeeping of one query. Every entry point swallows its own failures; the first outcome wins. */
class QueryRecorder {
  private readonly agent: Lane;
  private readonly lanes = new Map<string, Lane>();
  private readonly tools = new Map<string, Span>();
  private model: string | undefined;
  private lastAssistant: unknown;
  /** The last result message's verdict: the query is over when its stream ends (more results follow background tasks). */
  private failure: string | undefined;
  private resulted = false;
  private finished = false;

  constructor(
    private readonly run: FrameworkRun,
    input: { messages: unknown[] },
    private readonly parameters: Record<string, unknown> | undefined,
  ) {
    const span = run.root.span(NAME, { kind: "AGENT", input });
    this.agent = { span, messages: [...input.messages], turn: undefined, lastTurn: undefined };
  }

  message(message: unknown): void {
    if (this.finished || !isObject(message)) return;
    guarded(() => {
      switch (message.type) {
        case "assistant":
          return this.assistant(message);
        case "user":
          return this.user(message);
        case "stream_event":
          return this.streamEvent(message);
        case "result":
          return this.result(message);
        case "system":
          return this.task(message);
      }
    });
  }

  private lane(parentToolUseId: unknown): Lane {
    return (typeof parentToolUseId === "string" && this.lanes.get(parentToolUseId)) || this.agent;
  }

  private openTurn(lane: Lane, id: string | undefined): Turn {
    const span = lane.span.span(TURN_NAME, {
      kind: "LLM",
      // Snapshotted as the span opens: the lane's list may grow after.
      input: { messages: lane.messages },
      model: this.model,
      modelParameters: this.parameters,
    });
    lane.turn = { span, id, text: null, reasoning: [], toolCalls: [], answered: false };
    return lane.turn;
  }

  /** Partial messages (includePartialMessages): the turn opens when the model starts answering. */
  private streamEvent(message: Obj): void {
    const event = isObject(message.event) ? message.event : {};
    const lane = this.lane(message.parent_tool_use_id);
    if (event.type === "message_start") {
      const started = isObject(event.message) ? event.message : {};
      if (typeof started.model === "string") this.model = started.model;
      if (lane.turn?.id !== started.id) this.closeTurn(lane);
      lane.turn ??= this.openTurn(lane, typeof started.id === "string" ? started.id : undefined);
    } else if (event.type === "content_block_delta" && lane.turn) {
      this.answered(lane.turn);
    }
  }

  private answered(turn: Turn): void {
    if (turn.answered) return;
    turn.answered = true;
    turn.span.setCompletionStartTime(Date.now());
  }

  private assistant(message: Obj): void {
    const body = isObject(message.message) ? message.message : {};
    if (typeof body.model === "string") this.model = body.model;
    const id = typeof body.id === "string" ? body.id : undefined;
    const lane = this.lane(message.parent_tool_use_id);
    if (lane.turn && id !== undefined && lane.turn.id !== undefined && lane.turn.id !== id) this.closeTurn(lane);
    // Opened here, the turn starts with its first block: its time to first token is known only from partial messages.
    const turn = lane.turn ?? this.openTurn(lane, id);
    if (this.model) turn.span.setModel(this.model);
    if (message.error !== undefined) turn.span.setError(`${String(message.error)}: ${textOf(body.content) ?? ""}`);
    for (const block of blocks(body.content)) {
      if (block.type === "text") turn.text = (turn.text ?? "") + String(block.text ?? "");
      else if (block.type === "thinking") turn.reasoning.push(String(block.thinking ?? ""));
      else if (block.type === "tool_use") this.toolUse(lane, turn, block);
    }
  }

  private toolUse(lane: Lane, turn: Turn, block: Block): void {
    const id = String(block.id ?? "");
    const name = String(block.name ?? "tool");
    turn.toolCalls.push({ id, type: "function", function: { name, arguments: JSON.stringify(block.input ?? {}) } });
    if (SUBAGENT_TOOLS.has(name)) {
      const input = isObject(block.input) ? block.input : {};
      const subName = String(input.subagent_type ?? input.description ?? "subagent");
      const prompt = typeof input.prompt === "string" ? [{ role: "user", content: input.prompt }] : [];
      const span = lane.span.span(subName, { kind: "AGENT", input: block.input, metadata: { tool_use_id: id } });
      this.lanes.set(id, { span, messages: prompt, turn: undefined, lastTurn: undefined });
      return;
    }
    this.tools.set(id, lane.span.span(name, { kind: "TOOL", input: block.input, metadata: { tool_use_id: id } }));
  }

  /** Tool results end the turn that asked for them, and the tools (or subagents) that ran. */
  private user(message: Obj): void {
    const body = isObject(message.message) ? message.message : {};
    const lane = this.lane(message.parent_tool_use_id);
    const results = blocks(body.content).filter((b) => b.type === "tool_result");
    if (!results.length) {
      // A further prompt of a streaming-input query.
      const text = textOf(body.content);
      if (text !== null) lane.messages.push({ role: "user", content: text });
      return;
    }
    this.closeTurn(lane);
    for (const result of results) {
      const id = String(result.tool_use_id ?? "");
      const content = resultContent(result.content);
      lane.messages.push({ role: "tool", tool_call_id: id, content });
      const subagent = this.lanes.get(id);
      if (subagent?.background) {
        subagent.span.setMetadata({ launched: content });
        continue;
      }
      const span = subagent?.span ?? this.tools.get(id);
      if (!span) continue;
      if (subagent) {
        this.closeTurn(subagent);
        this.lanes.delete(id);
      }
      this.tools.delete(id);
      span.setOutput(content);
      if (result.is_error === true) span.setError(typeof content === "string" ? content : JSON.stringify(content));
      span.end();
    }
  }

  private closeTurn(lane: Lane): void {
    const turn = lane.turn;
    if (!turn) return;
    lane.turn = undefined;
    const assistant: Record<string, unknown> = { role: "assistant", content: turn.text };
    if (turn.toolCalls.length) assistant.tool_calls = turn.toolCalls;
    lane.messages.push(assistant);
    if (lane === this.agent && turn.text !== null) this.lastAssistant = { role: "assistant", content: turn.text };
    if (turn.reasoning.length) turn.span.setMetadata({ reasoning: turn.reasoning.join("\n\n") });
    turn.span.setOutput({ messages: [assistant] }).end();
    lane.lastTurn = turn.span;
  }

  /** Background subagents: started (their tool result will only say so), then done. */
  private task(message: Obj): void {
    const lane = typeof message.tool_use_id === "string" ? this.lanes.get(message.tool_use_id) : undefined;
    if (!lane) return;
    if (message.subtype === "task_started" && message.is_backgrounded === true) lane.background = true;
    if (message.subtype !== "task_notification") return;
    this.closeTurn(lane);
    this.lanes.delete(message.tool_use_id as string);
    if (message.summary !== undefined) lane.span.setOutput(message.summary);
    if (message.status === "failed") lane.span.setError(String(message.summary ?? "subagent failed"));
    else if (message.status === "stopped") lane.span.setMetadata({ abandoned: true });
    lane.span.end();
  }

  private result(message: Obj): void {
    const last = this.agent.turn?.span ?? this.agent.lastTurn;
    const usage = usageOf(message.usage);
    if (last && usage) last.setTokenUsage(usage);
    const cost = numberOr(message.total_cost_usd);
    if (last && cost !== undefined) last.setCost({ total: cost });
    const metadata: Record<string, unknown> = {};
    for (const key of ["num_turns", "duration_ms", "duration_api_ms", "total_cost_usd", "stop_reason", "session_id"]) {
      if (message[key] !== undefined && message[key] !== null) metadata[key === "session_id" ? "claude_session_id" : key] = message[key];
    }
    this.agent.span.setMetadata(metadata);
    this.resulted = true;
    this.failure = undefined;
    if (message.is_error === true) {
      // Error subtypes list their errors; a failed "success" (an API error) says it in its result text.
      this.failure =
        Array.isArray(message.errors) && message.errors.length
          ? message.errors.join("; ")
          : typeof message.result === "string" && message.result
            ? message.result
            : String(message.subtype ?? "error");
    }
  }

  /** The verdict of the last result, once the query is over. */
  private concluded(): void {
    const failure = this.failure;
    if (failure === undefined) this.finish((run) => run.succeed(this.output()));
    else this.finish((run) => run.fail(new Error(failure)), (span) => span.setError(failure));
  }

  private output(): { messages: unknown[] } | undefined {
    return this.lastAssistant === undefined ? undefined : { messages: [this.lastAssistant] };
  }

  /** Ends every open span (as the outcome says), the agent, then the run. */
  private finish(outcome: (run: FrameworkRun) => void, mark?: (span: Span) => void): void {
    if (this.finished) return;
    this.finished = true;
    guarded(() => {
      for (const lane of [...this.lanes.values(), this.agent]) this.closeTurn(lane);
      for (const span of [...this.tools.values(), ...[...this.lanes.values()].map((l) => l.span)]) {
        if (mark) mark(span);
        else span.setMetadata({ abandoned: true });
        span.end();
      }
      const output = this.output();
      if (output) this.agent.span.setOutput(output);
      if (mark) mark(this.agent.span);
      this.agent.span.end();
      outcome(this.run);
    });
  }

  /** The stream ended. */
  done(): void {
    this.concluded();
  }

  /** The iteration threw: after an error result, the SDK's own report of it. */
  fail(error: unknown): void {
    this.finish((run) => run.fail(error), (span) => span.setError(error));
  }

  /** The caller stopped reading: after a result, the query was over; before it, abandoned. */
  abandon(): void {
    if (this.resulted) this.concluded();
    else this.finish((run) => run.abandon(this.output()));
  }
}

/** The SDK's `Query` with its iteration observed; every other property is the Query's own, bound to it. */
function observed<Q extends object>(query: Q, recorder: QueryRecorder): Q {
  const target = query as unknown as AsyncGenerator<unknown, unknown, unknown>;
  const proxy: Q = new Proxy(query, {
    get(object, property) {
      switch (property) {
        case "next":
          return async (...args: [] | [unknown]) => {
            let step: IteratorResult<unknown, unknown>;
            try {
              step = await target.next(...args);
            } catch (error) {
              recorder.fail(error);
              throw error;
            }
            if (step.done) recorder.done();
            else recorder.message(step.value);
            return step;
          };
        case "return":
          return (value?: unknown) => {
            recorder.abandon();
            return target.return(value);
          };
        case "throw":
          return (error?: unknown) => {
            recorder.fail(error);
            return target.throw(error);
          };
        case Symbol.asyncIterator:
          return () => proxy;
      }
      const value = Reflect.get(object, property, object) as unknown;
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(object) : value;
    },
  });
  return proxy;
}

/** Wraps the SDK's `query` so each call is traced; with tracing off, calls go straight through. */
export function wrapClaudeAgentQuery<Q extends object, A extends QueryArgs>(query: (args: A) => Q, options?: ClaudeAgentOptions): (args: A) => Q {
  const settings = frameworkOptions(options, [], "wrapClaudeAgentQuery()");
  return (args: A) => {
    let recorder: QueryRecorder | undefined;
    guarded(() => {
      const input = { messages: initialMessages(args) };
      const run = openFrameworkRun({ name: NAME, input }, settings);
      if (run) recorder = new QueryRecorder(run, input, modelParameters(args?.options));
    });
    let result: Q;
    try {
      result = query(args);
    } catch (error) {
      recorder?.fail(error);
      throw error;
    }
    return recorder ? observed(result, recorder) : result;
  };
}

/** The adapter PandaProbe's Node SDK offers under `pandaprobe/integrations/claude-agent-sdk`. */
export class ClaudeAgentSDKAdapter {
  private readonly options: ClaudeAgentOptions | undefined;

  constructor(options?: ClaudeAgentOptions) {
    frameworkOptions(options, [], "ClaudeAgentSDKAdapter");
    this.options = options;
  }

  wrapQuery<Q extends object, A extends QueryArgs>(query: (args: A) => Q): (args: A) => Q {
    return wrapClaudeAgentQuery(query, this.options);
  }
}
