/**
 * Configuration of `init()`, `new Client()` and the auto-initialisation of `getClient()`:
 * options over `PANDAPROBE_*` variables over defaults, clear errors for every mistake, missing
 * credentials, the disabled mode, and `init()` replacing the global client.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  Client,
  flush,
  getClient,
  init,
  PandaProbeError,
  shutdown,
  startTrace,
  trace,
  type PandaProbeOptions,
} from "../../src/index.js";
import { startCollector, type Collector } from "../support/collector.js";
import { forgetSdkGlobals } from "../support/fresh-sdk.js";

type Sdk = typeof import("../../src/index.js");

const CREDENTIALS = { apiKey: "sk_pp_config", projectName: "config-tests" };

/** Every variable the SDK reads; cleared so the developer's own shell cannot leak into a test. */
const ENV_NAMES = [
  "API_KEY",
  "PROJECT_NAME",
  "ENDPOINT",
  "ENVIRONMENT",
  "RELEASE",
  "ENABLED",
  "BATCH_SIZE",
  "FLUSH_INTERVAL",
  "MAX_QUEUE_SIZE",
  "DEBUG",
  "MAX_RETRIES",
  "TIMEOUT",
  "MAX_CONCURRENT_REQUESTS",
  "MAX_PAYLOAD_SIZE",
].map((n) => `PANDAPROBE_${n}`);

/** Replaces the PANDAPROBE_* part of process.env for this test (undone in afterEach). */
function stubPandaProbeEnv(env: Record<string, string> = {}): void {
  const names = new Set([...ENV_NAMES, ...Object.keys(process.env).filter((k) => k.startsWith("PANDAPROBE_"))]);
  for (const name of names) vi.stubEnv(name, undefined);
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
}

/** A fresh copy of the SDK (its own global client, auto-init flag and error handlers), seeing `env`. */
async function freshSdk(env: Record<string, string> = {}): Promise<Sdk> {
  stubPandaProbeEnv(env);
  vi.resetModules();
  forgetSdkGlobals();
  return (await import("../../src/index.js")) as Sdk;
}

/** Runs fn, which must throw a PandaProbeError with code "config"; returns it. */
function configError(fn: () => unknown, ErrorClass: typeof PandaProbeError = PandaProbeError): PandaProbeError {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error, "a config error is thrown").toBeInstanceOf(ErrorClass);
  expect((error as PandaProbeError).code).toBe("config");
  return error as PandaProbeError;
}

const opened: { shutdown(): Promise<void> }[] = [];
const collectors: Collector[] = [];

/** A client this test owns; shut down after the test. */
function client(options?: PandaProbeOptions, env: Record<string, string | undefined> = {}): Client {
  const c = new Client(options, env);
  opened.push(c);
  return c;
}

async function collector(): Promise<Collector> {
  const c = await startCollector();
  collectors.push(c);
  return c;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

afterEach(async () => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  await Promise.all(opened.splice(0).map((c) => c.shutdown()));
  await shutdown();
  for (const c of collectors) expect(c.contractFailures).toEqual([]);
  await Promise.all(collectors.splice(0).map((c) => c.close()));
});

