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

  /** Runs `change` on the records and the totals in one transaction, then stores the totals. */
  const update = async <T>(change: (records: Records, totals: Totals) => Promise<T>): Promise<T> => {
    const tx = db.transaction([RECORDS, META], "readwrite");
    const meta = tx.objectStore(META);
    const totals: Totals = (await meta.get(TOTALS)) ?? { count: 0, bytes: 0 };
    const result = await change(tx.objectStore(RECORDS), totals);
    meta.put(totals, TOTALS);
    await tx.done;
    return result;
  };

  return {
    add: (added) =>
      update(async (records, totals) => {
        for (const record of added) {
          records.add(record);
          totals.count++;
          totals.bytes += record.bytes;
        }
        const over = () => totals.count > maxCount || totals.bytes > maxBytes;
        let evicted = 0;
        for (let cursor = over() ? await records.openCursor() : null; cursor && over(); cursor = await cursor.continue()) {
          totals.count--;
          totals.bytes -= (cursor.value as QueuedRecord).bytes;
          cursor.delete();
          evicted++;
        }
        return evicted;
      }),
    async oldest(limit) {
      const { store } = db.transaction(RECORDS);
      const [keys, values] = await Promise.all([store.getAllKeys(undefined, limit), store.getAll(undefined, limit)]);
      return values.map((value, i): StoredRecord => ({ ...(value as QueuedRecord), id: keys[i] as number }));
    },
    remove: (ids) =>
      update(async (records, totals) => {
        for (const id of ids) {
          const record = (await records.get(id)) as QueuedRecord | undefined;
          if (!record) continue;
          records.delete(id);
          totals.count--;
          totals.bytes -= record.bytes;
        }
      }),
    close: () => db.close(),
  };
}
