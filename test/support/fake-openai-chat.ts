/**
 * A minimal fake of OpenAI's `POST /v1/chat/completions` on 127.0.0.1, for ChatOpenAI tests.
 *
 *   const fake = await startFakeOpenAIChat();
 *   fake.script({ content: "Hi" }, { toolCalls: [{ name: "add", arguments: { a: 1 } }] }, { error: { status: 500, message: "boom" } });
 *   new ChatOpenAI({ apiKey: "test", model: "gpt-4o-mini", configuration: { baseURL: `${fake.url}/v1` }, maxRetries: 0 });
 *
 * Each request takes the next scripted reply (or `{ content: "ok" }` when the script is empty) and
 * answers it as a JSON completion, or as SSE chunks when the request has `stream: true` (a usage
 * chunk last when `stream_options.include_usage`). Requests are recorded in `requests`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface FakeToolCall {
  id?: string;
  name: string;
  arguments: Record<string, unknown>;
}

export interface FakeReply {
  content?: string;
  toolCalls?: FakeToolCall[];
  usage?: { prompt_tokens: number; completion_tokens: number; cached_tokens?: number; reasoning_tokens?: number };
  /** Answer with this HTTP status and OpenAI's error body instead. */
  error?: { status: number; message: string };
}

export interface FakeOpenAIChat {
  url: string;
  /** Parsed request bodies, in arrival order. */
  requests: Record<string, unknown>[];
  script(...replies: FakeReply[]): void;
  reset(): void;
  close(): Promise<void>;
}

const DEFAULT_USAGE: NonNullable<FakeReply["usage"]> = { prompt_tokens: 11, completion_tokens: 7 };

export async function startFakeOpenAIChat(): Promise<FakeOpenAIChat> {
  const requests: Record<string, unknown>[] = [];
  let queue: FakeReply[] = [];
  let nextId = 0;

  const server = createServer((req, res) => {
    void readJson(req).then((body) => {
      if (req.method !== "POST" || req.url !== "/v1/chat/completions") {
        res.writeHead(404).end();
        return;
      }
      requests.push(body);
      const reply = queue.shift() ?? { content: "ok" };
      const id = `chatcmpl-${++nextId}`;
      if (reply.error) sendError(res, reply.error);
      else if (body.stream === true) sendStream(res, id, body, reply);
      else sendCompletion(res, id, body, reply);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    script: (...replies) => void queue.push(...replies),
    reset: () => {
      queue = [];
      requests.length = 0;
    },
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>;
  } catch {
    return {};
  }
}

function toolCallsOf(reply: FakeReply) {
  return reply.toolCalls?.map((call, i) => ({
    id: call.id ?? `call_${i + 1}`,
    type: "function",
    function: { name: call.name, arguments: JSON.stringify(call.arguments) },
  }));
}

function usageOf(reply: FakeReply) {
  const usage = reply.usage ?? DEFAULT_USAGE;
  return {
    prompt_tokens: usage.prompt_tokens,
    completion_tokens: usage.completion_tokens,
    total_tokens: usage.prompt_tokens + usage.completion_tokens,
    prompt_tokens_details: { cached_tokens: usage.cached_tokens ?? 0 },
    completion_tokens_details: { reasoning_tokens: usage.reasoning_tokens ?? 0 },
  };
}

function sendError(res: ServerResponse, error: { status: number; message: string }): void {
  res.writeHead(error.status, { "content-type": "application/json" });
  res.end(JSON.stringify({ error: { message: error.message, type: "server_error", param: null, code: null } }));
}

function sendCompletion(res: ServerResponse, id: string, body: Record<string, unknown>, reply: FakeReply): void {
  const toolCalls = toolCallsOf(reply);
  res.writeHead(200, { "content-type": "application/json" });
  res.end(
    JSON.stringify({
      id,
      object: "chat.completion",
      created: Math.floor(Date.now() / 1000),
      model: body.model,
      choices: [
        {
          index: 0,
          message: { role: "assistant", content: reply.content ?? null, ...(toolCalls ? { tool_calls: toolCalls } : {}) },
          finish_reason: toolCalls ? "tool_calls" : "stop",
        },
      ],
      usage: usageOf(reply),
    }),
  );
}

function sendStream(res: ServerResponse, id: string, body: Record<string, unknown>, reply: FakeReply): void {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  const base = { id, object: "chat.completion.chunk", created: Math.floor(Date.now() / 1000), model: body.model };
  const send = (payload: unknown) => res.write(`data: ${JSON.stringify(payload)}\n\n`);
  const delta = (d: Record<string, unknown>, finish: string | null = null) =>
    send({ ...base, choices: [{ index: 0, delta: d, finish_reason: finish }] });

  delta({ role: "assistant", content: "" });
  // One word per chunk, so a test sees several tokens.
  for (const piece of (reply.content ?? "").match(/\S+\s*/g) ?? []) delta({ content: piece });
  toolCallsOf(reply)?.forEach((call, index) => {
    delta({ tool_calls: [{ index, id: call.id, type: "function", function: { name: call.function.name, arguments: "" } }] });
    delta({ tool_calls: [{ index, function: { arguments: call.function.arguments } }] });
  });
  delta({}, reply.toolCalls ? "tool_calls" : "stop");
  const options = body.stream_options as { include_usage?: boolean } | undefined;
  if (options?.include_usage) send({ ...base, choices: [], usage: usageOf(reply) });
  res.end("data: [DONE]\n\n");
}
