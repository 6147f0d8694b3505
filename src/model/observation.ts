import { assertPlainObject } from "./guards.js";
import { snapshot, toJsonSafe } from "./serialize.js";
import type { JsonObject, JsonValue } from "./wire.js";

/** What traces and spans both record: input, output and metadata, snapshotted when set. */
export abstract class Observation {
  protected input: JsonValue | undefined;
  protected output: JsonValue | undefined;
  protected metadata: JsonObject | undefined;

  setInput(value: unknown): this {
    this.input = snapshot(value);
    return this;
  }

  setOutput(value: unknown): this {
    this.output = snapshot(value);
    return this;
  }

  /** Shallow-merges into the metadata, as the backend does. */
  setMetadata(metadata: Record<string, unknown>): this {
    assertPlainObject(metadata, "metadata");
    this.metadata = Object.assign(this.metadata ?? {}, toJsonSafe(metadata) as JsonObject);
    return this;
  }
}
