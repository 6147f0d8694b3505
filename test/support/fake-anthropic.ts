/**
 * A fake of Anthropic's Messages API on 127.0.0.1, for the real `@anthropic-ai/sdk` client.
 *
 *   const fake = await startFakeAnthropic();
 *   fake.script({ text: "Hi" }, { thinking: "Hmm", text: "4" }, { toolUses: [{ name: "add", input: { a: 1 } }] },
 *     { error: { status: 529, type: "overloaded_error", message: "Overloaded" } });
 *   new Anthropic({ apiKey: "test", baseURL: fake.url, maxRetries: 0 });
 *
 * `POST /v1/messages` takes the next scripted reply (`{ text: "ok" }` when the script is empty) and
 * answers it as one JSON Message, or, when the request has `stream: true`, as the SSE events
 * `message_start`, `content_block_start` / `content_block_delta` (thinking_delta + signature_delta,
 * text_delta, input_json_delta) / `content_block_stop` per block, `message_delta`, `message_stop`.
 * A stream can pause (`delayMs` between events, or `holdAfter` events until `release()`) and can
 * fail midway with an `event: error`. `GET /v1/models` and `POST /v1/messages/count_tokens` answer
 * fixed bodies. Every request is recorded in `requests`.
 */
import type { ServerResponse } from "node:http";
import { delay, sendJson, startFakeServer, startSse, words, type FakeServer } from "./fake-http.js";

export interface FakeToolUse {
  id?: string;
  name: string;
  input: Record<string, unknown>;
}

export interface FakeUsage {
  input_tokens: number;
  output_tokens: number;
  cache_read_input_tokens?: number;
  cache_creation_input_tokens?: number;
  thinking_tokens?: number;
}

export interface FakeReply {
  /** The message id; `msg_<n>` by default. */
  id?: string;
  thinking?: string;
  text?: string;
  toolUses?: FakeToolUse[];
  /** The model named in the answer; the request's model by default. */
  model?: string;
  usage?: FakeUsage;
  /** Answer with this HTTP status and Anthropic's error body instead. */
  error?: { status: number; type: string; message: string };
  /** Streams only: milliseconds between two events. */
  delayMs?: number;
  /** Streams only: send this many events, then wait for `release()`. */
  holdAfter?: number;
  /** Streams only: after this many events, send an `event: error` and end. */
  failAfter?: { events: number; type: string; message: string };
}

export interface FakeAnthropic extends FakeServer<FakeReply> {
  /** Lets a stream held by `holdAfter` go on. */
  release(): void;
  /** Resolves when the client has closed the connection of the last stream (an abandoned read). */
  streamClosed(): Promise<void>;
}

export const DEFAULT_USAGE: FakeUsage = { input_tokens: 12, output_tokens: 8 };

export async function startFakeAnthropic(): Promise<FakeAnthropic> {
  let nextId = 0;
  let releaseHold: () => void = () => {};
  let closed: Promise<void> = Promise.resolve();

  const server = await startFakeServer<FakeReply>({ text: "ok" }, async ({ method, path, body }, res, nextReply) => {
    if (method === "GET" && path === "/v1/models") return answerJson(res, 200, MODELS);
    if (method === "POST" && path === "/v1/messages/count_tokens") return answerJson(res, 200, { input_tokens: 42 });
    if (method !== "POST" || path !== "/v1/messages") return answerJson(res, 404, errorBody("not_found_error", "Not found"));
    const reply = nextReply();
    if (reply.error) return answerJson(res, reply.error.status, errorBody(reply.error.type, reply.error.message));
    const message = messageOf(reply.id ?? `msg_${++nextId}`, body, reply);
    if (body.stream !== true) return answerJson(res, 200, message);
    closed = new Promise((resolve) => res.on("close", resolve));
    const hold = new Promise<void>((resolve) => (releaseHold = resolve));
    await sendStream(res, message, reply, hold);
  });

  return { ...server, release: () => releaseHold(), streamClosed: () => closed };
}

const MODELS = {
  data: [{ type: "model", id: "claude-fake-1", display_name: "Claude Fake", created_at: "2025-01-01T00:00:00Z" }],
  has_more: false,
  first_id: "claude-fake-1",
  last_id: "claude-fake-1",
};

type Block =
  | { type: "thinking"; thinking: string; signature: string }
  | { type: "text"; text: string; citations: null }
  | { type: "tool_use"; id: string; name: string; input: Record<string, unknown> };

