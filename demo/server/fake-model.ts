/**
 * A built-in model server on 127.0.0.1 speaking OpenAI's Chat Completions wire (`POST
 * /v1/chat/completions`, plain JSON or server-sent events), so the demo runs the real `openai`
 * client, and its PandaProbe wrapper, without an account. Streams deterministic answers at a human
 * pace; a prompt containing "fail" breaks off mid-stream with an error event.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { answerFor, FAIL_MESSAGE, FAIL_PATTERN, FAIL_PREFIX, tokenDelay, tokens } from "./answers.js";

export const FAKE_MODEL = "fake-gpt-mini";

export interface FakeModelServer {
  /** What an OpenAI client takes as `baseURL`. */
  baseURL: string;
  close(): Promise<void>;
}

interface CompletionBody {
  model?: unknown;
  messages?: unknown;
  stream?: unknown;
  stream_options?: { include_usage?: unknown };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function lastUserText(messages: unknown): string {
  if (!Array.isArray(messages)) return "";
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i] as { role?: unknown; content?: unknown } | null;
    if (m?.role === "user" && typeof m.content === "string") return m.content;
  }
  return "";
}

function promptTokens(messages: unknown): number {
  if (!Array.isArray(messages)) return 0;
  return messages.reduce((n: number, m: { content?: unknown }) => n + (typeof m?.content === "string" ? tokens(m.content).length : 0), 0);
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString("utf8"));
}

let lastId = 0;

async function complete(body: CompletionBody, res: ServerResponse): Promise<void> {
  const model = typeof body.model === "string" ? body.model : FAKE_MODEL;
  const prompt = lastUserText(body.messages);
  const failing = FAIL_PATTERN.test(prompt);
  const text = failing ? FAIL_PREFIX : answerFor(prompt);
  const pieces = tokens(text);
  const usage = { prompt_tokens: promptTokens(body.messages), completion_tokens: pieces.length, total_tokens: 0 };
  usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
  const id = `chatcmpl-demo-${++lastId}`;
  const created = Math.floor(Date.now() / 1000);

  if (body.stream !== true) {
    if (failing) return json(res, 500, { error: { message: FAIL_MESSAGE, type: "server_error", param: null, code: null } });
    return json(res, 200, {
      id,
      object: "chat.completion",
      created,
      model,
      choices: [{ index: 0, message: { role: "assistant", content: text, refusal: null }, finish_reason: "stop", logprobs: null }],
      usage,
    });
  }

  let gone = false;
  res.on("close", () => (gone = true));
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
  const send = (data: unknown) => res.write(`data: ${JSON.stringify(data)}\n\n`);
  const chunk = (delta: Record<string, unknown>, finish: string | null) =>
    send({ id, object: "chat.completion.chunk", created, model, choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }] });

  chunk({ role: "assistant", content: "" }, null);
  for (const [index, piece] of pieces.entries()) {
    await sleep(tokenDelay(text, index));
    if (gone) return;
    chunk({ content: piece }, null);
  }
  if (failing) {
    await sleep(200);
    send({ error: { message: FAIL_MESSAGE, type: "server_error", param: null, code: null } });
    return void res.end();
  }
  chunk({}, "stop");
  if (body.stream_options?.include_usage === true) {
    send({ id, object: "chat.completion.chunk", created, model, choices: [], usage });
  }
  res.end("data: [DONE]\n\n");
}

export async function startFakeModel(): Promise<FakeModelServer> {
  const server = createServer((req, res) => {
    if (req.method === "POST" && req.url?.split("?")[0] === "/v1/chat/completions") {
      readJson(req)
        .then((body) => complete(body as CompletionBody, res))
        .catch(() => {
          if (!res.headersSent) json(res, 400, { error: { message: "invalid JSON body", type: "invalid_request_error" } });
          else res.destroy();
        });
      return;
    }
    json(res, 404, { error: { message: `no route ${req.method} ${req.url}`, type: "invalid_request_error" } });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
