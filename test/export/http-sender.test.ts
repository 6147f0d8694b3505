import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { afterEach, describe, expect, it, vi } from "vitest";
import { PandaProbeError } from "../../src/base/errors.js";
import { createBrowserHttpSender, createHttpSender, type HttpSenderOptions, type Send, type SendResult } from "../../src/export/http-sender.js";
import { createNodeHttpSender } from "../../src/export/node-http-sender.js";

const API_KEY = "sk_pp_test_DO_NOT_LEAK_0123456789";
const headers = { "X-API-Key": API_KEY, "X-Project-Name": "sdk-tests" };
const envelope = { path: "/traces", body: JSON.stringify({ trace_id: "t-1", name: "run" }) };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

interface Received {
  method: string | undefined;
  url: string | undefined;
  headers: IncomingMessage["headers"];
  body: string;
  /** The TCP connection that carried it (1, 2, ...). */
  socket: number;
  /** How many requests that connection had carried before this one. */
  before: number;
}

interface TestServer {
  endpoint: string;
  received: Received[];
  connections: () => number;
}

const servers: Server[] = [];

/** A real server on 127.0.0.1 that records what it receives, then lets `handler` answer. */
async function startServer(handler: (req: IncomingMessage, res: ServerResponse, received: Received) => void): Promise<TestServer> {
  const received: Received[] = [];
  const sockets = new Map<Socket, { id: number; carried: number }>();
  const server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => (body += chunk));
    req.on("end", () => {
      const socket = sockets.get(req.socket)!;
      const rec = { method: req.method, url: req.url, headers: req.headers, body, socket: socket.id, before: socket.carried++ };
      received.push(rec);
      handler(req, res, rec);
    });
  });
  server.on("connection", (socket: Socket) => sockets.set(socket, { id: sockets.size + 1, carried: 0 }));
  const connections = () => sockets.size;
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { endpoint: `http://127.0.0.1:${port}`, received, connections };
}

