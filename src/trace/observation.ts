import { DEV } from "../base/dev.js";
import { assertPlainObject } from "../base/guards.js";
import { jsonObject, snapshot } from "../wire/serialize.js";
import type { JsonObject, JsonValue } from "../wire/types.js";

/** What traces and spans both record: input, output and metadata, snapshotted when set. */
export abstract class Observation {
  // Declared, not initialized: bundles for ES2020 turn every class field into a helper call
  // shipped to each page; subclasses assign theirs in the constructor the same way.
  declare protected input: JsonValue | undefined;
  declare protected output: JsonValue | undefined;
  declare protected metadata: JsonObject | undefined;

  setInput(value: unknown): this {
    this.input = snapshot(value);
    return this;
  }

  setOutput(value: unknown): this {
    this.output = snapshot(value);
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
    this.metadata = Object.assign(Object.create(null), this.metadata, jsonObject(metadata));
    return this;
  }
}
