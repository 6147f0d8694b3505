/**
 * LangChain values in PandaProbe's shapes: messages as `{role, content, tool_calls?}`, documents as
 * `{page_content, metadata}`, usage with the wire's token keys. Duck-typed, so these helpers need
 * no LangChain runtime and accept values from any copy of @langchain/core.
 */
import type { BaseMessage } from "@langchain/core/messages";
import type { LLMResult } from "@langchain/core/outputs";
import type { TokenUsage } from "pandaprobe";
import { safeParameters } from "./llm-call.js";

type Json = Record<string, unknown>;

const ROLES: Record<string, string> = {
  human: "user",
  user: "user",
  ai: "assistant",
  assistant: "assistant",
  system: "system",
  developer: "system",
  tool: "tool",
  function: "function",
};

/** Beyond this depth a chain's input or output is left to the core's serializer as it is. */
const MAX_DEPTH = 8;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null;
}

function isPlain(value: Json): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

export function isMessage(value: unknown): value is BaseMessage {
  return isObject(value) && typeof value._getType === "function" && "content" in value;
}

function messageType(message: BaseMessage): string {
  const type = (message as { type?: unknown }).type;
  return typeof type === "string" ? type : message._getType();
}

/** A LangChain message as the wire's `{role, content, ...}`, tool calls in OpenAI's shape. */
export function toWireMessage(message: BaseMessage): Json {
  const type = messageType(message);
  const role = type === "generic" ? String((message as { role?: unknown }).role) : (ROLES[type] ?? type);
  const wire: Json = { role, content: message.content };
  const toolCalls = (message as { tool_calls?: { id?: string; name: string; args: unknown }[] }).tool_calls;
  if (Array.isArray(toolCalls) && toolCalls.length > 0) {
    wire.tool_calls = toolCalls.map((call) => ({
      id: call.id,
      type: "function",
      function: { name: call.name, arguments: JSON.stringify(call.args ?? {}) },
    }));
  }
  const toolCallId = (message as { tool_call_id?: unknown }).tool_call_id;
  if (typeof toolCallId === "string") wire.tool_call_id = toolCallId;
  if (typeof message.name === "string" && message.name !== "") wire.name = message.name;
  return wire;
}

function isDocument(value: Json): boolean {
  return typeof value.pageContent === "string" && isObject(value.metadata);
}

export function toWireDocument(document: { pageContent: string; metadata: Json; id?: string }): Json {
  const wire: Json = { page_content: document.pageContent, metadata: document.metadata };
  if (document.id !== undefined) wire.id = document.id;
  return wire;
}

/** A `["human", "hi"]` message-like tuple, as LangChain accepts in message lists. */
function isTuple(value: unknown): value is [string, unknown] {
  return Array.isArray(value) && value.length === 2 && typeof value[0] === "string" && value[0] in ROLES;
}

/**
 * A chain's input or output with every message, prompt value and document in wire shape;
 * plain objects and arrays are walked, anything else is left to the core's serializer.
 */
export function normalize(value: unknown, depth = 0): unknown {
  if (!isObject(value) || depth > MAX_DEPTH) return value;
  if (isMessage(value)) return toWireMessage(value);
  if (typeof value.toChatMessages === "function") {
    return { messages: normalize((value as { toChatMessages(): unknown }).toChatMessages(), depth + 1) };
  }
  if (isDocument(value)) return toWireDocument(value as { pageContent: string; metadata: Json });
  if (Array.isArray(value)) {
    return value.map((item) =>
      isTuple(item) ? { role: ROLES[item[0]], content: item[1] } : normalize(item, depth + 1),
    );
  }
  if (!isPlain(value)) return value;
  const out: Json = {};
  for (const key of Object.keys(value)) out[key] = normalize(value[key], depth + 1);
  return out;
}

/** LangChain wraps a non-object input or output as `{input}` / `{output}`; the value itself reads better. */
export function unwrapSingle(value: unknown, key: "input" | "output"): unknown {
  if (isObject(value) && isPlain(value)) {
    const keys = Object.keys(value);
    if (keys.length === 1 && keys[0] === key) return value[key];
  }
  return value;
}

