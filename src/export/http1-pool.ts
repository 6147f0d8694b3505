import { AsyncResource } from "node:async_hooks";
import * as net from "node:net";
import * as tls from "node:tls";

/**
 * A small HTTP/1.1 client for one origin: a pool of keep-alive connections, one request at a time
 * on each. It exists for its cost: the exporter sends one request per trace, and node:http's
 * ClientRequest, Agent and IncomingMessage machinery costs about twice what the socket write and
 * read cost. It does only what the exporter needs: send a request it was given as text, and read
 * the answer's status, headers and (when asked) a capped body. Whatever it does not understand
 * ends the exchange as a protocol error and closes the connection; a connection is reused only
 * after an answer it read to its exact end.
 */

export interface Answer {
  status: number;
  statusText: string;
  /** Lower-cased names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  /** The body's first bytes, when the exchange was asked to keep them. */
  body: Buffer | undefined;
  /** The body ended before its end (timeout, reset): the status is still what the server said. */
  cut: boolean;
}

export interface Exchange {
  /** Ends the exchange now (a deadline): its callback gets `error` unless the answer came. */
  abort(error: Error): void;
}

/**
 * `reused`: the request went out on a connection that carried one before, so a reset before any
 * answer may be the server's idle timeout racing this request.
 */
export type Done = (error: Error | undefined, answer: Answer | undefined, reused: boolean) => void;

export interface Http1Pool {
  /**
   * Sends `head` (request line and headers, ended by an empty line; latin1) then `body` (UTF-8).
   * `keepBody(status)` says whether to keep up to `cap` bytes of the answer's body; once that many
   * are kept the exchange ends and the connection is closed rather than drained.
   */
  request(head: string, body: string, keepBody: (status: number) => boolean, done: Done): Exchange;
}

export interface Http1PoolOptions {
  secure: boolean;
  host: string;
  port: number;
  maxSockets: number;
  /** Body bytes kept for an answer whose body is wanted. */
  cap: number;
}

const CRLF2 = Buffer.from("\r\n\r\n");
const STATUS_LINE = /^HTTP\/1\.([01]) (\d{3})(?: ([^\r\n]*))?$/;
const ASCII = /^[\x00-\x7f]*$/;

/** The error node:http gives for a connection that ended before its answer. */
function hangUp(): Error {
  return Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
}

function protocolError(message: string): Error {
  return Object.assign(new Error(`invalid HTTP response: ${message}`), { code: "HPE_INVALID" });
}

interface Conn {
  socket: net.Socket;
  current: Reader | undefined;
  closed: boolean;
}

/** How the body of an answer is delimited. */
type Framing = { kind: "none" } | { kind: "length"; left: number } | { kind: "chunked" } | { kind: "close" };

/** Reads one answer from a connection's bytes. */
interface Reader {
  data(chunk: Buffer): void;
  /** The connection ended (or failed) while this answer was being read. */
  closed(error: Error | undefined): void;
}

