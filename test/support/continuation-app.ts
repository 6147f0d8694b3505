/**
 * A chat app of two tiers for the trace-continuation tests: a page (test/browser/pages/
 * continuation-app.ts) and this process as its Node server, with
 * - the relay route the page sends its traces through (`authorize` pins the user to the cookie's),
 * - `POST /api/chat`: a Node handler inside `continueTrace(req, ...)`,
 * - `POST /api/chat-route`: a Fetch-style route handler (as Next.js calls one) wrapped by
 *   `continueTraceHandler`, with the same function as the relay's `authorize`,
 * both sending to an ordering proxy in front of the store (the local collector or the real backend),
 * which forces the page's trace or the server's spans to arrive first.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { readFileSync } from "node:fs";
import { expect } from "vitest";
import { continueTrace, continueTraceHandler, getCurrentTrace, getSessionId, getUserId } from "../../src/index.js";
import { createRelayHandler, toNodeHandler } from "../../src/relay/index.js";

export type Order = "page-first" | "server-first";

/** One request the proxy passed on, with the answer it got. */
export interface Passed {
  method: string;
  path: string;
  traceId: string | undefined;
  status: number;
}

export interface OrderingProxy {
  readonly url: string;
  /** What arrives first for each trace from now on. */
  order: Order;
  readonly passed: Passed[];
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Forwards everything to `upstream`, holding requests so that, per trace:
 * - page-first: its spans requests wait until the trace reads back (`GET /traces/{id}` 200);
 * - server-first: its `POST /traces` waits until a spans request of it was answered.
 */
export async function startOrderingProxy(upstream: string): Promise<OrderingProxy> {
  const passed: Passed[] = [];
  const sockets = new Set<Socket>();
  const state = { order: "page-first" as Order };

  const forward = (method: string, path: string, headers: Record<string, string>, body: Buffer) =>
    new Promise<{ status: number; headers: Record<string, string>; body: Buffer }>((resolve, reject) => {
      const req = httpRequest(upstream + path, { method, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 502, headers: { "content-type": String(res.headers["content-type"] ?? "application/json") }, body: Buffer.concat(chunks) }));
      });
      req.on("error", reject);
      req.end(body);
    });

  const stored = async (traceId: string, headers: Record<string, string>) =>
    (await forward("GET", `/traces/${traceId}`, { "x-api-key": headers["x-api-key"]!, "x-project-name": headers["x-project-name"]! }, Buffer.alloc(0))).status === 200;

  const until = async (check: () => boolean | Promise<boolean>) => {
    const deadline = Date.now() + 60_000;
    while (!(await check()) && Date.now() < deadline) await sleep(100);
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      const body = Buffer.concat(chunks);
      const path = (req.url ?? "/").split("?")[0]!;
      const method = req.method ?? "GET";
      const headers: Record<string, string> = {};
      for (const name of ["content-type", "x-api-key", "x-project-name", "user-agent"]) {
        const value = req.headers[name];
        if (typeof value === "string") headers[name] = value;
      }
      const spansOf = /^\/traces\/([^/]+)\/spans$/.exec(path)?.[1];
      const traceOf = method === "POST" && path === "/traces" ? (JSON.parse(body.toString()) as { trace_id: string }).trace_id : undefined;
      const traceId = spansOf ?? traceOf;
      try {
        if (method === "POST" && spansOf && state.order === "page-first") await until(() => stored(spansOf, headers));
        if (traceOf && state.order === "server-first") await until(() => passed.some((p) => p.traceId === traceOf && p.path.endsWith("/spans")));
        const answer = await forward(method, req.url ?? "/", headers, body);
        if (method === "POST") passed.push({ method, path, traceId, status: answer.status });
        res.writeHead(answer.status, answer.headers).end(answer.body);
      } catch {
        res.destroy();
      }
    });
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    get order() {
      return state.order;
    },
    set order(order: Order) {
      state.order = order;
    },
    passed,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

/** The signed-in user, from the app's own cookie: the server's auth, which the page cannot forge. */
const cookieUser = (cookie: string | null | undefined): string | undefined => /(?:^|;\s*)user=([^;]+)/.exec(cookie ?? "")?.[1];

/** The server's part of a turn: a retrieval step and an LLM call, recording the ids it had in scope. */
async function answer(question: string): Promise<string> {
  const trace = getCurrentTrace();
  const scope = { session: getSessionId(), user: getUserId() };
  await trace?.span("retrieve", { kind: "RETRIEVER", metadata: { scope } }, async () => sleep(5));
  return (
    (await trace?.span("llm", { kind: "LLM", model: "fake-model", input: { messages: [{ role: "user", content: question }] } }, async (s) => {
      await sleep(10);
      const text = `echo: ${question}`;
      s.setOutput({ messages: [{ role: "assistant", content: text }] });
      return text;
    })) ?? `echo: ${question}`
  );
}

