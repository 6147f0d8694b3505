/**
 * A fake of Amazon Bedrock Runtime on 127.0.0.1, for the real `@aws-sdk/client-bedrock-runtime`.
 *
 *   const fake = await startFakeBedrock();
 *   fake.script({ text: "Hi" }, { toolUses: [{ name: "add", input: { a: 1 } }] }, { error: { status: 400, type: "ValidationException", message: "Bad" } });
 *   new BedrockRuntimeClient({ region: "us-east-1", endpoint: fake.url, credentials: { accessKeyId: "a", secretAccessKey: "b" } });
 *
 * `POST /model/<id>/converse` answers a Converse response; `/converse-stream` its events
 * (messageStart, contentBlockStart/Delta/Stop, messageStop, metadata) in the AWS event-stream
 * encoding, written with the AWS codec. `/invoke` answers the scripted `body` (any family's JSON);
 * `/invoke-with-response-stream` sends each of the scripted `chunks` as a `chunk` event. A stream
 * can fail midway (`failAfter` events) with a modelStreamErrorException.
 */
import { EventStreamCodec } from "@smithy/eventstream-codec";
import type { ServerResponse } from "node:http";
import { delay, sendJson, startFakeServer, words, type FakeServer } from "./fake-http.js";

export interface FakeBedrockReply {
  text?: string;
  toolUses?: { id?: string; name: string; input: Record<string, unknown> }[];
  /** InvokeModel: the response body. */
  body?: unknown;
  /** InvokeModelWithResponseStream: the chunks' bodies. */
  chunks?: unknown[];
  error?: { status: number; type: string; message: string };
  failAfter?: number;
}

export const CONVERSE_USAGE = { inputTokens: 21, outputTokens: 7, totalTokens: 28 };

const utf8 = new TextEncoder();
const codec = new EventStreamCodec((bytes) => new TextDecoder().decode(bytes), (text) => utf8.encode(text));

function eventFrame(type: string, payload: unknown): Uint8Array {
  return codec.encode({
    headers: {
      ":event-type": { type: "string", value: type },
      ":content-type": { type: "string", value: "application/json" },
      ":message-type": { type: "string", value: "event" },
    },
    body: utf8.encode(JSON.stringify(payload)),
  });
}

function exceptionFrame(type: string, message: string): Uint8Array {
  return codec.encode({
    headers: {
      ":exception-type": { type: "string", value: type },
      ":content-type": { type: "string", value: "application/json" },
      ":message-type": { type: "string", value: "exception" },
    },
    body: utf8.encode(JSON.stringify({ message })),
  });
}

async function sendEvents(res: ServerResponse, frames: Uint8Array[], reply: FakeBedrockReply): Promise<void> {
  res.writeHead(200, { "content-type": "application/vnd.amazon.eventstream", "x-amzn-requestid": "req-fake" });
  res.flushHeaders();
  for (let i = 0; i < frames.length; i++) {
    if (res.destroyed) return;
    if (reply.failAfter === i) {
      res.end(exceptionFrame("modelStreamErrorException", "The model stream failed."));
      return;
    }
    res.write(frames[i]!);
    await delay(1);
  }
  res.end();
}

function converseEvents(reply: FakeBedrockReply): Uint8Array[] {
  const frames = [eventFrame("messageStart", { role: "assistant" })];
  let index = 0;
  if (reply.text !== undefined) {
    for (const piece of words(reply.text)) frames.push(eventFrame("contentBlockDelta", { contentBlockIndex: index, delta: { text: piece } }));
    frames.push(eventFrame("contentBlockStop", { contentBlockIndex: index++ }));
  }
  for (const tool of reply.toolUses ?? []) {
    frames.push(eventFrame("contentBlockStart", { contentBlockIndex: index, start: { toolUse: { toolUseId: tool.id ?? `tooluse_${index}`, name: tool.name } } }));
    const json = JSON.stringify(tool.input);
    const half = Math.ceil(json.length / 2);
    for (const part of [json.slice(0, half), json.slice(half)]) frames.push(eventFrame("contentBlockDelta", { contentBlockIndex: index, delta: { toolUse: { input: part } } }));
    frames.push(eventFrame("contentBlockStop", { contentBlockIndex: index++ }));
  }
  frames.push(eventFrame("messageStop", { stopReason: reply.toolUses?.length ? "tool_use" : "end_turn" }));
  frames.push(eventFrame("metadata", { usage: CONVERSE_USAGE, metrics: { latencyMs: 5 } }));
  return frames;
}

export async function startFakeBedrock(): Promise<FakeServer<FakeBedrockReply>> {
  return startFakeServer<FakeBedrockReply>({ text: "ok" }, async ({ path }, res, nextReply) => {
    const match = /^\/model\/([^/]+)\/(converse|converse-stream|invoke|invoke-with-response-stream)$/.exec(path);
    if (!match) return sendJson(res, 404, { message: "Not found" });
    const reply = nextReply();
    if (reply.error) return sendJson(res, reply.error.status, { message: reply.error.message }, { "x-amzn-errortype": reply.error.type });
    switch (match[2]) {
      case "converse": {
        const content = [
          ...(reply.text !== undefined ? [{ text: reply.text }] : []),
          ...(reply.toolUses ?? []).map((tool, i) => ({ toolUse: { toolUseId: tool.id ?? `tooluse_${i}`, name: tool.name, input: tool.input } })),
        ];
        return sendJson(res, 200, {
          output: { message: { role: "assistant", content } },
          stopReason: reply.toolUses?.length ? "tool_use" : "end_turn",
          usage: CONVERSE_USAGE,
          metrics: { latencyMs: 5 },
        });
      }
      case "converse-stream":
        return sendEvents(res, converseEvents(reply), reply);
      case "invoke":
        return sendJson(res, 200, reply.body ?? {});
      default: {
        const frames = (reply.chunks ?? []).map((chunk) => eventFrame("chunk", { bytes: Buffer.from(JSON.stringify(chunk)).toString("base64") }));
        return sendEvents(res, frames, reply);
      }
    }
  });
}
