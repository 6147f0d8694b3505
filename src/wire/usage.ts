import { jsonObject } from "./serialize.js";
import type { TokenUsage } from "./types.js";

/** `promptTokens` as `prompt_tokens`: the keys PandaProbe's official SDK takes in setTokenUsage(). */
const CAMEL_COUNT = /^([a-z][a-zA-Z]*)Tokens$/;

/**
 * Token counts as the contract takes them: whole and not negative, keys in snake case (the
 * official SDK's camel-case `promptTokens` is `prompt_tokens`). A provider's null, NaN or fraction
 * is left out rather than having the whole trace refused (422). The total is the sum when it is
 * missing.
 */
export function tokenCounts(usage: unknown): TokenUsage | undefined {
  const counts = jsonObject(usage) as Record<string, unknown> | undefined;
  if (!counts) return undefined;
  for (const key of Object.keys(counts)) {
    const stem = CAMEL_COUNT.exec(key)?.[1];
    if (stem === undefined) continue;
    const snake = `${stem.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}_tokens`;
    if (counts[snake] === undefined) counts[snake] = counts[key];
    delete counts[key];
  }
  for (const key in counts) {
    const n = counts[key];
    if (key.endsWith("tokens") && !(Number.isInteger(n) && (n as number) >= 0)) delete counts[key];
  }
  const { prompt_tokens: prompt, completion_tokens: completion } = counts;
  if (counts.total_tokens === undefined && typeof prompt === "number" && typeof completion === "number") {
    counts.total_tokens = prompt + completion;
  }
  return counts as TokenUsage;
}

/** A cost breakdown keeps only its numbers (the serializer has already turned NaN and Infinity into null). */
export function numbersOnly(cost: unknown): Record<string, number> | undefined {
  const kept = jsonObject(cost);
  if (!kept) return undefined;
  for (const key in kept) if (typeof kept[key] !== "number") delete kept[key];
  return kept as Record<string, number>;
}
