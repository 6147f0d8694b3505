/**
 * A PandaProbe telemetry integration for the Vercel AI SDK 7 (no OpenTelemetry needed):
 *
 *   import { registerTelemetry } from "ai";
 *   registerTelemetry(pandaprobeTelemetry({ sessionId: "conv-1" }));
 *
 * Every generateText / streamText / generateObject / streamObject / agent call becomes a trace (or,
 * inside a current trace, a subtree under the current span):
 *
 *   CHAIN  <functionId or operation>   (the call)
 *   ├── LLM   <modelId>                (one per step: messages in, assistant message out, usage, time to first token)
 *   ├── TOOL  <toolName>               (one per executed tool: arguments in, result or error out)
 *   └── LLM   <modelId>
 *
 * The event shapes are read structurally (typed here by what is read), so this module needs no
 * types from the `ai` package and its object is assignable to ai 7's `Telemetry`.
 */
import { getClient, type TokenUsage, type Span } from "pandaprobe";
import { withCurrentSpan } from "pandaprobe/integration-kit";
import { chatMessages, contentMessage } from "./ai-model-messages.js";
import { frameworkOptions, openFrameworkRun, type FrameworkOptions, type FrameworkRun } from "./framework-run.js";
import { guarded, safeParameters } from "./llm-call.js";
import { isObject, numberOr, reportedUsage } from "./openai-record.js";

export interface PandaProbeTelemetryOptions extends FrameworkOptions {
  /** Name of the traces (and root spans); by default the call's `telemetry.functionId`, else its operation (`ai.generateText`...). */
  name?: string;
}

/** What the events carry that is read here; every field optional, so ai's own event types are assignable. */
interface CallEvent {
  readonly callId: string;
  readonly operationId?: string;
  readonly functionId?: string;
  readonly provider?: string;
  readonly modelId?: string;
  readonly instructions?: unknown;
  readonly system?: unknown;
  readonly prompt?: unknown;
  readonly messages?: unknown;
  readonly temperature?: number;
  readonly topP?: number;
  readonly topK?: number;
  readonly maxOutputTokens?: number;
  readonly presencePenalty?: number;
  readonly frequencyPenalty?: number;
  readonly seed?: number;
  readonly stopSequences?: unknown;
}

interface ModelCallEndEvent {
  readonly callId: string;
  readonly modelId?: string;
  readonly finishReason?: unknown;
  readonly usage?: unknown;
  readonly content?: unknown;
  readonly performance?: { readonly timeToFirstOutputMs?: number };
}

interface ObjectStepEndEvent {
  readonly callId: string;
  readonly usage?: unknown;
  readonly objectText?: string;
  readonly finishReason?: unknown;
  readonly response?: { readonly modelId?: string };
  readonly msToFirstChunk?: number;
}

interface ToolCallInfo {
  readonly toolCallId: string;
  readonly toolName: string;
  readonly input?: unknown;
}

interface ToolStartEvent {
  readonly callId: string;
  readonly toolCall: ToolCallInfo;
}

interface ToolEndEvent extends ToolStartEvent {
  readonly toolOutput: { readonly type: string; readonly output?: unknown; readonly error?: unknown };
}

interface EndEvent {
  readonly callId: string;
  readonly text?: string;
  readonly object?: unknown;
}

/** The integration: pass it to `registerTelemetry()` or a call's `telemetry.integrations`. */
export interface PandaProbeTelemetry {
  onStart(event: CallEvent): void;
  onLanguageModelCallStart(event: CallEvent): void;
  onLanguageModelCallEnd(event: ModelCallEndEvent): void;
  onStepError(event: { readonly callId: string; readonly error: unknown }): void;
  onObjectStepStart(event: { readonly callId: string; readonly modelId?: string }): void;
  onObjectStepEnd(event: ObjectStepEndEvent): void;
  onToolExecutionStart(event: ToolStartEvent): void;
  onToolExecutionEnd(event: ToolEndEvent): void;
  executeTool<T>(options: { callId: string; toolCallId: string; execute: () => PromiseLike<T> }): PromiseLike<T>;
  onEnd(event: EndEvent): void;
  onAbort(event: { readonly callId: string }): void;
  onError(event: unknown): void;
}

