import type { Envelope } from "./types.js";

type Fs = typeof import("node:fs/promises");

/**
 * A directory of request bodies waiting for the backend, shared by the processes that open it.
 * Every state is a file name, and every change of state one `rename`, which is atomic: a record
 * is claimed by exactly one process, and a crash leaves each record whole in one state.
 *
 *   <base>.tmp              being written (a crash leaves it unnamed: it was never queued)
 *   <base>.rec              waiting; any process may claim it
 *   <base>@<owner>.claim    claimed by a live owner, which deletes it once delivered
 *
 * `<base>` is `<µs>-<seq>-<owner>-<bytes>`: names sort oldest first (across processes too), and
 * a directory listing alone gives every record's size for the byte bound. An owner is
 * `<pid>_<token>`: containers give a restarted process the pid of the one before, and the token
 * tells them apart.
 */
export interface FileQueueOptions {
  dir: string;
  /** Bytes the directory may hold; beyond it the oldest waiting records are deleted. */
  maxBytes: number;
}

const NAME = /^(\d{16}-[0-9a-z]+-(\d+)_([0-9a-z]+)-(\d+))(\.rec|\.tmp|@(\d+)_([0-9a-z]+)\.claim)$/;

/** Owners of the queues open in this process: another token with our pid is a process gone before. */
const liveOwners = new Set<string>();

