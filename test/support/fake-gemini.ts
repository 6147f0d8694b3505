/**
 * A fake of the Gemini API on 127.0.0.1, for the real `@google/genai` client.
 *
 *   const fake = await startFakeGemini();
 *   fake.script({ text: "Hi" }, { calls: [{ name: "add", args: { a: 1 } }] }, { error: { status: 400, message: "Bad" } });
 *   new GoogleGenAI({ apiKey: "test", httpOptions: { baseUrl: fake.url } });
 *
 * `POST /v1beta/models/<model>:generateContent` answers one GenerateContentResponse;
 * `:streamGenerateContent?alt=sse` answers it as SSE chunks, one per word, usage in the last. A
 * stream can wait (`holdAfter` chunks, until `release()`).
 */
import { delay, sendJson, startFakeServer, startSse, words, type FakeServer } from "./fake-http.js";

export interface FakeGeminiReply {
  text?: string;
  thought?: string;
  calls?: { name: string; args: Record<string, unknown> }[];
  error?: { status: number; message: string };
  holdAfter?: number;
}

export interface FakeGemini extends FakeServer<FakeGeminiReply> {
  release(): void;
  streamClosed(): Promise<void>;
}

export const GEMINI_USAGE = { promptTokenCount: 9, candidatesTokenCount: 4, totalTokenCount: 13 };

export async function startFakeGemini(): Promise<FakeGemini> {
  let releaseHold: () => void = () => {};
  let closed: Promise<void> = Promise.resolve();
  const server = await startFakeServer<FakeGeminiReply>({ text: "ok" }, async ({ path }, res, nextReply) => {
    const match = /^\/v1beta\/models\/([^:]+):(generateContent|streamGenerateContent)$/.exec(path);
    if (!match) return sendJson(res, 404, { error: { code: 404, message: "Not found", status: "NOT_FOUND" } });
    const reply = nextReply();
    if (reply.error) return sendJson(res, reply.error.status, { error: { code: reply.error.status, message: reply.error.message, status: "INVALID_ARGUMENT" } });
    const model = `${match[1]}-001`;
    if (match[2] === "generateContent") {
      return sendJson(res, 200, response(partsOf(reply), model, true));
    }
    closed = new Promise((resolve) => res.on("close", resolve));
    const hold = new Promise<void>((resolve) => (releaseHold = resolve));
    const chunks = [
      ...(reply.thought ? [[{ text: reply.thought, thought: true }]] : []),
      ...words(reply.text ?? "").map((word) => [{ text: word }]),
      ...(reply.calls ?? []).map((call) => [{ functionCall: call }]),
    ];
    const sse = startSse(res);
    for (let i = 0; i < chunks.length; i++) {
      if (reply.holdAfter === i) await hold;
      if (!sse.send(undefined, response(chunks[i]!, model, i === chunks.length - 1))) return;
      await delay(1);
    }
    sse.end();
  });
  return { ...server, release: () => releaseHold(), streamClosed: () => closed };
}

function partsOf(reply: FakeGeminiReply): unknown[] {
  return [
    ...(reply.thought ? [{ text: reply.thought, thought: true }] : []),
    ...(reply.text !== undefined ? [{ text: reply.text }] : []),
    ...(reply.calls ?? []).map((call) => ({ functionCall: call })),
  ];
}

function response(parts: unknown[], modelVersion: string, last: boolean) {
  return {
    candidates: [{ content: { role: "model", parts }, index: 0, ...(last ? { finishReason: "STOP" } : {}) }],
    ...(last ? { usageMetadata: GEMINI_USAGE } : {}),
    modelVersion,
  };
}
