/**
 * The collector's file: one JSON line per accepted write, appended and fsync'd before the write is
 * acknowledged. Writes that arrive while a sync is under way share the next one (group commit), so
 * many clients cost one fsync per batch rather than one each. On open, the lines are replayed; a
 * last line cut short by a crash (never acknowledged) is dropped and cut from the file.
 */
import { closeSync, existsSync, ftruncateSync, mkdirSync, openSync, readFileSync } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { dirname } from "node:path";
import type { Entry } from "./records.js";

interface Pending {
  line: string;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export interface Replay {
  entries: Entry[];
  /** Lines that did not parse: a torn last line after a crash, or damage done by hand. */
  skipped: number;
}

/** Reads every whole line of `path`; cuts off an unfinished last line so appends start on a fresh one. */
export function replay(path: string): Replay {
  if (!existsSync(path)) return { entries: [], skipped: 0 };
  const bytes = readFileSync(path);
  const entries: Entry[] = [];
  let skipped = 0;
  let start = 0;
  for (let end = bytes.indexOf(10); end !== -1; start = end + 1, end = bytes.indexOf(10, start)) {
    if (end === start) continue;
    try {
      entries.push(JSON.parse(bytes.toString("utf8", start, end)) as Entry);
    } catch {
      skipped++;
    }
  }
  if (start < bytes.length) {
    skipped++;
    const fd = openSync(path, "r+");
    try {
      ftruncateSync(fd, start);
    } finally {
      closeSync(fd);
    }
  }
  return { entries, skipped };
}

export class Journal {
  private pending: Pending[] = [];
  private draining: Promise<void> | undefined;

  private constructor(private readonly file: FileHandle) {}

  static async open(path: string): Promise<Journal> {
    mkdirSync(dirname(path), { recursive: true });
    return new Journal(await open(path, "a"));
  }

  /** Resolves once the entry is on disk (written and fsync'd). */
  append(entry: Entry): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ line: `${JSON.stringify(entry)}\n`, resolve, reject });
      this.draining ??= this.drain().finally(() => {
        this.draining = undefined;
      });
    });
  }

  private async drain(): Promise<void> {
    while (this.pending.length) {
      const batch = this.pending;
      this.pending = [];
      try {
        await this.file.appendFile(batch.map((p) => p.line).join(""));
        await this.file.datasync();
        for (const p of batch) p.resolve();
      } catch (error) {
        for (const p of batch) p.reject(error);
      }
    }
  }

  async close(): Promise<void> {
    await this.draining;
    await this.file.close();
  }
}