export function createHttp1Pool(options: Http1PoolOptions): Http1Pool {
  const { secure, host, port, maxSockets, cap } = options;
  const idle: Conn[] = [];
  const waiting: ((conn: Conn, reused: boolean) => void)[] = [];
  let open = 0;
  // Connections are opened in the pool's own async context, not in the one of the trace whose
  // request needed it: a socket keeps the context it was made in (AsyncLocalStorage) for its life.
  const scope = new AsyncResource("pandaprobe.http1-pool");

  const connect = (): Conn => {
    const socket = scope.runInAsyncScope(() =>
      secure
        ? tls.connect({ host, port, servername: net.isIP(host) ? undefined : host, ALPNProtocols: ["http/1.1"] })
        : net.connect({ host, port }),
    );
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 1000);
    const conn: Conn = { socket, current: undefined, closed: false };
    open++;
    let failure: Error | undefined;
    socket.on("data", (chunk: Buffer) => {
      if (conn.current) conn.current.data(chunk);
      // Bytes nobody asked for: the connection's framing is lost.
      else socket.destroy();
    });
    socket.on("error", (error) => (failure = error));
    // The server ended its side: a close-delimited body is complete, anything else is cut.
    socket.on("end", () => conn.current?.closed(undefined));
    socket.on("close", () => {
      conn.closed = true;
      open--;
      const index = idle.indexOf(conn);
      if (index >= 0) idle.splice(index, 1);
      conn.current?.closed(failure ?? hangUp());
      conn.current = undefined;
      // A slot was freed: someone waiting for one gets a new connection.
      const next = waiting.shift();
      if (next) next(connect(), false);
    });
    return conn;
  };

  /** A connection for the next request: an idle one (most recently used first), a new one, or the next one freed. */
  const acquire = (use: (conn: Conn, reused: boolean) => void) => {
    const conn = idle.pop();
    if (conn) use(conn, true);
    else if (open < maxSockets) use(connect(), false);
    else waiting.push(use);
  };

  const release = (conn: Conn, reusable: boolean) => {
    conn.current = undefined;
    if (!reusable || conn.closed) {
      conn.socket.destroy();
      return;
    }
    const next = waiting.shift();
    if (next) return next(conn, true);
    // An idle pooled connection never holds the process open.
    conn.socket.unref();
    idle.push(conn);
  };

  return {
    request(head, body, keepBody, done) {
      let finished = false;
      let conn: Conn | undefined;
      let reused = false;
      let abortedWith: Error | undefined;
      const finish = (error: Error | undefined, answer: Answer | undefined, reusable: boolean) => {
        if (finished) return;
        finished = true;
        if (conn) release(conn, reusable && error === undefined);
        done(error, answer, reused);
      };

      acquire((c, wasReused) => {
        if (finished || abortedWith) {
          // Aborted while waiting for a connection: hand it on untouched.
          if (wasReused) release(c, true);
          else c.socket.destroy();
          return;
        }
        conn = c;
        reused = wasReused;
        c.socket.ref();
        c.current = reader(keepBody, cap, finish);
        if (ASCII.test(head)) c.socket.write(head + body);
        else {
          c.socket.cork();
          c.socket.write(head, "latin1");
          c.socket.write(body);
          c.socket.uncork();
        }
      });

      return {
        abort(error) {
          if (finished) return;
          abortedWith = error;
          if (!conn) return finish(error, undefined, false);
          // The reader reports what it has (a status already read) or this error.
          conn.current?.closed(error);
          conn.socket.destroy();
        },
      };
    },
  };
}

