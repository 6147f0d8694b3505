/**
 * What the IndexedDB queue tests need around a BrowserExporter: a fresh IndexedDB, a look into the
 * database from "another tab", real SDK trace bodies, the page's lifecycle events on globalThis,
 * and a port that refuses connections until it is switched on.
 */
import "fake-indexeddb/auto";
import { IDBFactory } from "fake-indexeddb";
import { createServer, type AddressInfo, type Server, connect } from "node:net";
import { Client, SpanKind } from "../../../src/index.js";
import { openIdbStore } from "../../../src/export/browser/idb-store.js";
import type { StoredRecord } from "../../../src/export/browser/store.js";
import type { Envelope } from "../../../src/export/types.js";
import type { TraceData } from "../../../src/wire/types.js";
import { validateTrace } from "../../support/contract.js";

/** A new, empty IndexedDB for the process: no database of an earlier test is visible. */
export function freshIndexedDB(): void {
  globalThis.indexedDB = new IDBFactory();
}

const LOOSE = { maxCount: Number.MAX_SAFE_INTEGER, maxBytes: Number.MAX_SAFE_INTEGER };

/** The records of the queue database, read through a connection of its own (as another tab would). */
export async function storedRecords(dbName: string): Promise<StoredRecord[]> {
  const store = await openIdbStore(dbName, LOOSE, () => {});
  try {
    return await store.oldest();
  } finally {
    store.close();
  }
}

/** The trace ids waiting in the queue database. */
export async function storedTraceIds(dbName: string): Promise<string[]> {
  return (await storedRecords(dbName)).map((r) => (JSON.parse(r.body) as TraceData).trace_id);
}

/** The `POST /traces` envelope of a real, ended SDK trace with one span, checked against the contract. */
export function traceEnvelope(name: string): Envelope & { traceId: string } {
  const envelopes: Envelope[] = [];
  const client = new Client({
    exporter: { enqueue: (e) => envelopes.push(e), flush: async () => {}, shutdown: async () => {} },
  });
  const trace = client.startTrace(name, { input: { messages: [{ role: "user", content: `run ${name}` }] } });
  trace.span("step", { kind: SpanKind.TOOL }).end();
  trace.end();
  const [envelope] = envelopes;
  if (!envelope || envelopes.length !== 1) throw new Error(`expected one envelope for ${name}`);
  validateTrace(JSON.parse(envelope.body));
  return { ...envelope, traceId: trace.traceId };
}

/** The ids of a list of trace bodies (sent or received). */
export function traceIds(bodies: { trace_id: string }[]): string[] {
  return bodies.map((b) => b.trace_id);
}

/**
 * Gives globalThis the window's event methods (Node has none), so the exporter can listen for
 * `online` and `pagehide`; `restore()` takes them away again.
 */
export function windowEvents(): { dispatch(type: string): void; restore(): void } {
  const target = new EventTarget();
  const win = globalThis as unknown as Record<string, unknown>;
  win.addEventListener = target.addEventListener.bind(target);
  win.removeEventListener = target.removeEventListener.bind(target);
  win.dispatchEvent = target.dispatchEvent.bind(target);
  return {
    dispatch: (type) => void target.dispatchEvent(new Event(type)),
    restore() {
      delete win.addEventListener;
      delete win.removeEventListener;
      delete win.dispatchEvent;
    },
  };
}

/**
 * A loopback port that refuses connections (the network is down) until `up(targetPort)`, after
 * which it forwards every connection to the target (the network is back).
 */
export async function switchablePort(): Promise<{ url: string; up(targetPort: number): Promise<void>; close(): Promise<void> }> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  let forwarder: Server | undefined;
  const sockets = new Set<import("node:net").Socket>();
  return {
    url: `http://127.0.0.1:${port}`,
    async up(targetPort) {
      forwarder = createServer((client) => {
        const upstream = connect(targetPort, "127.0.0.1");
        for (const socket of [client, upstream]) {
          sockets.add(socket);
          socket.on("close", () => sockets.delete(socket));
          socket.on("error", () => {});
        }
        client.pipe(upstream).pipe(client);
      });
      await new Promise<void>((resolve) => forwarder!.listen(port, "127.0.0.1", resolve));
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      if (forwarder) await new Promise<void>((resolve) => forwarder!.close(() => resolve()));
    },
  };
}
