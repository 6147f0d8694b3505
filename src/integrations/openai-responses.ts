import type { TokenUsage } from "pandaprobe";
import {
  assistantMessage,
  isObject,
  openAIUsage,
  parseArguments,
  type CallResult,
  type Obj,
  type OpenAIApi,
  type StreamAccumulator,
  type ToolUse,
} from "./openai-record.js";

/** `responses.create`: instructions + input normalised to messages; output items to one assistant message. */
export const responsesApi: OpenAIApi = {
  name: "openai-response",
  input: (request) => ({ messages: responsesMessages(request) }),
  fromResponse(response) {
    const body = isObject(response) ? response : {};
    return fromResponseBody(body, Array.isArray(body.output) ? body.output : [], "");
  },
  accumulator: () => new ResponsesAccumulator(),
};

/** instructions → system message, a string input → one user message, items → messages where they map. */
export function responsesMessages(request: Obj): unknown[] {
  const messages: unknown[] = [];
  if (typeof request.instructions === "string" && request.instructions) {
    messages.push({ role: "system", content: request.instructions });
  }
  const input = request.input;
  if (typeof input === "string") messages.push({ role: "user", content: input });
  else if (Array.isArray(input)) for (const item of input) messages.push(inputItemMessage(item));
  return messages;
}

function inputItemMessage(item: unknown): unknown {
  if (typeof item === "string") return { role: "user", content: item };
  if (!isObject(item)) return item;
  if (typeof item.role === "string") return { role: item.role, content: plainText(item.content) };
  if (item.type === "function_call_output") return { role: "tool", tool_call_id: item.call_id, content: item.output };
  if (item.type === "function_call") {
    return { role: "assistant", content: null, tool_calls: [functionToolCall(item)] };
  }
  // Reasoning and built-in tool items have no message form; they are kept as sent.
  return item;
}

/** Content parts that are all text become one string; anything else (images, files) stays as parts. */
function plainText(content: unknown): unknown {
  if (!Array.isArray(content)) return content;
  const texts: string[] = [];
  for (const part of content) {
    if (!isObject(part) || typeof part.text !== "string" || !/^(input|output)_text$/.test(String(part.type))) {
      return content;
    }
    texts.push(part.text);
  }
  return texts.join("");
}

function functionToolCall(item: Obj) {
  return { id: item.call_id, type: "function", function: { name: item.name, arguments: item.arguments } };
}

export function responsesUsage(usage: unknown): TokenUsage | undefined {
  return openAIUsage(usage, "input", "output");
}

/** `streamedText` stands in for the message text when no message item completed (an abandoned stream). */
function fromResponseBody(body: Obj, output: unknown[], streamedText: string): CallResult {
  let text: string | null = null;
  let refusal = "";
  const toolCalls: unknown[] = [];
  const tools: ToolUse[] = [];
  for (const item of output) {
    if (!isObject(item)) continue;
    if (item.type === "message") {
      const parts = Array.isArray(item.content) ? item.content : [];
      for (const part of parts) {
        if (!isObject(part)) continue;
        if (part.type === "output_text" && typeof part.text === "string") text = (text ?? "") + part.text;
        if (part.type === "refusal" && typeof part.refusal === "string") refusal += part.refusal;
      }
      continue;
    }
    if (item.type === "function_call") toolCalls.push(functionToolCall(item));
    const tool = toolUse(item);
    if (tool) tools.push(tool);
  }
  if (text === null && streamedText) text = streamedText;
  const error = isObject(body.error) && typeof body.error.message === "string" ? body.error.message : undefined;
  return {
    message: assistantMessage(text, toolCalls, refusal),
    model: typeof body.model === "string" ? body.model : undefined,
    usage: responsesUsage(body.usage),
    tools,
    error: body.status === "failed" ? (error ?? "response failed") : undefined,
  };
}

const NOT_INPUT = new Set(["id", "type", "status", "call_id"]);

/** A function call, or a built-in tool the platform ran (web search, file search, code interpreter, ...). */
function toolUse(item: Obj): ToolUse | undefined {
  const type = typeof item.type === "string" ? item.type : "";
  if (!type.endsWith("_call")) return undefined;
  const name = typeof item.name === "string" ? item.name : type.slice(0, -"_call".length);
  const id = typeof item.call_id === "string" ? item.call_id : typeof item.id === "string" ? item.id : undefined;
  switch (type) {
    case "function_call":
    case "mcp_call":
      return { name, id, input: parseArguments(item.arguments), output: item.output ?? item.error ?? undefined };
    case "custom_tool_call":
      return { name, id, input: item.input };
    case "file_search_call":
      return { name, id, input: { queries: item.queries }, output: item.results ?? undefined };
    case "code_interpreter_call":
      return { name, id, input: { code: item.code }, output: item.outputs ?? undefined };
  }
  if (item.action !== undefined) return { name, id, input: item.action };
  const input: Obj = {};
  for (const [key, value] of Object.entries(item)) if (!NOT_INPUT.has(key)) input[key] = value;
  return { name, id, input };
}

/** Rebuilds the response from stream events: completed items, text deltas, the final response. */
class ResponsesAccumulator implements StreamAccumulator {
  private text = "";
  private readonly items: unknown[] = [];
  private model: string | undefined;
  private final: Obj | undefined;
  private error: string | undefined;

  add(event: unknown): boolean {
    if (!isObject(event) || typeof event.type !== "string") return false;
    const type = event.type;
    if (type === "response.output_text.delta" && typeof event.delta === "string") {
      this.text += event.delta;
      return true;
    }
    if (type === "response.output_item.done") {
      this.items.push(event.item);
      return false;
    }
    if (type === "error" && typeof event.message === "string") {
      this.error = event.message;
      return false;
    }
    if (type.startsWith("response.") && isObject(event.response)) {
      if (typeof event.response.model === "string") this.model = event.response.model;
      if (type === "response.completed" || type === "response.incomplete" || type === "response.failed") {
        this.final = event.response;
      }
      return false;
    }
    // Any other delta (refusal, tool arguments, reasoning) is generated content too.
    return type.endsWith(".delta");
  }

  result(): CallResult {
    const final = this.final ?? {};
    const output = Array.isArray(final.output) && final.output.length ? final.output : this.items;
    const result = fromResponseBody(final, output, this.text);
    result.model ??= this.model;
    if (this.error !== undefined) result.error ??= this.error;
    return result;
  }
}
