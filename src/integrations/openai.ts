/**
 * `pandaprobe/openai`: traces an OpenAI client (openai v4+) in place.
 *
 *   const client = wrapOpenAI(new OpenAI(), { sessionId, userId });
 *
 * `chat.completions.create` and `responses.create` (plain and streaming) each record one LLM span,
 * with the tool calls the model made as TOOL children. Helpers built on them (`parse()`, `stream()`,
 * `runTools()`) are traced through them, and so are the clients `withOptions()` derives. Everything
 * else on the client is left alone.
 */
import { activeClient, integrationIds, isWrapped, markWrapped, openLlmCall, safeParameters, wrapDerivedClients, type IntegrationOptions } from "./llm-call.js";
import { chatCompletionsApi } from "./openai-chat.js";
import { hookResult } from "./openai-hook.js";
import { isObject, RecordedCall, type OpenAIApi } from "./openai-record.js";
import { responsesApi } from "./openai-responses.js";

export type WrapOpenAIOptions = IntegrationOptions;

type Create = (...args: unknown[]) => unknown;
interface Resource {
  create?: unknown;
}

/**
 * Replaces `create` on the client's own resource objects rather than returning a Proxy: the SDK's
 * classes keep state in private fields (`#client`), which a Proxy receiver cannot reach, and the
 * caller keeps the very object (and type) it passed. Wrapping twice is a no-op.
 */
export function wrapOpenAI<T>(client: T, options?: WrapOpenAIOptions): T {
  const ids = integrationIds(options, "wrapOpenAI()");
  try {
    const target = client as { chat?: { completions?: Resource }; responses?: Resource } | null | undefined;
    patchCreate(target?.chat?.completions, chatCompletionsApi, ids);
    patchCreate(target?.responses, responsesApi, ids);
    if (isObject(target)) wrapDerivedClients(target, (derived) => wrapOpenAI(derived, ids));
  } catch {
    // A client of another shape is returned untouched.
  }
  return client;
}

function patchCreate(resource: Resource | undefined, api: OpenAIApi, ids: IntegrationOptions | undefined): void {
  if (!isObject(resource) || typeof resource.create !== "function" || isWrapped(resource.create)) return;
  const original = resource.create as Create;
  const create = markWrapped((...args: unknown[]) => tracedCreate(resource, original, args, api, ids));
  Object.defineProperty(resource, "create", { value: create, writable: true, configurable: true, enumerable: false });
}

function tracedCreate(resource: Resource, original: Create, args: unknown[], api: OpenAIApi, ids: IntegrationOptions | undefined) {
  const recorded = startCall(api, args[0], ids);
  if (!recorded) return original.apply(resource, args);
  let result: unknown;
  try {
    result = original.apply(resource, args);
  } catch (error) {
    recorded.fail(error);
    throw error;
  }
  try {
    return hookResult(result, recorded);
  } catch {
    return result;
  }
}

/** Opens the LLM span, or returns undefined when tracing is off (the call then passes straight through). */
function startCall(api: OpenAIApi, request: unknown, ids: IntegrationOptions | undefined): RecordedCall | undefined {
  try {
    if (!activeClient(ids)) return undefined;
    const body = isObject(request) ? request : {};
    const call = openLlmCall(api.name, api.input(body), ids);
    if (!call) return undefined;
    if (typeof body.model === "string") call.span.setModel(body.model);
    call.span.setModelParameters(safeParameters(body));
    return new RecordedCall(call, api, body.stream === true);
  } catch {
    return undefined;
  }
}
