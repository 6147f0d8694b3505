/**
 * A real HTTP fake of the PandaProbe ingestion API on 127.0.0.1, for transport tests.
 *
 *   const collector = await startCollector();
 *   // ...point the SDK at collector.url, with any api key / project name...
 *   await collector.waitFor(() => collector.traces().length === 1);
 *   expect(collector.contractFailures).toEqual([]);
 *   await collector.close();
 *
 * Default answers (when no responder is set, or it returns undefined):
 *   - missing `x-api-key` (or a different one than `opts.apiKey`): 401 `{detail}`;
 *     missing `x-project-name`: 400 `{detail}`;
 *   - `POST /traces`: TraceCreate contract -> 202 `{trace_id, task_id}`;
 *   - `POST /traces/:trace_id/spans`: SpanCreate[] contract -> 201 `{span_ids}`
 *     (404 while the trace was never accepted, when `opts.spansRequireTrace`);
 *   - `POST /evaluations/trace-scores`: CreateTraceScoreRequest contract -> 201 (a TraceScoreResponse);
 *   - a contract violation (or a body that is not JSON) -> 422 `{detail: "Validation error", errors: [{field, message}]}`;
 *   - `PATCH /traces/:id`, `PATCH /traces/:id/spans/:span_id` -> 200 `{}`; anything else -> 404.
 *
 * Every body sent to one of the three ingestion routes is checked against the contract and a
 * violation is recorded in `contractFailures`, whatever the answer (scripted ones included).
 */
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { gunzipSync, inflateSync, brotliDecompressSync } from "node:zlib";
import type { SpanData, TraceData, TraceScoreData } from "../../src/wire/types.js";
import { contractErrorField, contractErrorObjects, formatContractError } from "./contract.js";
import type { ContractKind } from "./contract.js";

/** One request as the collector received it. */
export interface ReceivedRequest {
  /** Position in arrival order since start / the last `reset()` (0-based). */
  index: number;
  method: string;
  /** Path without the query string, e.g. `/traces`. */
  path: string;
  /** The raw request target, query string included. */
  url: string;
  /** Header names lowercased; repeated headers joined with ", ". */
  headers: Record<string, string>;
  /** The body as text (decompressed when `content-encoding` is gzip/deflate/br). */
  body: string;
  /** The body parsed as JSON; undefined when empty or not JSON. */
  json: unknown;
  /** Which contract the route expects, if it is an ingestion route. */
  contract?: ContractKind;
  /** Contract violations of the body (`instancePath message`), empty when valid or not an ingestion route. */
  contractErrors: string[];
  /** Identifies the TCP connection that carried the request (1, 2, ...): equal ids = a reused keep-alive socket. */
  socketId: number;
  receivedAt: number;
  /** How the collector dealt with the request; "pending" until the answer is decided. */
  outcome: "pending" | "answered" | "dropped" | "stalled";
  /** The status code answered, when `outcome === "answered"`. */
  status?: number;
  /** The body answered (before JSON encoding), when `outcome === "answered"`. */
  responseBody?: unknown;
}

/** What a responder may script for one request. */
export type Reply =
  | { status: number; headers?: Record<string, string>; body?: unknown }
  | { drop: true }
  | { stall: true };

/** Returns a scripted reply, or undefined for the default behaviour. */
export type Responder = (req: ReceivedRequest) => Reply | undefined | Promise<Reply | undefined>;

export interface ContractFailure {
  method: string;
  path: string;
  kind: ContractKind;
  errors: string[];
  /** The offending body (parsed JSON, or the raw text when it did not parse). */
  body: unknown;
}

export interface CollectorOptions {
  /** When set, any other `x-api-key` is answered 401. By default any non-empty key is accepted. */
  apiKey?: string;
  /** When set, any other `x-project-name` is answered 403. By default any non-empty name is accepted. */
  projectName?: string;
  /** An initial responder (same as calling `respond(fn)`). */
  respond?: Responder;
  /** Emulate the backend's 404 on `POST /traces/:id/spans` until that trace was accepted. Default false. */
  spansRequireTrace?: boolean;
}

