/**
 * The directory store under the durable exporter: records survive the process that wrote them,
 * each is claimed by one queue only, dead owners' claims come back, and the byte bound deletes
 * the oldest. Real files in a temp directory.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FileQueue } from "../../src/export/file-queue.js";
import type { Envelope } from "../../src/export/types.js";

let dir: string;
const opened: FileQueue[] = [];

async function open(maxBytes = 1024 * 1024): Promise<FileQueue> {
  const queue = await FileQueue.open({ dir, maxBytes });
  opened.push(queue);
  return queue;
}

const envelope = (n: number): Envelope => ({ path: "/traces", body: JSON.stringify({ n, pad: "x".repeat(100) }) });
const numberOf = (e: Envelope | undefined) => (JSON.parse(e!.body) as { n: number }).n;
const files = (suffix: string) => readdirSync(dir).filter((name) => name.endsWith(suffix));

/** Claims every record the queue knows of, oldest first; returns the envelopes it got. */
async function claimAll(queue: FileQueue): Promise<Envelope[]> {
  const got: Envelope[] = [];
  for (const base of queue.take(Infinity)) {
    const e = await queue.claim(base);
    if (e) got.push(e);
  }
  return got;
}

/** The pid of a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"]);
  return Number(child.stdout.toString());
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "pandaprobe-fq-"));
});

afterEach(() => {
  for (const queue of opened.splice(0)) queue.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("a record's life", () => {
  it("is a waiting file until claimed, a claim until removed, then nothing", async () => {
    const queue = await open();
    await queue.put(envelope(1), false);
    expect(files(".rec")).toHaveLength(1);
    expect(files(".tmp")).toEqual([]);

    const [base] = queue.take(1);
    const claimed = await queue.claim(base!);
    expect(claimed).toEqual(envelope(1));
    expect(files(".rec")).toEqual([]);
    expect(files(".claim")).toEqual([expect.stringContaining(`@${process.pid}_`)]);

    await queue.remove(base!);
    expect(readdirSync(dir)).toEqual([]);
  });

  it("creates the directory, nested, when it does not exist", async () => {
    dir = join(dir, "a", "b");
    const queue = await open();
    await queue.put(envelope(1), false);
    expect(files(".rec")).toHaveLength(1);
  });

  it("is found by a queue opened later on the same directory, oldest first", async () => {
    const first = await open();
    for (let n = 0; n < 5; n++) await first.put(envelope(n), false);
    first.close();

    const next = await open();
    expect(next.waitingCount).toBe(0);
    await next.scan();
    expect((await claimAll(next)).map(numberOf)).toEqual([0, 1, 2, 3, 4]);
  });

  it("written already claimed, is sent without a second rename and is nobody else's", async () => {
    const writer = await open();
    const other = await open();
    const { base } = await writer.put(envelope(7), true);
    expect(files(".claim")).toHaveLength(1);
    await other.scan();
    expect(other.waitingCount).toBe(0);
    await writer.remove(base);
    expect(readdirSync(dir)).toEqual([]);
  });

  it("released, waits again in its old place, ahead of newer records", async () => {
    const queue = await open();
    for (let n = 0; n < 3; n++) await queue.put(envelope(n), false);
    const [oldest] = queue.take(1);
    await queue.claim(oldest!);
    await queue.release(oldest!);
    expect(files(".claim")).toEqual([]);
    expect((await claimAll(queue)).map(numberOf)).toEqual([0, 1, 2]);
  });
});

describe("queues sharing a directory", () => {
  it("claim each record exactly once when both reach for all of them", async () => {
    const writer = await open();
    for (let n = 0; n < 200; n++) await writer.put(envelope(n), false);
    const [a, b] = [await open(), await open()];
    await Promise.all([a.scan(), b.scan()]);
    expect(a.waitingCount).toBe(200);
    expect(b.waitingCount).toBe(200);

    const [gotA, gotB] = await Promise.all([claimAll(a), claimAll(b)]);
    const all = [...gotA, ...gotB].map(numberOf).sort((x, y) => x - y);
    expect(all).toEqual(Array.from({ length: 200 }, (_, n) => n));
    expect(files(".rec")).toEqual([]);
  });

  it("see records another queue sent disappear from their view (and their byte count)", async () => {
    const a = await open();
    const b = await open();
    for (let n = 0; n < 3; n++) await a.put(envelope(n), false);
    await b.scan();
    expect(b.waitingCount).toBe(3);
    for (const base of a.take(3)) {
      await a.claim(base);
      await a.remove(base);
    }
    await b.scan();
    expect(b.waitingCount).toBe(0);
    expect(b.bytes).toBe(0);
  });

  it("leave a live owner's claims alone", async () => {
    const a = await open();
    await a.put(envelope(1), true);
    const b = await open();
    await b.scan();
    expect(b.waitingCount).toBe(0);
    expect(files(".claim")).toHaveLength(1);
  });
});

describe("what a dead process left", () => {
  /** A record as a process with this owner left it: claimed, or half written. */
  function leave(owner: string, state: "claim" | "tmp", n: number): void {
    const base = `${Date.now() * 1000}-000${n}-${owner}-`;
    const data = `/traces\n${envelope(n).body}`;
    const name = `${base}${Buffer.byteLength(data)}${state === "claim" ? `@${owner}.claim` : ".tmp"}`;
    writeFileSync(join(dir, name), data);
  }

  it("takes back the claims of a pid that no longer runs", async () => {
    const owner = `${deadPid()}_deadbeef`;
    leave(owner, "claim", 1);
    const queue = await open();
    await queue.scan();
    expect(files(".claim")).toEqual([]);
    expect((await claimAll(queue)).map(numberOf)).toEqual([1]);
  });

  it("takes back the claims of an earlier process that had this process's pid (containers reuse pids)", async () => {
    leave(`${process.pid}_earlier0`, "claim", 2);
    const queue = await open();
    await queue.scan();
    expect((await claimAll(queue)).map(numberOf)).toEqual([2]);
  });

  it("deletes the files a dead process was still writing: they were never queued", async () => {
    leave(`${deadPid()}_deadbeef`, "tmp", 3);
    const queue = await open();
    await queue.scan();
    expect(readdirSync(dir)).toEqual([]);
    expect(queue.waitingCount).toBe(0);
  });
});

