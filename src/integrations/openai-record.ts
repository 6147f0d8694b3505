import type { TokenUsage } from "pandaprobe";
import { isUserAbort, type LlmCall } from "./llm-call.js";

/** The assistant message an LLM span records as its output. */
export interface AssistantMessage {
  role: "assistant";
  content: string | null;
  tool_calls?: unknown[];
  /** Why the model declined to answer (OpenAI), in place of content. */
  refusal?: string;
}

/** A tool the model called (or, for built-in tools, ran): one TOOL span under the LLM span. */
export interface ToolUse {
  name: string;
  id?: string;
  input: unknown;
  output?: unknown;
}

/** What one finished call (or stream) amounts to. */
export interface CallResult {
  message: AssistantMessage;
  model?: string;
  usage?: TokenUsage;
  tools: ToolUse[];
  /** The provider reported failure inside a successful answer (a `response.failed` event), or the stream failed midway. */
  error?: unknown;
}

/** Builds a CallResult from chunks as they pass. */
export interface StreamAccumulator {
  /** Takes one chunk; true when it carried generated content (text, tool call, reasoning). */
  add(chunk: unknown): boolean;
  result(): CallResult;
}

/** One traced OpenAI endpoint: how to read its request, response and stream. */
/** What RecordedCall reads a call's answer with: the span's name, the response, the stream. */
export interface ResponseApi {
  name: string;
  fromResponse(response: unknown): CallResult;
  accumulator(): StreamAccumulator;
}

export interface OpenAIApi extends ResponseApi {
  /** The request's messages, as the LLM span's input. */
  input(request: Record<string, unknown>): unknown;
}

export type Obj = Record<string, unknown>;

export function isObject(value: unknown): value is Obj {
  return typeof value === "object" && value !== null;
}

export function numberOr(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

/** Token usage with the keys the provider did not report left out. */
export function reportedUsage(fields: TokenUsage): TokenUsage | undefined {
  const kept: TokenUsage = {};
  let any = false;
  for (const key in fields) {
    const value = fields[key];
    if (value !== undefined) {
      kept[key] = value;
      any = true;
    }
  }
  return any ? kept : undefined;
}

/** The keys each API reports usage under; constants, since keys built per call are looked up the slow way. */
const USAGE_KEYS = {
  prompt: ["prompt_tokens", "prompt_tokens_details"],
  input: ["input_tokens", "input_tokens_details"],
  completion: ["completion_tokens", "completion_tokens_details"],
  output: ["output_tokens", "output_tokens_details"],
} as const;

/**
 * Token usage as both APIs report it: `<prompt>_tokens` and `<completion>_tokens`, with cached and
 * reasoning tokens in their `_details` objects (chat says prompt/completion, Responses input/output).
 */
export function openAIUsage(usage: unknown, prompt: "prompt" | "input", completion: "completion" | "output"): TokenUsage | undefined {
  if (!isObject(usage)) return undefined;
  const [promptKey, promptDetailsKey] = USAGE_KEYS[prompt];
  const [completionKey, completionDetailsKey] = USAGE_KEYS[completion];
  const promptDetails = usage[promptDetailsKey];
  const completionDetails = usage[completionDetailsKey];
  return reportedUsage({
    prompt_tokens: numberOr(usage[promptKey]),
    completion_tokens: numberOr(usage[completionKey]),
    total_tokens: numberOr(usage.total_tokens),
    reasoning_tokens: numberOr(isObject(completionDetails) ? completionDetails.reasoning_tokens : undefined),
    cache_read_tokens: numberOr(isObject(promptDetails) ? promptDetails.cached_tokens : undefined),
  });
}

/** Tool arguments as an object when they are JSON, as the text otherwise. */
export function parseArguments(text: unknown): unknown {
  if (typeof text !== "string") return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export function assistantMessage(content: string | null, toolCalls: unknown[], refusal?: string): AssistantMessage {
  const message: AssistantMessage = { role: "assistant", content };
  if (toolCalls.length) message.tool_calls = toolCalls;
  if (refusal) message.refusal = refusal;
  return message;
}

/** Ends the LLM span (and its standalone trace) with the result: model, usage, TOOL children, output. */
export function recordResult(call: LlmCall, result: CallResult | undefined): void {
  if (!result) {
    call.succeed(undefined);
    return;
  }
  const span = call.span;
  if (result.model) span.setModel(result.model);
  if (result.usage) span.setTokenUsage(result.usage);
  for (const tool of result.tools) {
    const child = span.span(tool.name || "tool", {
      kind: "TOOL",
      input: tool.input,
      metadata: tool.id === undefined ? undefined : { tool_call_id: tool.id },
    });
    if (tool.output !== undefined) child.setOutput(tool.output);
    child.end();
  }
  const output = { messages: [result.message] };
  if (result.error === undefined) {
    call.succeed(output);
  } else {
    span.setOutput(output);
    call.fail(result.error);
  }
}

/**
 * The bookkeeping of one traced call. Every entry point is idempotent (the first outcome wins)
 * and swallows its own failures, so the host never sees a tracing error.
 */
export class RecordedCall {
  private done = false;
  private contentSeen = false;

  constructor(
    private readonly call: LlmCall,
    readonly api: ResponseApi,
    /** The request asked for a stream. */
    readonly streaming: boolean,
  ) {}

  get finished(): boolean {
    return this.done;
  }

  response(data: unknown): void {
    this.finish(() => this.api.fromResponse(data));
  }

  chunk(accumulator: StreamAccumulator, chunk: unknown): void {
    if (this.done) return;
    try {
      if (accumulator.add(chunk) && !this.contentSeen) {
        this.contentSeen = true;
        this.call.span.setCompletionStartTime(Date.now());
      }
    } catch {
      // A chunk we cannot read is still the host's chunk; tracing just misses it.
    }
  }

  /** The stream ended, or was abandoned (break, return(), abort) with what had arrived so far. */
  streamEnd(accumulator: StreamAccumulator, abandoned: boolean): void {
    this.finish(() => accumulator.result(), abandoned ? { abandoned: true } : undefined);
  }

  /** The stream failed midway: ERROR, with what had arrived before the failure. */
  streamFailed(accumulator: StreamAccumulator, error: unknown): void {
    if (isUserAbort(error)) return this.streamEnd(accumulator, true);
    this.finish(() => ({ ...accumulator.result(), error }));
  }

  /** The caller took the raw HTTP response (`asResponse()`) and read the body itself. */
  unparsed(): void {
    this.finish(() => undefined, { raw_response: true });
  }

  fail(error: unknown): void {
    if (isUserAbort(error)) return this.finish(() => undefined, { abandoned: true });
    if (this.done) return;
    this.done = true;
    try {
      this.call.fail(error);
    } catch {
      // Tracing failures never reach the host.
    }
  }

  private finish(result: () => CallResult | undefined, metadata?: Record<string, unknown>): void {
    if (this.done) return;
    this.done = true;
    try {
      if (metadata) this.call.span.setMetadata(metadata);
      recordResult(this.call, result());
    } catch {
      try {
        this.call.succeed(undefined);
      } catch {
        // Tracing failures never reach the host.
      }
    }
  }
}