afterEach(async () => {
  vi.unstubAllEnvs();
  vi.unstubAllGlobals();
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

function json(res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void {
  res.writeHead(status, { "Content-Type": "application/json", ...extra });
  res.end(JSON.stringify(body));
}

function failure(result: SendResult) {
  if (result.ok) throw new Error(`expected a failure, got ${result.status}`);
  return result;
}

type SenderOptions = Omit<HttpSenderOptions, "fetch">;

/** The two Node senders keep one contract: the fetch one (a `fetch` option) and node:http's (the default). */
const senders: [string, (options: SenderOptions) => Send][] = [
  ["createHttpSender (fetch)", (options) => createHttpSender(options)],
  ["createNodeHttpSender (node:http keep-alive agent)", (options) => createNodeHttpSender({ ...options, maxSockets: 4 })],
];

/** undici hands a drained socket back to its pool on the next event-loop turn; node:http's agent at once. */
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe.each(senders)("%s against a real HTTP server", (_name, create) => {
  it("POSTs the body to endpoint + path and reports 202 as ok", async () => {
    const server = await startServer((_req, res) => json(res, 202, { trace_id: "t-1", task_id: "task-1" }));
    // Trailing slashes on the endpoint are tolerated, as the Python SDK's rstrip("/") does.
    const send = create({ endpoint: `${server.endpoint}//`, headers, timeoutMs: 2_000 });

    await expect(send(envelope)).resolves.toEqual({ ok: true, status: 202 });

    expect(server.received).toHaveLength(1);
    const [req] = server.received;
    expect(req!.method).toBe("POST");
    expect(req!.url).toBe("/traces");
    expect(req!.body).toBe(envelope.body);
    expect(req!.headers["content-type"]).toBe("application/json");
  });

  it("sends the headers plus a fresh UUID X-Request-ID per request", async () => {
    const server = await startServer((_req, res) => json(res, 202, {}));
    const send = create({ endpoint: server.endpoint, headers, timeoutMs: 2_000 });

    await send(envelope);
    await send(envelope);

    const [first, second] = server.received.map((r) => r.headers);
    expect(first!["x-api-key"]).toBe(API_KEY);
    expect(second!["x-project-name"]).toBe("sdk-tests");
    expect(first!["x-request-id"]).toMatch(UUID);
    expect(second!["x-request-id"]).toMatch(UUID);
    expect(first!["x-request-id"]).not.toBe(second!["x-request-id"]);
  });

  it("reports 422 as non-retryable with the field errors in the message", async () => {
    const server = await startServer((_req, res) =>
      json(res, 422, {
        detail: "Validation failed",
        errors: [
          { field: "name", message: "String should have at least 1 character" },
          { field: "spans.0.kind", message: "Input should be 'AGENT', 'TOOL' or 'LLM'" },
        ],
      }),
    );
    const send = create({ endpoint: server.endpoint, headers, timeoutMs: 2_000 });

    const result = failure(await send(envelope));

    expect(result.retryable).toBe(false);
    expect(result.status).toBe(422);
    expect(result.error).toBeInstanceOf(PandaProbeError);
    expect(result.error.code).toBe("http_error");
    expect(result.error.status).toBe(422);
    expect(result.error.message).toContain("422");
    expect(result.error.message).toContain("Validation failed");
    expect(result.error.message).toContain("name: String should have at least 1 character");
    expect(result.error.message).toContain("spans.0.kind: Input should be");
  });

  it("reports 429 as retryable with Retry-After in milliseconds", async () => {
    const server = await startServer((_req, res) => json(res, 429, { detail: "Rate limit exceeded" }, { "Retry-After": "2" }));
    const send = create({ endpoint: server.endpoint, headers, timeoutMs: 2_000 });

    const result = failure(await send(envelope));

    expect(result).toMatchObject({ retryable: true, status: 429, retryAfterMs: 2_000 });
    expect(result.error.message).toContain("Rate limit exceeded");
  });

  it("does not follow a redirect: a login page or a moved endpoint is a non-retryable http_error, not a delivery", async () => {
    const server = await startServer((req, res) => {
      if (req.url === "/login") {
        res.writeHead(200, { "Content-Type": "text/html" });
        res.end("<html>sign in</html>");
        return;
      }
      res.writeHead(302, { Location: "/login" });
      res.end();
    });
    const send = create({ endpoint: server.endpoint, headers, timeoutMs: 2_000 });

    const result = failure(await send(envelope));

    expect(result).toMatchObject({ retryable: false, status: 302 });
    expect(result.error).toMatchObject({ code: "http_error", status: 302 });
    expect(result.error.message).toContain("redirected (HTTP 302) to /login");
    expect(server.received.map((r) => r.url)).toEqual(["/traces"]);
  });

  it("reports 503 as retryable, without retryAfterMs when the header is absent", async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(503, { "Content-Type": "text/html" });
      res.end("<html>upstream unavailable</html>");
    });
    const send = create({ endpoint: server.endpoint, headers, timeoutMs: 2_000 });

    const result = failure(await send(envelope));

    expect(result).toMatchObject({ retryable: true, status: 503 });
    expect(result).not.toHaveProperty("retryAfterMs");
    // A body that is not JSON is quoted, not parsed.
    expect(result.error.message).toContain("upstream unavailable");
  });

  it.each([401, 403, 404])("reports %i as non-retryable", async (status) => {
    const server = await startServer((_req, res) => json(res, status, { detail: "nope" }));
    const send = create({ endpoint: server.endpoint, headers, timeoutMs: 2_000 });

    expect(failure(await send(envelope))).toMatchObject({ retryable: false, status });
  });

  it("caps a huge non-JSON error body and does not throw", async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(500, { "Content-Type": "text/plain" });
      res.end("x".repeat(1_000_000));
    });
    const send = create({ endpoint: server.endpoint, headers, timeoutMs: 2_000 });

    const result = failure(await send(envelope));

    expect(result).toMatchObject({ retryable: true, status: 500 });
    expect(result.error.message.length).toBeLessThan(500);
  });

  it("reports a dropped connection as a retryable network_error", async () => {
    const server = await startServer((req) => req.socket.destroy());
    const send = create({ endpoint: server.endpoint, headers, timeoutMs: 2_000 });

    const result = failure(await send(envelope));

    expect(result.retryable).toBe(true);
    expect(result.status).toBeUndefined();
    expect(result.error.code).toBe("network_error");
    // A fresh connection is not a stale one: the exporter's backoff decides when to try again.
    expect(server.received).toHaveLength(1);
  });

  it("reports a refused connection as a retryable network_error", async () => {
    const server = await startServer(() => {});
    const endpoint = server.endpoint;
    const closing = servers.pop()!;
    await new Promise<void>((resolve) => closing.close(() => resolve()));
    const send = create({ endpoint, headers, timeoutMs: 2_000 });

    const result = failure(await send(envelope));

    expect(result).toMatchObject({ retryable: true });
    expect(result.error.code).toBe("network_error");
  });

  it("gives up on a stalled server after timeoutMs and calls it retryable", async () => {
    const server = await startServer(() => {
      // Never answers.
    });
    const send = create({ endpoint: server.endpoint, headers, timeoutMs: 200 });

    const started = performance.now();
    const result = failure(await send(envelope));
    const elapsed = performance.now() - started;

    expect(result.retryable).toBe(true);
    expect(result.error.code).toBe("network_error");
    expect(result.error.message).toContain("timed out after 200 ms");
    expect(elapsed).toBeGreaterThanOrEqual(190);
    expect(elapsed).toBeLessThan(2_000);
  });

  it("times out a response whose body stalls after the headers", async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(500, { "Content-Type": "application/json" });
      res.write('{"detail": "par');
      // The rest never comes.
    });
    const send = create({ endpoint: server.endpoint, headers, timeoutMs: 200 });

    const started = performance.now();
    const result = failure(await send(envelope));

    expect(performance.now() - started).toBeLessThan(2_000);
    expect(result).toMatchObject({ retryable: true, status: 500 });
  });

  it("reuses one keep-alive connection for sequential sends, on success and on error", async () => {
    let n = 0;
    const server = await startServer((_req, res) =>
      ++n === 2
        ? json(res, 422, { detail: "bad", errors: [{ field: "name", message: "too long" }] })
        : json(res, 202, { trace_id: "t", task_id: "k" }),
    );
    const send = create({ endpoint: server.endpoint, headers, timeoutMs: 2_000 });

    // "Sequential" means one turn apart here (see nextTurn). An undrained body larger than its
    // buffer would pin the socket instead.
    expect((await send(envelope)).ok).toBe(true);
    await nextTurn();
    expect((await send(envelope)).ok).toBe(false);
    await nextTurn();
    expect((await send(envelope)).ok).toBe(true);

    expect(server.received).toHaveLength(3);
    expect(server.connections()).toBe(1);
  });

  it("never puts the API key in an error message, even when the server echoes it", async () => {
    const server = await startServer((req, res) => {
      if (req.url === "/drop") return req.socket.destroy();
      if (req.url === "/stall") return;
      const key = String(req.headers["x-api-key"]);
      const status = Number(req.url!.slice(1));
      json(res, status, {
        detail: `Invalid API key ${key}`,
        errors: [{ field: "X-API-Key", message: `unknown key ${key}` }],
      });
    });
    const send = create({ endpoint: server.endpoint, headers, timeoutMs: 200 });

    const paths = ["/401", "/403", "/422", "/429", "/500", "/drop", "/stall"];
    const results = await Promise.all(paths.map((path) => send({ path, body: "{}" })));

    for (const result of results) {
      const { error } = failure(result);
      expect(error.message).not.toContain(API_KEY);
      expect(String(error.cause ?? "")).not.toContain(API_KEY);
    }
    // The echo itself is still visible, only the secret is masked.
    expect(failure(results[0]!).error.message).toContain("Invalid API key [redacted]");
  });


  it("POSTs to the endpoint's own path when it has one", async () => {
    const server = await startServer((_req, res) => json(res, 202, {}));
    const send = create({ endpoint: `${server.endpoint}/api/v1/`, headers, timeoutMs: 2_000 });

    await expect(send(envelope)).resolves.toEqual({ ok: true, status: 202 });
    expect(server.received.map((r) => r.url)).toEqual(["/api/v1/traces"]);
  });

  it("reports a header value no request may carry as a retryable network_error, without throwing", async () => {
    const server = await startServer((_req, res) => json(res, 202, {}));
    const send = create({ endpoint: server.endpoint, headers: { ...headers, "X-Project-Name": "two\nlines" }, timeoutMs: 2_000 });

    const result = failure(await send(envelope));

    expect(result).toMatchObject({ retryable: true, error: { code: "network_error" } });
    expect(server.received).toHaveLength(0);
  });

  it.each([
    ["closes", (socket: Socket) => socket.destroy()],
    ["resets", (socket: Socket) => socket.resetAndDestroy()],
  ])(
    "sends again at once, once, when the server %s a keep-alive connection as it is reused",
    async (_how, close) => {
      // The race of a server's idle timeout: the connection that served the last request is gone
      // by the time the next one arrives on it.
      const server = await startServer((req, res, rec) => (rec.before > 0 ? close(req.socket) : json(res, 202, {})));
      const send = create({ endpoint: server.endpoint, headers, timeoutMs: 2_000 });

      await expect(send(envelope)).resolves.toEqual({ ok: true, status: 202 });
      await nextTurn();
      await expect(send(envelope)).resolves.toEqual({ ok: true, status: 202 });

      // The second send met the closed connection, then went out again on a new one.
      expect(server.received.map((r) => [r.socket, r.before])).toEqual([
        [1, 0],
        [1, 1],
        [2, 0],
      ]);
      expect(server.received.map((r) => r.body)).toEqual([envelope.body, envelope.body, envelope.body]);
      const ids = server.received.map((r) => r.headers["x-request-id"]);
      expect(new Set(ids).size).toBe(3);
    },
  );

  it("sends again only once: a second failure is the exporter's to retry", async () => {
    let dropping = false;
    const server = await startServer((req, res) => (dropping ? req.socket.destroy() : json(res, 202, {})));
    const send = create({ endpoint: server.endpoint, headers, timeoutMs: 2_000 });
    await send(envelope);
    await nextTurn();
    dropping = true;

    const result = failure(await send(envelope));

    expect(result).toMatchObject({ retryable: true, error: { code: "network_error" } });
    expect(server.received.map((r) => r.before)).toEqual([0, 1, 0]);
  });
});