describe("where settings come from: options over PANDAPROBE_* variables over defaults", () => {
  it("uses the documented defaults when neither options nor variables say otherwise", () => {
    const c = client(CREDENTIALS, {});
    expect(c.enabled).toBe(true);
    expect(c.config.environment).toBeUndefined();
    expect(c.config.release).toBeUndefined();
    expect(c.config).toMatchObject({
      endpoint: "https://api.pandaprobe.com",
      enabled: true,
      batchSize: 10,
      flushInterval: 5,
      maxQueueSize: 1000,
      debug: false,
    });
  });

  it("reads every PANDAPROBE_* variable, parsing numbers and booleans", () => {
    const c = client(undefined, {
      PANDAPROBE_API_KEY: "sk_pp_from_env",
      PANDAPROBE_PROJECT_NAME: "env-project",
      PANDAPROBE_ENDPOINT: "https://pandaprobe.internal.example",
      PANDAPROBE_ENVIRONMENT: "staging",
      PANDAPROBE_RELEASE: "v1.2.3",
      PANDAPROBE_ENABLED: "yes",
      PANDAPROBE_BATCH_SIZE: "25",
      PANDAPROBE_FLUSH_INTERVAL: "0.5",
      PANDAPROBE_MAX_QUEUE_SIZE: "50",
      PANDAPROBE_DEBUG: "1",
    });
    expect(c.config).toMatchObject({
      apiKey: "sk_pp_from_env",
      projectName: "env-project",
      endpoint: "https://pandaprobe.internal.example",
      environment: "staging",
      release: "v1.2.3",
      enabled: true,
      batchSize: 25,
      flushInterval: 0.5,
      maxQueueSize: 50,
      debug: true,
    });
  });

  it("lets every option win over its variable", () => {
    const env = {
      PANDAPROBE_API_KEY: "sk_pp_from_env",
      PANDAPROBE_PROJECT_NAME: "env-project",
      PANDAPROBE_ENDPOINT: "https://env.example",
      PANDAPROBE_ENVIRONMENT: "staging",
      PANDAPROBE_RELEASE: "v1",
      PANDAPROBE_BATCH_SIZE: "25",
      PANDAPROBE_FLUSH_INTERVAL: "0.5",
      PANDAPROBE_MAX_QUEUE_SIZE: "50",
      PANDAPROBE_DEBUG: "true",
    };
    const options = {
      apiKey: "sk_pp_from_options",
      projectName: "options-project",
      endpoint: "https://options.example",
      environment: "production",
      release: "v2",
      batchSize: 3,
      flushInterval: 2,
      maxQueueSize: 7,
      debug: false,
    };
    expect(client(options, env).config).toMatchObject(options);
  });

  it("lets enabled: false win over PANDAPROBE_ENABLED=true (and the reverse)", () => {
    expect(client({ enabled: false }, { PANDAPROBE_ENABLED: "true" }).enabled).toBe(false);
    expect(client({ ...CREDENTIALS, enabled: true }, { PANDAPROBE_ENABLED: "false" }).enabled).toBe(true);
  });

  it.each(["true", "1", "yes", "TRUE", " Yes "])("takes PANDAPROBE_ENABLED=%j as enabled", (value) => {
    expect(client(CREDENTIALS, { PANDAPROBE_ENABLED: value }).enabled).toBe(true);
  });

  it.each(["false", "0", "no", "FALSE"])("takes PANDAPROBE_ENABLED=%j as disabled", (value) => {
    expect(client(undefined, { PANDAPROBE_ENABLED: value }).enabled).toBe(false);
  });

  it("counts a variable set to nothing as unset (a compose file's ${VAR} the host did not set), booleans aside", () => {
    const c = client(undefined, {
      PANDAPROBE_API_KEY: "sk_pp_from_env",
      PANDAPROBE_PROJECT_NAME: "env-project",
      PANDAPROBE_ENDPOINT: "",
      PANDAPROBE_ENVIRONMENT: "",
      PANDAPROBE_RELEASE: "",
      PANDAPROBE_BATCH_SIZE: "",
      PANDAPROBE_FLUSH_INTERVAL: "",
      PANDAPROBE_TIMEOUT: "",
    });
    expect(c.config).toMatchObject({ endpoint: "https://api.pandaprobe.com", batchSize: 10, flushInterval: 5, timeout: 10 });
    expect(c.config.environment).toBeUndefined();
    expect(c.config.release).toBeUndefined();
    // As in the Python SDK, an empty PANDAPROBE_ENABLED is not one of true/1/yes.
    expect(client(undefined, { PANDAPROBE_ENABLED: "" }).enabled).toBe(false);
    // An empty key is still no key.
    expect(configError(() => new Client(undefined, { PANDAPROBE_API_KEY: "", PANDAPROBE_PROJECT_NAME: "p" })).message).toMatch(
      /apiKey \(PANDAPROBE_API_KEY\)/,
    );
  });

  it("does not even parse a variable whose option is given", () => {
    const c = client({ ...CREDENTIALS, batchSize: 5 }, { PANDAPROBE_BATCH_SIZE: "ten" });
    expect(c.config.batchSize).toBe(5);
  });

  it("reads process.env by default, and only the env passed as second argument when there is one", () => {
    stubPandaProbeEnv({ PANDAPROBE_API_KEY: "sk_pp_process", PANDAPROBE_PROJECT_NAME: "process-project", PANDAPROBE_BATCH_SIZE: "ten" });
    expect(() => new Client()).toThrow(/PANDAPROBE_BATCH_SIZE/);
    vi.stubEnv("PANDAPROBE_BATCH_SIZE", "4");
    const fromProcess = new Client();
    opened.push(fromProcess);
    expect(fromProcess.config).toMatchObject({ apiKey: "sk_pp_process", projectName: "process-project", batchSize: 4 });
    // An explicit env replaces process.env entirely: nothing is read from the process.
    const fromArgument = client({ enabled: false }, {});
    expect(fromArgument.config.apiKey).toBeUndefined();
    expect(fromArgument.config.batchSize).toBe(10);
  });

  it("sends with the resolved settings: the option's endpoint and the variable's credentials", async () => {
    const fromEnv = await collector();
    const fromOptions = await collector();
    const c = client(
      { endpoint: fromOptions.url },
      {
        PANDAPROBE_ENDPOINT: fromEnv.url,
        PANDAPROBE_API_KEY: "sk_pp_env_key",
        PANDAPROBE_PROJECT_NAME: "env-project",
        PANDAPROBE_ENVIRONMENT: "staging",
        PANDAPROBE_RELEASE: "r42",
      },
    );
    c.startTrace("routed").end();
    await c.flush();
    expect(fromEnv.requests).toHaveLength(0);
    expect(fromOptions.requests).toHaveLength(1);
    const [request] = fromOptions.requests;
    expect(request!.headers).toMatchObject({ "x-api-key": "sk_pp_env_key", "x-project-name": "env-project" });
    expect(fromOptions.traces()[0]).toMatchObject({ name: "routed", environment: "staging", release: "r42" });
  });
});

