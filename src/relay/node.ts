/**
 * Adapter from the WHATWG handler to Node `http` / Express. Only types come from node:http, so this
 * module (and the entry that re-exports it) still loads in edge runtimes.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { RelayHandler } from "./handler.js";

/** A Node `http` request listener, also usable as Express middleware (`next` receives adapter failures). */
export type NodeHandler = (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void) => void;

/**
 * Express keeps the path before its mount point in `originalUrl`; plain Node has only `url`. A body
 * parser (express.json(), Next.js pages' bodyParser) leaves what it read of the stream in `body`.
 */
type MaybeExpressRequest = IncomingMessage & { originalUrl?: string; body?: unknown };

function requestUrl(req: MaybeExpressRequest): string {
  const encrypted = (req.socket as { encrypted?: boolean } | undefined)?.encrypted === true;
  const host = req.headers.host ?? "localhost";
  return new URL(req.originalUrl ?? req.url ?? "/", `${encrypted ? "https" : "http"}://${host}`).href;
}

function requestHeaders(req: IncomingMessage): Headers {
  const headers = new Headers();
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    // HTTP/2 pseudo-headers (":path") are not headers of the request.
    if (!name.startsWith(":")) headers.append(name, raw[i + 1]!);
  }
  return headers;
}

/** The request body as a web stream that reads from Node only as fast as the handler consumes it. */
function requestBody(req: IncomingMessage): ReadableStream<Uint8Array> {
  // Once cancelled or finished, Node may still emit (Node drains unread bodies): the stream must ignore it.
  let settled = false;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      req.on("data", (chunk: Buffer) => {
        if (settled) return;
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        if ((controller.desiredSize ?? 0) <= 0) req.pause();
      });
      req.on("end", () => {
        if (settled) return;
        settled = true;
        controller.close();
      });
      const abort = (error: Error) => {
        if (settled) return;
        settled = true;
        controller.error(error);
      };
      req.on("error", abort);
      req.on("close", () => {
        if (!req.complete) abort(new Error("client closed the request"));
      });
      req.pause();
    },
    pull() {
      req.resume();
    },
    cancel() {
      // Stop reading; Node discards the rest once the answer is written (with Connection: close).
      settled = true;
      req.pause();
    },
  });
}

/**
 * The body a parser already took from the stream (which will never emit again), as it left it:
 * bytes (express.raw), text (express.text) or parsed JSON, serialized back.
 */
function parsedBody(body: unknown): BodyInit {
  if (body instanceof Uint8Array) return Uint8Array.from(body);
  if (typeof body === "string") return body;
  return body === undefined ? "" : JSON.stringify(body);
}

function toRequest(req: MaybeExpressRequest): Request {
  const method = req.method ?? "GET";
  const headers = requestHeaders(req);
  if (method === "GET" || method === "HEAD") return new Request(requestUrl(req), { method, headers });
  if (req.readableEnded) {
    // The parser decoded the body: its original length and encoding no longer describe it.
    headers.delete("content-length");
    headers.delete("content-encoding");
    return new Request(requestUrl(req), { method, headers, body: parsedBody(req.body) });
  }
  return new Request(requestUrl(req), { method, headers, body: requestBody(req), duplex: "half" } as RequestInit);
}

/** Writes `response` to `res`, streaming its body and honouring backpressure. */
async function writeResponse(response: Response, req: IncomingMessage, res: ServerResponse): Promise<void> {
  res.statusCode = response.status;
  if (response.statusText) res.statusMessage = response.statusText;
  const cookies = response.headers.getSetCookie();
  response.headers.forEach((value, name) => {
    if (name !== "set-cookie") res.setHeader(name, value);
  });
  if (cookies.length) res.setHeader("set-cookie", cookies);
  // The request body was left unread (e.g. too large): do not keep a connection with bytes still in flight.
  if (!req.complete) res.setHeader("connection", "close");
  if (!response.body) {
    res.end();
    return;
  }
  const reader = response.body.getReader();
  res.on("close", () => {
    if (!res.writableFinished) reader.cancel().catch(() => {});
  });
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (!res.write(value)) await new Promise<void>((resolve) => res.once("drain", resolve).once("close", resolve));
    if (res.destroyed) return;
  }
  res.end();
}

/**
 * Serves a relay from Node `http` or Express:
 *
 *   createServer(toNodeHandler(createRelayHandler({ apiKey, projectName })));
 *   app.use("/api/pandaprobe", toNodeHandler(relay));
 *
 * The URL is rebuilt from `Host` (and Express's `originalUrl`), the body is streamed, and the
 * handler's Response is written back. A failure is passed to `next` when given, else answered 500.
 */
export function toNodeHandler(handler: RelayHandler): NodeHandler {
  return function relayNodeHandler(req, res, next) {
    const fail = (error: unknown) => {
      if (next) return next(error);
      if (res.headersSent) return void res.destroy();
      res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ detail: "Relay error" }));
    };
    let request: Request;
    try {
      request = toRequest(req);
    } catch {
      if (res.headersSent) return;
      res.writeHead(400, { "content-type": "application/json", connection: "close" });
      res.end(JSON.stringify({ detail: "Bad request" }));
      return;
    }
    handler(request)
      .then((response) => writeResponse(response, req, res))
      .catch(fail);
  };
}
