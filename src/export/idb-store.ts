import { openDB, type IDBPDatabase } from "idb";
import type { Bounds, QueuedRecord, QueueStore, StoredRecord } from "./store.js";

const RECORDS = "records";
const META = "meta";
const TOTALS = "totals";

interface Totals {
  count: number;
  bytes: number;
}

/**
 * The queue in IndexedDB, shared by every tab of the site. Totals live in the same database and
 * change in the same transactions as the records, so the bounds hold across tabs.
 */
export class IdbStore implements QueueStore {
  // Assigned in the constructor, not as parameter properties: bundles for ES2020 turn each of those into a helper call.
  declare private readonly db: IDBPDatabase;
  declare private readonly bounds: Bounds;

  private constructor(db: IDBPDatabase, bounds: Bounds) {
    this.db = db;
    this.bounds = bounds;
  }

  /** Rejects when IndexedDB is missing, refused (private mode, policy) or blocked for too long. */
  static async open(name: string, bounds: Bounds, onTerminated: () => void, blockedMs = 3000): Promise<IdbStore> {
    if (typeof indexedDB === "undefined") throw new Error("IndexedDB is not available");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const blocked = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("IndexedDB open is blocked")), blockedMs);
    });
    try {
      const db = await Promise.race([
        openDB(name, 1, {
          upgrade(database) {
            database.createObjectStore(RECORDS, { autoIncrement: true });
            database.createObjectStore(META);
          },
          terminated: onTerminated,
        }),
        blocked,
      ]);
      return new IdbStore(db, bounds);
    } finally {
      clearTimeout(timer);
    }
  }

  async add(records: readonly QueuedRecord[]): Promise<number> {
    const tx = this.db.transaction([RECORDS, META], "readwrite");
    const store = tx.objectStore(RECORDS);
    const meta = tx.objectStore(META);
    const totals: Totals = (await meta.get(TOTALS)) ?? { count: 0, bytes: 0 };
    for (const record of records) {
      store.add(record);
      totals.count++;
      totals.bytes += record.bytes;
    }
    let evicted = 0;
    let cursor = totals.count > this.bounds.maxCount || totals.bytes > this.bounds.maxBytes ? await store.openCursor() : null;
    while (cursor && (totals.count > this.bounds.maxCount || totals.bytes > this.bounds.maxBytes)) {
      totals.count--;
      totals.bytes -= (cursor.value as QueuedRecord).bytes;
      cursor.delete();
      evicted++;
      cursor = await cursor.continue();
    }
    meta.put(totals, TOTALS);
    await tx.done;
    return evicted;
  }

  async oldest(limit: number): Promise<StoredRecord[]> {
    const tx = this.db.transaction(RECORDS, "readonly");
    const [keys, values] = await Promise.all([
      tx.store.getAllKeys(undefined, limit),
      tx.store.getAll(undefined, limit),
    ]);
    return values.map((value, i) => ({ ...(value as QueuedRecord), id: keys[i] as number }));
  }

  async remove(ids: readonly number[]): Promise<void> {
    const tx = this.db.transaction([RECORDS, META], "readwrite");
    const store = tx.objectStore(RECORDS);
    const meta = tx.objectStore(META);
    const totals: Totals = (await meta.get(TOTALS)) ?? { count: 0, bytes: 0 };
    for (const id of ids) {
      const record = (await store.get(id)) as QueuedRecord | undefined;
      if (!record) continue;
      store.delete(id);
      totals.count--;
      totals.bytes -= record.bytes;
    }
    meta.put(totals, TOTALS);
    await tx.done;
  }

  close(): void {
    this.db.close();
  }
}