describe("long intervals", () => {
  it("a flushInterval beyond Node's timer range (1e7 s) means 'not before then', not 'now'", async () => {
    const api = await collector();
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on("warning", onWarning);
    try {
      const c = client({ ...CREDENTIALS, endpoint: api.url, flushInterval: 1e7, batchSize: 100 });
      c.startTrace("waits-for-batch-or-flush").end();
      await sleep(300);
      expect(warnings.map((w) => `${w.name}: ${w.message}`)).toEqual([]);
      expect(api.requests).toHaveLength(0);
      await c.flush();
      expect(api.traces()).toHaveLength(1);
    } finally {
      process.off("warning", onWarning);
    }
  });
});

describe("mistakes are errors that say what is wrong and how to fix it", () => {
  it.each([
    ["batchsize", "batchSize"],
    ["apikey", "apiKey"],
    ["projectname", "projectName"],
    ["flushIntervall", "flushInterval"],
  ])("a typo'd option %j is named, with the right name suggested", (typo, right) => {
    const error = configError(() => new Client({ ...CREDENTIALS, [typo]: 5 } as PandaProbeOptions, {}));
    expect(error.message).toContain(`"${typo}"`);
    expect(error.message).toContain(`Did you mean "${right}"?`);
    // init() checks the same way, before touching the global client.
    expect(configError(() => init({ ...CREDENTIALS, [typo]: 5 } as PandaProbeOptions)).message).toContain(`"${right}"`);
  });

  it("an option that resembles nothing is named, with the known options listed", () => {
    const error = configError(() => new Client({ ...CREDENTIALS, colour: "blue" } as PandaProbeOptions, {}));
    expect(error.message).toMatch(/unknown option "colour"/);
    expect(error.message).toMatch(/batchSize.*flushInterval/);
  });

  it.each<[PandaProbeOptions, RegExp]>([
    [{ batchSize: "10" as unknown as number }, /option "batchSize" must be a positive integer, got "10"/],
    [{ batchSize: 0 }, /option "batchSize" must be a positive integer, got 0/],
    [{ batchSize: 2.5 }, /option "batchSize" must be a positive integer, got 2.5/],
    [{ flushInterval: -1 }, /option "flushInterval" must be a positive number, got -1/],
    [{ flushInterval: Number.NaN }, /option "flushInterval" must be a positive number, got NaN/],
    [{ maxQueueSize: 0 }, /option "maxQueueSize" must be a positive integer, got 0/],
    [{ enabled: "yes" as unknown as boolean }, /option "enabled" must be a boolean, got "yes"/],
    [{ debug: 1 as unknown as boolean }, /option "debug" must be a boolean, got 1/],
    [{ endpoint: 443 as unknown as string }, /option "endpoint" must be a string, got 443/],
  ])("an ill-typed option %j is refused", (bad, message) => {
    expect(configError(() => new Client({ ...CREDENTIALS, ...bad }, {})).message).toMatch(message);
  });

  it.each(["team/agent", "-x", "x-", "é-accent", " padded", "a".repeat(256)])(
    "a project name the backend would refuse with 422 (%j) is refused, naming the rule",
    (name) => {
      const fromOption = configError(() => new Client({ ...CREDENTIALS, projectName: name }, {}));
      expect(fromOption.message).toMatch(/option "projectName" must be 1-255 characters: letters, digits, spaces, hyphens, underscores, dots or apostrophes, starting and ending with a letter or digit/);
      expect(fromOption.message).toContain(`(${name.length} characters)`);
      const fromEnv = configError(() => new Client({ apiKey: "sk_pp_k" }, { PANDAPROBE_PROJECT_NAME: name }));
      expect(fromEnv.message).toMatch(/^PandaProbe: PANDAPROBE_PROJECT_NAME must be 1-255 characters/);
    },
  );

  it.each(["x", "My Project", "agent_v2.1", "O'Brien's evals", "a".repeat(255)])("the project name %j is accepted", (name) => {
    expect(client({ ...CREDENTIALS, projectName: name }, {}).config.projectName).toBe(name);
  });

  it("options that are not an object are refused", () => {
    expect(configError(() => new Client("sk_pp_key" as unknown as PandaProbeOptions, {})).message).toMatch(
      /options must be an object/,
    );
  });

  it.each([
    ["PANDAPROBE_BATCH_SIZE", "ten", /PANDAPROBE_BATCH_SIZE must be a number, got "ten"/],
    ["PANDAPROBE_BATCH_SIZE", "2.5", /PANDAPROBE_BATCH_SIZE must be a positive integer, got 2.5/],
    ["PANDAPROBE_FLUSH_INTERVAL", "soon", /PANDAPROBE_FLUSH_INTERVAL must be a number, got "soon"/],
    ["PANDAPROBE_FLUSH_INTERVAL", "-1", /PANDAPROBE_FLUSH_INTERVAL must be a positive number, got -1/],
    ["PANDAPROBE_MAX_QUEUE_SIZE", "0", /PANDAPROBE_MAX_QUEUE_SIZE must be a positive integer, got 0/],
    ["PANDAPROBE_ENABLED", "maybe", /PANDAPROBE_ENABLED must be true\/1\/yes or false\/0\/no, got "maybe"/],
    ["PANDAPROBE_DEBUG", "verbose", /PANDAPROBE_DEBUG must be true\/1\/yes or false\/0\/no, got "verbose"/],
  ])("a bad %s=%j is refused, naming the variable", (name, value, message) => {
    expect(configError(() => new Client(CREDENTIALS, { [name]: value })).message).toMatch(message);
  });

  it("init() refuses a bad variable of process.env the same way", () => {
    stubPandaProbeEnv({ PANDAPROBE_BATCH_SIZE: "ten" });
    expect(configError(() => init(CREDENTIALS)).message).toMatch(/PANDAPROBE_BATCH_SIZE must be a number, got "ten"/);
  });
});

