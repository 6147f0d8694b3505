/** The memory queue a page falls back to without IndexedDB: the same bounds and order as the IndexedDB queue. */
import { describe, expect, it } from "vitest";
import { memoryStore } from "../../src/export/browser/store.js";

const record = (body: string) => ({ path: "/traces", body, bytes: body.length });

describe("memoryStore", () => {
  it("hands out the oldest first, at most `limit`, all without one", async () => {
    const store = memoryStore({ maxCount: 10, maxBytes: 1000 });
    expect(await store.add(["a", "b", "c"].map(record))).toBe(0);
    expect((await store.oldest(2)).map((r) => r.body)).toEqual(["a", "b"]);
    expect((await store.oldest()).map((r) => r.body)).toEqual(["a", "b", "c"]);
  });

  it("evicts the oldest beyond maxCount and says how many", async () => {
    const store = memoryStore({ maxCount: 2, maxBytes: 1000 });
    await store.add([record("a")]);
    expect(await store.add(["b", "c", "d"].map(record))).toBe(2);
    expect((await store.oldest()).map((r) => r.body)).toEqual(["c", "d"]);
  });

  it("evicts the oldest beyond maxBytes, counting what removal freed", async () => {
    const store = memoryStore({ maxCount: 10, maxBytes: 6 });
    await store.add(["aa", "bb", "cc"].map(record));
    await store.remove([(await store.oldest(1))[0]!.id]);
    // 4 bytes left: "ddd" fits only once "bb" goes.
    expect(await store.add([record("ddd")])).toBe(1);
    expect((await store.oldest()).map((r) => r.body)).toEqual(["cc", "ddd"]);
  });

  it("removes by id and ignores ids already gone", async () => {
    const store = memoryStore({ maxCount: 10, maxBytes: 1000 });
    await store.add(["a", "b", "c"].map(record));
    const [a, b] = await store.oldest(2);
    await store.remove([b!.id, 999]);
    await store.remove([b!.id]);
    expect((await store.oldest()).map((r) => r.body)).toEqual(["a", "c"]);
    expect(a!.id).not.toBe(b!.id);
  });
});
