import { createServer, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createHttp1Pool, type Answer } from "../../src/export/http1-pool.js";

/**
 * The pool reads answers byte by byte as servers may send them: split anywhere, chunked, ended by
 * the connection, preceded by interim answers. A raw TCP server writes each answer exactly.
 */

const servers: Server[] = [];
const sockets: Socket[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  for (const server of servers.splice(0)) await new Promise<void>((resolve) => server.close(() => resolve()));
});

interface RawServer {
  port: number;
  /** Connections accepted so far. */
  connections: () => number;
}

/** Answers each request (read up to its body's Content-Length) with `answer(n)`'s pieces, written apart. */
async function rawServer(answer: (n: number, socket: Socket) => string[]): Promise<RawServer> {
  let requests = 0;
  let connections = 0;
  const server = createServer((socket) => {
    connections++;
    sockets.push(socket);
    let buffered = "";
    socket.setEncoding("latin1");
    socket.on("error", () => {});
    socket.on("data", async (text: string) => {
      buffered += text;
      for (;;) {
        const end = buffered.indexOf("\r\n\r\n");
        if (end < 0) return;
        const length = Number(/content-length: (\d+)/i.exec(buffered.slice(0, end))?.[1] ?? 0);
        if (buffered.length < end + 4 + length) return;
        buffered = buffered.slice(end + 4 + length);
        for (const piece of answer(++requests, socket)) {
          if (socket.destroyed) return;
          socket.write(piece, "latin1");
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      }
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { port: (server.address() as AddressInfo).port, connections: () => connections };
}

const head = "POST /traces HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n";

function send(port: number, keep = true, maxSockets = 1) {
  const pool = createHttp1Pool({ secure: false, host: "127.0.0.1", port, maxSockets, cap: 2048 });
  return () =>
    new Promise<{ error?: Error; answer?: Answer; reused: boolean }>((resolve) =>
      pool.request(head, "{}", () => keep, (error, answer, reused) => resolve({ error, answer, reused })),
    );
}

describe("the HTTP/1.1 pool", () => {
  it("reads a Content-Length answer split inside its head and body, then reuses the connection", async () => {
    const server = await rawServer(() => ["HTTP/1.1 202 Acc", "epted\r\nContent-Length: 5\r\n\r", "\nab", "cde"]);
    const request = send(server.port);

    const first = await request();
    const second = await request();

    expect(first.answer).toMatchObject({ status: 202, statusText: "Accepted", cut: false });
    expect(first.answer!.body!.toString()).toBe("abcde");
    expect([first.reused, second.reused]).toEqual([false, true]);
    expect(second.answer!.body!.toString()).toBe("abcde");
    expect(server.connections()).toBe(1);
  });

  it("reads a chunked answer with extensions and trailers, split across writes", async () => {
    const server = await rawServer(() => [
      "HTTP/1.1 500 Internal Server Error\r\nTransfer-Encoding: chunked\r\n\r\n4;x=y\r\n{\"de",
      "\r\n",
      "9\r\ntail\":\"x\"\r\n0\r\nTrailer: t\r",
      "\n\r\n",
    ]);
    const request = send(server.port);

    const first = await request();
    const second = await request();

    expect(first.answer!.status).toBe(500);
    expect(first.answer!.body!.toString()).toBe('{"detail":"x"');
    expect(second.reused).toBe(true);
    expect(server.connections()).toBe(1);
  });

  it("skips interim answers and reads the final one", async () => {
    const server = await rawServer(() => ["HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"]);

    const { answer } = await send(server.port)();

    expect(answer).toMatchObject({ status: 200, cut: false });
  });

  it("reads a body ended by the connection, and opens a new connection for the next request", async () => {
    const server = await rawServer((_n, socket) => {
      setTimeout(() => socket.end(), 30);
      return ["HTTP/1.1 503 Service Unavailable\r\nRetry-After: 7\r\n\r\n", "busy"];
    });
    const request = send(server.port);

    const first = await request();
    const second = await request();

    expect(first.answer).toMatchObject({ status: 503, headers: { "retry-after": "7" }, cut: false });
    expect(first.answer!.body!.toString()).toBe("busy");
    expect(second.reused).toBe(false);
    expect(server.connections()).toBe(2);
  });

  it("does not reuse a connection the server said it closes", async () => {
    const server = await rawServer(() => ["HTTP/1.1 202 Accepted\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"]);
    const request = send(server.port);

    await request();
    const second = await request();

    expect(second.reused).toBe(false);
    expect(server.connections()).toBe(2);
  });

  it("keeps only `cap` bytes of a long body and drops the connection rather than read the rest", async () => {
    const server = await rawServer(() => [`HTTP/1.1 500 Oops\r\nContent-Length: 100000\r\n\r\n${"x".repeat(100_000)}`]);
    const request = send(server.port);

    const first = await request();
    const second = await request();

    expect(first.answer).toMatchObject({ status: 500, cut: true });
    expect(first.answer!.body!.length).toBe(2048);
    expect(second.reused).toBe(false);
  });

  it("fails an answer it cannot read as a protocol error, and an answer cut before its status as a hang-up", async () => {
    const garbled = await rawServer(() => ["SMTP ready\r\n\r\n"]);
    const cut = await rawServer((_n, socket) => {
      setTimeout(() => socket.destroy(), 10);
      return ["HTTP/1.1 2"];
    });

    const bad = await send(garbled.port)();
    const hungUp = await send(cut.port)();

    expect(bad.answer).toBeUndefined();
    expect((bad.error as Error & { code?: string }).code).toBe("HPE_INVALID");
    expect(hungUp.answer).toBeUndefined();
    expect((hungUp.error as Error & { code?: string }).code).toBe("ECONNRESET");
  });

  it("gives a request waiting for a connection the next one freed, within maxSockets", async () => {
    const server = await rawServer(() => ["HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"]);
    const request = send(server.port, false, 2);

    const results = await Promise.all(Array.from({ length: 6 }, () => request()));

    expect(results.every((r) => r.answer?.status === 202)).toBe(true);
    expect(server.connections()).toBe(2);
  });
});
