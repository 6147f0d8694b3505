/**
 * `pandaprobe/ai`: a Vercel AI SDK language-model middleware (ai 6 and 7), and for ai 7 the
 * telemetry integration `pandaprobeTelemetry()` (see ./ai-telemetry.ts).
 *
 *   const model = wrapLanguageModel({ model: openai("gpt-4o"), middleware: pandaprobeMiddleware() });
 *
 * Every model call (each step of a `generateText` / `streamText` tool loop) records one LLM span,
 * with the tool calls the model made as TOOL children.
 */
import type {
  LanguageModelV3,
  LanguageModelV3CallOptions,
  LanguageModelV3Content,
  LanguageModelV3Prompt,
  LanguageModelV3StreamPart,
  LanguageModelV3Usage,
} from "@ai-sdk/provider";
// The public signature names only the `ai` peer's types: @ai-sdk/provider is not one of ours.
import type { LanguageModelMiddleware } from "ai";
import type { TokenUsage } from "pandaprobe";
import { DEV, assertIds, assertKnownKeys, assertOptionalString } from "pandaprobe/integration-kit";
import { activeClient, guarded, INTEGRATION_OPTION_KEYS, openLlmCall, safeParameters, type IntegrationOptions, type LlmCall } from "./llm-call.js";
import { assistantMessage, isObject, numberOr, parseArguments, recordResult, reportedUsage, type ToolUse } from "./openai-record.js";

export { pandaprobeTelemetry, type PandaProbeTelemetry, type PandaProbeTelemetryOptions } from "./ai-telemetry.js";

export interface PandaProbeMiddlewareOptions extends IntegrationOptions {
  /** Name of the LLM spans (and of standalone traces); by default `ai.generate` / `ai.stream`. */
  name?: string;
}

export function pandaprobeMiddleware(options?: PandaProbeMiddlewareOptions): LanguageModelMiddleware {
  // Checked here: inside a model call a bad id would only make tracing fail, silently.
  if (DEV && process.env.NODE_ENV !== "production") {
    assertKnownKeys(options, [...INTEGRATION_OPTION_KEYS, "name"], "pandaprobeMiddleware() option");
    assertIds(options);
    assertOptionalString(options?.name, "span name");
  }
  const ids: IntegrationOptions | undefined = options && { ...options };
  const name = options?.name;
  return {
    specificationVersion: "v3",
    async wrapGenerate({ doGenerate, params, model }) {
      const recorder = startCall(name ?? "ai.generate", params, model, ids, false);
      if (!recorder) return doGenerate();
      const result = await recordingFailure(recorder, doGenerate, params.abortSignal);
      recorder.generated(result.content, result.usage, result.response?.modelId);
      return result;
    },
    async wrapStream({ doStream, params, model }) {
      const recorder = startCall(name ?? "ai.stream", params, model, ids, true);
      if (!recorder) return doStream();
      const result = await recordingFailure(recorder, doStream, params.abortSignal);
      try {
        return { ...result, stream: tapStream(result.stream, recorder, params.abortSignal) };
      } catch {
        recorder.end();
        return result;
      }
    },
  };
}

/**
 * Runs the model call; its failure ends the span ERROR and reaches the caller unchanged. The
 * caller's own abort is abandonment, not failure, before the answer as during its stream.
 */
async function recordingFailure<R>(recorder: ModelCall, run: () => PromiseLike<R>, abortSignal: AbortSignal | undefined): Promise<R> {
  try {
    return await run();
  } catch (error) {
    if (abortSignal?.aborted) recorder.abandonBeforeAnswer();
    else recorder.fail(error);
    throw error;
  }
}

function startCall(
  name: string,
  params: LanguageModelV3CallOptions,
  model: LanguageModelV3,
  ids: IntegrationOptions | undefined,
  streaming: boolean,
): ModelCall | undefined {
  try {
    if (!activeClient(ids)) return undefined;
    const call = openLlmCall(name, { messages: promptMessages(params.prompt) }, ids);
    if (!call) return undefined;
    call.span.setModel(model.modelId);
    call.span.setModelParameters(callParameters(params, streaming));
    return new ModelCall(call, model.modelId);
  } catch {
    return undefined;
  }
}