/** A tool's input arrives as a string, JSON for structured tools: recorded as the object it encodes. */
export function toolInput(input: string): unknown {
  const trimmed = input.trimStart();
  if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
    try {
      return JSON.parse(input);
    } catch {
      return input;
    }
  }
  return input;
}

/** The first generation of an LLM result: its message in wire shape, or its text as an assistant message. */
export function llmOutput(result: LLMResult): Json | undefined {
  const generation = result.generations?.[0]?.[0] as { text?: string; message?: unknown } | undefined;
  if (!generation) return undefined;
  if (isMessage(generation.message)) return toWireMessage(generation.message);
  return { role: "assistant", content: generation.text ?? "" };
}

/** The model that answered, as the provider reported it. */
export function responseModel(result: LLMResult): string | undefined {
  const message = (result.generations?.[0]?.[0] as { message?: unknown } | undefined)?.message;
  const metadata = isMessage(message) ? (message.response_metadata as Json | undefined) : undefined;
  const name = metadata?.model_name ?? metadata?.model;
  return typeof name === "string" && name !== "" ? name : undefined;
}

function numberAt(source: unknown, ...path: string[]): number | undefined {
  let value: unknown = source;
  for (const key of path) value = isObject(value) ? value[key] : undefined;
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

function withoutUndefined(usage: Record<string, number | undefined>): TokenUsage | undefined {
  const kept: Record<string, number> = {};
  for (const [key, value] of Object.entries(usage)) if (value !== undefined) kept[key] = value;
  return Object.keys(kept).length > 0 ? (kept as TokenUsage) : undefined;
}

/**
 * Token usage of an LLM result: the message's `usage_metadata` (it has cache and reasoning
 * details), else the provider's `llmOutput.tokenUsage` (camelCase in JS, snake_case in some ports).
 */
export function langchainUsage(result: LLMResult): TokenUsage | undefined {
  const message = (result.generations?.[0]?.[0] as { message?: unknown } | undefined)?.message;
  const usage = isMessage(message) ? (message as { usage_metadata?: unknown }).usage_metadata : undefined;
  if (isObject(usage)) {
    return withoutUndefined({
      prompt_tokens: numberAt(usage, "input_tokens"),
      completion_tokens: numberAt(usage, "output_tokens"),
      total_tokens: numberAt(usage, "total_tokens"),
      cache_read_tokens: numberAt(usage, "input_token_details", "cache_read"),
      reasoning_tokens: numberAt(usage, "output_token_details", "reasoning"),
    });
  }
  const reported = result.llmOutput?.tokenUsage ?? result.llmOutput?.token_usage;
  if (!isObject(reported)) return undefined;
  return withoutUndefined({
    prompt_tokens: numberAt(reported, "promptTokens") ?? numberAt(reported, "prompt_tokens"),
    completion_tokens: numberAt(reported, "completionTokens") ?? numberAt(reported, "completion_tokens"),
    total_tokens: numberAt(reported, "totalTokens") ?? numberAt(reported, "total_tokens"),
  });
}

/** LangSmith's standard `ls_*` metadata, for providers whose invocation params use other names. */
const LS_PARAMETERS: Record<string, string> = {
  ls_temperature: "temperature",
  ls_max_tokens: "max_tokens",
  ls_stop: "stop",
};

/** The model call's safe knobs: the invocation params LangChain sends, over the `ls_*` metadata. */
export function modelParameters(invocation: Json | undefined, metadata: Json | undefined): Json {
  const fromMetadata: Json = {};
  for (const [key, name] of Object.entries(LS_PARAMETERS)) {
    if (metadata?.[key] !== undefined) fromMetadata[name] = metadata[key];
  }
  return { ...fromMetadata, ...safeParameters(invocation ?? {}) };
}

/** The requested model: the invocation params' model, else LangSmith's `ls_model_name`. */
export function requestedModel(invocation: Json | undefined, metadata: Json | undefined): string | undefined {
  for (const candidate of [invocation?.model, invocation?.model_name, invocation?.modelName, metadata?.ls_model_name]) {
    if (typeof candidate === "string" && candidate !== "") return candidate;
  }
  return undefined;
}
