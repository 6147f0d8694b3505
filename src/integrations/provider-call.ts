/**
 * What the Gemini, Mistral and Bedrock wrappers share: opening a call's LLM span from the request,
 * watching the promise the SDK returned without replacing it, and recording a streamed answer
 * chunk by chunk as the caller reads it. The bookkeeping (first outcome wins, TOOL children,
 * abandoned and failed streams) is RecordedCall's, as for OpenAI.
 */
import { activeClient, isWrapped, markWrapped, openLlmCall, type IntegrationOptions } from "./llm-call.js";
import { isObject, RecordedCall, type ResponseApi } from "./openai-record.js";
import { defineOwn, isAsyncIterable, observeGenerator, observeStream, type StreamEnd } from "./sdk-hooks.js";

/** One traced endpoint: its span name, how to read its response and stream (its request: `CallRequest`). */
export type ProviderApi = ResponseApi;

export interface CallRequest {
  /** The LLM span's input: `{ messages }`. */
  messages: unknown;
  model?: unknown;
  parameters?: Record<string, unknown>;
}

/** Opens the LLM span, or returns undefined when tracing is off or the request cannot be read. */
export function startProviderCall(
  api: ProviderApi,
  read: () => CallRequest,
  ids: IntegrationOptions | undefined,
  streaming: boolean,
): RecordedCall | undefined {
  try {
    if (!activeClient(ids)) return undefined;
    const request = read();
    const call = openLlmCall(api.name, request.messages, ids);
    if (!call) return undefined;
    if (typeof request.model === "string" && request.model) call.span.setModel(request.model);
    if (request.parameters && Object.keys(request.parameters).length > 0) call.span.setModelParameters(request.parameters);
    return new RecordedCall(call, api, streaming);
  } catch {
    return undefined;
  }
}

/**
 * Calls the SDK and returns exactly what it returned (the same promise, so the host's own
 * unhandled-rejection reporting and any extra methods stay), with `settle` seeing the value
 * before the caller's callbacks run and failures ending the span with the provider's error.
 */
export function callWatched(recorded: RecordedCall, invoke: () => unknown, settle: (value: unknown) => void): unknown {
  let result: unknown;
  try {
    result = invoke();
  } catch (error) {
    recorded.fail(error);
    throw error;
  }
  const onValue = (value: unknown) => {
    try {
      settle(value);
    } catch {
      recorded.response(undefined);
    }
  };
  if (result instanceof Promise) result.then(onValue, (error: unknown) => recorded.fail(error));
  else onValue(result);
  return result;
}

type Watch = "iterable" | "generator";

/** Records a streamed answer in place as the caller reads it; the span ends however the read ends. */
export function recordStream(recorded: RecordedCall, stream: unknown, watch: Watch): void {
  if (!isAsyncIterable(stream)) {
    recorded.response(undefined);
    return;
  }
  const chunks = recorded.api.accumulator();
  const observer = {
    event: (chunk: unknown) => recorded.chunk(chunks, chunk),
    end: (end: StreamEnd) => (end.how === "failed" ? recorded.streamFailed(chunks, end.error) : recorded.streamEnd(chunks, end.how === "abandoned")),
  };
  if (watch === "generator" && typeof (stream as Partial<AsyncIterator<unknown>>).next === "function") {
    observeGenerator(stream as AsyncIterator<unknown> & AsyncIterable<unknown>, observer);
  } else {
    observeStream(stream, observer);
  }
}

/** Replaces an own method of an SDK object, once; false when there is none to replace. */
export function patchMethod(target: unknown, key: string, make: (original: (...args: unknown[]) => unknown) => (...args: unknown[]) => unknown): boolean {
  if (typeof target !== "object" || target === null) return false;
  const original = (target as Record<string, unknown>)[key];
  if (typeof original !== "function" || isWrapped(original)) return false;
  const traced = markWrapped(make(original as (...args: unknown[]) => unknown));
  try {
    defineOwn(target, key, traced);
    return true;
  } catch {
    return false;
  }
}

/** One pair of SDK methods to trace in place: the plain call and its streaming twin. */
export interface PatchedPair {
  /** The SDK object that owns the methods (the client's `models`, its `chat`). */
  target: unknown;
  plain: string;
  streaming: string;
  api: ProviderApi;
  /** The request's messages, model and knobs, from the call's first argument. */
  read: (request: Record<string, unknown>) => CallRequest;
  /** How the SDK's stream is read: an async generator watched in place, or any async iterable. */
  watch: Watch;
}

/**
 * Replaces both methods on their own object, so the client keeps its class and type and every
 * other method: each call records one LLM span, a streamed one chunk by chunk as the caller
 * reads it. A method already wrapped is left as is (the first wrap's ids stay).
 */
export function patchPair({ target, plain, streaming, api, read, watch }: PatchedPair, ids: IntegrationOptions | undefined): void {
  for (const [key, streams] of [[plain, false], [streaming, true]] as const) {
    patchMethod(target, key, (original) =>
      function (this: unknown, ...args: unknown[]) {
        const request = isObject(args[0]) ? args[0] : {};
        const recorded = startProviderCall(api, () => read(request), ids, streams);
        if (!recorded) return original.apply(this, args);
        return callWatched(
          recorded,
          () => original.apply(this, args),
          streams ? (stream) => recordStream(recorded, stream, watch) : (response) => recorded.response(response),
        );
      },
    );
  }
}
