/**
 * Anthropic Messages API data as PandaProbe records it: the request as a message list, the answer
 * as one assistant message, usage as wire token counts. Structural types, so the SDK stays a
 * type-free optional peer and block types it adds later pass through untouched.
 */
import type { TokenUsage } from "pandaprobe";

export interface AnthropicBlock {
  type: string;
  text?: string;
  thinking?: string;
  id?: string;
  name?: string;
  input?: unknown;
}

export interface AnthropicUsage {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
  output_tokens_details?: { thinking_tokens?: number | null } | null;
}

export interface AnthropicMessage {
  model?: string;
  content?: AnthropicBlock[];
  usage?: AnthropicUsage;
  stop_reason?: string | null;
}

export interface AnthropicRequest {
  model?: unknown;
  system?: unknown;
  messages?: unknown;
  stream?: unknown;
}

/** The LLM span's input: the `system` prompt as a leading system message, then the messages as sent. */
export function requestMessages(request: AnthropicRequest): { messages: unknown[] } {
  const messages: unknown[] = [];
  if (request.system !== undefined && request.system !== null) messages.push({ role: "system", content: request.system });
  if (Array.isArray(request.messages)) messages.push(...request.messages);
  return { messages };
}

/**
 * The answer as one assistant message: text blocks joined as `content`, thinking blocks joined as
 * `thinking`, tool_use blocks as `tool_calls` in the chat-message shape other wrappers use.
 */
export function assistantMessage(message: AnthropicMessage): Record<string, unknown> {
  const blocks = message.content ?? [];
  const text = blocks.filter((b) => b.type === "text").map((b) => b.text ?? "");
  const thinking = blocks.filter((b) => b.type === "thinking").map((b) => b.thinking ?? "");
  const tools = toolUses(message);
  const out: Record<string, unknown> = { role: "assistant", content: text.length > 0 ? text.join("") : null };
  if (thinking.length > 0) out.thinking = thinking.join("\n\n");
  if (tools.length > 0) {
    out.tool_calls = tools.map((tool) => ({
      id: tool.id,
      type: "function",
      function: { name: tool.name, arguments: typeof tool.input === "string" ? tool.input : JSON.stringify(tool.input ?? {}) },
    }));
  }
  return out;
}

export function toolUses(message: AnthropicMessage): AnthropicBlock[] {
  return (message.content ?? []).filter((b) => b.type === "tool_use" && typeof b.name === "string");
}

function count(value: number | null | undefined): number {
  return typeof value === "number" && Number.isFinite(value) ? value : 0;
}

/**
 * Anthropic's input_tokens leaves out the cached part of the prompt, so the total adds both cache
 * counts to input and output: every token the call processed.
 */
export function anthropicUsage(usage: AnthropicUsage | undefined): TokenUsage | undefined {
  if (!usage) return undefined;
  const prompt = count(usage.input_tokens);
  const completion = count(usage.output_tokens);
  const cacheRead = count(usage.cache_read_input_tokens);
  const cacheWrite = count(usage.cache_creation_input_tokens);
  const result: TokenUsage = {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion + cacheRead + cacheWrite,
  };
  if (cacheRead > 0) result.cache_read_tokens = cacheRead;
  const thinking = count(usage.output_tokens_details?.thinking_tokens);
  if (thinking > 0) result.reasoning_tokens = thinking;
  return result;
}

interface StreamEvent {
  type?: string;
  index?: number;
  message?: AnthropicMessage;
  content_block?: AnthropicBlock;
  delta?: { type?: string; text?: string; thinking?: string; partial_json?: string; stop_reason?: string | null };
  usage?: AnthropicUsage;
}

/**
 * Rebuilds the Message from raw stream events, as far as they have come. It copies what it keeps:
 * the SDK's MessageStream grows the event objects themselves into its own snapshot.
 */
export class StreamedMessage {
  private message: AnthropicMessage | undefined;
  private readonly blocks = new Map<number, AnthropicBlock>();
  private readonly partialJson = new Map<number, string>();

  /** Adds an event; true when it is a content delta (the first one is the time to first token). */
  add(raw: unknown): boolean {
    const event = raw as StreamEvent;
    switch (event.type) {
      case "message_start":
        this.message = { ...event.message, content: [], usage: { ...event.message?.usage } };
        return false;
      case "content_block_start":
        if (event.content_block && typeof event.index === "number") {
          this.blocks.set(event.index, { ...event.content_block });
        }
        return false;
      case "content_block_delta":
        this.addDelta(event);
        return true;
      case "content_block_stop":
        if (typeof event.index === "number") this.settleToolInput(event.index);
        return false;
      case "message_delta":
        if (this.message) {
          if (event.delta?.stop_reason !== undefined) this.message.stop_reason = event.delta.stop_reason;
          // Counts in message_delta are cumulative; null means "unchanged".
          for (const [key, value] of Object.entries(event.usage ?? {})) {
            if (value !== null && value !== undefined) (this.message.usage as Record<string, unknown>)[key] = value;
          }
        }
        return false;
      default:
        return false;
    }
  }

  private addDelta(event: StreamEvent): void {
    const block = typeof event.index === "number" ? this.blocks.get(event.index) : undefined;
    const delta = event.delta;
    if (!block || !delta) return;
    if (delta.type === "text_delta") block.text = (block.text ?? "") + (delta.text ?? "");
    else if (delta.type === "thinking_delta") block.thinking = (block.thinking ?? "") + (delta.thinking ?? "");
    else if (delta.type === "input_json_delta") {
      this.partialJson.set(event.index!, (this.partialJson.get(event.index!) ?? "") + (delta.partial_json ?? ""));
    }
  }

  private settleToolInput(index: number): void {
    const json = this.partialJson.get(index);
    const block = this.blocks.get(index);
    if (json === undefined || !block) return;
    this.partialJson.delete(index);
    try {
      block.input = json === "" ? {} : JSON.parse(json);
    } catch {
      block.input = json;
    }
  }

  /** The message so far; a tool input cut off midway stays its partial JSON text. */
  snapshot(): AnthropicMessage | undefined {
    if (!this.message) return undefined;
    const content = [...this.blocks.entries()]
      .sort(([a], [b]) => a - b)
      .map(([index, block]) => (this.partialJson.has(index) ? { ...block, input: this.partialJson.get(index) } : block));
    return { ...this.message, content };
  }
}