describe("missing credentials while tracing is enabled", () => {
  it("init() and new Client() throw, naming what is missing and its variable", () => {
    stubPandaProbeEnv();
    const none = configError(() => init());
    expect(none.message).toMatch(/apiKey \(PANDAPROBE_API_KEY\)/);
    expect(none.message).toMatch(/projectName \(PANDAPROBE_PROJECT_NAME\)/);

    const noProject = configError(() => new Client({ apiKey: "sk_pp_k" }, {}));
    expect(noProject.message).toMatch(/projectName \(PANDAPROBE_PROJECT_NAME\)/);
    expect(noProject.message).not.toMatch(/apiKey/);

    const noKey = configError(() => new Client({ projectName: "p" }, {}));
    expect(noKey.message).toMatch(/apiKey \(PANDAPROBE_API_KEY\)/);
    // An empty key is no key.
    configError(() => new Client({ apiKey: "", projectName: "p" }, {}));
  });

  it("are not needed when tracing is disabled", () => {
    expect(client({ enabled: false }, {}).enabled).toBe(false);
    expect(client(undefined, { PANDAPROBE_ENABLED: "0" }).enabled).toBe(false);
  });

  it("auto-init: getClient() gives undefined and warns exactly once, however often it is asked", async () => {
    const sdk = await freshSdk({ PANDAPROBE_PROJECT_NAME: "only-a-project" });
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    for (let i = 0; i < 5; i++) expect(sdk.getClient()).toBeUndefined();
    const wrapped = sdk.trace(() => "still runs");
    for (let i = 0; i < 3; i++) {
      expect(wrapped()).toBe("still runs");
      sdk.startTrace("unsent").end();
    }
    sdk.score("3f0c8a4e-5d7b-4c1e-9a2f-6b8d0e1c2a3b", "quality", 1);
    expect(sdk.getCurrentTrace()).toBeUndefined();
    await expect(sdk.flush()).resolves.toBeUndefined();
    await expect(sdk.shutdown()).resolves.toBeUndefined();

    expect(warn).toHaveBeenCalledTimes(1);
    const message = String(warn.mock.calls[0]![0]);
    expect(message).toMatch(/apiKey \(PANDAPROBE_API_KEY\)/);
    expect(message).not.toMatch(/projectName/);
    expect(message).toMatch(/init\(\)/);
  });

  it("auto-init: traced code runs untraced, with working non-recording traces", async () => {
    const sdk = await freshSdk();
    vi.spyOn(console, "warn").mockImplementation(() => {});

    const t = sdk.startTrace("manual", { input: { q: "hi" }, sessionId: "s-1" });
    expect(t.traceId).toMatch(UUID);
    const s = t.span("step");
    expect(s.spanId).toMatch(UUID);
    s.setOutput("done").end();
    t.setOutput({ a: 1 }).setMetadata({ k: "v" }).setTags(["x"]);
    t.end();
    t.end();

    const seen = sdk.startTrace("scoped", undefined, (inner) => {
      expect(sdk.getCurrentTrace()).toBe(inner);
      return inner.span("child", undefined, () => 41) + 1;
    });
    expect(seen).toBe(42);

    const result = { answer: 42 };
    expect(sdk.trace(() => result)()).toBe(result);
    await expect(sdk.trace(async (x: number) => x * 2)(21)).resolves.toBe(42);
    const boom = new Error("the app's own error");
    expect(() =>
      sdk.trace(() => {
        throw boom;
      })(),
    ).toThrow(boom);
  });

  it("auto-init: a bad variable is one warning naming it, not a crash", async () => {
    const sdk = await freshSdk({ ...envCredentials("http://127.0.0.1:1"), PANDAPROBE_ENABLED: "maybe" });
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    expect(sdk.getClient()).toBeUndefined();
    expect(sdk.trace(() => 7)()).toBe(7);
    expect(sdk.getClient()).toBeUndefined();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toMatch(/PANDAPROBE_ENABLED must be true\/1\/yes or false\/0\/no, got "maybe"/);
  });

  it("auto-init: a complete environment gives a client that sends, without init()", async () => {
    const api = await collector();
    const sdk = await freshSdk({ ...envCredentials(api.url), PANDAPROBE_BATCH_SIZE: "1" });
    const warn = vi.spyOn(console, "warn");
    const wrapped = sdk.trace((q: string) => `answer to ${q}`, { name: "auto" });
    expect(wrapped("q")).toBe("answer to q");
    const c = sdk.getClient();
    expect(c).toBeInstanceOf(sdk.Client);
    expect(c!.config).toMatchObject({ apiKey: "sk_pp_env", projectName: "env-project", batchSize: 1, endpoint: api.url });
    await sdk.flush();
    expect(api.traces().map((t) => t.name)).toEqual(["auto"]);
    expect(warn).not.toHaveBeenCalled();
    await sdk.shutdown();
  });

  it("auto-init does not stand in the way of a later init()", async () => {
    const api = await collector();
    const sdk = await freshSdk();
    vi.spyOn(console, "warn").mockImplementation(() => {});
    expect(sdk.getClient()).toBeUndefined();
    const c = sdk.init({ ...CREDENTIALS, endpoint: api.url });
    expect(sdk.getClient()).toBe(c);
    sdk.startTrace("after-init").end();
    await sdk.flush();
    expect(api.traces().map((t) => t.name)).toEqual(["after-init"]);
    await sdk.shutdown();
  });
});

