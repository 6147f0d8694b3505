/**
 * `wrapAnthropic(client)`: one LLM span per `messages.create` call of an `@anthropic-ai/sdk`
 * client, plain or streamed. `messages.stream()` and `messages.parse()` call `this.create`, so
 * they are traced through it, once.
 *
 * The client is patched in place (an own `create` on its `messages` resource) rather than proxied:
 * it stays the same object of the same class, so `instanceof`, private fields and every other
 * method (`models`, `countTokens`, `beta`, `batches`) are untouched, and the type is T as given.
 */
import {
  integrationIds,
  isUserAbort,
  isWrapped,
  markWrapped,
  openLlmCall,
  safeParameters,
  wrapDerivedClients,
  type IntegrationOptions,
  type LlmCall,
} from "./llm-call.js";
import {
  assistantMessage,
  requestMessages,
  StreamedMessage,
  anthropicUsage,
  toolUses,
  type AnthropicMessage,
  type AnthropicRequest,
} from "./anthropic-message.js";
import { observeResult } from "./anthropic-promise.js";
import { isAsyncIterable, observeStream, type StreamEnd } from "./sdk-hooks.js";

export type { IntegrationOptions as AnthropicWrapOptions } from "./llm-call.js";

const SPAN_NAME = "anthropic-messages";

type Create = (this: unknown, ...args: unknown[]) => unknown;

/**
 * Traces `client.messages.create` (and so `messages.stream()`). Explicit ids here beat scoped and
 * imperative ones for the trace opened outside any active trace. A client wrapped already is
 * returned as is: the first wrap's ids stay. Clients derived by `withOptions()` are traced alike.
 */
export function wrapAnthropic<T>(client: T, options?: IntegrationOptions): T {
  const ids = integrationIds(options, "wrapAnthropic()");
  const messages = (client as { messages?: { create?: unknown } } | null | undefined)?.messages;
  if (typeof messages !== "object" || messages === null) return client;
  const original = messages.create;
  if (typeof original !== "function" || isWrapped(original)) return client;
  const create = original as Create;
  const traced = markWrapped(function (this: unknown, ...args: unknown[]) {
    return tracedCreate(create, this, args, ids);
  });
  Object.defineProperty(messages, "create", { value: traced, configurable: true, writable: true });
  wrapDerivedClients(client as object, (derived) => wrapAnthropic(derived, ids));
  return client;
}

function tracedCreate(create: Create, self: unknown, args: unknown[], ids: IntegrationOptions | undefined): unknown {
  const call = safely(() => openCall(args[0], ids));
  if (!call) return create.apply(self, args);
  let result: unknown;
  try {
    result = create.apply(self, args);
  } catch (error) {
    safely(() => call.fail(error));
    throw error;
  }
  try {
    observeResult(result, {
      value: (value) => safely(() => recordValue(call, value)),
      error: (error) => safely(() => (isUserAbort(error) ? finish(call, undefined, { abandoned: true }) : call.fail(error))),
      raw: () => safely(() => finish(call, undefined, { raw_response: true })),
    });
  } catch {
    // A result that cannot be watched (a frozen object) still gets its span closed.
    safely(() => finish(call, undefined, undefined));
  }
  return result;
}

function openCall(params: unknown, ids: IntegrationOptions | undefined): LlmCall | undefined {
  const request = (typeof params === "object" && params !== null ? params : {}) as AnthropicRequest;
  const call = openLlmCall(SPAN_NAME, requestMessages(request), ids);
  if (!call) return undefined;
  if (typeof request.model === "string") call.span.setModel(request.model);
  const parameters = safeParameters(request as Record<string, unknown>);
  if (Object.keys(parameters).length > 0) call.span.setModelParameters(parameters);
  return call;
}

function recordValue(call: LlmCall, value: unknown): void {
  if (isAsyncIterable(value)) recordStream(call, value);
  else finish(call, value as AnthropicMessage, undefined);
}

function recordStream(call: LlmCall, stream: AsyncIterable<unknown>): void {
  const message = new StreamedMessage();
  let started = false;
  observeStream(stream, {
    event(event) {
      if (message.add(event) && !started) {
        started = true;
        call.span.setCompletionStartTime(Date.now());
      }
    },
    end(end: StreamEnd) {
      const snapshot = message.snapshot();
      if (end.how === "failed") {
        if (snapshot) record(call, snapshot);
        call.fail(end.error);
      } else {
        finish(call, snapshot, end.how === "abandoned" ? { abandoned: true } : undefined);
      }
    },
  });
}

/** Ends the call OK with what the answer holds: output, model, usage, and a TOOL span per tool_use. */
function finish(call: LlmCall, message: AnthropicMessage | undefined, metadata: Record<string, unknown> | undefined): void {
  if (metadata) call.span.setMetadata(metadata);
  if (!message) return call.succeed(undefined);
  const output = record(call, message);
  for (const tool of toolUses(message)) {
    call.span.span(tool.name!, { kind: "TOOL", input: tool.input }).end();
  }
  call.succeed(output);
}

function record(call: LlmCall, message: AnthropicMessage): unknown {
  const output = { messages: [assistantMessage(message)] };
  call.span.setOutput(output);
  if (typeof message.model === "string") call.span.setModel(message.model);
  const usage = anthropicUsage(message.usage);
  if (usage) call.span.setTokenUsage(usage);
  if (message.stop_reason) call.span.setMetadata({ stop_reason: message.stop_reason });
  return output;
}

function safely<R>(fn: () => R): R | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}