/** The call settings worth recording, under the wire's (OpenAI-style) names. */
function callParameters(params: LanguageModelV3CallOptions, streaming: boolean): Record<string, unknown> {
  return safeParameters({
    temperature: params.temperature,
    top_p: params.topP,
    top_k: params.topK,
    max_tokens: params.maxOutputTokens,
    stop: params.stopSequences,
    seed: params.seed,
    presence_penalty: params.presencePenalty,
    frequency_penalty: params.frequencyPenalty,
    response_format: params.responseFormat,
    tool_choice: params.toolChoice,
    stream: streaming || undefined,
  });
}

/** The provider-level prompt as chat messages: text parts joined, tool calls and results in OpenAI's shape. */
function promptMessages(prompt: LanguageModelV3Prompt): unknown[] {
  const messages: unknown[] = [];
  for (const message of prompt) {
    switch (message.role) {
      case "system":
        messages.push({ role: "system", content: message.content });
        break;
      case "user":
        messages.push({ role: "user", content: userContent(message.content) });
        break;
      case "assistant": {
        let text: string | null = null;
        const toolCalls: unknown[] = [];
        for (const part of message.content) {
          if (part.type === "text") text = (text ?? "") + part.text;
          else if (part.type === "tool-call") {
            const args = typeof part.input === "string" ? part.input : JSON.stringify(part.input);
            toolCalls.push({ id: part.toolCallId, type: "function", function: { name: part.toolName, arguments: args } });
          }
        }
        messages.push(assistantMessage(text, toolCalls));
        break;
      }
      case "tool":
        for (const part of message.content) {
          if (part.type !== "tool-result") continue;
          messages.push({ role: "tool", tool_call_id: part.toolCallId, name: part.toolName, content: toolOutput(part.output) });
        }
        break;
    }
  }
  return messages;
}

type UserPart = Extract<LanguageModelV3Prompt[number], { role: "user" }>["content"][number];

function userContent(parts: UserPart[]): unknown {
  if (parts.every((part) => part.type === "text")) return parts.map((part) => part.text).join("");
  return parts.map((part) => {
    if (part.type === "text") return { type: "text", text: part.text };
    // File bytes are left out; a URL (or a URL-like string) is kept as a reference.
    const data = part.data instanceof URL ? part.data.href : typeof part.data === "string" ? part.data : undefined;
    return { type: "file", mediaType: part.mediaType, filename: part.filename, data };
  });
}

function toolOutput(output: unknown): unknown {
  if (!isObject(output)) return output;
  return "value" in output ? output.value : output;
}

/** V3 usage (nested totals), read defensively for providers that report flat numbers. */
function usageOf(usage: LanguageModelV3Usage | undefined): TokenUsage | undefined {
  if (!isObject(usage)) return undefined;
  const input = usage.inputTokens as unknown;
  const output = usage.outputTokens as unknown;
  const flat = usage as unknown as Record<string, unknown>;
  return reportedUsage({
    prompt_tokens: isObject(input) ? numberOr(input.total) : numberOr(input),
    completion_tokens: isObject(output) ? numberOr(output.total) : numberOr(output),
    reasoning_tokens: isObject(output) ? numberOr(output.reasoning) : numberOr(flat.reasoningTokens),
    cache_read_tokens: isObject(input) ? numberOr(input.cacheRead) : numberOr(flat.cachedInputTokens),
  });
}

interface ToolCallSeen {
  toolCallId: string;
  toolName: string;
  input: string;
}

/** One model call: idempotent outcomes, tracing failures swallowed. */
class ModelCall {
  private done = false;
  private contentSeen = false;
  private text: string | null = null;
  private readonly toolCalls: ToolCallSeen[] = [];
  private readonly toolResults = new Map<string, unknown>();
  private usage: TokenUsage | undefined;
  private error: unknown;
  private hasError = false;

