import { PandaProbeError } from "../base/errors.js";
import { jsonObject, snapshot, toJsonSafe } from "../wire/serialize.js";
import type { JsonValue } from "../wire/types.js";

/** The wire fields a mask sees: every value the SDK records. */
export type MaskField = "input" | "output" | "metadata" | "model_parameters" | "error";

/**
 * Gets a JSON copy of one recorded value (its own: change it in place or return another) and
 * returns what to record instead; undefined leaves the field out. An error stays a string.
 */
export type Mask = (value: JsonValue, field: MaskField) => unknown;

export interface DataControlOptions {
  mask: Mask | undefined;
  /** Unset means true, as for the other two switches. */
  recordInputs: boolean | undefined;
  recordOutputs: boolean | undefined;
}

const FIELDS = "input output metadata model_parameters error".split(" ") as MaskField[];
const FAILED = "[mask failed]";

/**
 * The client's switches and mask over one wire object (a trace header, a span, a score), in place,
 * before it is serialized; undefined when there is nothing to do. A mask that throws loses only
 * the value it failed on, replaced by a visible marker, and is reported once.
 */
export function dataControls(options: DataControlOptions, report: (error: PandaProbeError) => void): ((data: object) => void) | undefined {
  const { mask, recordInputs, recordOutputs } = options;
  if (!mask && recordInputs !== false && recordOutputs !== false) return undefined;
  let reported: unknown;
  return (data) => {
    const o = data as Record<MaskField, unknown>;
    if (recordInputs === false) o.input = undefined;
    if (recordOutputs === false) o.output = undefined;
    if (mask) {
      for (const field of FIELDS) {
        if (o[field] === undefined) continue;
        // metadata and model_parameters are objects on the wire.
        const object = field[0] === "m";
        try {
          const result = mask(toJsonSafe(o[field]), field);
          o[field] = object ? jsonObject(result) : field === "error" ? (typeof result === "string" ? result : undefined) : snapshot(result);
        } catch (error) {
          reported ??= report(new PandaProbeError("mask", `PandaProbe: the mask threw: ${error}`, { cause: error })) ?? 1;
          o[field] = object ? { mask: FAILED } : FAILED;
        }
      }
    }
  };
}
