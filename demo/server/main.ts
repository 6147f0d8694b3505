/**
 * The demo server: the built chat page, the relay its traces go through (the API key stays here),
 * and `/api/chat`, which streams the model's answer through the traced OpenAI client.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import OpenAI from "openai";
import { init, onError, PandaProbeError, shutdown } from "pandaprobe";
import { wrapOpenAI } from "pandaprobe/openai";
import { createRelayHandler, toNodeHandler } from "pandaprobe/relay";
import { CHAT_ROUTE, RELAY_ROUTE } from "../protocol.js";
import { chatHandler, type ChatModel } from "./chat.js";
import type { DemoConfig } from "./config.js";
import { FAKE_MODEL, startFakeModel, type FakeModelServer } from "./fake-model.js";
import { staticFiles } from "./static.js";

export interface Demo {
  url: string;
  /** `fake` (built in, at its base URL) or the real model's name. */
  model: string;
  close(): Promise<void>;
}

async function chatModel(config: DemoConfig): Promise<{ model: ChatModel; fake?: FakeModelServer }> {
  if (config.openai) {
    const client = new OpenAI({ apiKey: config.openai.apiKey, baseURL: config.openai.baseURL });
    return { model: { client: wrapOpenAI(client), model: config.openai.model } };
  }
  const fake = await startFakeModel();
  // No retries: the fake model's failure is the point, and a retry would repeat it.
  const client = new OpenAI({ apiKey: "fake", baseURL: fake.baseURL, maxRetries: 0 });
  return { model: { client: wrapOpenAI(client), model: FAKE_MODEL }, fake };
}

export async function startDemo(config: DemoConfig, pageDir: string): Promise<Demo> {
  const { endpoint, apiKey, projectName } = config.pandaprobe;
  // Short flushes: a demo is watched live.
  init({ endpoint, apiKey, projectName, flushInterval: 1 });
  onError((error) => console.warn(`[demo] tracing: ${error instanceof PandaProbeError ? `${error.code}: ` : ""}${error.message}`));

  const { model, fake } = await chatModel(config);
  const relay = toNodeHandler(createRelayHandler({ endpoint, apiKey, projectName }));
  const chat = chatHandler(model);
  const page = staticFiles(pageDir);

  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0]!;
    if (path.startsWith(`${RELAY_ROUTE}/`)) return relay(req, res);
    if (path === CHAT_ROUTE) {
      if (req.method !== "POST") return void res.writeHead(405, { allow: "POST" }).end();
      return void chat(req, res);
    }
    void page(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://${config.host}:${port}`,
    model: fake ? `${FAKE_MODEL} (built in, ${fake.baseURL})` : model.model,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      await fake?.close();
      await shutdown();
    },
  };
}