  constructor(
    private readonly call: LlmCall,
    private model: string,
  ) {}

  generated(content: LanguageModelV3Content[], usage: LanguageModelV3Usage, modelId: string | undefined): void {
    guarded(() => {
      for (const part of content) this.content(part);
      this.usage = usageOf(usage);
      if (modelId) this.model = modelId;
    });
    this.end();
  }

  /** One stream part, as it passes. */
  part(part: LanguageModelV3StreamPart): void {
    if (this.done) return;
    guarded(() => {
      switch (part.type) {
        case "text-delta":
        case "reasoning-delta":
        case "tool-input-delta":
          if (!this.contentSeen && part.delta) {
            this.contentSeen = true;
            this.call.span.setCompletionStartTime(Date.now());
          }
          if (part.type === "text-delta") this.text = (this.text ?? "") + part.delta;
          break;
        case "response-metadata":
          if (part.modelId) this.model = part.modelId;
          break;
        case "finish":
          this.usage = usageOf(part.usage);
          break;
        case "error":
          this.error = part.error;
          this.hasError = true;
          break;
        default:
          this.content(part);
      }
    });
  }

  private content(part: LanguageModelV3Content | LanguageModelV3StreamPart): void {
    if (part.type === "text") this.text = (this.text ?? "") + part.text;
    else if (part.type === "tool-call") this.toolCalls.push(part);
    else if (part.type === "tool-result") this.toolResults.set(part.toolCallId, part.result);
  }

  /** The call finished: the span ends with what the model produced (ERROR if the stream carried an error). */
  end(metadata?: Record<string, unknown>): void {
    if (this.done) return;
    this.done = true;
    guarded(() => {
      if (metadata) this.call.span.setMetadata(metadata);
      const tools: ToolUse[] = this.toolCalls.map((c) => ({
        name: c.toolName,
        id: c.toolCallId,
        input: parseArguments(c.input),
        output: this.toolResults.get(c.toolCallId),
      }));
      const toolCalls = this.toolCalls.map((c) => ({
        id: c.toolCallId,
        type: "function",
        function: { name: c.toolName, arguments: c.input },
      }));
      const message = assistantMessage(this.text, toolCalls);
      if (this.hasError) {
        this.call.span.setOutput({ messages: [message] });
        this.call.fail(this.error);
        return;
      }
      recordResult(this.call, { message, model: this.model, usage: this.usage, tools });
    });
  }

  abandon(): void {
    this.end({ abandoned: true });
  }

  /** Abandoned before any answer: nothing to record as output. */
  abandonBeforeAnswer(): void {
    if (this.done) return;
    this.done = true;
    guarded(() => {
      this.call.span.setMetadata({ abandoned: true });
      this.call.succeed(undefined);
    });
  }

  fail(error: unknown): void {
    if (this.done) return;
    this.done = true;
    guarded(() => this.call.fail(error));
  }
}

/**
 * Passes every part through as it arrives, recording it on the way. The span ends when the stream
 * ends, errors, or the reader cancels (an abort signal counts as abandonment, not failure).
 */
function tapStream(
  source: ReadableStream<LanguageModelV3StreamPart>,
  recorder: ModelCall,
  abortSignal: AbortSignal | undefined,
): ReadableStream<LanguageModelV3StreamPart> {
  const reader = source.getReader();
  return new ReadableStream<LanguageModelV3StreamPart>({
    async pull(controller) {
      let step: ReadableStreamReadResult<LanguageModelV3StreamPart>;
      try {
        step = await reader.read();
      } catch (error) {
        if (abortSignal?.aborted) recorder.abandon();
        else recorder.fail(error);
        controller.error(error);
        return;
      }
      if (step.done) {
        recorder.end();
        controller.close();
        return;
      }
      recorder.part(step.value);
      controller.enqueue(step.value);
    },
    cancel(reason) {
      recorder.abandon();
      return reader.cancel(reason);
    },
  });
}

/** The official SDK's spelling of pandaprobeMiddleware. */
export const pandaProbeMiddleware = pandaprobeMiddleware;