/** Reads one answer: skips 1xx heads, parses the head, then follows the body's framing to its end. */
function reader(keepBody: (status: number) => boolean, cap: number, finish: (error: Error | undefined, answer: Answer | undefined, reusable: boolean) => void): Reader {
  let pending: Buffer | undefined;
  let answer: Answer | undefined;
  let framing: Framing = { kind: "none" };
  let keep = false;
  let reusable = false;
  const kept: Buffer[] = [];
  let keptBytes = 0;
  /** Chunked bodies: bytes of the current chunk still to come, or -1 while reading a size or trailer line. */
  let chunkLeft = -1;
  let inTrailers = false;
  let done = false;

  const end = (error: Error | undefined, cut: boolean) => {
    if (done) return;
    done = true;
    if (answer) {
      answer.body = keep ? Buffer.concat(kept, keptBytes) : undefined;
      answer.cut = cut;
      // The status line was read: that is the answer, whatever happened to its body.
      return finish(undefined, answer, !cut && error === undefined && reusable);
    }
    finish(error ?? hangUp(), undefined, false);
  };

  const take = (bytes: Buffer) => {
    if (!keep || bytes.length === 0) return;
    const room = cap - keptBytes;
    const part = bytes.length > room ? bytes.subarray(0, room) : bytes;
    kept.push(part);
    keptBytes += part.length;
    // Enough to explain the answer: the rest is not worth reading, and the connection is dropped.
    if (keptBytes >= cap) end(undefined, true);
  };

  /** Parses the final head in `buf`; returns the bytes after it, or undefined (kept as pending) while it is incomplete. */
  const parseHead = (buf: Buffer): Buffer | undefined => {
    for (;;) {
      const at = buf.indexOf(CRLF2);
      if (at < 0) {
        if (buf.length > 65_536) throw protocolError("head too large");
        pending = buf.length > 0 ? buf : undefined;
        return undefined;
      }
      const lines = buf.toString("latin1", 0, at).split("\r\n");
      const status = STATUS_LINE.exec(lines[0]!);
      if (!status) throw protocolError("status line");
      const code = Number(status[2]);
      buf = buf.subarray(at + 4);
      if (code === 101) throw protocolError("unexpected protocol switch");
      // An interim answer (100 Continue, 103 Early Hints): the final one follows.
      if (code < 200) continue;
      const headers: Record<string, string> = Object.create(null);
      for (let i = 1; i < lines.length; i++) {
        const line = lines[i]!;
        const colon = line.indexOf(":");
        if (colon <= 0) throw protocolError("header line");
        const name = line.slice(0, colon).trim().toLowerCase();
        const value = line.slice(colon + 1).trim();
        headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
      }
      answer = { status: code, statusText: status[3] ?? "", headers, body: undefined, cut: false };
      keep = keepBody(code);
      reusable = status[1] === "1" && !/(^|,)\s*close\s*(,|$)/i.test(headers["connection"] ?? "");
      const coding = headers["transfer-encoding"];
      const length = headers["content-length"];
      if (code === 204 || code === 304) framing = { kind: "none" };
      else if (coding !== undefined) framing = /(^|,)\s*chunked\s*$/i.test(coding) ? { kind: "chunked" } : { kind: "close" };
      else if (length !== undefined) {
        if (!/^\d+$/.test(length)) throw protocolError("content-length");
        framing = { kind: "length", left: Number(length) };
      } else framing = { kind: "close" };
      if (framing.kind === "close") reusable = false;
      return buf;
    }
  };

  /** Follows a chunked body through `buf`; true once its last chunk and trailers were read. */
  const chunked = (buf: Buffer): boolean => {
    let at = 0;
    while (at < buf.length) {
      if (chunkLeft > 0) {
        const n = Math.min(chunkLeft, buf.length - at);
        take(buf.subarray(at, at + n));
        if (done) return true;
        at += n;
        chunkLeft -= n;
        continue;
      }
      // A size line, the CRLF after a chunk's data, or a trailer line.
      const eol = buf.indexOf("\r\n", at);
      if (eol < 0) {
        pending = buf.subarray(at);
        return false;
      }
      const line = buf.toString("latin1", at, eol);
      at = eol + 2;
      if (chunkLeft === 0) {
        if (line !== "") throw protocolError("chunk end");
        chunkLeft = -1;
      } else if (inTrailers) {
        if (line === "") {
          if (at < buf.length) reusable = false;
          return true;
        }
      } else {
        const size = /^([0-9a-fA-F]{1,8})\s*(;.*)?$/.exec(line);
        if (!size) throw protocolError("chunk size");
        const n = parseInt(size[1]!, 16);
        if (n === 0) inTrailers = true;
        else chunkLeft = n;
      }
    }
    pending = undefined;
    return false;
  };

  const body = (buf: Buffer) => {
    switch (framing.kind) {
      case "none":
        if (buf.length > 0) reusable = false;
        return end(undefined, false);
      case "length": {
        const n = Math.min(framing.left, buf.length);
        take(buf.subarray(0, n));
        framing.left -= n;
        if (buf.length > n) reusable = false;
        if (framing.left === 0) end(undefined, false);
        return;
      }
      case "chunked":
        if (chunked(buf)) end(undefined, false);
        return;
      case "close":
        take(buf);
    }
  };

  return {
    data(chunk) {
      if (done) return;
      const buf = pending ? Buffer.concat([pending, chunk]) : chunk;
      pending = undefined;
      try {
        if (answer === undefined) {
          const rest = parseHead(buf);
          if (rest !== undefined) body(rest);
        } else body(buf);
      } catch (error) {
        end(error as Error, true);
      }
    },
    closed(error) {
      // The end of a close-delimited body is its connection's end.
      if (answer && framing.kind === "close" && error === undefined) return end(undefined, false);
      end(error ?? hangUp(), true);
    },
  };
}
