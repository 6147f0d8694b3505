/**
 * The AI SDK's model messages (`ModelMessage`, what v7 telemetry events carry) as the chat
 * messages PandaProbe records: text parts joined, tool calls and results in OpenAI's shape, file
 * bytes left out.
 */
import { assistantMessage, isObject, type Obj } from "./openai-record.js";

type Part = Obj & { type?: unknown };

function parts(content: unknown): Part[] {
  return Array.isArray(content) ? content.filter(isObject) : [];
}

function text(content: unknown): string | null {
  if (typeof content === "string") return content;
  const texts = parts(content).filter((p) => p.type === "text").map((p) => String(p.text ?? ""));
  return texts.length ? texts.join("") : null;
}

function userContent(content: unknown): unknown {
  if (typeof content === "string") return content;
  const all = parts(content);
  if (all.every((p) => p.type === "text")) return text(content) ?? "";
  return all.map((p) => {
    if (p.type === "text") return { type: "text", text: p.text };
    const data = p.data ?? p.image;
    return {
      type: p.type === "image" ? "image" : "file",
      mediaType: p.mediaType,
      filename: p.filename,
      // Bytes are left out; a URL (or a URL-like string) is kept as a reference.
      data: data instanceof URL ? data.href : typeof data === "string" && !data.startsWith("data:") ? data : undefined,
    };
  });
}

function toolCallOf(part: Part): unknown {
  const input = part.input ?? part.args;
  return {
    id: part.toolCallId,
    type: "function",
    function: { name: part.toolName, arguments: typeof input === "string" ? input : JSON.stringify(input ?? {}) },
  };
}

/** A tool result part's output: `{ type: "json" | "text", value }` in v5+, the bare result before. */
export function toolResultValue(output: unknown): unknown {
  return isObject(output) && "value" in output ? output.value : output;
}

/** The system instructions of a call (a string, a system message or a list of them) as system messages. */
function instructionMessages(instructions: unknown): unknown[] {
  if (instructions === undefined || instructions === null) return [];
  const list = Array.isArray(instructions) ? instructions : [instructions];
  return list.map((item) => ({ role: "system", content: typeof item === "string" ? item : text((item as Obj).content) ?? "" }));
}

export function chatMessages(instructions: unknown, messages: unknown): unknown[] {
  const out = instructionMessages(instructions);
  if (typeof messages === "string") return [...out, { role: "user", content: messages }];
  if (!Array.isArray(messages)) return out;
  for (const message of messages) {
    if (!isObject(message)) continue;
    const { role, content } = message;
    if (role === "assistant") {
      const calls = parts(content).filter((p) => p.type === "tool-call").map(toolCallOf);
      out.push(assistantMessage(text(content), calls));
    } else if (role === "tool") {
      for (const part of parts(content)) {
        if (part.type !== "tool-result") continue;
        out.push({ role: "tool", tool_call_id: part.toolCallId, name: part.toolName, content: toolResultValue(part.output ?? part.result) });
      }
    } else if (role === "user") {
      out.push({ role: "user", content: userContent(content) });
    } else {
      out.push({ role: String(role), content: text(content) ?? "" });
    }
  }
  return out;
}

/** A model call's generated content parts as the assistant message it amounts to. */
export function contentMessage(content: unknown): { message: ReturnType<typeof assistantMessage>; reasoning: string | undefined } {
  const all = parts(content);
  const reasoning = all.filter((p) => p.type === "reasoning").map((p) => String(p.text ?? "")).join("");
  const calls = all.filter((p) => p.type === "tool-call").map(toolCallOf);
  return { message: assistantMessage(text(content), calls), reasoning: reasoning || undefined };
}
