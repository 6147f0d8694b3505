/**
 * A fake of Mistral's chat completions API on 127.0.0.1, for the real `@mistralai/mistralai` client.
 *
 *   const fake = await startFakeMistral();
 *   fake.script({ text: "Hi" }, { toolCalls: [{ name: "add", arguments: { a: 1 } }] }, { error: { status: 401, message: "Unauthorized" } });
 *   new Mistral({ apiKey: "test", serverURL: fake.url });
 *
 * `POST /v1/chat/completions` answers one completion, or, with `stream: true`, SSE chunks (one
 * per word, tool calls in one chunk, usage in the last) ended by `data: [DONE]`.
 */
import { delay, sendJson, startFakeServer, startSse, words, type FakeServer } from "./fake-http.js";

export interface FakeMistralReply {
  text?: string;
  toolCalls?: { name: string; arguments: Record<string, unknown> }[];
  error?: { status: number; message: string };
}

export const MISTRAL_USAGE = { prompt_tokens: 11, completion_tokens: 5, total_tokens: 16 };

export async function startFakeMistral(): Promise<FakeServer<FakeMistralReply>> {
  return startFakeServer<FakeMistralReply>({ text: "ok" }, async ({ path, body }, res, nextReply) => {
    if (path !== "/v1/chat/completions") return sendJson(res, 404, { message: "Not found" });
    const reply = nextReply();
    if (reply.error) return sendJson(res, reply.error.status, { object: "error", message: reply.error.message, type: "invalid_request_error" });
    const model = `${String(body.model)}-2501`;
    const toolCalls = (reply.toolCalls ?? []).map((call, index) => ({ id: `call${index}`, index, type: "function", function: { name: call.name, arguments: JSON.stringify(call.arguments) } }));
    const finish = toolCalls.length ? "tool_calls" : "stop";
    if (body.stream !== true) {
      return sendJson(res, 200, {
        id: "cmpl-1",
        object: "chat.completion",
        model,
        created: 1,
        usage: MISTRAL_USAGE,
        choices: [{ index: 0, finish_reason: finish, message: { role: "assistant", content: reply.text ?? "", tool_calls: toolCalls.length ? toolCalls : null } }],
      });
    }
    const sse = startSse(res);
    const chunk = (delta: Record<string, unknown>, last: boolean) => ({
      id: "cmpl-1",
      object: "chat.completion.chunk",
      model,
      created: 1,
      choices: [{ index: 0, delta, finish_reason: last ? finish : null }],
      ...(last ? { usage: MISTRAL_USAGE } : {}),
    });
    const deltas = [
      { role: "assistant", content: "" },
      ...words(reply.text ?? "").map((content) => ({ content })),
      ...(toolCalls.length ? [{ tool_calls: toolCalls }] : []),
    ];
    for (let i = 0; i < deltas.length; i++) {
      if (!sse.send(undefined, chunk(deltas[i]!, i === deltas.length - 1))) return;
      await delay(1);
    }
    sse.send(undefined, "[DONE]");
    sse.end();
  });
}