function envCredentials(endpoint: string): Record<string, string> {
  return { PANDAPROBE_API_KEY: "sk_pp_env", PANDAPROBE_PROJECT_NAME: "env-project", PANDAPROBE_ENDPOINT: endpoint };
}

describe("disabled: no network, no timers, every call a pass-through", () => {
  /** Timers Node counts as keeping the process alive. */
  const refedTimers = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;

  /** Exercises a client the way an app would; returns what the traced calls returned. */
  function exercise(c: Client) {
    const t = c.startTrace("manual", { input: "hi" });
    t.span("step", { kind: "TOOL" }).end();
    t.end();
    const fromFn = c.startTrace("with-fn", undefined, (inner) => inner.traceId);
    const value = { exact: "object" };
    const traced = c.trace(function (this: unknown, x: number) {
      return { value, self: this, x };
    });
    const holder = { traced };
    const syncResult = holder.traced(3);
    const promise = Promise.resolve("p");
    const asyncResult = c.trace(() => promise)();
    c.score(t.traceId, "quality", 0.5);
    c.logTrace({ name: "logged", started_at: new Date().toISOString() } as never);
    return { t, fromFn, value, holder, syncResult, promise, asyncResult };
  }

  async function expectNothingSent(api: Collector, fetchSpy: ReturnType<typeof vi.fn>) {
    await sleep(150);
    expect(api.requests).toHaveLength(0);
    expect(fetchSpy).not.toHaveBeenCalled();
  }

  for (const [how, make] of [
    ["enabled: false", (url: string, f: typeof fetch) => new Client({ ...CREDENTIALS, enabled: false, endpoint: url, fetch: f, flushInterval: 0.01 }, {})],
    [
      "PANDAPROBE_ENABLED=false",
      (url: string, f: typeof fetch) =>
        new Client({ fetch: f }, { ...envCredentials(url), PANDAPROBE_ENABLED: "false", PANDAPROBE_FLUSH_INTERVAL: "0.01" }),
    ],
  ] as const) {
    it(`${how}: nothing reaches the endpoint, no timer is armed, and every call still works`, async () => {
      const api = await collector();
      const fetchSpy = vi.fn(fetch);
      const timersBefore = refedTimers();
      const setTimeoutSpy = vi.spyOn(globalThis, "setTimeout");
      const setIntervalSpy = vi.spyOn(globalThis, "setInterval");

      const c = make(api.url, fetchSpy as unknown as typeof fetch);
      opened.push(c);
      expect(c.enabled).toBe(false);
      const r = exercise(c);
      const flushed = c.flush();
      const stopped = c.shutdown();
      const again = c.shutdown();

      expect(setTimeoutSpy).not.toHaveBeenCalled();
      expect(setIntervalSpy).not.toHaveBeenCalled();
      expect(refedTimers()).toBe(timersBefore);
      vi.restoreAllMocks();

      await expect(Promise.all([flushed, stopped, again])).resolves.toEqual([undefined, undefined, undefined]);
      expect(r.t.traceId).toMatch(UUID);
      expect(r.fromFn).toMatch(UUID);
      expect(r.syncResult.value).toBe(r.value);
      expect(r.syncResult.self).toBe(r.holder);
      expect(r.syncResult.x).toBe(3);
      expect(r.asyncResult).toBe(r.promise);
      await expectNothingSent(api, fetchSpy);
    });
  }

  it("(control) an enabled client does arm a timer once a trace is queued, so the check above can see one", async () => {
    const api = await collector();
    const c = client({ ...CREDENTIALS, endpoint: api.url });
    const setTimeoutSpy = vi.spyOn(globalThis, "setTimeout");
    c.startTrace("queued").end();
    expect(setTimeoutSpy).toHaveBeenCalled();
    vi.restoreAllMocks();
    await c.flush();
    expect(api.traces()).toHaveLength(1);
  });

  it("the module functions pass through with the exact value, error and promise of the function", async () => {
    const api = await collector();
    const c = init({ ...CREDENTIALS, enabled: false, endpoint: api.url });
    expect(getClient()).toBe(c);

    const value = { exact: "object" };
    expect(trace(() => value)()).toBe(value);
    const promise = Promise.resolve(value);
    expect(trace(() => promise)()).toBe(promise);
    const boom = new Error("app error");
    expect(() =>
      trace(() => {
        throw boom;
      })(),
    ).toThrow(boom);
    const t = startTrace("manual");
    expect(t.traceId).toMatch(UUID);
    t.end();
    expect(startTrace("with-fn", undefined, () => value)).toBe(value);

    await expect(flush()).resolves.toBeUndefined();
    await expect(shutdown()).resolves.toBeUndefined();
    await sleep(100);
    expect(api.requests).toHaveLength(0);
  });
});

