/**
 * trace(fn), span(fn) and startTrace(name, options, fn) with host values the tracer must only look
 * at: the host's function runs, its value and exception reach the host unchanged, and the trace ends.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { span, startTrace, trace } from "../src/index.js";
import { byName, traceToCollector, type Tracing } from "./support/tracing.js";

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

describe("values that throw when read: the tracer never throws into the host", () => {
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
