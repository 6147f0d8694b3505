import { SKIP_CHILD_INPUTS, SKIP_INPUT, SKIP_OUTPUT, type Observation } from "./observation.js";

/** A wrapper's or integration's own record switches (`wrapOpenAI(client, { recordInputs: false })`). */
export interface RecordSwitches {
  recordInputs?: boolean;
  recordOutputs?: boolean;
}

/**
 * Leaves the observation's input and/or output unrecorded, and those of the spans opened under it
 * from now on. For a model call (`modelCall`), withheld outputs withhold its children's inputs
 * too: its TOOL children carry the model's tool arguments.
 */
export function withhold<O extends Observation>(observation: O, switches: RecordSwitches | undefined, modelCall?: boolean): O {
  if (switches?.recordInputs === false) observation.skip |= SKIP_INPUT;
  if (switches?.recordOutputs === false) observation.skip |= modelCall ? SKIP_OUTPUT | SKIP_CHILD_INPUTS : SKIP_OUTPUT;
  return observation;
}
