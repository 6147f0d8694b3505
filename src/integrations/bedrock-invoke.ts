/**
 * Bedrock's InvokeModel bodies, whose shape is the model family's own: the request body as chat
 * messages, the answer (whole, or streamed chunk by chunk) as one assistant message. Families
 * read: Anthropic Claude (Messages API, tool_use blocks), Amazon Nova (Converse-shaped), Amazon
 * Titan Text, Meta Llama, Mistral, Cohere Command, and the OpenAI-shaped ones (AI21 Jamba,
 * DeepSeek, gpt-oss). Anything else is recorded as its parsed JSON.
 */
import type { TokenUsage } from "pandaprobe";
import { anthropicUsage, assistantMessage as anthropicMessage, requestMessages, StreamedMessage, toolUses, type AnthropicMessage } from "./anthropic-message.js";
import { ConverseAnswer, converseMessages } from "./bedrock-converse.js";
import { assistantMessage, isObject, numberOr, reportedUsage, type CallResult, type Obj, type StreamAccumulator } from "./openai-record.js";

const decoder = new TextDecoder();

/** A body as the SDK takes or gives it (string, bytes, a Uint8Array adapter) parsed as JSON when it is. */
export function decodeBody(body: unknown): unknown {
  let text: string;
  if (typeof body === "string") text = body;
  else if (body instanceof Uint8Array) text = decoder.decode(body);
  else return body;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The request body's conversation, whichever family's shape it has. */
export function invokeMessages(body: unknown): { messages: unknown[] } {
  if (typeof body === "string") return { messages: [{ role: "user", content: body }] };
  if (!isObject(body)) return { messages: [] };
  if (Array.isArray(body.messages)) {
    // Claude puts `system` as a string or text blocks; Nova as `[{ text }]`: both read alike.
    return typeof body.anthropic_version === "string" ? requestMessages(body) : converseMessages(body);
  }
  const messages: unknown[] = [];
  if (Array.isArray(body.chat_history)) messages.push(...body.chat_history);
  for (const key of ["prompt", "inputText", "message", "input"]) {
    if (typeof body[key] === "string") {
      messages.push({ role: "user", content: body[key] });
      return { messages };
    }
  }
  return { messages: [{ role: "user", content: body }] };
}

const PARAMETERS = ["max_tokens", "max_gen_len", "temperature", "top_p", "top_k", "stop_sequences", "stop", "maxTokenCount", "stopSequences", "topP", "textGenerationConfig", "inferenceConfig", "thinking"];

export function invokeParameters(body: unknown): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  if (isObject(body)) for (const key of PARAMETERS) if (body[key] !== undefined) kept[key] = body[key];
  return kept;
}

const firstOf = (list: unknown): Obj | undefined => (Array.isArray(list) && isObject(list[0]) ? list[0] : undefined);

/** Generated text in a whole body or a stream chunk of the text-completion families. */
function textIn(body: Obj): string | undefined {
  for (const key of ["generation", "completion", "outputText", "text", "output_text"]) if (typeof body[key] === "string") return body[key];
  const first = firstOf(body.results) ?? firstOf(body.outputs) ?? firstOf(body.generations);
  if (first) for (const key of ["outputText", "text"]) if (typeof first[key] === "string") return first[key];
  const choice = firstOf(body.choices);
  if (choice) {
    for (const part of [choice.message, choice.delta]) if (isObject(part) && typeof part.content === "string") return part.content;
    if (typeof choice.text === "string") return choice.text;
  }
  return undefined;
}

/** Token counts wherever the family reports them; Bedrock's own invocation metrics close every stream. */
function usageIn(body: Obj): TokenUsage | undefined {
  const metrics = body["amazon-bedrock-invocationMetrics"];
  if (isObject(metrics)) return reportedUsage({ prompt_tokens: numberOr(metrics.inputTokenCount), completion_tokens: numberOr(metrics.outputTokenCount) });
  if (isObject(body.usage)) {
    const usage = body.usage;
    return reportedUsage({
      prompt_tokens: numberOr(usage.prompt_tokens) ?? numberOr(usage.input_tokens),
      completion_tokens: numberOr(usage.completion_tokens) ?? numberOr(usage.output_tokens),
      total_tokens: numberOr(usage.total_tokens),
    });
  }
  if (body.prompt_token_count !== undefined || body.generation_token_count !== undefined) {
    return reportedUsage({ prompt_tokens: numberOr(body.prompt_token_count), completion_tokens: numberOr(body.generation_token_count) });
  }
  if (body.inputTextTokenCount !== undefined) {
    return reportedUsage({
      prompt_tokens: numberOr(body.inputTextTokenCount),
      completion_tokens: numberOr(firstOf(body.results)?.tokenCount) ?? numberOr(body.totalOutputTextTokenCount),
    });
  }
  const billed = isObject(body.meta) ? body.meta.billed_units : undefined;
  if (isObject(billed)) return reportedUsage({ prompt_tokens: numberOr(billed.input_tokens), completion_tokens: numberOr(billed.output_tokens) });
  return undefined;
}

const isAnthropic = (body: Obj) => body.type === "message" || (typeof body.type === "string" && /^(message|content_block)_/.test(body.type));
const isConverseShaped = (body: Obj) => isObject(body.output) || ["messageStart", "contentBlockStart", "contentBlockDelta", "contentBlockStop", "messageStop", "metadata"].some((k) => isObject(body[k]));

/** A whole InvokeModel answer. */
export function invokeResult(body: unknown): CallResult {
  if (isObject(body) && isAnthropic(body)) {
    const message = body as AnthropicMessage;
    return {
      message: anthropicMessage(message) as unknown as CallResult["message"],
      model: typeof message.model === "string" ? message.model : undefined,
      usage: anthropicUsage(message.usage),
      tools: toolUses(message).map((tool) => ({ name: tool.name!, id: tool.id, input: tool.input })),
    };
  }
  if (isObject(body) && isConverseShaped(body)) {
    const answer = new ConverseAnswer();
    answer.addResponse(body);
    return answer.result();
  }
  const text = isObject(body) ? textIn(body) : typeof body === "string" ? body : undefined;
  return {
    message: assistantMessage(text ?? (body === undefined ? null : JSON.stringify(body)), []),
    usage: isObject(body) ? usageIn(body) : undefined,
    tools: [],
  };
}

/** An InvokeModelWithResponseStream answer from its `{ chunk: { bytes } }` events. */
export class InvokeAnswer implements StreamAccumulator {
  private anthropic: StreamedMessage | undefined;
  private converse: ConverseAnswer | undefined;
  private text = "";
  private sawText = false;
  private usage: TokenUsage | undefined;

  add(event: unknown): boolean {
    const bytes = isObject(event) && isObject(event.chunk) ? event.chunk.bytes : undefined;
    const body = decodeBody(bytes);
    if (!isObject(body)) return false;
    const usage = usageIn(body);
    if (usage) this.usage = usage;
    if (this.anthropic || isAnthropic(body)) return (this.anthropic ??= new StreamedMessage()).add(body);
    if (this.converse || isConverseShaped(body)) return (this.converse ??= new ConverseAnswer()).add(body);
    const text = textIn(body);
    if (!text) return false;
    this.text += text;
    this.sawText = true;
    return true;
  }

  result(): CallResult {
    const snapshot = this.anthropic?.snapshot();
    const result = snapshot
      ? invokeResult({ ...snapshot, type: "message" })
      : (this.converse?.result() ?? { message: assistantMessage(this.sawText ? this.text : null, []), tools: [] });
    return { ...result, usage: result.usage ?? this.usage };
  }
}
