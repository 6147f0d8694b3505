/**
 * Bedrock's Converse API (`ConverseCommand`, `ConverseStreamCommand`) as PandaProbe records it:
 * system blocks and messages as chat messages, the output message (text, reasoning, toolUse
 * blocks) as one assistant message with its tool calls, `usage` as wire token counts.
 */
import type { TokenUsage } from "pandaprobe";
import { assistantMessage, isObject, numberOr, parseArguments, reportedUsage, type CallResult, type Obj, type StreamAccumulator } from "./openai-record.js";

/** Content blocks as text when they are all text, as the blocks themselves otherwise. */
export function blocksContent(blocks: unknown, separator = ""): unknown {
  if (typeof blocks === "string" || !Array.isArray(blocks)) return blocks;
  const texts = blocks.map((b) => (isObject(b) && typeof b.text === "string" ? b.text : undefined));
  return texts.every((t) => t !== undefined) ? texts.join(separator) : blocks;
}

/** `system` then `messages`, as Converse and Nova's InvokeModel body both carry them. */
export function converseMessages(request: Obj): { messages: unknown[] } {
  const messages: unknown[] = [];
  if (request.system !== undefined && request.system !== null) messages.push({ role: "system", content: blocksContent(request.system, "\n") });
  if (Array.isArray(request.messages)) {
    for (const message of request.messages) {
      if (isObject(message)) messages.push({ role: message.role === "model" ? "assistant" : (message.role ?? "user"), content: blocksContent(message.content) });
    }
  }
  return { messages };
}

export function converseParameters(request: Obj): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  const config = isObject(request.inferenceConfig) ? request.inferenceConfig : {};
  for (const key of ["maxTokens", "temperature", "topP", "stopSequences"]) if (config[key] !== undefined) kept[key] = config[key];
  for (const key of ["additionalModelRequestFields", "guardrailConfig", "performanceConfig"]) if (request[key] !== undefined) kept[key] = request[key];
  return kept;
}

export function converseUsage(usage: unknown): TokenUsage | undefined {
  if (!isObject(usage)) return undefined;
  return reportedUsage({
    prompt_tokens: numberOr(usage.inputTokens),
    completion_tokens: numberOr(usage.outputTokens),
    total_tokens: numberOr(usage.totalTokens),
    cache_read_tokens: numberOr(usage.cacheReadInputTokens) || undefined,
    cache_creation_tokens: numberOr(usage.cacheWriteInputTokens) || undefined,
  });
}

interface ToolDraft {
  id: string;
  name: string;
  input: unknown;
  /** Streamed input JSON, as far as it has come. */
  json?: string;
}

/**
 * The answer of a Converse call: from the whole output message, or from ConverseStream events
 * (messageStart, contentBlockStart/Delta/Stop, messageStop, metadata) as they pass. Nova's
 * InvokeModel stream sends the same events, so it reads them too.
 */
export class ConverseAnswer implements StreamAccumulator {
  private text = "";
  private sawText = false;
  private reasoning = "";
  private readonly tools = new Map<number, ToolDraft>();
  private usage: TokenUsage | undefined;
  private stopReason: string | undefined;

  /** A whole Converse response (or Nova InvokeModel body): `output.message`, `usage`, `stopReason`. */
  addResponse(response: unknown): void {
    if (!isObject(response)) return;
    const output = isObject(response.output) ? response.output : {};
    const content = isObject(output.message) && Array.isArray(output.message.content) ? output.message.content : [];
    content.forEach((block, index) => {
      if (!isObject(block)) return;
      if (typeof block.text === "string") this.addText(block.text);
      const reasoning = isObject(block.reasoningContent) && isObject(block.reasoningContent.reasoningText) ? block.reasoningContent.reasoningText.text : undefined;
      if (typeof reasoning === "string") this.reasoning += reasoning;
      if (isObject(block.toolUse)) this.tools.set(index, { id: String(block.toolUse.toolUseId ?? ""), name: String(block.toolUse.name ?? ""), input: block.toolUse.input });
    });
    if (isObject(response.usage)) this.usage = converseUsage(response.usage);
    if (typeof response.stopReason === "string") this.stopReason = response.stopReason;
  }

  private addText(text: string): void {
    this.text += text;
    this.sawText = true;
  }

  add(event: unknown): boolean {
    if (!isObject(event)) return false;
    const start = event.contentBlockStart;
    if (isObject(start) && isObject(start.start) && isObject(start.start.toolUse)) {
      const tool = start.start.toolUse;
      this.tools.set(numberOr(start.contentBlockIndex) ?? this.tools.size, { id: String(tool.toolUseId ?? ""), name: String(tool.name ?? ""), input: {}, json: "" });
      return true;
    }
    const blockDelta = event.contentBlockDelta;
    if (isObject(blockDelta) && isObject(blockDelta.delta)) {
      const delta = blockDelta.delta;
      if (typeof delta.text === "string") this.addText(delta.text);
      if (isObject(delta.reasoningContent) && typeof delta.reasoningContent.text === "string") this.reasoning += delta.reasoningContent.text;
      if (isObject(delta.toolUse)) {
        const tool = this.tools.get(numberOr(blockDelta.contentBlockIndex) ?? -1);
        if (tool) tool.json = (tool.json ?? "") + String(delta.toolUse.input ?? "");
      }
      return true;
    }
    if (isObject(event.messageStop) && typeof event.messageStop.stopReason === "string") this.stopReason = event.messageStop.stopReason;
    if (isObject(event.metadata) && isObject(event.metadata.usage)) this.usage = converseUsage(event.metadata.usage);
    return false;
  }

  result(): CallResult {
    const tools = [...this.tools.entries()]
      .sort(([a], [b]) => a - b)
      .map(([, tool]) => ({ id: tool.id, name: tool.name, input: tool.json === undefined ? tool.input : tool.json === "" ? {} : parseArguments(tool.json) }));
    const toolCalls = tools.map((tool) => ({
      id: tool.id,
      type: "function",
      function: { name: tool.name, arguments: typeof tool.input === "string" ? tool.input : JSON.stringify(tool.input ?? {}) },
    }));
    const message = assistantMessage(this.sawText ? this.text : null, toolCalls) as CallResult["message"] & Record<string, unknown>;
    if (this.reasoning) message.thinking = this.reasoning;
    if (this.stopReason) message.stop_reason = this.stopReason;
    return { message, usage: this.usage, tools };
  }
}
