import { jsonByteLength } from "../../wire/serialize.js";
import type { Envelope } from "../types.js";
import type { BrowserExporterOptions } from "./options.js";
import type { QueueStore, StoredRecord } from "./store.js";

const REOPEN_AFTER_MS = 30_000;

export type StoreFailover = [
  /** Where records are read: IndexedDB once open, memory while it cannot be used. */
  store: () => QueueStore | Promise<QueueStore>,
  /** What waits in memory, which dies with the page; undefined while IndexedDB is used. */
  waitingInMemory: () => Promise<StoredRecord[]> | undefined,
  /** Adds the envelopes behind every earlier write, then calls `then` with the number of records the bounds evicted. */
  write: (envelopes: readonly Envelope[], then: (evicted: number) => void) => Promise<void>,
  /** Settles when every write so far is done. */
  written: () => Promise<void>,
  /** Back to IndexedDB when it works again (tried every 30 s), carrying over what waited in memory. */
  reopenIfDue: () => Promise<void>,
];

/**
 * The queue in IndexedDB, or in memory while IndexedDB is missing, refused, full or closed.
 * `storageFailed` runs once per spell in memory.
 */
export function createStoreFailover(
  options: Pick<BrowserExporterOptions, "openStore" | "memoryStore">,
  storageFailed: (error: unknown) => void,
): StoreFailover {
  const { memoryStore } = options;
  let store: QueueStore | Promise<QueueStore>;
  let inMemory = false;
  let lastOpenAttempt = 0;
  /** Every write and move, one at a time in order; it never rejects. */
  let writes = Promise.resolve();

  const open = (): Promise<QueueStore> => {
    lastOpenAttempt = Date.now();
    return options.openStore(() => fallBack(new Error("the browser closed the IndexedDB connection"))).catch(fallBack);
  };

  const fallBack = (error: unknown): QueueStore => {
    if (!inMemory) {
      inMemory = true;
      storageFailed(error);
    }
    return (store = memoryStore);
  };

  // - A write IndexedDB refuses goes to memory: no record is dropped for the failure.
  const write = (envelopes: readonly Envelope[], then: (evicted: number) => void) =>
    (writes = writes.then(async () => {
      // Sized here, off the interaction path that ended the trace.
      const records = envelopes.map(({ path, body }) => ({ path, body, bytes: jsonByteLength(body) }));
      let evicted: number;
      try {
        evicted = await (await store).add(records);
      } catch (error) {
        evicted = await fallBack(error).add(records);
      }
      then(evicted);
    }));

  // - Reads go to IndexedDB as soon as it opens again; the move runs behind the writes already
  //   headed for memory, so none of them is left behind there.
  // - A failed move leaves the records in memory, and the write chain still never rejects.
  // - Still "in memory" until the move commits: a page that closes meanwhile sends what waits in
  //   memory with keepalive.
  const reopenIfDue = async (): Promise<void> => {
    if (!inMemory || Date.now() - lastOpenAttempt < REOPEN_AFTER_MS) return;
    const opened = await open();
    if (opened === memoryStore) return;
    store = opened;
    await (writes = writes.then(async () => {
      const waiting = await memoryStore.oldest();
      try {
        await opened.add(waiting);
      } catch (error) {
        fallBack(error);
        return;
      }
      await memoryStore.remove(waiting.map((r) => r.id));
      inMemory = false;
    }));
  };

  store = open();
  return [() => store, () => (inMemory ? memoryStore.oldest() : undefined), write, () => writes, reopenIfDue];
}
