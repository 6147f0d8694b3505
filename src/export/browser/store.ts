/** A request body waiting for the backend's acknowledgement. */
export interface QueuedRecord {
  readonly path: string;
  readonly body: string;
  /** UTF-8 size of the body, for the byte bound. */
  readonly bytes: number;
}

export interface StoredRecord extends QueuedRecord {
  readonly id: number;
}

/** Where unacknowledged bodies wait: IndexedDB shared by a site's tabs, or memory as a fallback. */
export interface QueueStore {
  /** Adds records (oldest first), evicting the oldest beyond the bounds; resolves to the number evicted. */
  add(records: readonly QueuedRecord[]): Promise<number>;
  /** The oldest records, at most `limit` (all without one). */
  oldest(limit?: number): Promise<StoredRecord[]>;
  /** Forgets acknowledged records; ids already gone (another tab sent them) are ignored. */
  remove(ids: readonly number[]): Promise<void>;
  close(): void;
}

export interface Bounds {
  maxCount: number;
  maxBytes: number;
}

/**
 * The fallback when IndexedDB is missing, blocked, full or closed: same bounds, this tab only.
 * A closure rather than a class: its state is local variables, which minify.
 */
export function memoryStore({ maxCount, maxBytes }: Bounds): QueueStore {
  let records: StoredRecord[] = [];
  let bytes = 0;
  let nextId = 1;
  return {
    async add(added) {
      for (const record of added) {
        records.push({ ...record, id: nextId++ });
        bytes += record.bytes;
      }
      let evicted = 0;
      for (; records.length > maxCount || bytes > maxBytes; evicted++) bytes -= records.shift()!.bytes;
      return evicted;
    },
    oldest: async (limit) => records.slice(0, limit),
    async remove(ids) {
      const gone = new Set(ids);
      records = records.filter((record) => !gone.has(record.id) || void (bytes -= record.bytes));
    },
    close() {},
  };
}
