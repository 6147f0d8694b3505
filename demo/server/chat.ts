/**
 * `POST /api/chat`: one traced model call per turn, streamed back to the page as NDJSON events.
 * The trace runs inside `session()` / `user()` with the ids the page sent, so the page's trace and
 * this one fall in the same session, and the wrapped client's LLM span (time to first token,
 * tokens, errors) is its child.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type OpenAI from "openai";
import { session, startTrace, user } from "pandaprobe";
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
    browserTraceId: optionalId(body.browserTraceId, "browserTraceId"),
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
      startTrace(
        "chat-api",
        {
          input: { messages: [lastUser] },
          metadata: chat.browserTraceId ? { browser_trace_id: chat.browserTraceId } : {},
        },
        async (trace) => {
          const stream = await model.client.chat.completions.create(
            { model: model.model, messages: chat.messages, stream: true, stream_options: { include_usage: true } },
            { signal: abort.signal },
          );
          res.writeHead(200, { "content-type": "application/x-ndjson; charset=utf-8", "cache-control": "no-store" });
          send({ type: "start", model: model.model, traceId: trace.traceId });
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
            trace.setOutput({ messages: [{ role: "assistant", content: text }] });
          }
          send({ type: "done" });
          res.end();
        },
      ),
    ).catch((error: unknown) => {
      // The trace recorded the error (and rethrew it, unchanged); the page gets its message.
      if (res.destroyed) return;
      if (!res.headersSent) {
        res.writeHead(502, { "content-type": "application/x-ndjson; charset=utf-8" });
      }
      send({ type: "error", message: messageOf(error) });
      res.end();
    });
  };
}
