import { openDB, type IDBPObjectStore } from "idb";
import type { Bounds, QueuedRecord, QueueStore, StoredRecord } from "./store.js";

const RECORDS = "records";
const META = "meta";
const TOTALS = "totals";

interface Totals {
  count: number;
  bytes: number;
}

type Records = IDBPObjectStore<unknown, string[], typeof RECORDS, "readwrite">;

/**
 * The queue in IndexedDB, shared by every tab of the site. Totals live in the same database and
 * change in the same transactions as the records, so the bounds hold across tabs.
 * Rejects when IndexedDB is missing, refused (private mode, policy) or blocked for too long.
 */
export async function openIdbStore(
  name: string,
  { maxCount, maxBytes }: Bounds,
  onTerminated: () => void,
  blockedMs = 3000,
): Promise<QueueStore> {
  if (typeof indexedDB === "undefined") throw new Error("IndexedDB is not available");
  let timer: ReturnType<typeof setTimeout> | undefined;
  const opening = openDB(name, 1, {
    upgrade(database) {
      database.createObjectStore(RECORDS, { autoIncrement: true });
      database.createObjectStore(META);
    },
    // A newer schema in another tab waits for every older connection to close: give way.
    blocking(_current, _next, event) {
      (event.target as IDBDatabase).close();
      onTerminated();
    },
    terminated: onTerminated,
  });
  const db = await Promise.race([
    opening,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        // The caller has moved on to memory; a connection that opens later is not left open.
        opening.then((late) => late.close(), () => {});
        reject(new Error("IndexedDB open is blocked"));
      }, blockedMs);
    }),
  ]).finally(() => clearTimeout(timer));

  /**
   * Runs `change` on the records and the totals in one transaction, then stores the totals.
   * Every request is awaited, and the transaction even when one fails: when it aborts (quota, a
   * connection the browser closes) they all reject, and one left unhandled would reach the page's
   * error tracker.
   */
  const update = async <T>(change: (records: Records, totals: Totals) => Promise<T>): Promise<T> => {
    const tx = db.transaction([RECORDS, META], "readwrite");
    try {
      const meta = tx.objectStore(META);
      const totals: Totals = (await meta.get(TOTALS)) ?? { count: 0, bytes: 0 };
      const result = await change(tx.objectStore(RECORDS), totals);
      await meta.put(totals, TOTALS);
      return result;
    } finally {
      await tx.done;
    }
  };

  return {
    add: (added) =>
      update(async (records, totals) => {
        await Promise.all(
          added.map((record) => {
            totals.count++;
            totals.bytes += record.bytes;
            return records.add(record);
          }),
        );
        const over = () => totals.count > maxCount || totals.bytes > maxBytes;
        let evicted = 0;
        for (let cursor = over() ? await records.openCursor() : null; cursor && over(); cursor = await cursor.continue()) {
          totals.count--;
          totals.bytes -= (cursor.value as QueuedRecord).bytes;
          await cursor.delete();
          evicted++;
        }
        return evicted;
      }),
    async oldest(limit) {
      const { store, done } = db.transaction(RECORDS);
      const [keys, values] = await Promise.all([store.getAllKeys(undefined, limit), store.getAll(undefined, limit), done]);
      return values.map((value, i): StoredRecord => ({ ...(value as QueuedRecord), id: keys[i] as number }));
    },
    remove: (ids) =>
      update(async (records, totals) => {
        for (const id of ids) {
          const record = (await records.get(id)) as QueuedRecord | undefined;
          if (!record) continue;
          await records.delete(id);
          totals.count--;
          totals.bytes -= record.bytes;
        }
      }),
    close: () => db.close(),
  };
}
