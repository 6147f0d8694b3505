/**
 * The local collector's HTTP server: the API (routes.ts), live change events for the viewer
 * (Server-Sent Events at `/events`), and the viewer's static files at `/`.
 */
import { existsSync, readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { extname, join, normalize } from "node:path";
import { Journal, replay } from "./journal.js";
import { Api } from "./routes.js";
import { Store } from "./store.js";

export interface CollectorOptions {
  /** Default 127.0.0.1: a development tool that accepts any API key must not listen on the network. */
  host?: string;
  /** 0 picks a free port. */
  port: number;
  /** The JSONL journal; created (with its folder) when missing. */
  dataFile: string;
  /** The built viewer (index.html and assets); without it `/` says how to build it. */
  viewerDir?: string;
}

export interface Collector {
  readonly url: string;
  readonly port: number;
  readonly store: Store;
  /** Journal lines replayed at start, and those skipped (a torn last line after a crash). */
  readonly replayed: { entries: number; skipped: number };
  close(): Promise<void>;
}

/** Bodies up to 500 spans with their messages; a bigger one is refused rather than buffered. */
const MAX_BODY_BYTES = 64 * 1024 * 1024;
const SSE_KEEPALIVE_MS = 15_000;
const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
};

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" }).end(JSON.stringify(body));
}

function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        resolve(undefined);
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

export async function startCollector(options: CollectorOptions): Promise<Collector> {
  const store = new Store();
  const { entries, skipped } = replay(options.dataFile);
  for (const entry of entries) store.apply(entry);
  const journal = await Journal.open(options.dataFile);
  const api = new Api(store, journal);
  const streams = new Set<ServerResponse>();

  const unsubscribe = store.onChange((change) => {
    const message = `data: ${JSON.stringify(change)}\n\n`;
    for (const res of streams) res.write(message);
  });
  const keepalive = setInterval(() => {
    for (const res of streams) res.write(": keepalive\n\n");
  }, SSE_KEEPALIVE_MS);
  keepalive.unref();

  function events(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store", connection: "keep-alive" });
    res.write(": connected\n\n");
    streams.add(res);
    req.on("close", () => streams.delete(res));
  }

  function serveStatic(path: string, res: ServerResponse): void {
    const dir = options.viewerDir;
    if (!dir || !existsSync(join(dir, "index.html"))) {
      res.writeHead(path === "/" ? 200 : 404, { "content-type": "text/plain; charset=utf-8" });
      return void res.end(path === "/" ? "The PandaProbe viewer is not built: run `npm run build`. The API is up.\n" : "Not found\n");
    }
    const file = normalize(join(dir, path === "/" ? "index.html" : path));
    if (!file.startsWith(normalize(dir)) || !existsSync(file) || !extname(file)) {
      return void send(res, 404, { detail: "Not Found" });
    }
    // Asset names carry a content hash; index.html must be fetched afresh to pick up a new build.
    const cache = path.startsWith("/assets/") ? "public, max-age=31536000, immutable" : "no-cache";
    res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream", "cache-control": cache });
    res.end(readFileSync(file));
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://collector");
    const method = req.method ?? "GET";
    if (method === "GET" && url.pathname === "/events") return events(req, res);
    const bytes = method === "GET" || method === "HEAD" ? Buffer.alloc(0) : await readBody(req);
    if (bytes === undefined) return send(res, 413, { detail: "Request body too large." });
    let json: unknown;
    if (bytes.length) {
      try {
        json = JSON.parse(bytes.toString("utf8"));
      } catch {
        return send(res, 422, { detail: "Validation error", errors: [{ field: "body", message: "must be valid JSON" }] });
      }
    }
    const answer = await api.handle({ method, path: url.pathname, query: url.searchParams, json });
    if (answer) return send(res, answer.status, answer.body);
    if (method === "GET") return serveStatic(url.pathname, res);
    send(res, 405, { detail: "Method Not Allowed" });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      // A failed fsync leaves the write unacknowledged: the client retries it.
      if (!res.headersSent) send(res, 500, { detail: `Collector error: ${error instanceof Error ? error.message : String(error)}` });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host ?? "127.0.0.1", resolve);
  });
  const { port } = server.address() as { port: number };
  const host = options.host ?? "127.0.0.1";

  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    port,
    store,
    replayed: { entries: entries.length, skipped },
    async close() {
      unsubscribe();
      clearInterval(keepalive);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const res of streams) res.end();
      server.closeAllConnections();
      await closed;
      await journal.close();
    },
  };
}