export interface Collector {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  readonly url: string;
  readonly port: number;
  /** Every request received since start / the last `reset()`, in arrival order. */
  readonly requests: ReceivedRequest[];
  /** Contract violations seen on ingestion routes (whatever was answered); assert it is empty. */
  readonly contractFailures: ContractFailure[];
  /** Number of distinct TCP connections that carried the requests in `requests`. */
  readonly connections: number;
  /** Number of TCP connections currently open (idle keep-alive and stalled ones included). */
  readonly openSockets: number;
  /** Parsed bodies of the `POST /traces` answered 2xx, in arrival order (re-sends included). */
  traces(): TraceData[];
  /** Parsed bodies of the `POST /evaluations/trace-scores` answered 2xx. */
  scores(): TraceScoreData[];
  /** `POST /traces/:trace_id/spans` answered 2xx: the trace id and the span batch. */
  spanBatches(): { traceId: string; spans: SpanData[] }[];
  /** Scripts the answers: `fn` sees each request; returning undefined falls back to the default. `respond()` restores the default. */
  respond(fn?: Responder): void;
  /** Polls until `predicate(requests)` holds; rejects after `timeoutMs` with what was received. Resolves to `requests`. */
  waitFor(predicate: (requests: ReceivedRequest[]) => boolean, timeoutMs?: number): Promise<ReceivedRequest[]>;
  /** Forgets requests, contract failures and accepted traces, and restores the default responder (open sockets stay). */
  reset(): void;
  /** Stops listening and destroys every open socket (stalled ones included). Safe to call twice. */
  close(): Promise<void>;
}

const INGESTION_ROUTES: { method: string; pattern: RegExp; kind: ContractKind }[] = [
  { method: "POST", pattern: /^\/traces\/?$/, kind: "trace" },
  { method: "POST", pattern: /^\/traces\/([^/]+)\/spans\/?$/, kind: "spans" },
  { method: "POST", pattern: /^\/evaluations\/trace-scores\/?$/, kind: "score" },
];

function routeOf(method: string, path: string): { kind: ContractKind; traceId?: string } | undefined {
  for (const route of INGESTION_ROUTES) {
    const m = method === route.method ? route.pattern.exec(path) : null;
    if (m) return m[1] === undefined ? { kind: route.kind } : { kind: route.kind, traceId: decodeURIComponent(m[1]) };
  }
  return undefined;
}

function is2xx(r: ReceivedRequest): boolean {
  return r.outcome === "answered" && r.status !== undefined && r.status >= 200 && r.status < 300;
}

function decode(raw: Buffer, encoding: string | undefined): string {
  switch ((encoding ?? "").trim().toLowerCase()) {
    case "gzip":
    case "x-gzip":
      return gunzipSync(raw).toString("utf8");
    case "deflate":
      return inflateSync(raw).toString("utf8");
    case "br":
      return brotliDecompressSync(raw).toString("utf8");
    default:
      return raw.toString("utf8");
  }
}

function describeRequests(requests: ReceivedRequest[]): string {
  if (!requests.length) return "  (no requests)";
  return requests
    .map((r) => `  #${r.index} ${r.method} ${r.path} -> ${r.outcome === "answered" ? r.status : r.outcome} (socket ${r.socketId})`)
    .join("\n");
}