export interface ChatServer {
  readonly origin: string;
  pageUrl(): string;
  close(): Promise<void>;
}

export async function startChatServer(options: { endpoint: string; apiKey: string; projectName: string; bundle: string }): Promise<ChatServer> {
  const html = readFileSync(new URL("../browser/pages/page.html", import.meta.url), "utf8");
  const authorize = (req: Request) => ({ userId: cookieUser(req.headers.get("cookie")) });
  const relay = toNodeHandler(createRelayHandler({ apiKey: options.apiKey, projectName: options.projectName, endpoint: options.endpoint, authorize }));
  const route = continueTraceHandler(async (req: Request) => {
    const { question } = (await req.json()) as { question: string };
    return new Response(await answer(question), { headers: { "content-type": "text/plain" } });
  }, authorize);
  const sockets = new Set<Socket>();

  const readBody = (req: IncomingMessage) =>
    new Promise<string>((resolve) => {
      let text = "";
      req.on("data", (c: Buffer) => (text += c.toString()));
      req.on("end", () => resolve(text));
    });

  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? "/").split("?")[0]!;
    if (path.startsWith("/api/pandaprobe/")) return relay(req, res);
    if (path === "/api/chat" && req.method === "POST") {
      const { question } = JSON.parse(await readBody(req)) as { question: string };
      const text = await continueTrace(req, () => answer(question), { userId: cookieUser(req.headers.cookie) });
      return void res.writeHead(200, { "content-type": "text/plain" }).end(text);
    }
    if (path === "/api/chat-route" && req.method === "POST") {
      // As a framework hands a route handler its Request.
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers)) if (typeof value === "string") headers.set(name, value);
      const response = await route(new Request(`http://${req.headers.host}${req.url}`, { method: "POST", headers, body: await readBody(req) }));
      return void res.writeHead(response.status, { "content-type": "text/plain" }).end(await response.text());
    }
    if (path === "/app/bundle.js") return void res.writeHead(200, { "content-type": "text/javascript" }).end(options.bundle);
    if (path === "/app/") return void res.writeHead(200, { "content-type": "text/html" }).end(html);
    res.writeHead(404).end();
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    origin,
    pageUrl: () => `${origin}/app/`,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

/** The read API's trace (the backend's and the local collector's): what a turn must read back as. */
export interface StoredTrace {
  trace_id: string;
  name: string;
  status: string;
  input: unknown;
  output: unknown;
  session_id: string | null;
  user_id: string | null;
  spans: { span_id: string; parent_span_id: string | null; name: string; kind: string; metadata: Record<string, unknown> | null }[];
}

/** What the page's `window.chat.turn` returns. */
export interface Turn {
  traceId: string;
  answerSpanId: string;
  answer: string;
}

/**
 * A turn read back as one trace: the page's name, input, output, status and session, the user the
 * server's auth decided (alice; the page claimed mallory), and the server's span under the page's
 * `answer` span with its own steps under it, run with the page's session and the server's user.
 */
export function expectOneTrace(stored: StoredTrace, turn: Turn, question: string, sessionId: string, serverSpanName: string): void {
  expect(stored).toMatchObject({
    trace_id: turn.traceId,
    name: "chat-turn",
    status: "COMPLETED",
    input: { messages: [{ role: "user", content: question }] },
    output: { messages: [{ role: "assistant", content: `echo: ${question}` }] },
    session_id: sessionId,
    user_id: "alice",
  });
  const byName = new Map(stored.spans.map((s) => [s.name, s]));
  expect([...byName.keys()].sort()).toEqual(["answer", "llm", "retrieve", serverSpanName].sort());
  const serverSpan = byName.get(serverSpanName)!;
  expect(byName.get("answer")).toMatchObject({ span_id: turn.answerSpanId, parent_span_id: null });
  expect(serverSpan.parent_span_id).toBe(turn.answerSpanId);
  expect(byName.get("retrieve")!.parent_span_id).toBe(serverSpan.span_id);
  expect(byName.get("llm")!.parent_span_id).toBe(serverSpan.span_id);
  expect(byName.get("retrieve")!.metadata).toMatchObject({ scope: { session: sessionId, user: "alice" } });
}

/**
 * The order was the one forced: the server's spans waited for the stored trace, or came first and
 * were answered 404, retried until the trace was stored (after its 202 too, while the backend's
 * worker has not persisted it yet).
 */
export function expectOrder(proxy: OrderingProxy, traceId: string, order: Order): void {
  const passed = proxy.passed.filter((p) => p.traceId === traceId).map((p) => `${p.path.endsWith("/spans") ? "spans" : "trace"} ${p.status}`);
  if (order === "page-first") expect(passed).toEqual(["trace 202", "spans 201"]);
  else {
    expect(passed[0]).toBe("spans 404");
    expect(passed.filter((p) => p !== "spans 404")).toEqual(["trace 202", "spans 201"]);
    expect(passed.at(-1)).toBe("spans 201");
  }
}