interface FakeMessage {
  id: string;
  type: "message";
  role: "assistant";
  model: string;
  content: Block[];
  stop_reason: string;
  stop_sequence: null;
  usage: Record<string, unknown>;
}

function messageOf(id: string, body: Record<string, unknown>, reply: FakeReply): FakeMessage {
  const content: Block[] = [];
  if (reply.thinking !== undefined) content.push({ type: "thinking", thinking: reply.thinking, signature: "sig-fake" });
  if (reply.text !== undefined) content.push({ type: "text", text: reply.text, citations: null });
  reply.toolUses?.forEach((tool, i) => {
    content.push({ type: "tool_use", id: tool.id ?? `toolu_${i + 1}`, name: tool.name, input: tool.input });
  });
  const usage = reply.usage ?? DEFAULT_USAGE;
  return {
    id,
    type: "message",
    role: "assistant",
    model: reply.model ?? String(body.model),
    content,
    stop_reason: reply.toolUses?.length ? "tool_use" : "end_turn",
    stop_sequence: null,
    usage: {
      input_tokens: usage.input_tokens,
      output_tokens: usage.output_tokens,
      cache_read_input_tokens: usage.cache_read_input_tokens ?? 0,
      cache_creation_input_tokens: usage.cache_creation_input_tokens ?? 0,
      ...(usage.thinking_tokens === undefined ? {} : { output_tokens_details: { thinking_tokens: usage.thinking_tokens } }),
    },
  };
}

/** The SSE events of a message, in the order the API sends them. */
function eventsOf(message: FakeMessage): { event: string; data: unknown }[] {
  const events: { event: string; data: unknown }[] = [];
  const push = (event: string, data: Record<string, unknown>) => events.push({ event, data: { type: event, ...data } });
  const { usage } = message;
  push("message_start", {
    message: { ...message, content: [], stop_reason: null, usage: { ...usage, output_tokens: 1 } },
  });
  message.content.forEach((block, index) => {
    if (block.type === "thinking") {
      push("content_block_start", { index, content_block: { type: "thinking", thinking: "", signature: "" } });
      for (const piece of words(block.thinking)) {
        push("content_block_delta", { index, delta: { type: "thinking_delta", thinking: piece } });
      }
      push("content_block_delta", { index, delta: { type: "signature_delta", signature: block.signature } });
    } else if (block.type === "text") {
      push("content_block_start", { index, content_block: { type: "text", text: "", citations: null } });
      for (const piece of words(block.text)) {
        push("content_block_delta", { index, delta: { type: "text_delta", text: piece } });
      }
    } else {
      push("content_block_start", { index, content_block: { ...block, input: {} } });
      const json = JSON.stringify(block.input);
      // Split the JSON mid-token, as the API does.
      const half = Math.ceil(json.length / 2);
      for (const part of [json.slice(0, half), json.slice(half)]) {
        push("content_block_delta", { index, delta: { type: "input_json_delta", partial_json: part } });
      }
    }
    push("content_block_stop", { index });
  });
  push("message_delta", {
    delta: { stop_reason: message.stop_reason, stop_sequence: null },
    usage: { output_tokens: usage.output_tokens },
  });
  push("message_stop", {});
  return events;
}

async function sendStream(res: ServerResponse, message: FakeMessage, reply: FakeReply, hold: Promise<void>) {
  const sse = startSse(res, REQUEST_ID);
  const events = eventsOf(message);
  for (let i = 0; i < events.length; i++) {
    if (sse.closed) return;
    if (reply.failAfter && i === reply.failAfter.events) {
      sse.send("error", errorBody(reply.failAfter.type, reply.failAfter.message));
      return sse.end();
    }
    if (reply.holdAfter !== undefined && i === reply.holdAfter) await hold;
    else if (reply.delayMs && i > 0) await delay(reply.delayMs);
    const { event, data } = events[i]!;
    if (!sse.send(event, data)) return;
    if (i === 0) sse.send("ping", { type: "ping" });
  }
  sse.end();
}

function errorBody(type: string, message: string) {
  return { type: "error", error: { type, message } };
}

const REQUEST_ID = { "request-id": "req_fake" };

function answerJson(res: ServerResponse, status: number, body: unknown): void {
  sendJson(res, status, body, REQUEST_ID);
}
