/**
 * A fake OpenAI API on 127.0.0.1 speaking the real wire: `POST /v1/chat/completions` and
 * `POST /v1/responses`, each as JSON or, with `stream: true`, as server-sent events.
 *
 *   const fake = await startFakeOpenAI();
 *   fake.script({ text: "Hi" }, { toolCalls: [{ name: "add", arguments: { a: 1 } }] }, { error: { status: 400, message: "bad" } });
 *   new OpenAI({ apiKey: "test", baseURL: fake.baseURL, maxRetries: 0 });
 *
 * Each request takes the next scripted reply (both routes share one script), or `{ text: "ok" }`
 * when the script is empty. Every request is recorded, with whether the client hung up mid-answer.
 * `GET /v1/models` lists one model (for checking that untraced methods still work).
 */
import { delay, sendJson, startFakeServer, startSse, words, type Body, type FakeServer } from "./fake-http.js";

export interface FakeToolCall {
  id?: string;
  name: string;
  /** An object is sent JSON-encoded; a string as is (so malformed JSON can be scripted). */
  arguments: Record<string, unknown> | string;
}

export interface FakeUsage {
  prompt_tokens: number;
  completion_tokens: number;
  reasoning_tokens?: number;
  cached_tokens?: number;
}

export interface FakeReply {
  text?: string;
  /** The model declines: a refusal instead of text (chat: `message.refusal` / `delta.refusal`; Responses: a refusal part). */
  refusal?: string;
  /** How the text is split into streamed deltas; by default, one delta per word. */
  textChunks?: string[];
  toolCalls?: FakeToolCall[];
  /** Responses API only: output items appended as they are (e.g. `{ type: "web_search_call", ... }`). */
  outputItems?: Record<string, unknown>[];
  /** The model the answer names; by default, the request's. */
  model?: string;
  /** `null`: the answer carries no usage. */
  usage?: FakeUsage | null;
  /** Milliseconds between streamed events (and before the first), to test abandonment and timing. */
  chunkDelayMs?: number;
  /** Answer with this HTTP status and OpenAI's error body instead. */
  error?: { status: number; message: string; type?: string };
  /** Streams only: after the text, an error event (`data: {"error": ...}`) ends the stream. */
  failMidStream?: string;
}

export interface FakeOpenAI extends FakeServer<FakeReply> {
  /** `${url}/v1`, what OpenAI clients take as `baseURL`. */
  baseURL: string;
}

export const DEFAULT_USAGE: FakeUsage = { prompt_tokens: 11, completion_tokens: 7 };

type Send = (event: string | undefined, data: unknown) => Promise<boolean>;

export async function startFakeOpenAI(): Promise<FakeOpenAI> {
  let nextId = 0;
  const id = (prefix: string) => `${prefix}_${++nextId}`;

  const server = await startFakeServer<FakeReply>({ text: "ok" }, async ({ method, path, body }, res, nextReply) => {
    if (method === "GET" && path === "/v1/models") return sendJson(res, 200, MODELS);
    const route = ROUTES[path];
    if (method !== "POST" || !route) {
      return sendJson(res, 404, { error: { message: `no route ${method} ${path}`, type: "invalid_request_error" } });
    }
    const reply = nextReply();
    if (reply.error) {
      const type = reply.error.type ?? (reply.error.status >= 500 ? "server_error" : "invalid_request_error");
      return sendJson(res, reply.error.status, { error: { message: reply.error.message, type, param: null, code: null } });
    }
    const model = reply.model ?? String(body.model ?? "gpt-4o-mini");
    if (body.stream !== true) return sendJson(res, 200, route.json(reply, model, id), { "x-request-id": id("req") });
    const sse = startSse(res, { "x-request-id": id("req") });
    const send: Send = async (event, data) => {
      if (reply.chunkDelayMs) await delay(reply.chunkDelayMs);
      return sse.send(event, data);
    };
    await route.stream(reply, model, id, body, send);
    sse.end();
  });

  return { ...server, baseURL: `${server.url}/v1` };
}

const MODELS = { object: "list", data: [{ id: "gpt-4o-mini", object: "model", created: 0, owned_by: "fake" }] };

interface Route {
  json(reply: FakeReply, model: string, id: (prefix: string) => string): Body;
  stream(reply: FakeReply, model: string, id: (prefix: string) => string, request: Body, send: Send): Promise<unknown>;
}

const ROUTES: Record<string, Route> = {
  "/v1/chat/completions": { json: chatCompletion, stream: chatStream },
  "/v1/responses": { json: response, stream: responseStream },
};

function argumentsText(call: FakeToolCall): string {
  return typeof call.arguments === "string" ? call.arguments : JSON.stringify(call.arguments);
}

function textChunks(reply: FakeReply): string[] {
  if (reply.textChunks) return reply.textChunks;
  return reply.text ? words(reply.text) : [];
}

function chatUsage(usage: FakeUsage) {
  return {
    prompt_tokens: usage.prompt_tokens,
    completion_tokens: usage.completion_tokens,
    total_tokens: usage.prompt_tokens + usage.completion_tokens,
    prompt_tokens_details: { cached_tokens: usage.cached_tokens ?? 0 },
    completion_tokens_details: { reasoning_tokens: usage.reasoning_tokens ?? 0 },
  };
}

function chatCompletion(reply: FakeReply, model: string, id: (prefix: string) => string): Body {
  const toolCalls = (reply.toolCalls ?? []).map((call) => ({
    id: call.id ?? id("call"),
    type: "function",
    function: { name: call.name, arguments: argumentsText(call) },
  }));
  const usage = reply.usage === null ? undefined : chatUsage(reply.usage ?? DEFAULT_USAGE);
  return {
    id: id("chatcmpl"),
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [
      {
        index: 0,
        message: {
          role: "assistant",
          content: reply.text ?? null,
          refusal: reply.refusal ?? null,
          ...(toolCalls.length ? { tool_calls: toolCalls } : {}),
        },
        finish_reason: toolCalls.length ? "tool_calls" : "stop",
        logprobs: null,
      },
    ],
    ...(usage ? { usage } : {}),
  };
}

