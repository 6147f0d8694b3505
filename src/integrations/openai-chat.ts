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

/** `chat.completions.create`: messages in, the first choice's message out. */
export const chatCompletionsApi: OpenAIApi = {
  name: "openai-chat",
  input: (request) => ({ messages: Array.isArray(request.messages) ? request.messages : [] }),
  fromResponse(response) {
    const body = isObject(response) ? response : {};
    const message = firstChoice(body.choices)?.message;
    const fields = isObject(message) ? message : {};
    const toolCalls = Array.isArray(fields.tool_calls) ? fields.tool_calls : [];
    return {
      message: assistantMessage(
        typeof fields.content === "string" ? fields.content : null,
        toolCalls,
        typeof fields.refusal === "string" ? fields.refusal : undefined,
      ),
      model: typeof body.model === "string" ? body.model : undefined,
      usage: chatUsage(body.usage),
      tools: toolUses(toolCalls),
    };
  },
  accumulator: () => new ChatAccumulator(),
};

export function chatUsage(usage: unknown): TokenUsage | undefined {
  return openAIUsage(usage, "prompt", "completion");
}

/** Choice 0: what a single-answer call returns (n > 1 records the first answer). */
function firstChoice(choices: unknown): Obj | undefined {
  if (!Array.isArray(choices)) return undefined;
  const choice = choices.find((c) => isObject(c) && (c.index === 0 || c.index === undefined)) as unknown;
  return isObject(choice) ? choice : undefined;
}

/** Function tools (`{function: {name, arguments}}`) and custom tools (`{custom: {name, input}}`). */
function toolUses(toolCalls: unknown[]): ToolUse[] {
  const uses: ToolUse[] = [];
  for (const call of toolCalls) {
    if (!isObject(call)) continue;
    const id = typeof call.id === "string" ? call.id : undefined;
    if (isObject(call.function)) {
      uses.push({ name: String(call.function.name ?? ""), id, input: parseArguments(call.function.arguments) });
    } else if (isObject(call.custom)) {
      uses.push({ name: String(call.custom.name ?? ""), id, input: call.custom.input });
    }
  }
  return uses;
}

interface ToolCallDraft {
  id: string;
  type: string;
  function: { name: string; arguments: string };
}

/** Rebuilds the first choice's message from `chat.completion.chunk`s: text and tool calls by index. */
class ChatAccumulator implements StreamAccumulator {
  private content = "";
  private sawContent = false;
  private refusal = "";
  private model: string | undefined;
  private usage: TokenUsage | undefined;
  private readonly toolCalls = new Map<number, ToolCallDraft>();

  add(chunk: unknown): boolean {
    if (!isObject(chunk)) return false;
    if (typeof chunk.model === "string" && chunk.model) this.model = chunk.model;
    if (isObject(chunk.usage)) this.usage = chatUsage(chunk.usage);
    const delta = firstChoice(chunk.choices)?.delta;
    if (!isObject(delta)) return false;
    let carried = false;
    if (typeof delta.content === "string" && delta.content) {
      this.content += delta.content;
      this.sawContent = carried = true;
    }
    if (typeof delta.refusal === "string" && delta.refusal) {
      this.refusal += delta.refusal;
      carried = true;
    }
    if (Array.isArray(delta.tool_calls)) {
      for (const part of delta.tool_calls) {
        if (isObject(part)) this.addToolCallPart(part);
        carried = true;
      }
    }
    return carried;
  }

  private addToolCallPart(part: Obj): void {
    const index = typeof part.index === "number" ? part.index : this.toolCalls.size;
    let draft = this.toolCalls.get(index);
    if (!draft) {
      draft = { id: "", type: "function", function: { name: "", arguments: "" } };
      this.toolCalls.set(index, draft);
    }
    if (typeof part.id === "string") draft.id = part.id;
    if (typeof part.type === "string") draft.type = part.type;
    const fn = isObject(part.function) ? part.function : {};
    if (typeof fn.name === "string" && fn.name) draft.function.name = fn.name;
    if (typeof fn.arguments === "string") draft.function.arguments += fn.arguments;
  }

  result(): CallResult {
    const toolCalls = [...this.toolCalls.entries()].sort(([a], [b]) => a - b).map(([, call]) => call);
    return {
      message: assistantMessage(this.sawContent ? this.content : null, toolCalls, this.refusal),
      model: this.model,
      usage: this.usage,
      tools: toolUses(toolCalls),
    };
  }
}
