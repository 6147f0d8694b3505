/**
 * `POST /api/chat`: one traced model call per turn, streamed back to the page as NDJSON events.
 * The page's request carries its trace context (`traceHeaders()`), so `continueTrace` makes this
 * work part of the page's trace: the span `chat-api`, under the page's `answer` span, and the
 * wrapped client's LLM span (time to first token, tokens, errors) under it. A request without trace
 * context (a curl) gets a trace of its own, `chat-api`, in the session and user its body names.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type OpenAI from "openai";
import { continueTrace, getCurrentSpan, session, startTrace, user, type Span, type Trace } from "pandaprobe";
import type { ChatEvent, ChatMessage, ChatRequest } from "../protocol.js";

const MAX_BODY = 256 * 1024;
const MAX_MESSAGES = 100;

export interface ChatModel {
  client: OpenAI;
  model: string;
}

class BadRequest extends Error {}

function optionalId(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value === "" || value.length > 255) throw new BadRequest(`${name} must be a non-empty string of at most 255 characters`);
  return value;
}

function parseChat(raw: string): Required<Pick<ChatRequest, "messages">> & ChatRequest {
  let body: Partial<ChatRequest>;
  try {
    body = JSON.parse(raw) as Partial<ChatRequest>;
  } catch {
    throw new BadRequest("body must be JSON");
  }
  const { messages } = body;
  const valid = (m: ChatMessage) => (m?.role === "user" || m?.role === "assistant") && typeof m.content === "string";
  if (!Array.isArray(messages) || messages.length === 0 || messages.length > MAX_MESSAGES || !messages.every(valid)) {
    throw new BadRequest(`messages must be 1-${MAX_MESSAGES} {role: "user" | "assistant", content: string}`);
  }
  if (messages.at(-1)!.role !== "user") throw new BadRequest("the last message must be the user's");
  return {
    messages: messages.map(({ role, content }) => ({ role, content })),
    sessionId: optionalId(body.sessionId, "sessionId"),
    userId: optionalId(body.userId, "userId"),
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new BadRequest("body too large");
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function withIds<T>(sessionId: string | undefined, userId: string | undefined, fn: () => T): T {
  const withUser = userId === undefined ? fn : () => user(userId, fn);
  return sessionId === undefined ? withUser() : session(sessionId, withUser);
}

/**
 * fn in the caller's trace when the request continues one (in the span `chat-api`), else in a trace
 * of its own; fn records the call's input and output on what it is given.
 */
function traced<T>(req: IncomingMessage, input: unknown, fn: (recordOn: Span | Trace) => Promise<T>): Promise<T> {
  return continueTrace(
    req,
    () => {
      // Only the continued trace has a span current here; its trace-level fields are the page's.
      const span = getCurrentSpan();
      return span ? fn(span.setInput(input)) : startTrace("chat-api", { input }, fn);
    },
    { name: "chat-api" },
  );
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function chatHandler(model: ChatModel) {
  return async function handleChat(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let chat: ReturnType<typeof parseChat>;
    try {
      chat = parseChat(await readBody(req));
    } catch (error) {
      const status = error instanceof BadRequest ? 400 : 500;
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify({ error: messageOf(error) }));
      return;
    }
    const send = (event: ChatEvent) => res.write(`${JSON.stringify(event)}\n`);
    const abort = new AbortController();
    res.on("close", () => abort.abort());
    const lastUser = chat.messages.at(-1)!;

    await withIds(chat.sessionId, chat.userId, () =>
      traced(req, { messages: [lastUser] }, async (recordOn) => {
        const stream = await model.client.chat.completions.create(
          { model: model.model, messages: chat.messages, stream: true, stream_options: { include_usage: true } },
          { signal: abort.signal },
        );
        res.writeHead(200, { "content-type": "application/x-ndjson; charset=utf-8", "cache-control": "no-store" });
        send({ type: "start", model: model.model });
        let text = "";
        try {
          for await (const chunk of stream) {
            const delta = chunk.choices[0]?.delta?.content;
            if (!delta) continue;
            text += delta;
            send({ type: "delta", text: delta });
          }
        } finally {
          // What the user saw, even when the stream broke off.
          recordOn.setOutput({ messages: [{ role: "assistant", content: text }] });
        }
        send({ type: "done" });
        res.end();
      }),
    ).catch((error: unknown) => {
      // The trace or span recorded the error (and rethrew it, unchanged); the page gets its message.
      if (res.destroyed) return;
      if (!res.headersSent) {
        res.writeHead(502, { "content-type": "application/x-ndjson; charset=utf-8" });
      }
      send({ type: "error", message: messageOf(error) });
      res.end();
    });
  };
}
