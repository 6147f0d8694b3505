import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { jsonByteLength, toJsonSafe, truncateString } from "../../src/wire/serialize.js";

/** Converts and checks that the result survives a JSON round trip unchanged. */
function safe(value: unknown): unknown {
  const result = toJsonSafe(value);
  expect(JSON.parse(JSON.stringify(result))).toEqual(result);
  return result;
}

function nest(levels: number): Record<string, unknown> {
  const root: Record<string, unknown> = { level: 0 };
  let node = root;
  for (let i = 1; i < levels; i++) {
    const child: Record<string, unknown> = { level: i };
    node.child = child;
    node = child;
  }
  return root;
}

describe("toJsonSafe", () => {
  it("returns strings, booleans, null and finite numbers as they are", () => {
    expect(safe("hi")).toBe("hi");
    expect(safe(true)).toBe(true);
    expect(safe(null)).toBe(null);
    expect(safe(-1.5)).toBe(-1.5);
    expect(safe({ s: "x", b: false, n: 3, z: null })).toEqual({ s: "x", b: false, n: 3, z: null });
  });

  it("turns NaN and ±Infinity into null, as JSON does", () => {
    expect(safe(Number.NaN)).toBe(null);
    expect(safe([Infinity, -Infinity])).toEqual([null, null]);
    expect(safe({ a: Number.NaN })).toEqual({ a: null });
  });

  it("turns undefined into null at top level and in arrays, and omits it as a property", () => {
    expect(safe(undefined)).toBe(null);
    expect(safe([1, undefined, 2])).toEqual([1, null, 2]);
    expect(safe([1, , 3])).toEqual([1, null, 3]);
    expect(safe({ a: 1, b: undefined })).toEqual({ a: 1 });
  });

  it("describes functions at top level and in arrays, and omits them as properties", () => {
    function namedFn(): void {}
    expect(safe(namedFn)).toBe("[Function namedFn]");
    expect(safe([namedFn, () => 1])).toEqual(["[Function namedFn]", "[Function anonymous]"]);
    expect(safe(class Widget {})).toBe("[Function Widget]");
    expect(safe({ a: 1, f: namedFn })).toEqual({ a: 1 });
  });

  it("describes symbols at top level and in arrays, and omits them as properties", () => {
    expect(safe(Symbol("tag"))).toBe("Symbol(tag)");
    expect(safe([Symbol(), Symbol("x")])).toEqual(["Symbol()", "Symbol(x)"]);
    expect(safe({ a: 1, s: Symbol("x"), [Symbol("key")]: 2 })).toEqual({ a: 1 });
  });

  it("writes bigints as decimal strings", () => {
    expect(safe(12345678901234567890n)).toBe("12345678901234567890");
    expect(safe({ n: -5n, list: [1n] })).toEqual({ n: "-5", list: ["1"] });
  });

  it("writes a Date as its ISO string", () => {
    const date = new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678));
    expect(safe(date)).toBe("2024-01-02T03:04:05.678Z");
    expect(safe({ at: date })).toEqual({ at: "2024-01-02T03:04:05.678Z" });
  });

  it("writes an invalid Date as null", () => {
    expect(safe(new Date("not a date"))).toBe(null);
    expect(safe({ at: new Date(Number.NaN) })).toEqual({ at: null });
  });

  it("writes an Error as name, message, stack, its cause chain and own enumerable props", () => {
    const root = new TypeError("disk full");
    const error = Object.assign(new Error("request failed", { cause: root }), { code: "E_IO", retry: 2 });
    expect(safe(error)).toEqual({
      name: "Error",
      message: "request failed",
      stack: error.stack,
      cause: { name: "TypeError", message: "disk full", stack: root.stack },
      code: "E_IO",
      retry: 2,
    });
    expect(typeof error.stack).toBe("string");
  });

  it("writes a non-Error cause as a converted value and omits an absent cause", () => {
    const withCause = new Error("outer", { cause: { detail: 1n } });
    expect(safe(withCause)).toMatchObject({ cause: { detail: "1" } });
    expect(Object.keys(toJsonSafe(new Error("plain")) as object)).toEqual(["name", "message", "stack"]);
  });

  it("writes an AggregateError's errors, which are not enumerable", () => {
    const error = new AggregateError([new Error("replica a down"), "replica b timed out"], "all replicas failed");
    expect(safe(error)).toMatchObject({
      name: "AggregateError",
      message: "all replicas failed",
      errors: [{ name: "Error", message: "replica a down" }, "replica b timed out"],
    });
  });

  it("reports a cause cycle between errors as circular", () => {
    const a = new Error("a");
    const b = new Error("b", { cause: a });
    (a as { cause?: unknown }).cause = b;
    expect(safe(a)).toMatchObject({ message: "a", cause: { message: "b", cause: "[Circular]" } });
  });

  it("recognises an Error from another realm by its toString tag", () => {
    const foreign = runInNewContext('Object.assign(new RangeError("too far"), { code: 7 })') as Error;
    expect(foreign instanceof Error).toBe(false);
    expect(safe(foreign)).toEqual({ name: "RangeError", message: "too far", stack: foreign.stack, code: 7 });
  });

  it("writes a Map with primitive keys as an object keyed by String(key)", () => {
    const map = new Map<unknown, unknown>([
      ["a", 1],
      [2, { deep: true }],
      [true, undefined],
    ]);
    expect(safe(map)).toEqual({ a: 1, "2": { deep: true }, true: null });
  });

  it("writes a Map with an object key as an array of [key, value] pairs", () => {
    const map = new Map<unknown, unknown>([
      ["a", 1],
      [{ id: 1 }, "one"],
    ]);
    expect(safe(map)).toEqual([
      ["a", 1],
      [{ id: 1 }, "one"],
    ]);
  });

  it("converts Map keys first: keys that convert to strings, such as Dates, make an object", () => {
    function handler(): void {}
    const map = new Map<unknown, unknown>([
      [new Date(0), "epoch"],
      [handler, "fn"],
    ]);
    expect(safe(map)).toEqual({ "1970-01-01T00:00:00.000Z": "epoch", "[Function handler]": "fn" });
  });

  it("recognises a Map from another realm by its toString tag", () => {
    const foreign: unknown = runInNewContext('new Map([["a", 1]])');
    expect(foreign instanceof Map).toBe(false);
    expect(safe(foreign)).toEqual({ a: 1 });
  });

  it("writes a Set as an array", () => {
    expect(safe(new Set([1, "two", { three: 3 }]))).toEqual([1, "two", { three: 3 }]);
  });

  it("writes typed arrays as arrays of numbers", () => {
    expect(safe(new Uint8Array([0, 127, 255]))).toEqual([0, 127, 255]);
    expect(safe(new Float64Array([1.5, Number.NaN, -0.25]))).toEqual([1.5, null, -0.25]);
  });

  it("writes BigInt64Array items as decimal strings", () => {
    expect(safe(new BigInt64Array([1n, -9223372036854775808n]))).toEqual(["1", "-9223372036854775808"]);
  });

  it("writes arguments objects as arrays", () => {
    function args(..._: unknown[]): IArguments {
      return arguments;
    }
    expect(safe({ args: args(1, "two", { three: 3n }) })).toEqual({ args: [1, "two", { three: "3" }] });
  });

  it("writes other engine objects as their string form when it says more than their type", () => {
    expect(safe(/a+b/gi)).toBe("/a+b/gi");
    expect(safe(new URL("https://example.com/p?q=1"))).toBe("https://example.com/p?q=1");
    expect(safe(new URLSearchParams({ a: "1", b: "x y" }))).toBe("a=1&b=x+y");
    expect(safe([new String("s"), new Number(2), new Boolean(false)])).toEqual(["s", "2", "false"]);
  });

  it("writes other engine objects as [Type] when their string form is only [object Type]", () => {
    const buffer = new ArrayBuffer(16);
    expect(safe([Promise.resolve(1), new WeakMap(), new WeakSet()])).toEqual(["[Promise]", "[WeakMap]", "[WeakSet]"]);
    expect(safe([buffer, new SharedArrayBuffer(4), new DataView(buffer, 4)])).toEqual([
      "[ArrayBuffer]",
      "[SharedArrayBuffer]",
      "[DataView]",
    ]);
    expect(safe(new Headers({ a: "1" }))).toBe("[Headers]");
  });

  it("walks the own properties of an object with its own type tag", () => {
    class Tagged {
      id = 7;
      get [Symbol.toStringTag](): string {
        return "Tagged";
      }
    }
    expect(safe({ value: new Tagged() })).toEqual({ value: { id: 7 } });
  });

  it("uses the result of toJSON, converted recursively", () => {
    const value = { secret: "x", toJSON: () => ({ shown: 1n, at: new Date(0) }) };
    expect(safe({ value })).toEqual({ value: { shown: "1", at: "1970-01-01T00:00:00.000Z" } });
  });

  it("writes a Node Buffer through its toJSON, as JSON.stringify does", () => {
    expect(safe(Buffer.from([1, 255]))).toEqual({ type: "Buffer", data: [1, 255] });
  });

  it("does not call toJSON on the result of toJSON", () => {
    class Loop {
      n = 1;
      toJSON(): Loop {
        return new Loop();
      }
    }
    expect(safe(new Loop())).toEqual({ n: 1 });
  });

  it("writes an object whose toJSON throws as a [Thrown: message] string", () => {
    const value = {
      a: 1,
      toJSON(): never {
        throw new Error("nope");
      },
    };
    expect(safe({ value, b: 2 })).toEqual({ value: "[Thrown: nope]", b: 2 });
  });

  it("cuts the cycle in a circular toJSON result", () => {
    const value = {
      toJSON(): unknown {
        const inner: Record<string, unknown> = { name: "inner" };
        inner.self = inner;
        inner.owner = value;
        return inner;
      },
    };
    expect(safe(value)).toEqual({ name: "inner", self: "[Circular]", owner: "[Circular]" });
  });

  it("walks own enumerable string keys of class instances", () => {
    class Point {
      x = 1;
      y = 2;
      get sum(): number {
        return this.x + this.y;
      }
    }
    expect(safe(new Point())).toEqual({ x: 1, y: 2 });
  });

  it("writes a getter that throws as a [Thrown: message] string", () => {
    const value = {
      ok: 1,
      get broken(): never {
        throw new Error("getter exploded");
      },
    };
    expect(safe(value)).toEqual({ ok: 1, broken: "[Thrown: getter exploded]" });
  });

  it("writes a circular object reference as [Circular]", () => {
    const node: Record<string, unknown> = { name: "root", child: { name: "child" } };
    (node.child as Record<string, unknown>).parent = node;
    node.self = node;
    expect(safe(node)).toEqual({ name: "root", child: { name: "child", parent: "[Circular]" }, self: "[Circular]" });
  });

  it("writes a circular array reference as [Circular]", () => {
    const list: unknown[] = [1];
    list.push(list, [list]);
    expect(safe(list)).toEqual([1, "[Circular]", ["[Circular]"]]);
  });

  it("copies an object shared by siblings each time instead of calling it circular", () => {
    const shared = { id: 7 };
    const result = safe({ a: shared, b: shared, list: [shared, shared] }) as Record<string, unknown>;
    expect(result).toEqual({ a: { id: 7 }, b: { id: 7 }, list: [{ id: 7 }, { id: 7 }] });
    expect(result.a).not.toBe(result.b);
    expect(result.a).not.toBe(shared);
  });

  it("replaces objects nested 64 levels below the root with [MaxDepth]", () => {
    let node = safe(nest(100)) as Record<string, unknown>;
    for (let i = 0; i < 63; i++) node = node.child as Record<string, unknown>;
    expect(node).toEqual({ level: 63, child: "[MaxDepth]" });
  });

  it("keeps 64 levels of nesting intact", () => {
    expect(safe(nest(64))).toEqual(nest(64));
  });

  it("writes a Proxy whose traps all throw as a [Thrown: message] string", () => {
    const handler = new Proxy(
      {},
      {
        get: () => () => {
          throw new Error("trap");
        },
      },
    );
    const hostile = new Proxy({}, handler);
    const hostileFn = new Proxy(() => {}, handler);
    expect(safe(hostile)).toBe("[Thrown: trap]");
    expect(safe({ p: hostile, list: [hostile, hostileFn], ok: 1 })).toEqual({
      p: "[Thrown: trap]",
      list: ["[Thrown: trap]", "[Thrown: trap]"],
      ok: 1,
    });
  });

  it("writes a revoked Proxy as a [Thrown: message] string", () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    expect(safe([proxy])).toEqual([expect.stringMatching(/^\[Thrown: .*revoked/)]);
  });

  it("copies objects with a null prototype", () => {
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, { a: 1, nested: { b: [2] } });
    const result = safe(bare);
    expect(result).toEqual({ a: 1, nested: { b: [2] } });
    expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
  });

  it("copies frozen objects", () => {
    const frozen = Object.freeze({ a: Object.freeze([1, 2]), b: "x" });
    const result = safe(frozen);
    expect(result).toEqual({ a: [1, 2], b: "x" });
    expect(Object.isFrozen(result)).toBe(false);
  });

  it("keeps a __proto__ key as data instead of changing the copy's prototype", () => {
    const parsed: unknown = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}');
    const result = safe(parsed) as Record<string, unknown>;
    expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
    expect(JSON.stringify(result)).toBe('{"__proto__":{"polluted":true},"a":1}');
  });

  it("returns a snapshot that later mutation of the original does not change", () => {
    const original = { list: [1, { n: 1 }], map: new Map([["k", { v: 1 }]]), nested: { s: "a" } };
    const result = toJsonSafe(original);
    original.list.push(2);
    (original.list[1] as { n: number }).n = 99;
    original.map.get("k")!.v = 99;
    original.map.set("new", { v: 0 });
    original.nested.s = "changed";
    expect(result).toEqual({ list: [1, { n: 1 }], map: { k: { v: 1 } }, nested: { s: "a" } });
  });

  it("produces output that JSON.stringify serializes for every awkward input", () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const hostile = new Proxy(
      {},
      {
        getPrototypeOf: () => {
          throw new Error("trap");
        },
      },
    );
    const error = new Error("e", { cause: new Error("c") });
    const cases: [unknown, unknown][] = [
      [circular, { self: "[Circular]" }],
      [10n, "10"],
      [Symbol("s"), "Symbol(s)"],
      [() => 1, "[Function anonymous]"],
      [error, { name: "Error", message: "e", stack: error.stack, cause: { name: "Error", message: "c", stack: (error.cause as Error).stack } }],
      [new Map<unknown, unknown>([[{}, 1n]]), [[{}, "1"]]],
      [new Set([1n]), ["1"]],
      [new BigInt64Array([1n]), ["1"]],
      [new Float64Array([Number.NaN]), [null]],
      [new ArrayBuffer(1), "[ArrayBuffer]"],
      [new Date(Number.NaN), null],
      [hostile, "[Thrown: trap]"],
      [undefined, null],
    ];
    for (const [input, expected] of cases) expect(JSON.parse(JSON.stringify(toJsonSafe(input)))).toEqual(expected);
    expect(JSON.stringify(toJsonSafe(nest(200)))).toContain('"level":63,"child":"[MaxDepth]"}');
  });
});

