/**
 * `pandaprobe/mistral` (also `pandaprobe/wrappers/mistral`): traces a Mistral client
 * (`@mistralai/mistralai`) in place.
 *
 *   const mistral = wrapMistral(new Mistral({ apiKey }), { sessionId, userId });
 *
 * `chat.complete` and `chat.stream` each record one LLM span named `mistral-chat`, with the tool
 * calls the model made as TOOL children. The stream is the SDK's own EventStream, watched in place
 * when read with `for await`; each event reaches the caller as the SDK made it.
 */
import type { TokenUsage } from "pandaprobe";
import { integrationIds, type IntegrationOptions } from "./llm-call.js";
import {
  assistantMessage,
  isObject,
  numberOr,
  parseArguments,
  reportedUsage,
  type CallResult,
  type Obj,
  type StreamAccumulator,
} from "./openai-record.js";
import { patchPair, type ProviderApi } from "./provider-call.js";

export type WrapMistralOptions = IntegrationOptions;

/** Request settings worth recording (the SDK's camelCase names). */
const PARAMETERS = [
  "temperature",
  "topP",
  "maxTokens",
  "randomSeed",
  "safePrompt",
  "responseFormat",
  "toolChoice",
  "parallelToolCalls",
  "presencePenalty",
  "frequencyPenalty",
  "n",
  "stop",
  "promptMode",
];

function mistralParameters(request: Obj): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  for (const key of PARAMETERS) if (request[key] !== undefined) kept[key] = request[key];
  return kept;
}

const messagesOf = (request: Obj) => ({ messages: Array.isArray(request.messages) ? request.messages : [] });

function mistralUsage(usage: unknown): TokenUsage | undefined {
  if (!isObject(usage)) return undefined;
  return reportedUsage({
    prompt_tokens: numberOr(usage.promptTokens),
    completion_tokens: numberOr(usage.completionTokens),
    total_tokens: numberOr(usage.totalTokens),
  });
}

/** Message content is a string or a list of chunks; text chunks (and thinking ones) are joined. */
function contentText(content: unknown): { text: string; thinking: string } {
  if (typeof content === "string") return { text: content, thinking: "" };
  let text = "";
  let thinking = "";
  if (Array.isArray(content)) {
    for (const chunk of content) {
      if (!isObject(chunk)) continue;
      if (chunk.type === "text" && typeof chunk.text === "string") text += chunk.text;
      if (chunk.type === "thinking" && Array.isArray(chunk.thinking)) thinking += contentText(chunk.thinking).text;
    }
  }
  return { text, thinking };
}

interface ToolCallDraft {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

/** The first choice's answer, from a whole response or from the stream's chunks (`event.data`). */
class MistralAnswer implements StreamAccumulator {
  private text = "";
  private sawText = false;
  private thinking = "";
  private model: string | undefined;
  private usage: TokenUsage | undefined;
  private finishReason: string | undefined;
  private readonly toolCalls = new Map<number, ToolCallDraft>();

  add(event: unknown): boolean {
    const chunk = isObject(event) && isObject(event.data) ? event.data : event;
    if (!isObject(chunk)) return false;
    if (typeof chunk.model === "string" && chunk.model) this.model = chunk.model;
    if (isObject(chunk.usage)) this.usage = mistralUsage(chunk.usage);
    const choice = Array.isArray(chunk.choices) ? chunk.choices.find((c) => isObject(c) && (c.index ?? 0) === 0) : undefined;
    if (!isObject(choice)) return false;
    if (typeof choice.finishReason === "string") this.finishReason = choice.finishReason;
    const delta = isObject(choice.delta) ? choice.delta : isObject(choice.message) ? choice.message : undefined;
    if (!delta) return false;
    let carried = false;
    const { text, thinking } = contentText(delta.content);
    if (text) {
      this.text += text;
      this.sawText = carried = true;
    }
    if (thinking) {
      this.thinking += thinking;
      carried = true;
    }
    if (Array.isArray(delta.toolCalls)) {
      delta.toolCalls.forEach((part, i) => {
        if (isObject(part)) this.addToolCall(part, i);
      });
      carried ||= delta.toolCalls.length > 0;
    }
    return carried;
  }

  private addToolCall(part: Obj, position: number): void {
    const index = typeof part.index === "number" ? part.index : position;
    let draft = this.toolCalls.get(index);
    if (!draft) {
      draft = { id: "", type: "function", function: { name: "", arguments: "" } };
      this.toolCalls.set(index, draft);
    }
    if (typeof part.id === "string" && part.id !== "null") draft.id = part.id;
    const fn = isObject(part.function) ? part.function : {};
    if (typeof fn.name === "string" && fn.name) draft.function.name = fn.name;
    if (typeof fn.arguments === "string") draft.function.arguments += fn.arguments;
    else if (isObject(fn.arguments)) draft.function.arguments += JSON.stringify(fn.arguments);
  }

  result(): CallResult {
    const toolCalls = [...this.toolCalls.entries()].sort(([a], [b]) => a - b).map(([, call]) => call);
    const message = assistantMessage(this.sawText ? this.text : null, toolCalls) as CallResult["message"] & Record<string, unknown>;
    if (this.thinking) message.thinking = this.thinking;
    if (this.finishReason) message.finish_reason = this.finishReason;
    return {
      message,
      model: this.model,
      usage: this.usage,
      tools: toolCalls.map((call) => ({ name: call.function.name, id: call.id || undefined, input: parseArguments(call.function.arguments) })),
    };
  }
}

const chat: ProviderApi = {
  name: "mistral-chat",
  fromResponse(response) {
    const answer = new MistralAnswer();
    answer.add(response);
    return answer.result();
  },
  accumulator: () => new MistralAnswer(),
};

/**
 * Replaces `complete` and `stream` on the client's own `chat` object (the SDK makes it once, on
 * first access, and keeps it), so the client keeps its class and type T. Wrapping twice is a no-op.
 */
export function wrapMistral<T>(client: T, options?: WrapMistralOptions): T {
  const ids = integrationIds(options, "wrapMistral()");
  let resource: unknown;
  try {
    resource = (client as { chat?: unknown } | null | undefined)?.chat;
  } catch {
    return client;
  }
  patchPair(
    {
      target: resource,
      plain: "complete",
      streaming: "stream",
      api: chat,
      read: (request) => ({ messages: messagesOf(request), model: request.model, parameters: mistralParameters(request) }),
      watch: "iterable",
    },
    ids,
  );
  return client;
}