describe("init() replaces the global client", () => {
  it("shuts the previous one down (delivering what it had) and routes new traces to the new one", async () => {
    const first = await collector();
    const second = await collector();
    // A long interval and a large batch: only a shutdown sends what the first client holds.
    const old = init({ ...CREDENTIALS, endpoint: first.url, flushInterval: 60, batchSize: 100 });
    startTrace("before-1").end();
    trace(() => "x", { name: "before-2" })();

    const replacement = init({ ...CREDENTIALS, endpoint: second.url, flushInterval: 60, batchSize: 100 });
    expect(replacement).not.toBe(old);
    expect(getClient()).toBe(replacement);
    await first.waitFor(() => first.traces().length === 2, 2000);
    expect(first.traces().map((t) => t.name).sort()).toEqual(["before-1", "before-2"]);

    startTrace("after").end();
    await flush();
    expect(second.traces().map((t) => t.name)).toEqual(["after"]);
    expect(first.traces()).toHaveLength(2);

    // The old client sends nothing itself any more: traces still recorded on it go to its replacement.
    old.startTrace("to-the-old-one").end();
    await flush();
    await sleep(100);
    expect(first.traces()).toHaveLength(2);
    expect(second.traces().map((t) => t.name)).toEqual(["after", "to-the-old-one"]);
  });

  it("flush() and shutdown() wait for what the replaced client still holds", async () => {
    const first = await collector();
    const second = await collector();
    first.respond((req) => (req.path === "/traces" && first.requests.length === 1 ? { status: 503, headers: { "Retry-After": "0" } } : undefined));
    init({ ...CREDENTIALS, endpoint: first.url, flushInterval: 60, batchSize: 100 });
    startTrace("held-by-the-first").end();
    init({ ...CREDENTIALS, endpoint: second.url, flushInterval: 60, batchSize: 100 });
    // Everything queued so far, the replaced client's too (retried after a 503 here), is delivered.
    await flush();
    expect(first.traces().map((t) => t.name)).toEqual(["held-by-the-first"]);

    init({ ...CREDENTIALS, endpoint: first.url, flushInterval: 60, batchSize: 100 });
    startTrace("held-by-the-third").end();
    init({ ...CREDENTIALS, endpoint: second.url, flushInterval: 60, batchSize: 100 });
    await shutdown();
    expect(first.traces().map((t) => t.name)).toEqual(["held-by-the-first", "held-by-the-third"]);
  });

  it("a trace running when init() replaces the client is delivered by the new one, with its spans", async () => {
    const first = await collector();
    const second = await collector();
    init({ ...CREDENTIALS, endpoint: first.url, flushInterval: 60, batchSize: 100 });
    const running = startTrace("spans-the-replacement");
    const step = running.span("step");
    const wrapped = trace(async () => {
      await sleep(50);
      return "done";
    }, { name: "awaiting-through-it" });
    const pending = wrapped();

    init({ ...CREDENTIALS, endpoint: second.url, flushInterval: 60, batchSize: 100 });
    step.end();
    running.end();
    expect(await pending).toBe("done");
    // Replaced twice while it runs: still the current client's.
    const late = startTrace("outlives-two-inits");
    init({ ...CREDENTIALS, endpoint: second.url, flushInterval: 60, batchSize: 100 });
    init({ ...CREDENTIALS, endpoint: second.url, flushInterval: 60, batchSize: 100 });
    late.end();
    await flush();

    expect(first.traces()).toEqual([]);
    expect(second.traces().map((t) => t.name).sort()).toEqual(["awaiting-through-it", "outlives-two-inits", "spans-the-replacement"]);
    const sent = second.traces().find((t) => t.name === "spans-the-replacement")!;
    expect(sent.spans?.map((s) => s.name)).toEqual(["step"]);
    expect(sent.trace_id).toBe(running.traceId);
  });

  it("a replaced client whose custom exporter fails to shut down does not fail later flushes", async () => {
    const api = await collector();
    const failing = { enqueue() {}, flush: async () => {}, shutdown: () => Promise.reject(new Error("exporter broke")) };
    init({ exporter: failing });
    init({ ...CREDENTIALS, endpoint: api.url });
    startTrace("after-the-broken-one").end();
    await expect(flush()).resolves.toBeUndefined();
    await expect(shutdown()).resolves.toBeUndefined();
    expect(api.traces().map((t) => t.name)).toEqual(["after-the-broken-one"]);
  });

  it("a failing init() leaves the current client in place", async () => {
    const api = await collector();
    const current = init({ ...CREDENTIALS, endpoint: api.url });
    configError(() => init({ ...CREDENTIALS, batchsize: 1 } as PandaProbeOptions));
    expect(getClient()).toBe(current);
    startTrace("still-current").end();
    await flush();
    expect(api.traces().map((t) => t.name)).toEqual(["still-current"]);
  });
});