/** The operations traced; embeddings, reranking, speech and transcription are not agent runs. */
const TRACED_OPERATIONS = new Set(["ai.generateText", "ai.streamText", "ai.generateObject", "ai.streamObject"]);
const STREAMING = new Set(["ai.streamText", "ai.streamObject"]);

interface Call {
  readonly run: FrameworkRun;
  readonly input: { messages: unknown[] };
  readonly streaming: boolean;
  readonly parameters: Record<string, unknown>;
  model: Span | undefined;
  modelStartedAt: number;
  readonly tools: Map<string, Span>;
}

function callParameters(event: CallEvent, streaming: boolean): Record<string, unknown> {
  return safeParameters({
    temperature: event.temperature,
    top_p: event.topP,
    top_k: event.topK,
    max_tokens: event.maxOutputTokens,
    stop: event.stopSequences,
    seed: event.seed,
    presence_penalty: event.presencePenalty,
    frequency_penalty: event.frequencyPenalty,
    stream: streaming || undefined,
  });
}

/** ai 7's usage: totals with input and output details. */
function usageOf(usage: unknown): TokenUsage | undefined {
  if (!isObject(usage)) return undefined;
  const input = isObject(usage.inputTokenDetails) ? usage.inputTokenDetails : {};
  const output = isObject(usage.outputTokenDetails) ? usage.outputTokenDetails : {};
  return reportedUsage({
    prompt_tokens: numberOr(usage.inputTokens),
    completion_tokens: numberOr(usage.outputTokens),
    total_tokens: numberOr(usage.totalTokens),
    reasoning_tokens: numberOr(output.reasoningTokens),
    cache_read_tokens: numberOr(input.cacheReadTokens),
  });
}