describe("createHttpSender", () => {
  it("uses an injected fetch and still never rejects when it throws", async () => {
    const send = createHttpSender({
      endpoint: "http://example.invalid",
      headers,
      timeoutMs: 2_000,
      fetch: () => Promise.reject(new TypeError("fetch failed")),
    });

    const result = failure(await send(envelope));

    expect(result).toMatchObject({ retryable: true });
    expect(result.error.code).toBe("network_error");
    expect(result.error.message).toContain("http://example.invalid/traces");
  });
});

describe("createNodeHttpSender", () => {
  it("keeps at most maxSockets connections, however many requests wait", async () => {
    let open = 0;
    let peak = 0;
    const answers: (() => void)[] = [];
    const server = await startServer((_req, res) => {
      peak = Math.max(peak, ++open);
      answers.push(() => {
        open--;
        json(res, 202, {});
      });
    });
    const send = createNodeHttpSender({ endpoint: server.endpoint, headers, timeoutMs: 10_000, maxSockets: 2 });

    const results = Promise.all(Array.from({ length: 6 }, () => send(envelope)));
    // Answer each request once it has arrived, so the next ones can only come over freed connections.
    for (let answeredCount = 0; answeredCount < 6; answeredCount++) {
      await vi.waitFor(() => expect(answers.length).toBeGreaterThan(0), { timeout: 5_000 });
      answers.shift()!();
    }

    expect((await results).every((r) => r.ok)).toBe(true);
    expect(peak).toBe(2);
    expect(server.connections()).toBe(2);
  });

  it("sends a key read with a trailing newline trimmed, as fetch does, and never shows it", async () => {
    const server = await startServer((req, res) => json(res, 401, { detail: `Invalid API key ${req.headers["x-api-key"]}` }));
    const send = createNodeHttpSender({ endpoint: server.endpoint, headers: { "X-API-Key": `${API_KEY}\n` }, timeoutMs: 2_000, maxSockets: 1 });

    const result = failure(await send(envelope));

    expect(server.received[0]!.headers["x-api-key"]).toBe(API_KEY);
    expect(result.error.message).toContain("Invalid API key [redacted]");
    expect(result.error.message).not.toContain(API_KEY);
  });

  it("sends again at once, once, also when both pooled connections turn out closed", async () => {
    let dropping = false;
    const server = await startServer((req, res, rec) => (dropping && rec.before > 0 ? req.socket.destroy() : json(res, 202, {})));
    const send = createNodeHttpSender({ endpoint: server.endpoint, headers, timeoutMs: 2_000, maxSockets: 2 });
    // Two connections in the pool.
    await Promise.all([send(envelope), send(envelope)]);
    dropping = true;

    const result = failure(await send(envelope));

    expect(result).toMatchObject({ retryable: true, error: { code: "network_error" } });
    // One request on each pooled connection, none on a third.
    expect(server.received.slice(2).map((r) => [r.socket, r.before])).toEqual([
      [2, 1],
      [1, 1],
    ]);
    expect(server.connections()).toBe(2);
  });
});

