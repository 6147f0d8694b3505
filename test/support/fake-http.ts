/**
 * The HTTP plumbing of the fake providers (fake-openai.ts, fake-anthropic.ts): a server on
 * 127.0.0.1 that parses each JSON request body, records the request, and hands it to the fake's
 * own routing together with the next scripted reply; plus JSON answers and server-sent events.
 *
 *   const server = await startFakeServer<FakeReply>({ text: "ok" }, (request, res, nextReply) => { ... });
 *   server.script(reply1, reply2); // taken in order by nextReply(), the fallback once they run out
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type Body = Record<string, unknown>;

export interface RecordedRequest {
  method: string;
  /** The URL's path, without the query. */
  path: string;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body; `{}` when there was none or it was not JSON. */
  body: Body;
  /** True when the client closed the connection before the answer was complete. */
  aborted: boolean;
}

export interface FakeServer<Reply> {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** Every request, in arrival order. */
  requests: RecordedRequest[];
  script(...replies: Reply[]): void;
  /** Forgets the script and the recorded requests. */
  reset(): void;
  close(): Promise<void>;
}

export type Handler<Reply> = (request: RecordedRequest, res: ServerResponse, nextReply: () => Reply) => unknown;

export async function startFakeServer<Reply>(fallback: Reply, handle: Handler<Reply>): Promise<FakeServer<Reply>> {
  const requests: RecordedRequest[] = [];
  let queue: Reply[] = [];
  const nextReply = () => queue.shift() ?? fallback;

  const server = createServer((req, res) => {
    void readJson(req).then((body) => {
      const record: RecordedRequest = {
        method: req.method ?? "",
        path: (req.url ?? "").split("?")[0]!,
        headers: req.headers,
        body,
        aborted: false,
      };
      requests.push(record);
      res.on("close", () => {
        if (!res.writableFinished) record.aborted = true;
      });
      return handle(record, res, nextReply);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    script: (...replies) => void queue.push(...replies),
    reset() {
      queue = [];
      requests.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

export interface SseWriter {
  /** True once the client has hung up. */
  readonly closed: boolean;
  /** Writes one event (a string `data` as is, anything else as JSON); false, writing nothing, once closed. */
  send(event: string | undefined, data: unknown): boolean;
  end(): void;
}

/** Answers 200 with an event stream, headers sent at once so the client's request resolves. */
export function startSse(res: ServerResponse, headers: Record<string, string> = {}): SseWriter {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", ...headers });
  res.flushHeaders();
  return {
    get closed() {
      return res.destroyed;
    },
    send(event, data) {
      if (res.destroyed) return false;
      res.write(`${event ? `event: ${event}\n` : ""}data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`);
      return true;
    },
    end() {
      if (!res.destroyed) res.end();
    },
  };
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The text split into words with their trailing space, so a stream carries several deltas. */
export function words(text: string): string[] {
  return text.match(/\S+\s*/g) ?? [text];
}

async function readJson(req: AsyncIterable<unknown>): Promise<Body> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}") as Body;
  } catch {
    return {};
  }
}
