import { DEV } from "../base/dev.js";
import { assertPlainObject } from "../base/guards.js";
import { jsonObject, snapshot } from "../wire/serialize.js";
import type { JsonObject, JsonValue } from "../wire/types.js";

/**
 * What an observation leaves unrecorded, as bits: its input (a wrapper's `recordInputs: false`),
 * its output (`recordOutputs: false`), the inputs of its children (a model call's: its TOOL
 * children carry the model's tool arguments, part of its output), everything (its trace is not
 * recorded: tracing is off or the trace was not sampled). Spans take their parent's bits.
 */
export const SKIP_INPUT = 1;
export const SKIP_OUTPUT = 2;
export const SKIP_ALL = 7;
export const SKIP_CHILD_INPUTS = 8;
/** Of SKIP_ALL, the bit only it has. */
export const NOT_RECORDED = 4;

/** What traces and spans both record: input, output and metadata, snapshotted when set. */
export abstract class Observation {
  // Declared, not initialized: bundles for ES2020 turn every class field into a helper call
  // shipped to each page; subclasses assign theirs in the constructor the same way.
  declare protected input: JsonValue | undefined;
  declare protected output: JsonValue | undefined;
  declare protected metadata: JsonObject | undefined;
  /** @internal SKIP_* bits; assigned in the subclass constructor before any value is set. */
  declare skip: number;

  setInput(value: unknown): this {
    if (!(this.skip & SKIP_INPUT)) this.input = snapshot(value);
    return this;
  }

  setOutput(value: unknown): this {
    if (!(this.skip & SKIP_OUTPUT)) this.output = snapshot(value);
    return this;
  }

  /**
   * Shallow-merges into the metadata, as the backend does. Into a new object, since one already
   * recorded may wait for serialization (browsers), and without a prototype, so a "__proto__" key
   * (from parsed JSON) is merged as data rather than replacing the prototype.
   */
  setMetadata(metadata: Record<string, unknown>): this {
    if (DEV && process.env.NODE_ENV !== "production") assertPlainObject(metadata, "metadata");
    // Unchecked in production builds: what is not an object (an array, a string) is left out, not spread into keys.
    if (!(this.skip & NOT_RECORDED)) this.metadata = Object.assign(Object.create(null), this.metadata, jsonObject(metadata));
    return this;
  }
}
