/**
 * The relay's credentials may be unknown when its module is evaluated (`next build` evaluates route
 * modules with no secret in the environment): creating it then succeeds, and the key is looked for
 * at the first request, in the options or else in PANDAPROBE_API_KEY / PANDAPROBE_PROJECT_NAME.
 */
import { readFileSync } from "node:fs";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { createRelayHandler } from "../../src/relay/index.js";
import { startCollector, type Collector } from "../support/collector.js";

const API_KEY = "sk_pp_runtime_secret_31";
const PROJECT = "relay-runtime";
let collector: Collector;

beforeAll(async () => {
  collector = await startCollector({ apiKey: API_KEY, projectName: PROJECT });
});
afterAll(() => collector.close());
afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

/** A trace as the SDK sends it (test/fixtures/trace-summarization.json), renamed. */
const trace = () =>
  JSON.stringify({ ...JSON.parse(readFileSync(new URL("../fixtures/trace-summarization.json", import.meta.url), "utf8")), name: "relayed" });

const post = (relay: (req: Request) => Promise<Response>) =>
  relay(new Request("http://app.test/api/pandaprobe/traces", { method: "POST", headers: { "content-type": "application/json" }, body: trace() }));

describe("relay credentials known only at run time", () => {
  it("is created without them; each request is answered 500 while they are missing, and the problem logged once", async () => {
    vi.stubEnv("PANDAPROBE_API_KEY", "");
    vi.stubEnv("PANDAPROBE_PROJECT_NAME", "");
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const relay = createRelayHandler({ apiKey: process.env.PANDAPROBE_API_KEY, projectName: "web", endpoint: collector.url });
    const answers = [await post(relay), await post(relay)];
    expect(answers.map((a) => a.status)).toEqual([500, 500]);
    const body = (await answers[0]!.json()) as { detail: string };
    expect(body.detail).toBe("Relay is not configured (see the server log)");
    expect(logged.mock.calls.map((call) => String(call[0]))).toEqual([
      "[pandaprobe] createRelayHandler: apiKey (PANDAPROBE_API_KEY) is not set; traces are not forwarded",
    ]);
  });

  it("takes them from the environment at the first request when the options leave them unset", async () => {
    const relay = createRelayHandler({ endpoint: collector.url });
    vi.stubEnv("PANDAPROBE_API_KEY", API_KEY);
    vi.stubEnv("PANDAPROBE_PROJECT_NAME", PROJECT);
    collector.reset();
    expect((await post(relay)).status).toBe(202);
    expect(collector.traces().map((t) => t.name)).toEqual(["relayed"]);
    expect(collector.requests[0]!.headers).toMatchObject({ "x-api-key": API_KEY, "x-project-name": PROJECT });
  });

  it("names both when both are missing, and checks a project name from the environment as it would an option", async () => {
    vi.stubEnv("PANDAPROBE_API_KEY", "");
    vi.stubEnv("PANDAPROBE_PROJECT_NAME", "");
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    expect((await post(createRelayHandler({ endpoint: collector.url }))).status).toBe(500);
    vi.stubEnv("PANDAPROBE_API_KEY", API_KEY);
    vi.stubEnv("PANDAPROBE_PROJECT_NAME", "team/agent");
    expect((await post(createRelayHandler({ endpoint: collector.url }))).status).toBe(500);
    expect(logged.mock.calls.map((call) => String(call[0]))).toEqual([
      "[pandaprobe] createRelayHandler: apiKey (PANDAPROBE_API_KEY) and projectName (PANDAPROBE_PROJECT_NAME) are not set; traces are not forwarded",
      expect.stringMatching(/^\[pandaprobe\] createRelayHandler: PANDAPROBE_PROJECT_NAME must be 1-255 characters/),
    ]);
  });
});