describe("truncateString", () => {
  it("returns a string that fits unchanged", () => {
    expect(truncateString("hello", 5)).toBe("hello");
    expect(truncateString("", 0)).toBe("");
  });

  it("keeps the start, appends a marker with the cut count and stays within max", () => {
    const input = "a".repeat(1000);
    const result = truncateString(input, 100);
    expect(result.length).toBeLessThanOrEqual(100);
    const match = /^(a+)…\[truncated (\d+) chars\]$/.exec(result);
    expect(match).not.toBeNull();
    expect(match![1]!.length + Number(match![2])).toBe(1000);
  });

  it("does not split a surrogate pair", () => {
    // 50 emoji are 100 UTF-16 units; the marker needs 22, so every max here keeps part of the text.
    const input = "😀".repeat(50);
    for (let max = 24; max < 40; max++) {
      const result = truncateString(input, max);
      expect(result.length).toBeLessThanOrEqual(max);
      const [, head, cut] = /^(.*)…\[truncated (\d+) chars\]$/u.exec(result)!;
      expect(head).toBe("😀".repeat(Math.floor((max - 22) / 2)));
      expect(head!.length + Number(cut)).toBe(100);
    }
  });

  it("drops the marker when max is too small to hold it", () => {
    expect(truncateString("abcdefghij", 3)).toBe("abc");
    expect(truncateString("😀😀", 3)).toBe("😀");
    expect(truncateString("abc", 0)).toBe("");
  });
});

describe("jsonByteLength", () => {
  it("counts ASCII as one byte per character", () => {
    expect(jsonByteLength('{"a":1}')).toBe(7);
    expect(jsonByteLength("")).toBe(0);
  });

  it("counts 2-, 3- and 4-byte UTF-8 characters", () => {
    expect(jsonByteLength("é")).toBe(2);
    expect(jsonByteLength("€")).toBe(3);
    expect(jsonByteLength("😀")).toBe(4);
    expect(jsonByteLength("aé€😀")).toBe(10);
  });

  it("matches TextEncoder, including lone surrogates", () => {
    const samples = ["plain", "ü日本語🎉", "\ud800x", "x\udc00", "\ud83d"];
    for (const s of samples) expect(jsonByteLength(s)).toBe(new TextEncoder().encode(s).length);
  });
});
