/**
 * Google GenAI (`@google/genai`) data as PandaProbe records it: the request's `contents` and
 * system instruction as chat messages, a GenerateContentResponse (or the chunks of a stream) as
 * one assistant message with its function calls, `usageMetadata` as wire token counts.
 */
import type { TokenUsage } from "pandaprobe";
import { assistantMessage, isObject, numberOr, reportedUsage, type CallResult, type Obj, type StreamAccumulator, type ToolUse } from "./openai-record.js";

/** Generation settings worth recording, read from `config`. */
const PARAMETERS = [
  "temperature",
  "topP",
  "topK",
  "maxOutputTokens",
  "stopSequences",
  "candidateCount",
  "presencePenalty",
  "frequencyPenalty",
  "seed",
  "responseMimeType",
  "thinkingConfig",
];

export function geminiParameters(request: Obj): Record<string, unknown> {
  const config = isObject(request.config) ? request.config : {};
  const kept: Record<string, unknown> = {};
  for (const key of PARAMETERS) if (config[key] !== undefined) kept[key] = config[key];
  return kept;
}

const roleOf = (role: unknown) => (role === "model" ? "assistant" : typeof role === "string" ? role : "user");

function textOf(parts: unknown[]): string {
  return parts
    .map((part) => (typeof part === "string" ? part : isObject(part) && typeof part.text === "string" && !part.thought ? part.text : ""))
    .join("");
}

/** One Content (`{ role, parts }`) as a chat message: text joined, function calls and responses kept. */
function contentMessage(content: Obj): Record<string, unknown> {
  const parts = Array.isArray(content.parts) ? content.parts : [];
  const calls = parts.filter((p): p is Obj => isObject(p) && isObject(p.functionCall)).map((p) => p.functionCall as Obj);
  const responses = parts.filter((p): p is Obj => isObject(p) && isObject(p.functionResponse)).map((p) => p.functionResponse as Obj);
  if (responses.length > 0 && calls.length === 0 && !textOf(parts)) {
    return { role: "tool", content: responses.length === 1 ? responses[0]!.response : responses.map((r) => r.response), name: responses[0]!.name };
  }
  const message: Record<string, unknown> = { role: roleOf(content.role), content: textOf(parts) };
  if (calls.length > 0) message.tool_calls = calls.map(toolCall);
  return message;
}

const isContent = (value: unknown): value is Obj => isObject(value) && (Array.isArray(value.parts) || typeof value.role === "string");

/** `contents` as the SDK accepts it: a string, a Content, parts, or a list of either. */
export function geminiMessages(request: Obj): { messages: unknown[] } {
  const messages: unknown[] = [];
  const config = isObject(request.config) ? request.config : {};
  const system = config.systemInstruction;
  if (typeof system === "string") messages.push({ role: "system", content: system });
  else if (isContent(system)) messages.push({ role: "system", content: textOf(system.parts as unknown[]) });
  else if (Array.isArray(system)) messages.push({ role: "system", content: textOf(system) });
  const contents = request.contents;
  const list = Array.isArray(contents) ? contents : contents === undefined ? [] : [contents];
  if (list.some(isContent)) {
    for (const item of list) messages.push(isContent(item) ? contentMessage(item) : { role: "user", content: textOf([item]) });
  } else if (list.length > 0) {
    messages.push({ role: "user", content: textOf(list) });
  }
  return { messages };
}

function toolCall(call: Obj, index: number): Record<string, unknown> {
  return {
    id: typeof call.id === "string" ? call.id : `call_${index}`,
    type: "function",
    function: { name: String(call.name ?? ""), arguments: JSON.stringify(call.args ?? {}) },
  };
}

export function geminiUsage(usage: unknown): TokenUsage | undefined {
  if (!isObject(usage)) return undefined;
  return reportedUsage({
    prompt_tokens: numberOr(usage.promptTokenCount),
    completion_tokens: numberOr(usage.candidatesTokenCount),
    total_tokens: numberOr(usage.totalTokenCount),
    reasoning_tokens: numberOr(usage.thoughtsTokenCount),
    cache_read_tokens: numberOr(usage.cachedContentTokenCount),
  });
}

/** Builds the first candidate's answer from a whole response, or from stream chunks one by one. */
export class GeminiAnswer implements StreamAccumulator {
  private text = "";
  private sawText = false;
  private thinking = "";
  private readonly calls: Obj[] = [];
  private model: string | undefined;
  private usage: TokenUsage | undefined;
  private finishReason: string | undefined;

  add(chunk: unknown): boolean {
    if (!isObject(chunk)) return false;
    if (typeof chunk.modelVersion === "string" && chunk.modelVersion) this.model = chunk.modelVersion;
    if (isObject(chunk.usageMetadata)) this.usage = geminiUsage(chunk.usageMetadata);
    const candidate = Array.isArray(chunk.candidates) ? chunk.candidates[0] : undefined;
    if (!isObject(candidate)) return false;
    if (typeof candidate.finishReason === "string") this.finishReason = candidate.finishReason;
    const parts = isObject(candidate.content) && Array.isArray(candidate.content.parts) ? candidate.content.parts : [];
    let carried = false;
    for (const part of parts) {
      if (!isObject(part)) continue;
      if (typeof part.text === "string" && part.text) {
        if (part.thought) this.thinking += part.text;
        else {
          this.text += part.text;
          this.sawText = true;
        }
        carried = true;
      } else if (isObject(part.functionCall)) {
        this.calls.push(part.functionCall);
        carried = true;
      }
    }
    return carried;
  }

  result(): CallResult {
    const toolCalls = this.calls.map(toolCall);
    const message = assistantMessage(this.sawText ? this.text : null, toolCalls) as CallResult["message"] & Record<string, unknown>;
    if (this.thinking) message.thinking = this.thinking;
    if (this.finishReason) message.finish_reason = this.finishReason;
    const tools: ToolUse[] = this.calls.map((call, i) => ({ name: String(call.name ?? ""), id: toolCalls[i]!.id as string, input: call.args ?? {} }));
    return { message, model: this.model, usage: this.usage, tools };
  }
}

export function geminiResult(response: unknown): CallResult {
  const answer = new GeminiAnswer();
  answer.add(response);
  return answer.result();
}