export async function startCollector(opts: CollectorOptions = {}): Promise<Collector> {
  let requests: ReceivedRequest[] = [];
  let contractFailures: ContractFailure[] = [];
  let acceptedTraceIds = new Set<string>();
  let responder: Responder | undefined = opts.respond;
  let closed = false;
  let nextSocketId = 1;
  const sockets = new Set<Socket>();
  const socketIds = new WeakMap<Socket, number>();

  function send(res: ServerResponse, rec: ReceivedRequest, status: number, body?: unknown, headers: Record<string, string> = {}): void {
    rec.outcome = "answered";
    rec.status = status;
    rec.responseBody = body;
    const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
    let payload = "";
    if (body !== undefined) {
      if (typeof body === "string") {
        payload = body;
        lower["content-type"] ??= "text/plain; charset=utf-8";
      } else {
        payload = JSON.stringify(body);
        lower["content-type"] ??= "application/json";
      }
    }
    lower["content-length"] = String(Buffer.byteLength(payload));
    if (!res.headersSent) res.writeHead(status, lower);
    res.end(payload);
  }

  function defaultReply(rec: ReceivedRequest): Reply {
    const key = rec.headers["x-api-key"];
    if (!key) return { status: 401, body: { detail: "Missing X-API-Key header" } };
    if (opts.apiKey !== undefined && key !== opts.apiKey) return { status: 401, body: { detail: "Invalid API key" } };
    const project = rec.headers["x-project-name"];
    if (!project) return { status: 400, body: { detail: "Missing X-Project-Name header" } };
    if (opts.projectName !== undefined && project !== opts.projectName) {
      return { status: 403, body: { detail: `Unexpected project ${JSON.stringify(project)}` } };
    }

    const route = routeOf(rec.method, rec.path);
    if (route) {
      if (rec.json === undefined) {
        return {
          status: 422,
          body: { detail: "Validation error", errors: [{ field: "body", message: "body is not valid JSON" }] },
        };
      }
      const errors = contractErrorObjects(route.kind, rec.json);
      if (errors.length) {
        return {
          status: 422,
          body: {
            detail: "Validation error",
            errors: errors.map((e) => ({ field: contractErrorField(e), message: formatContractError(e) })),
          },
        };
      }
      if (route.kind === "trace") {
        return { status: 202, body: { trace_id: (rec.json as TraceData).trace_id, task_id: `task-${randomUUID()}` } };
      }
      if (route.kind === "spans") {
        if (opts.spansRequireTrace && !acceptedTraceIds.has(route.traceId ?? "")) {
          return { status: 404, body: { detail: `Trace ${route.traceId} not found` } };
        }
        return { status: 201, body: { span_ids: (rec.json as SpanData[]).map((s) => s.span_id) } };
      }
      const score = rec.json as TraceScoreData;
      const now = new Date().toISOString();
      return {
        status: 201,
        body: {
          id: randomUUID(),
          trace_id: score.trace_id,
          name: score.name,
          value: score.value,
          status: "SUCCESS",
          source: score.source,
          created_at: now,
          project_id: randomUUID(),
          data_type: score.data_type,
          eval_run_id: null,
          author_user_id: null,
          reason: score.reason ?? null,
          environment: null,
          config_id: null,
          metadata: score.metadata ?? {},
          updated_at: now,
        },
      };
    }
    if (rec.method === "PATCH" && /^\/traces\/[^/]+(\/spans\/[^/]+)?\/?$/.test(rec.path)) return { status: 200, body: {} };
    return { status: 404, body: { detail: "Not Found" } };
  }

  async function handle(req: IncomingMessage, res: ServerResponse, raw: Buffer): Promise<void> {
    const url = req.url ?? "/";
    const path = url.split("?")[0] ?? "/";
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(", ") : v;
    }
    let body: string;
    try {
      body = decode(raw, headers["content-encoding"]);
    } catch {
      body = raw.toString("utf8");
    }
    let json: unknown;
    if (body.length) {
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
    }
    const method = (req.method ?? "GET").toUpperCase();
    const route = routeOf(method, path);
    const rec: ReceivedRequest = {
      index: requests.length,
      method,
      path,
      url,
      headers,
      body,
      json,
      contractErrors: [],
      socketId: socketIds.get(req.socket) ?? 0,
      receivedAt: Date.now(),
      outcome: "pending",
    };
    if (route) {
      rec.contract = route.kind;
      rec.contractErrors = json === undefined ? ["/ body is not valid JSON"] : contractErrorObjects(route.kind, json).map(formatContractError);
      if (rec.contractErrors.length) {
        contractFailures.push({ method, path, kind: route.kind, errors: rec.contractErrors, body: json ?? body });
      }
    }
    requests.push(rec);

    let reply: Reply | undefined;
    try {
      reply = responder ? await responder(rec) : undefined;
    } catch (error) {
      reply = { status: 500, body: { detail: `collector responder threw: ${String(error)}` } };
    }
    reply ??= defaultReply(rec);

    if ("drop" in reply) {
      rec.outcome = "dropped";
      req.socket.destroy();
      return;
    }
    if ("stall" in reply) {
      rec.outcome = "stalled";
      return;
    }
    if (route?.kind === "trace" && reply.status >= 200 && reply.status < 300) {
      const id = (json as { trace_id?: unknown } | undefined)?.trace_id;
      if (typeof id === "string") acceptedTraceIds.add(id);
    }
    send(res, rec, reply.status, reply.body, reply.headers);
  }

  const server: Server = createServer({ keepAlive: true }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("error", () => {});
    req.on("end", () => {
      handle(req, res, Buffer.concat(chunks)).catch((error: unknown) => {
        if (!res.headersSent && !res.destroyed) {
          res.writeHead(500, { "content-type": "application/json" });
          res.end(JSON.stringify({ detail: `collector error: ${String(error)}` }));
        }
      });
    });
  });
  server.keepAliveTimeout = 30_000;
  server.on("connection", (socket: Socket) => {
    socketIds.set(socket, nextSocketId++);
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  server.on("clientError", (_error, socket) => socket.destroy());

  await new Promise<void>((resolveListen, rejectListen) => {
    server.once("error", rejectListen);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", rejectListen);
      resolveListen();
    });
  });
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("collector: unexpected server address");
  const port = address.port;

  const accepted = (kind: ContractKind) => requests.filter((r) => r.contract === kind && is2xx(r));

  const collector: Collector = {
    url: `http://127.0.0.1:${port}`,
    port,
    get requests() {
      return requests;
    },
    get contractFailures() {
      return contractFailures;
    },
    get connections() {
      return new Set(requests.map((r) => r.socketId)).size;
    },
    get openSockets() {
      return sockets.size;
    },
    traces: () => accepted("trace").map((r) => r.json as TraceData),
    scores: () => accepted("score").map((r) => r.json as TraceScoreData),
    spanBatches: () =>
      accepted("spans").map((r) => ({
        traceId: routeOf(r.method, r.path)?.traceId ?? "",
        spans: r.json as SpanData[],
      })),
    respond(fn?: Responder) {
      responder = fn;
    },
    async waitFor(predicate, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      let lastError: unknown;
      for (;;) {
        try {
          if (predicate(requests)) return requests;
          lastError = undefined;
        } catch (error) {
          lastError = error;
        }
        if (Date.now() >= deadline) {
          const why = lastError === undefined ? "" : `\nlast predicate error: ${String(lastError)}`;
          throw new Error(
            `collector.waitFor: condition not met within ${timeoutMs} ms (${requests.length} request(s) received):\n` +
              `${describeRequests(requests)}${why}`,
          );
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    reset() {
      requests = [];
      contractFailures = [];
      acceptedTraceIds = new Set();
      responder = undefined;
    },
    async close() {
      if (closed) return;
      closed = true;
      const done = new Promise<void>((r) => server.close(() => r()));
      const socketsClosed = [...sockets].map((socket) => new Promise<void>((r) => socket.once("close", () => r())));
      server.closeAllConnections();
      for (const socket of sockets) socket.destroy();
      await Promise.all([done, ...socketsClosed]);
    },
  };
  return collector;
}