async function chatStream(reply: FakeReply, model: string, id: (prefix: string) => string, request: Body, send: Send) {
  const base = { id: id("chatcmpl"), object: "chat.completion.chunk", created: Math.floor(Date.now() / 1000), model };
  const chunk = (delta: Body, finish: string | null = null) => ({
    ...base,
    choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }],
  });
  if (!(await send(undefined, chunk({ role: "assistant", content: "" })))) return;
  for (const text of textChunks(reply)) {
    if (!(await send(undefined, chunk({ content: text })))) return;
  }
  for (const refusal of reply.refusal ? words(reply.refusal) : []) {
    if (!(await send(undefined, chunk({ refusal })))) return;
  }
  if (reply.failMidStream !== undefined) {
    return send(undefined, { error: { message: reply.failMidStream, type: "server_error", param: null, code: null } });
  }
  for (const [index, call] of (reply.toolCalls ?? []).entries()) {
    const head = { index, id: call.id ?? id("call"), type: "function", function: { name: call.name, arguments: "" } };
    if (!(await send(undefined, chunk({ tool_calls: [head] })))) return;
    const args = argumentsText(call);
    // Arguments arrive in two pieces, as the real API splits them.
    const cut = Math.ceil(args.length / 2);
    for (const piece of [args.slice(0, cut), args.slice(cut)]) {
      if (!(await send(undefined, chunk({ tool_calls: [{ index, function: { arguments: piece } }] })))) return;
    }
  }
  if (!(await send(undefined, chunk({}, reply.toolCalls?.length ? "tool_calls" : "stop")))) return;
  const includeUsage = (request.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true;
  if (includeUsage && reply.usage !== null) {
    if (!(await send(undefined, { ...base, choices: [], usage: chatUsage(reply.usage ?? DEFAULT_USAGE) }))) return;
  }
  await send(undefined, "[DONE]");
}

function responsesUsage(usage: FakeUsage) {
  return {
    input_tokens: usage.prompt_tokens,
    input_tokens_details: { cached_tokens: usage.cached_tokens ?? 0 },
    output_tokens: usage.completion_tokens,
    output_tokens_details: { reasoning_tokens: usage.reasoning_tokens ?? 0 },
    total_tokens: usage.prompt_tokens + usage.completion_tokens,
  };
}

function responseOutput(reply: FakeReply, id: (prefix: string) => string): Body[] {
  const output: Body[] = [...(reply.outputItems ?? [])];
  if (reply.text !== undefined) {
    output.push({
      type: "message",
      id: id("msg"),
      status: "completed",
      role: "assistant",
      content: [{ type: "output_text", text: reply.text, annotations: [] }],
    });
  }
  if (reply.refusal !== undefined) {
    output.push({
      type: "message",
      id: id("msg"),
      status: "completed",
      role: "assistant",
      content: [{ type: "refusal", refusal: reply.refusal }],
    });
  }
  for (const call of reply.toolCalls ?? []) {
    output.push({
      type: "function_call",
      id: id("fc"),
      call_id: call.id ?? id("call"),
      name: call.name,
      arguments: argumentsText(call),
      status: "completed",
    });
  }
  return output;
}

function responseBody(reply: FakeReply, model: string, responseId: string, output: Body[], status: string): Body {
  const usage = reply.usage === null || status !== "completed" ? null : responsesUsage(reply.usage ?? DEFAULT_USAGE);
  return {
    id: responseId,
    object: "response",
    created_at: Math.floor(Date.now() / 1000),
    status,
    model,
    output,
    error: null,
    incomplete_details: null,
    instructions: null,
    parallel_tool_calls: true,
    tool_choice: "auto",
    tools: [],
    usage,
  };
}

function response(reply: FakeReply, model: string, id: (prefix: string) => string): Body {
  return responseBody(reply, model, id("resp"), responseOutput(reply, id), "completed");
}

async function responseStream(reply: FakeReply, model: string, id: (prefix: string) => string, _request: Body, send: Send) {
  const responseId = id("resp");
  let sequence = 0;
  const event = (type: string, data: Body) => send(type, { type, sequence_number: sequence++, ...data });
  if (!(await event("response.created", { response: responseBody(reply, model, responseId, [], "in_progress") }))) return;
  const output = responseOutput(reply, id);
  for (const [index, item] of output.entries()) {
    if (item.type === "message") {
      const added = { ...item, status: "in_progress", content: [] };
      if (!(await event("response.output_item.added", { output_index: index, item: added }))) return;
      const refusal = (item.content as Body[])[0]!.type === "refusal";
      const part = refusal ? { type: "refusal", refusal: "" } : { type: "output_text", text: "", annotations: [] };
      if (!(await event("response.content_part.added", { item_id: item.id, output_index: index, content_index: 0, part }))) return;
      for (const delta of refusal ? words(reply.refusal!) : textChunks(reply)) {
        const data = { item_id: item.id, output_index: index, content_index: 0, delta, ...(refusal ? {} : { logprobs: [] }) };
        if (!(await event(refusal ? "response.refusal.delta" : "response.output_text.delta", data))) return;
      }
      if (reply.failMidStream !== undefined) {
        return send("error", { type: "error", error: { message: reply.failMidStream, type: "server_error" } });
      }
    }
    if (!(await event("response.output_item.done", { output_index: index, item }))) return;
  }
  await event("response.completed", { response: responseBody(reply, model, responseId, output, "completed") });
}
