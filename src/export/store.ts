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
  /** The oldest records, at most `limit`. */
  oldest(limit: number): Promise<StoredRecord[]>;
  /** Forgets acknowledged records; ids already gone (another tab sent them) are ignored. */
  remove(ids: readonly number[]): Promise<void>;
  close(): void;
}

export interface Bounds {
  maxCount: number;
  maxBytes: number;
}

/** The fallback when IndexedDB is missing, blocked, full or closed: same bounds, this tab only. */
export class MemoryStore implements QueueStore {
  // Assigned in the constructor, not as field initializers: bundles for ES2020 turn each of those into a helper call.
  declare private records: StoredRecord[];
  declare private bytes: number;
  declare private nextId: number;
  declare private readonly bounds: Bounds;

  constructor(bounds: Bounds) {
    this.records = [];
    this.bytes = 0;
    this.nextId = 1;
    this.bounds = bounds;
  }

  async add(records: readonly QueuedRecord[]): Promise<number> {
    for (const record of records) {
      this.records.push({ ...record, id: this.nextId++ });
      this.bytes += record.bytes;
    }
    let evicted = 0;
    while (this.records.length > this.bounds.maxCount || this.bytes > this.bounds.maxBytes) {
      this.bytes -= this.records.shift()!.bytes;
      evicted++;
    }
    return evicted;
  }

  async oldest(limit: number): Promise<StoredRecord[]> {
    return this.records.slice(0, limit);
  }

  async remove(ids: readonly number[]): Promise<void> {
    const gone = new Set(ids);
    this.records = this.records.filter((record) => {
      if (!gone.has(record.id)) return true;
      this.bytes -= record.bytes;
      return false;
    });
  }

  close(): void {}
}
