import { jsonObject } from "./serialize.js";
import type { TokenUsage } from "./types.js";

/**
 * Token counts as the contract takes them: whole and not negative. A provider's null, NaN or
 * fraction is left out rather than having the whole trace refused (422). The total is the sum
 * when it is missing.
 */
export function tokenCounts(usage: unknown): TokenUsage | undefined {
  const counts = jsonObject(usage) as Record<string, unknown> | undefined;
  if (!counts) return undefined;
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