describe("the byte bound", () => {
  it("deletes the oldest waiting records to make room, and says how many", async () => {
    const size = Buffer.byteLength(`/traces\n${envelope(0).body}`);
    const queue = await open(size * 3);
    const evicted: number[] = [];
    for (let n = 0; n < 5; n++) evicted.push((await queue.put(envelope(n), false)).evicted);
    expect(evicted).toEqual([0, 0, 0, 1, 1]);
    expect(files(".rec")).toHaveLength(3);
    expect(queue.bytes).toBe(size * 3);
    expect((await claimAll(queue)).map(numberOf)).toEqual([2, 3, 4]);
  });

  it("keeps the newest when many records are written at once, whatever order their writes finish in", async () => {
    // Room for three, two-digit numbers included.
    const size = Buffer.byteLength(`/traces\n${envelope(10).body}`);
    const queue = await open(size * 3);
    const results = await Promise.all(Array.from({ length: 12 }, (_, n) => queue.put(envelope(n), false)));
    expect(results.reduce((sum, r) => sum + r.evicted, 0)).toBe(9);
    expect((await claimAll(queue)).map(numberOf)).toEqual([9, 10, 11]);
  });

  it("never deletes a claimed record: it is being sent", async () => {
    const size = Buffer.byteLength(`/traces\n${envelope(0).body}`);
    const queue = await open(size * 2);
    await queue.put(envelope(0), true);
    for (let n = 1; n < 4; n++) await queue.put(envelope(n), false);
    expect(files(".claim")).toHaveLength(1);
    expect((await claimAll(queue)).map(numberOf)).toEqual([3]);
  });

  it("counts the records other processes left, found by a scan", async () => {
    const size = Buffer.byteLength(`/traces\n${envelope(0).body}`);
    const first = await open();
    for (let n = 0; n < 3; n++) await first.put(envelope(n), false);
    const bounded = await open(size * 3);
    await bounded.scan();
    expect((await bounded.put(envelope(3), false)).evicted).toBe(1);
    await bounded.scan();
    expect((await claimAll(bounded)).map(numberOf)).toEqual([1, 2, 3]);
  });
});
