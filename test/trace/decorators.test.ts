/**
 * trace(fn), span(fn) and startTrace(name, options, fn) with host values the tracer must only look
 * at: the host's function runs, its value and exception reach the host unchanged, and the trace ends.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { span, startTrace, trace } from "../../src/index.js";
import { byName, traceToCollector, type Tracing } from "../support/tracing.js";

let tracing: Tracing;
beforeAll(async () => {
  tracing = await traceToCollector();
});
afterAll(() => tracing.close());
afterEach(() => tracing.reset());

/**
 * A validated environment as envalid's cleanEnv() returns it: reading a key it does not hold
 * throws, except the few that inspection and promise resolution read.
 */
function strictEnv(vars: Record<string, string>): Record<string, string> {
  return new Proxy(vars, {
    get(target, key) {
      if (typeof key === "symbol" || key === "then" || key === "toJSON" || key in target) {
        return Reflect.get(target, key);
      }
      throw new ReferenceError(`[envalid] Env var not found: ${key}`);
    },
  });
}

/** An object that throws on every read and on every inspection, `then` and symbols included. */
function hostile(): object {
  const refuse = () => {
    throw new Error("revoked");
  };
  return new Proxy({}, { get: refuse, has: refuse, getPrototypeOf: refuse, ownKeys: refuse, getOwnPropertyDescriptor: refuse });
}

describe("values that throw when read: the tracer never throws into the host", () => {
  it("a value that throws on every read, then and its prototype included, is handed back as is", async () => {
    const value = hostile();
    expect(trace(() => value, { name: "returns-hostile" })()).toBe(value);
    expect(startTrace("callback-hostile", undefined, () => span(() => value, { name: "inner" })())).toBe(value);
    const sent = await tracing.sent();
    expect(byName(sent, "returns-hostile").status).toBe("COMPLETED");
    expect(byName(sent, "callback-hostile").spans).toMatchObject([{ name: "inner", status: "OK" }]);
  });

  it("trace(fn) runs fn with such an argument and returns such a result as is", async () => {
    const env = strictEnv({ REGION: "eu" });
    const handler = trace((request: { role: string; content: string }, e: Record<string, string>) => {
      return `${request.content} from ${e.REGION}`;
    }, { name: "handler" });
    expect(handler({ role: "user", content: "hi" }, env)).toBe("hi from eu");
    const config = trace(() => env, { name: "config" });
    expect(config()).toBe(env);
    const sent = await tracing.sent();
    expect(byName(sent, "handler")).toMatchObject({
      status: "COMPLETED",
      input: { messages: [{ role: "user", content: "hi" }] },
      output: { messages: [{ role: "assistant", content: "hi from eu" }] },
    });
    expect(byName(sent, "config")).toMatchObject({ status: "COMPLETED", output: { REGION: "eu" } });
  });

  it("async trace(fn), span(fn) and startTrace callbacks hand such a value back unchanged", async () => {
    const env = strictEnv({ REGION: "us" });
    const load = span(() => env, { name: "load" });
    const viaTrace = await trace(async () => load(), { name: "async-config" })();
    expect(viaTrace).toBe(env);
    expect(startTrace("callback", undefined, () => env)).toBe(env);
    const sent = await tracing.sent();
    expect(byName(sent, "async-config")).toMatchObject({ status: "COMPLETED", output: { REGION: "us" } });
    expect(byName(sent, "async-config").spans).toMatchObject([{ name: "load", status: "OK", output: { REGION: "us" } }]);
    expect(byName(sent, "callback").status).toBe("COMPLETED");
  });
});

describe("generators closed before their first next()", () => {
  it("end their trace when the consumer returns or throws before reading, and pass the call's result on", async () => {
    const stream = trace(async function* answer(): AsyncGenerator<string, any> {
      yield "never read";
    });
    const numbers = trace(function* count(): Generator<number, any> {
      yield 1;
    });
    // A response stream cancelled before its first pull (the client hung up) calls return() first.
    expect(await stream().return("cancelled")).toEqual({ value: "cancelled", done: true });
    expect(numbers().return(7)).toEqual({ value: 7, done: true });
    const refused = new Error("consumer gave up");
    await expect(stream().throw(refused)).rejects.toBe(refused);
    expect(() => numbers().throw(refused)).toThrow(refused);
    const sent = await tracing.sent();
    expect(sent.map((t) => [t.name, t.status]).sort()).toEqual([
      ["answer", "COMPLETED"],
      ["answer", "ERROR"],
      ["count", "COMPLETED"],
      ["count", "ERROR"],
    ]);
  });

  it("still start their body only when the consumer first reads", async () => {
    const started: string[] = [];
    const stream = trace(async function* lazyAsync() {
      started.push("async");
      yield 1;
    });
    const numbers = trace(function* lazySync() {
      started.push("sync");
      yield 1;
    });
    const pending = [stream(), numbers()] as const;
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(started).toEqual([]);
    expect(await pending[0].next()).toEqual({ value: 1, done: false });
    expect(pending[1].next()).toEqual({ value: 1, done: false });
    expect(started).toEqual(["async", "sync"]);
    await pending[0].return(undefined);
    pending[1].return(undefined);
  });
});

describe("functions returning a thenable that is not a promise (a lazy query builder)", () => {
  /** As Drizzle's and Knex's builders: the query runs when then() is called; the builder holds the client. */
  class SelectQuery {
    readonly session = { pool: { connectionString: "postgres://app:hunter2@db.internal/app" } };
    readonly table: string;
    executed = 0;
    constructor(table: string) {
      this.table = table;
    }
    then<R>(resolve: (rows: { id: number }[]) => R) {
      this.executed++;
      return Promise.resolve([{ id: 1 }]).then(resolve);
    }
  }

  it("get the builder back, unrun, and record no output rather than the builder and its client", async () => {
    const usersQuery = span((table: string) => new SelectQuery(table), { name: "users-query" });
    const query = trace(() => new SelectQuery("orders"), { name: "orders-query" });
    const rows = await trace(async () => {
      const built = usersQuery("users");
      expect(built).toBeInstanceOf(SelectQuery);
      expect(built.executed).toBe(0);
      return built;
    }, { name: "load-users" })();
    expect(rows).toEqual([{ id: 1 }]);
    const orders = query();
    expect(orders.executed).toBe(0);
    const sent = await tracing.sent();
    expect(JSON.stringify(sent)).not.toContain("hunter2");
    const usersSpan = byName(sent, "load-users").spans[0]!;
    expect(usersSpan).toMatchObject({ name: "users-query", status: "OK", input: "users" });
    expect(usersSpan).not.toHaveProperty("output");
    expect(byName(sent, "orders-query")).not.toHaveProperty("output");
  });
});
