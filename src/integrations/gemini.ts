/**
 * `pandaprobe/gemini` (also `pandaprobe/wrappers/gemini`): traces a Google GenAI client
 * (`@google/genai`) in place.
 *
 *   const ai = wrapGemini(new GoogleGenAI({ apiKey }), { sessionId, userId });
 *
 * `models.generateContent` and `models.generateContentStream` each record one LLM span named
 * `gemini-generate`, with the function calls the model asked for as TOOL children. Chats
 * (`ai.chats.create(...).sendMessage` / `sendMessageStream`) go through the same `models` object,
 * so each turn is traced too, with the history it sent. The stream is the SDK's own async
 * generator, watched in place.
 */
import { integrationIds, type IntegrationOptions } from "./llm-call.js";
import { isObject } from "./openai-record.js";
import { geminiMessages, geminiParameters, geminiResult, GeminiAnswer } from "./gemini-content.js";
import { patchPair, type ProviderApi } from "./provider-call.js";

export type WrapGeminiOptions = IntegrationOptions;

const generate: ProviderApi = {
  name: "gemini-generate",
  fromResponse: geminiResult,
  accumulator: () => new GeminiAnswer(),
};

/**
 * Replaces the two methods on the client's own `models` object, so the client keeps its class, its
 * type T, and every other method. Wrapping twice is a no-op (the first wrap's ids stay).
 */
export function wrapGemini<T>(client: T, options?: WrapGeminiOptions): T {
  const ids = integrationIds(options, "wrapGemini()");
  const models = (client as { models?: unknown } | null | undefined)?.models;
  if (!isObject(models)) return client;
  patchPair(
    {
      target: models,
      plain: "generateContent",
      streaming: "generateContentStream",
      api: generate,
      read: (request) => ({ messages: geminiMessages(request), model: request.model, parameters: geminiParameters(request) }),
      watch: "generator",
    },
    ids,
  );
  return client;
}
