/**
 * The IndexedDB queue's connection: it never holds the database against other tabs. An open that
 * was given up on is closed when it completes, and a newer schema opened elsewhere gets its way.
 * A transaction the browser aborts fails the call that ran it, and nothing else.
 */
import { beforeEach, describe, expect, it, vi } from "vitest";
import { IDBDatabase as FakeDatabase } from "fake-indexeddb";
import { openIdbStore } from "../../src/export/browser/idb-store.js";
import { freshIndexedDB } from "./support/queue.js";

const BOUNDS = { maxCount: 100, maxBytes: 1024 * 1024 };

/** Opens `name` at `version` as another tab would; resolves with whether it had to wait ("blocked"). */
function openElsewhere(name: string, version?: number): Promise<{ db: IDBDatabase; waited: boolean }> {
  return new Promise((resolve, reject) => {
    let waited = false;
    const request = indexedDB.open(name, version);
    request.onblocked = () => (waited = true);
    request.onsuccess = () => resolve({ db: request.result, waited });
    request.onerror = () => reject(request.error);
  });
}

/** Deletes `name`; resolves with whether an open connection made it wait. */
function deleteDatabase(name: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    let waited = false;
    const request = indexedDB.deleteDatabase(name);
    request.onblocked = () => (waited = true);
    request.onsuccess = () => resolve(waited);
    request.onerror = () => reject(request.error);
  });
}

beforeEach(() => freshIndexedDB());

describe("openIdbStore's connection", () => {
  it("an open stuck behind another tab past blockedMs rejects, and the connection it gets later is closed", async () => {
    const { db: other } = await openElsewhere("q", 1);
    // A delete waiting on the other tab's connection holds up every open queued after it.
    const deleted = deleteDatabase("q");
    const onTerminated = vi.fn();
    await expect(openIdbStore("q", BOUNDS, onTerminated, 50)).rejects.toThrow(/blocked/);

    other.close();
    expect(await deleted).toBe(true);
    // The abandoned open completes after the delete; were it left open, this delete would wait on it.
    await vi.waitFor(async () => expect(await deleteDatabase("q")).toBe(false));
    expect(onTerminated).not.toHaveBeenCalled();
  });

  it("a newer schema opened in another tab: the connection closes at once and reports it was terminated", async () => {
    const onTerminated = vi.fn();
    const store = await openIdbStore("q", BOUNDS, onTerminated);
    await store.add([{ path: "/traces", body: "{}", bytes: 2 }]);

    const { db: newer, waited } = await openElsewhere("q", 2);
    expect(waited).toBe(false);
    expect(newer.version).toBe(2);
    expect(onTerminated).toHaveBeenCalledTimes(1);
    newer.close();
  });
});

describe("a transaction the browser aborts while it runs", () => {
  it("fails add, oldest and remove with the abort, and leaves no unhandled rejection for the page's error tracker", async () => {
    const store = await openIdbStore("q", BOUNDS, () => {});
    await store.add([{ path: "/traces", body: "{}", bytes: 2 }]);
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    // As Safari does when it closes the connection, or a browser when the disk is full: the
    // transaction aborts after its requests were made, and each of them fails with it.
    const transaction = FakeDatabase.prototype.transaction;
    const spy = vi.spyOn(FakeDatabase.prototype, "transaction").mockImplementation(function (this: InstanceType<typeof FakeDatabase>, ...args) {
      const tx = transaction.apply(this, args);
      // In a microtask: after the store's first requests, made in the same turn, and before any
      // completes, however loaded the machine (a timer raced the transaction's completion).
      queueMicrotask(() => tx.abort());
      return tx;
    });
    try {
      await expect(store.add([{ path: "/traces", body: "{}", bytes: 2 }, { path: "/traces", body: "[]", bytes: 2 }])).rejects.toMatchObject({ name: "AbortError" });
      await expect(store.oldest()).rejects.toMatchObject({ name: "AbortError" });
      await expect(store.remove([1])).rejects.toMatchObject({ name: "AbortError" });
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(unhandled).toEqual([]);
    } finally {
      spy.mockRestore();
      process.off("unhandledRejection", onUnhandled);
    }
    // Nothing of the aborted transactions was applied.
    expect((await store.oldest()).map((r) => r.body)).toEqual(["{}"]);
    store.close();
  });
});