describe("createBrowserHttpSender", () => {
  const rejection = () =>
    startServer((_req, res) =>
      json(res, 422, { detail: `Invalid API key ${API_KEY}`, errors: [{ field: "name", message: "too long" }] }, { "Retry-After": "3" }),
    );

  it("in development, explains failures as fully as Node does", async () => {
    const server = await rejection();
    const send = createBrowserHttpSender({ endpoint: server.endpoint, headers, timeoutMs: 2_000 });

    const result = failure(await send(envelope));

    expect(result).toMatchObject({ retryable: false, status: 422, retryAfterMs: 3_000, error: { code: "http_error", status: 422 } });
    expect(result.error.message).toContain("Invalid API key [redacted]; name: too long");
  });

  it("in a production build, reports the code, status and Retry-After with a short message, without reading the body", async () => {
    vi.stubEnv("NODE_ENV", "production");
    const server = await rejection();
    const send = createBrowserHttpSender({ endpoint: server.endpoint, headers, timeoutMs: 2_000 });

    const result = failure(await send(envelope));

    expect(result).toMatchObject({ retryable: false, status: 422, retryAfterMs: 3_000, error: { code: "http_error", status: 422 } });
    expect(result.error.message).toBe(`POST ${server.endpoint}/traces: HTTP 422`);
    const refused = createBrowserHttpSender({
      endpoint: server.endpoint,
      headers,
      timeoutMs: 2_000,
      fetch: () => Promise.reject(new TypeError("fetch failed")),
    });
    expect(failure(await refused(envelope)).error).toMatchObject({
      code: "network_error",
      message: `POST ${server.endpoint}/traces: network error`,
      cause: new TypeError("fetch failed"),
    });
  });

  it("makes a v4 X-Request-ID from getRandomValues where randomUUID is missing (insecure browser contexts)", async () => {
    const server = await startServer((_req, res) => json(res, 202, {}));
    const { getRandomValues } = globalThis.crypto;
    vi.stubGlobal("crypto", { getRandomValues: getRandomValues.bind(globalThis.crypto) });
    const send = createBrowserHttpSender({ endpoint: server.endpoint, headers, timeoutMs: 2_000 });

    await send(envelope);
    await send(envelope);

    const ids = server.received.map((r) => r.headers["x-request-id"]);
    expect(ids).toEqual([expect.stringMatching(UUID), expect.stringMatching(UUID)]);
    expect(ids[0]).not.toBe(ids[1]);
  });
});
