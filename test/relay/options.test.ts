/** createRelayHandler validates its options at creation, with errors that name the problem (and never the key). */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PandaProbeError } from "../../src/base/errors.js";
import { createRelayHandler } from "../../src/relay/index.js";
import type { RelayOptions } from "../../src/relay/index.js";
import { startCollector } from "../support/collector.js";
import type { Collector } from "../support/collector.js";

const API_KEY = "sk_pp_options_secret_77";
const base = { apiKey: API_KEY, projectName: "relay-options" };

function creationError(options: unknown): PandaProbeError {
  try {
    createRelayHandler(options as RelayOptions);
  } catch (error) {
    expect(error).toBeInstanceOf(PandaProbeError);
    expect((error as PandaProbeError).code).toBe("config");
    expect((error as Error).message).not.toContain(API_KEY);
    return error as PandaProbeError;
  }
  throw new Error("expected createRelayHandler to throw");
}

describe("createRelayHandler options", () => {
  it.each([
    [{ apiKey: 42, projectName: "p" }, 'option "apiKey" must be a non-empty string'],
    [{ apiKey: "  ", projectName: "p" }, 'option "apiKey" must be a non-empty string'],
    [{ ...base, projectName: ["p"] }, 'option "projectName" must be a non-empty string'],
    [null, "options must be an object"],
  ])("rejects %j: %s", (options, message) => {
    expect(creationError(options).message).toBe(`createRelayHandler: ${message}`);
  });

  it.each(["team/agent", "-x", "x-", "é-accent", "a".repeat(256)])("rejects the project name %j the backend would refuse", (name) => {
    expect(creationError({ ...base, projectName: name }).message).toMatch(
      /^createRelayHandler: option "projectName" must be 1-255 characters: letters, digits, spaces, hyphens, underscores, dots or apostrophes, starting and ending with a letter or digit; got /,
    );
  });

  it.each([
    ["apikey", "apiKey"],
    ["project_name", "projectName"],
    ["maxBodySize", "maxBodyBytes"],
    ["endPoint", "endpoint"],
    ["allowedOrigin", "allowedOrigins"],
    ["timeout", "timeoutMs"],
    ["retries", undefined],
  ])("names the unknown option %s (suggesting %s)", (typo, suggestion) => {
    const message = creationError({ ...base, [typo]: "x" }).message;
    expect(message).toContain(`unknown option "${typo}"`);
    if (suggestion) expect(message).toContain(`did you mean "${suggestion}"?`);
    else expect(message).not.toContain("did you mean");
  });

  it.each([
    ["ftp://api.example.com", "must be an http(s) URL"],
    ["api.pandaprobe.com", "is not a valid URL"],
    ["https://user:pass@api.example.com", "must not contain credentials"],
    ["https://api.example.com/?x=1", "must not have a query string"],
    [42, "must be a string URL"],
  ])("rejects the endpoint %j", (endpoint, message) => {
    expect(creationError({ ...base, endpoint }).message).toContain(message);
  });

  it.each([
    ["maxBodyBytes", 0],
    ["maxBodyBytes", 1.5],
    ["maxBodyBytes", "1mb"],
    ["timeoutMs", -1],
    ["timeoutMs", Infinity],
    ["timeoutMs", 2 ** 31],
  ])("rejects %s = %j", (name, value) => {
    expect(creationError({ ...base, [name]: value }).message).toContain(`option "${name}" must be an integer between 1 and`);
  });

  it.each([["https://app.example.com/"], ["app.example.com"], ["https://app.example.com/path"], [42]])(
    "rejects the allowed origin %j",
    (origin) => {
      expect(creationError({ ...base, allowedOrigins: [origin] }).message).toContain('option "allowedOrigins"');
    },
  );

  it("rejects a non-function authorize or fetch", () => {
    expect(creationError({ ...base, authorize: true }).message).toContain('"authorize" must be a function');
    expect(creationError({ ...base, fetch: "fetch" }).message).toContain('"fetch" must be a function');
  });
});

describe("createRelayHandler endpoint", () => {
  let collector: Collector;
  beforeAll(async () => {
    collector = await startCollector();
  });
  afterAll(async () => {
    await collector.close();
  });

  const trace = () => readFileSync(new URL("../fixtures/trace-error.json", import.meta.url), "utf8");
  const request = () =>
    new Request("https://app.example.com/api/pandaprobe/traces", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: trace(),
    });

  it("defaults to https://api.pandaprobe.com", async () => {
    const urls: string[] = [];
    // Records where the relay aims, then delivers to the local collector instead of the internet.
    const redirecting: typeof fetch = (input, init) => {
      const url = new URL(String(input));
      urls.push(url.href);
      return fetch(collector.url + url.pathname, init);
    };
    const res = await createRelayHandler({ ...base, fetch: redirecting })(request());
    expect(res.status).toBe(202);
    expect(urls).toEqual(["https://api.pandaprobe.com/traces"]);
  });

  it.each(["x", "My Project", "O'Brien's evals", "a".repeat(255)])("forwards with the project name %j the backend accepts", async (name) => {
    collector.reset();
    const res = await createRelayHandler({ ...base, projectName: name, endpoint: collector.url })(request());
    expect(res.status).toBe(202);
    expect(collector.requests.map((r) => r.headers["x-project-name"])).toEqual([name]);
  });

  it("keeps a self-hosted endpoint's path prefix and drops its trailing slash", async () => {
    collector.reset();
    const res = await createRelayHandler({ ...base, endpoint: `${collector.url}/pandaprobe/` })(request());
    expect(collector.requests.map((r) => r.path)).toEqual(["/pandaprobe/traces"]);
    expect(res.status).toBe(404);
  });
});