export function pandaprobeTelemetry(options?: PandaProbeTelemetryOptions): PandaProbeTelemetry {
  const settings = frameworkOptions(options, ["name"], "pandaprobeTelemetry()");
  const calls = new Map<string, Call>();

  const openModelSpan = (call: Call, modelId: string | undefined, input: unknown) => {
    call.model = call.run.root.span(modelId || "llm", { kind: "LLM", input, model: modelId, modelParameters: call.parameters });
    call.modelStartedAt = Date.now();
  };

  const endModelSpan = (call: Call, fields: { model?: string; usage?: unknown; output?: unknown; ttftMs?: number; finishReason?: unknown; reasoning?: string }) => {
    const span = call.model;
    if (!span) return;
    call.model = undefined;
    if (fields.model) span.setModel(fields.model);
    const usage = usageOf(fields.usage);
    if (usage) span.setTokenUsage(usage);
    if (call.streaming && fields.ttftMs !== undefined) span.setCompletionStartTime(call.modelStartedAt + fields.ttftMs);
    const metadata: Record<string, unknown> = {};
    if (typeof fields.finishReason === "string") metadata.finish_reason = fields.finishReason;
    if (fields.reasoning) metadata.reasoning = fields.reasoning;
    if (Object.keys(metadata).length) span.setMetadata(metadata);
    span.setOutput(fields.output);
    span.end();
  };

  /** Ends what is still open (the step in flight, tools that never reported back). */
  const closeOpen = (call: Call, close: (span: Span) => void) => {
    if (call.model) close(call.model);
    call.model = undefined;
    for (const span of call.tools.values()) if (!span.ended) close(span);
    call.tools.clear();
  };

  const finish = (callId: string, outcome: (call: Call) => void) => {
    const call = calls.get(callId);
    if (!call) return;
    calls.delete(callId);
    outcome(call);
  };

  return {
    onStart(event) {
      guarded(() => {
        const operation = event.operationId ?? "";
        // Before the conversation is converted: with tracing off, nothing to do per call.
        if (!TRACED_OPERATIONS.has(operation) || !getClient()?.enabled) return;
        const messages = chatMessages(event.instructions ?? event.system, event.messages ?? event.prompt);
        const input = { messages };
        const streaming = STREAMING.has(operation);
        const name = settings.name ?? event.functionId ?? operation;
        const run = openFrameworkRun({ name, input, metadata: { operation, provider: event.provider, model: event.modelId } }, settings);
        if (!run) return;
        calls.set(event.callId, { run, input, streaming, parameters: callParameters(event, streaming), model: undefined, modelStartedAt: 0, tools: new Map() });
      });
    },

    onLanguageModelCallStart(event) {
      guarded(() => {
        const call = calls.get(event.callId);
        if (call) openModelSpan(call, event.modelId, { messages: chatMessages(event.instructions, event.messages) });
      });
    },

    onLanguageModelCallEnd(event) {
      guarded(() => {
        const call = calls.get(event.callId);
        if (!call) return;
        const { message, reasoning } = contentMessage(event.content);
        endModelSpan(call, {
          model: event.modelId,
          usage: event.usage,
          output: { messages: [message] },
          ttftMs: event.performance?.timeToFirstOutputMs,
          finishReason: event.finishReason,
          reasoning,
        });
      });
    },

    onStepError(event) {
      guarded(() => {
        const call = calls.get(event.callId);
        if (call?.model) {
          call.model.setError(event.error).end();
          call.model = undefined;
        }
      });
    },

    onObjectStepStart(event) {
      guarded(() => {
        const call = calls.get(event.callId);
        if (call) openModelSpan(call, event.modelId, call.input);
      });
    },

    onObjectStepEnd(event) {
      guarded(() => {
        const call = calls.get(event.callId);
        if (!call) return;
        endModelSpan(call, {
          model: event.response?.modelId,
          usage: event.usage,
          output: { messages: [{ role: "assistant", content: event.objectText ?? null }] },
          ttftMs: event.msToFirstChunk,
          finishReason: event.finishReason,
        });
      });
    },

    onToolExecutionStart(event) {
      guarded(() => {
        const call = calls.get(event.callId);
        if (!call) return;
        const { toolCallId, toolName, input } = event.toolCall;
        call.tools.set(toolCallId, call.run.root.span(toolName || "tool", { kind: "TOOL", input, metadata: { tool_call_id: toolCallId } }));
      });
    },

    /** The tool runs with its span current, so AI SDK calls it makes (a sub-agent) nest under it. */
    executeTool({ callId, toolCallId, execute }) {
      const span = calls.get(callId)?.tools.get(toolCallId);
      return span ? withCurrentSpan(span, execute) : execute();
    },

    onToolExecutionEnd(event) {
      guarded(() => {
        const call = calls.get(event.callId);
        const span = call?.tools.get(event.toolCall.toolCallId);
        if (!call || !span) return;
        call.tools.delete(event.toolCall.toolCallId);
        if (event.toolOutput.type === "tool-error") span.setError(event.toolOutput.error).end();
        else span.setOutput(event.toolOutput.output).end();
      });
    },

    onEnd(event) {
      guarded(() =>
        finish(event.callId, (call) => {
          closeOpen(call, (span) => span.setMetadata({ abandoned: true }).end());
          const content = "object" in event && event.object !== undefined ? JSON.stringify(event.object) : (event.text ?? null);
          call.run.succeed({ messages: [{ role: "assistant", content }] });
        }),
      );
    },

    onAbort(event) {
      guarded(() =>
        finish(event.callId, (call) => {
          closeOpen(call, (span) => span.setMetadata({ abandoned: true }).end());
          call.run.abandon();
        }),
      );
    },

    onError(event) {
      guarded(() => {
        if (!isObject(event) || typeof event.callId !== "string") return;
        finish(event.callId, (call) => {
          closeOpen(call, (span) => span.setError(event.error).end());
          call.run.fail(event.error);
        });
      });
    },
  };
}
