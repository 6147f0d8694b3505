import type { PandaProbeError } from "../../base/errors.js";
import type { SendResult } from "../http-sender.js";
import type { Envelope } from "../types.js";
import type { QueueStore } from "./store.js";

/** What the browser exporter and its parts are built from (the parts pick their share). */
export interface BrowserExporterOptions {
  /** The shared IndexedDB queue; rejects when IndexedDB cannot be used. */
  openStore(onClosed: () => void): Promise<QueueStore>;
  /** Where records go while IndexedDB is unavailable. */
  memoryStore: QueueStore;
  send(envelope: Envelope, keepalive: boolean): Promise<SendResult>;
  /** Lock and channel name shared by the tabs of a site. */
  name: string;
  /** Records read from the queue per round of sending. */
  batchSize: number;
  /** How often a tab looks for records left in the shared queue (each write is sent at once). */
  flushIntervalMs: number;
  maxConcurrency: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** What keepalive requests may carry in all while the page goes away (browsers allow 64 KiB). */
  keepaliveBudget?: number;
  report(error: PandaProbeError): void;
  log?: (message: string) => void;
}