function ownerAlive(pid: number, token: string): boolean {
  if (pid === process.pid) return liveOwners.has(`${pid}_${token}`);
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, but another user's.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

const isMissing = (error: unknown) => (error as NodeJS.ErrnoException | undefined)?.code === "ENOENT";

export class FileQueue {
  /** Waiting records this process knows of (base → bytes), in no order; `order` sorts them. */
  private readonly waiting = new Map<string, number>();
  /** Bases oldest first from `head`, possibly including some no longer waiting (skipped when met). */
  private order: string[] = [];
  private head = 0;
  private sorted = true;
  /** Records claimed by this queue (base → bytes). */
  private readonly claimed = new Map<string, number>();
  private claimedBytes = 0;
  /** Bytes of other live owners' claims and writes, as of the last scan. */
  private othersBytes = 0;
  private waitingBytes = 0;
  private lastMicros = 0;
  private seq = 0;
  /** Set while a scan runs: records this queue made waiting meanwhile, which its listing may miss. */
  private madeWaitingDuringScan: Set<string> | undefined;
  private scanning: Promise<void> | undefined;

  private constructor(
    private readonly fs: Fs,
    private readonly join: (...parts: string[]) => string,
    /** Absolute, so a later `process.chdir` cannot move the queue. */
    readonly dir: string,
    readonly maxBytes: number,
    private readonly owner: string,
  ) {}

  /** Creates the directory if needed. node:fs is loaded only here, so runtimes without it never import it. */
  static async open({ dir, maxBytes }: FileQueueOptions): Promise<FileQueue> {
    const [fs, path] = await Promise.all([import("node:fs/promises"), import("node:path")]);
    const absolute = path.resolve(dir);
    await fs.mkdir(absolute, { recursive: true });
    const owner = `${process.pid}_${Math.random().toString(36).slice(2, 10) || "0"}`;
    liveOwners.add(owner);
    return new FileQueue(fs, path.join, absolute, maxBytes, owner);
  }

  /** Waiting records known to this process. */
  get waitingCount(): number {
    return this.waiting.size;
  }

  /** What the directory holds as far as this process knows. */
  get bytes(): number {
    return this.waitingBytes + this.claimedBytes + this.othersBytes;
  }

  isWaiting(base: string): boolean {
    return this.waiting.has(base);
  }

  waitingBases(): string[] {
    return [...this.waiting.keys()];
  }

  /**
   * Writes a record (temp file, then rename), waiting or, with `claim`, already claimed by this
   * queue so it can be sent without a second rename. Then deletes the oldest waiting records
   * until the directory is within maxBytes again (checked as each record lands, so records still
   * being written cannot escape it); resolves to the record's base and how many were deleted.
   */
  async put(envelope: Envelope, claim: boolean): Promise<{ base: string; evicted: number }> {
    const data = Buffer.from(`${envelope.path}\n${envelope.body}`);
    const base = this.nextBase(data.length);
    if (claim) this.addClaimed(base, data.length);
    const tmp = this.path(`${base}.tmp`);
    try {
      await this.fs.writeFile(tmp, data);
      await this.fs.rename(tmp, this.path(claim ? this.claimName(base) : `${base}.rec`));
    } catch (error) {
      this.removeClaimed(base);
      await this.fs.unlink(tmp).catch(() => {});
      throw error;
    }
    if (!claim) this.addWaiting(base, data.length, true);
    const evicted = (await Promise.all(this.makeRoom())).filter(Boolean).length;
    return { base, evicted };
  }

  /** Takes up to `limit` of the oldest waiting records for this queue to claim. */
  take(limit: number): string[] {
    const taken: string[] = [];
    for (let base; taken.length < limit && (base = this.oldest()) !== undefined; ) {
      this.addClaimed(base, this.waiting.get(base)!);
      this.removeWaiting(base);
      taken.push(base);
    }
    return taken;
  }

  /**
   * Claims a record `take` returned and reads it; undefined when another process claimed it first
   * (or it cannot be read, in which case it is deleted: it would never be sent).
   */
  async claim(base: string): Promise<Envelope | undefined> {
    const claimPath = this.path(this.claimName(base));
    try {
      await this.fs.rename(this.path(`${base}.rec`), claimPath);
    } catch (error) {
      this.removeClaimed(base);
      if (isMissing(error)) return undefined;
      throw error;
    }
    let data: string;
    try {
      data = await this.fs.readFile(claimPath, "utf8");
    } catch (error) {
      await this.release(base);
      throw error;
    }
    const newline = data.indexOf("\n");
    if (newline > 0) return { path: data.slice(0, newline), body: data.slice(newline + 1) };
    await this.remove(base);
    return undefined;
  }

  /** Deletes a claimed record: delivered, or refused for good. */
  async remove(base: string): Promise<void> {
    this.removeClaimed(base);
    await this.fs.unlink(this.path(this.claimName(base))).catch((error) => {
      if (!isMissing(error)) throw error;
    });
  }

  /** Puts a claimed record back to wait, under its old name, so it keeps its place (oldest first). */
  async release(base: string): Promise<void> {
    const bytes = this.removeClaimed(base) ?? sizeOf(base);
    try {
      await this.fs.rename(this.path(this.claimName(base)), this.path(`${base}.rec`));
    } catch (error) {
      if (isMissing(error)) return;
      throw error;
    }
    this.addWaiting(base, bytes, false);
  }

  /**
   * Brings this process's view up to date with the directory: records other processes wrote or
   * took, claims of owners that died (waiting again) and their unfinished writes (deleted).
   */
  scan(): Promise<void> {
    return (this.scanning ??= this.list().finally(() => (this.scanning = undefined)));
  }

  /** Forgets this owner: its remaining claims become a dead owner's, for any queue to take back. */
  close(): void {
    liveOwners.delete(this.owner);
  }

  private async list(): Promise<void> {
    this.madeWaitingDuringScan = new Set();
    try {
      const names = await this.fs.readdir(this.dir);
      const seen = new Set<string>();
      const alive = new Map<string, boolean>();
      const isAlive = (pid: string, token: string) => {
        const key = `${pid}_${token}`;
        let known = alive.get(key);
        if (known === undefined) alive.set(key, (known = ownerAlive(Number(pid), token)));
        return known;
      };
      let others = 0;
      const reclaims: Promise<void>[] = [];
      for (const name of names) {
        const m = NAME.exec(name);
        if (!m) continue;
        const [, base, writerPid, writerToken, size, state, claimerPid, claimerToken] = m as unknown as string[];
        const bytes = Number(size);
        if (state === ".rec") {
          seen.add(base!);
          if (!this.waiting.has(base!) && !this.claimed.has(base!)) this.addWaiting(base!, bytes, false);
        } else if (state === ".tmp") {
          if (`${writerPid}_${writerToken}` === this.owner) continue;
          if (isAlive(writerPid!, writerToken!)) others += bytes;
          else reclaims.push(this.fs.unlink(this.path(name)).catch(() => {}));
        } else if (`${claimerPid}_${claimerToken}` !== this.owner) {
          if (isAlive(claimerPid!, claimerToken!)) others += bytes;
          else reclaims.push(this.reclaim(name, base!, bytes));
        }
      }
      // Records gone since the listing was asked for (sent or evicted by another process).
      for (const base of this.waiting.keys()) {
        if (!seen.has(base) && !this.madeWaitingDuringScan.has(base)) this.removeWaiting(base);
      }
      this.othersBytes = others;
      this.sorted = false;
      await Promise.all(reclaims);
    } finally {
      this.madeWaitingDuringScan = undefined;
    }
  }

  /** A dead owner's claim waits again; when two processes try at once, one rename wins. */
  private async reclaim(name: string, base: string, bytes: number): Promise<void> {
    try {
      await this.fs.rename(this.path(name), this.path(`${base}.rec`));
    } catch (error) {
      if (isMissing(error)) return;
      throw error;
    }
    this.addWaiting(base, bytes, false);
  }

  /** Deletes the oldest waiting records until within maxBytes; each resolves to whether it was this process that deleted it. */
  private makeRoom(): Promise<boolean>[] {
    const deletions: Promise<boolean>[] = [];
    for (let base; this.bytes > this.maxBytes && (base = this.oldest()) !== undefined; ) {
      this.removeWaiting(base);
      deletions.push(
        this.fs.unlink(this.path(`${base}.rec`)).then(
          () => true,
          () => false,
        ),
      );
    }
    return deletions;
  }

  /** `fresh`: just written here, so among the newest; writes finishing out of order are put in their place. */
  private addWaiting(base: string, bytes: number, fresh: boolean): void {
    if (this.waiting.has(base)) return;
    this.waiting.set(base, bytes);
    this.waitingBytes += bytes;
    this.madeWaitingDuringScan?.add(base);
    if (!fresh) {
      this.sorted = false;
    } else if (this.sorted) {
      let at = this.order.length;
      while (at > this.head && this.order[at - 1]! > base) at--;
      this.order.splice(at, 0, base);
    }
  }

  private removeWaiting(base: string): void {
    this.waitingBytes -= this.waiting.get(base) ?? 0;
    this.waiting.delete(base);
  }

  private addClaimed(base: string, bytes: number): void {
    this.claimed.set(base, bytes);
    this.claimedBytes += bytes;
  }

  private removeClaimed(base: string): number | undefined {
    const bytes = this.claimed.get(base);
    if (bytes === undefined) return undefined;
    this.claimed.delete(base);
    this.claimedBytes -= bytes;
    return bytes;
  }

  /** The oldest waiting record, still waiting; skips what was taken since `order` was made. */
  private oldest(): string | undefined {
    if (!this.sorted) {
      this.order = [...this.waiting.keys()].sort();
      this.head = 0;
      this.sorted = true;
    }
    while (this.head < this.order.length) {
      const base = this.order[this.head]!;
      if (this.waiting.has(base)) return base;
      this.head++;
      // Drops the consumed prefix once it dominates, so memory follows the waiting records.
      if (this.head >= 1024 && this.head * 2 >= this.order.length) {
        this.order = this.order.slice(this.head);
        this.head = 0;
      }
    }
    return undefined;
  }

  /**
   * Wall-clock microseconds, so records of processes writing at once interleave by age; never
   * back within a process (clock adjustments), and a counter orders records of the same one.
   */
  private nextBase(bytes: number): string {
    const micros = Math.max(Math.floor((performance.timeOrigin + performance.now()) * 1000), this.lastMicros);
    if (micros !== this.lastMicros) this.seq = 0;
    this.lastMicros = micros;
    const seq = (this.seq++).toString(36).padStart(4, "0");
    return `${String(micros).padStart(16, "0")}-${seq}-${this.owner}-${bytes}`;
  }

  private claimName(base: string): string {
    return `${base}@${this.owner}.claim`;
  }

  private path(name: string): string {
    return this.join(this.dir, name);
  }
}

function sizeOf(base: string): number {
  return Number(base.slice(base.lastIndexOf("-") + 1));
}
