import { PandaProbeError } from "../base/errors.js";
import { jsonObject, snapshot, toJsonSafe } from "../wire/serialize.js";
import type { JsonValue } from "../wire/types.js";

/** The wire fields a mask sees: every value the SDK records. */
export type MaskField = "input" | "output" | "metadata" | "model_parameters" | "error";

/**
 * Gets a JSON copy of one recorded value (its own: change it in place or return another) and
 * returns what to record instead; undefined leaves the field out.
 */
export type Mask = (value: JsonValue, field: MaskField) => unknown;

export interface DataControlOptions {
  mask: Mask | undefined;
  recordInputs: boolean;
  recordOutputs: boolean;
  sampleRate: number;
}

const FIELDS: MaskField[] = ["input", "output", "metadata", "model_parameters", "error"];
const MASK_FAILED = "[mask failed]";

/**
 * A trace id as a number in [0, 1): FNV-1a over its hex digits (so a UUID and the 32 digits of a
 * W3C traceparent give the same), then murmur3's finalizer so that every digit moves every bit.
 */
export function traceFraction(traceId: string): number {
  let h = 2166136261;
  for (let i = 0; i < traceId.length; i++) {
    const c = traceId.charCodeAt(i);
    // Dashes skipped; `| 32` lowercases A-F and leaves digits as they are.
    if (c !== 45) h = Math.imul(h ^ (c | 32), 16777619);
  }
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}

/** Whether a trace is kept at `rate`; undefined when every trace is (nothing to decide). */
export const sampler = (rate: number): ((traceId: string) => boolean) | undefined =>
  rate < 1 ? (traceId) => traceFraction(traceId) < rate : undefined;

/**
 * The client's switches and mask over one wire object (a trace header, a span, a score), in place,
 * before it is serialized; undefined when there is nothing to do. A mask that throws loses only
 * the value it failed on, replaced by a visible marker, and is reported once.
 */
export function dataControls(options: DataControlOptions, report: (error: PandaProbeError) => void): ((data: object) => void) | undefined {
  const { mask, recordInputs, recordOutputs } = options;
  if (!mask && recordInputs && recordOutputs) return undefined;
  let reported = false;
  const masked = (value: unknown, field: MaskField): unknown => {
    const object = field === "metadata" || field === "model_parameters";
    let result: unknown;
    try {
      result = mask!(toJsonSafe(value), field);
    } catch (error) {
      if (!reported) {
        reported = true;
        report(new PandaProbeError("mask", `PandaProbe: the mask threw (${String(error)}); what it failed on is recorded as "${MASK_FAILED}".`, { cause: error }));
      }
      return object ? { mask: MASK_FAILED } : MASK_FAILED;
    }
    if (object) return jsonObject(result);
    if (field !== "error" || result == null || typeof result === "string") return snapshot(result);
    return JSON.stringify(toJsonSafe(result));
  };
  return (data) => {
    const o = data as Record<MaskField, unknown>;
    if (!recordInputs) o.input = undefined;
    if (!recordOutputs) o.output = undefined;
    if (mask) for (const field of FIELDS) if (o[field] !== undefined) o[field] = masked(o[field], field);
  };
}
