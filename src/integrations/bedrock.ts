/**
 * `pandaprobe/bedrock` (also `pandaprobe/wrappers/bedrock`): traces an Amazon Bedrock Runtime
 * client (`@aws-sdk/client-bedrock-runtime`) in place.
 *
 *   const bedrock = wrapBedrock(new BedrockRuntimeClient({ region }), { sessionId, userId });
 *
 * The SDK is command-based, so the client's own `send` is replaced (the aggregated `BedrockRuntime`
 * class sends through it too): `Converse` and `ConverseStream` record an LLM span named
 * `bedrock-converse`, `InvokeModel` one named `bedrock-invoke-model` and
 * `InvokeModelWithResponseStream` one named `bedrock-invoke-model-stream`, with tool uses as TOOL
 * children. Every other command passes straight through. The response is the SDK's own object;
 * its event stream is watched in place as the caller reads it.
 */
import { integrationIds, type IntegrationOptions } from "./llm-call.js";
import { isObject, type Obj } from "./openai-record.js";
import { ConverseAnswer, converseMessages, converseParameters } from "./bedrock-converse.js";
import { decodeBody, InvokeAnswer, invokeMessages, invokeParameters, invokeResult } from "./bedrock-invoke.js";
import { callWatched, patchMethod, recordStream, startProviderCall, type CallRequest, type ProviderApi } from "./provider-call.js";

export type WrapBedrockOptions = IntegrationOptions;

interface Operation {
  api: ProviderApi;
  read(input: Obj): CallRequest;
  /** Where a streamed output keeps its event stream; undefined for whole answers. */
  stream?: "stream" | "body";
}

function converseApi(): ProviderApi {
  return {
    name: "bedrock-converse",
    fromResponse(output) {
      const answer = new ConverseAnswer();
      answer.addResponse(output);
      return answer.result();
    },
    accumulator: () => new ConverseAnswer(),
  };
}

function invokeApi(name: string): ProviderApi {
  return {
    name,
    fromResponse: (output) => invokeResult(decodeBody(isObject(output) ? output.body : undefined)),
    accumulator: () => new InvokeAnswer(),
  };
}

const converseRead = (input: Obj): CallRequest => ({ messages: converseMessages(input), model: input.modelId, parameters: converseParameters(input) });
const invokeRead = (input: Obj): CallRequest => {
  const body = decodeBody(input.body);
  return { messages: invokeMessages(body), model: input.modelId, parameters: invokeParameters(body) };
};

const OPERATIONS: Record<string, Operation> = {
  Converse: { api: converseApi(), read: converseRead },
  ConverseStream: { api: converseApi(), read: converseRead, stream: "stream" },
  InvokeModel: { api: invokeApi("bedrock-invoke-model"), read: invokeRead },
  InvokeModelWithResponseStream: { api: invokeApi("bedrock-invoke-model-stream"), read: invokeRead, stream: "body" },
};

/** The operation a command runs: its schema names it; the class name is the fallback (minifiers rename classes). */
function operationOf(command: unknown): string | undefined {
  if (!isObject(command)) return undefined;
  const schema = command.schema;
  if (Array.isArray(schema) && typeof schema[2] === "string") return schema[2];
  const name = (command.constructor as { name?: unknown } | undefined)?.name;
  return typeof name === "string" ? name.replace(/Command$/, "") : undefined;
}

/**
 * Replaces `send` on the client object itself, so it keeps its class, middleware stack, config
 * and type T. Calls in the callback style (`send(command, cb)`) pass through untraced. Wrapping
 * twice is a no-op (the first wrap's ids stay).
 */
export function wrapBedrock<T>(client: T, options?: WrapBedrockOptions): T {
  const ids = integrationIds(options, "wrapBedrock()");
  patchMethod(client, "send", (send) =>
    function (this: unknown, ...args: unknown[]) {
      const command = args[0];
      const operation = OPERATIONS[operationOf(command) ?? ""];
      if (!operation || args.some((arg) => typeof arg === "function")) return send.apply(this, args);
      const input: Obj = isObject((command as Obj).input) ? ((command as Obj).input as Obj) : {};
      const { api, stream } = operation;
      const recorded = startProviderCall(api, () => operation.read(input), ids, stream !== undefined);
      if (!recorded) return send.apply(this, args);
      return callWatched(
        recorded,
        () => send.apply(this, args),
        stream ? (output) => recordStream(recorded, isObject(output) ? output[stream] : undefined, "iterable") : (output) => recorded.response(output),
      );
    },
  );
  return client;
}
