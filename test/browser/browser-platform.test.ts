/**
 * What a browser refuses to send with, in development and in production builds: the refusals hold
 * in both; the explanation of how to set up a relay ships only to developers.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import type { ResolvedConfig } from "../../src/config/options.js";
import { DEFAULT_ENDPOINT } from "../../src/wire/endpoint.js";
import { browserPlatform } from "../../src/platform/browser.js";

const config = (options: Partial<ResolvedConfig>) => ({ endpoint: DEFAULT_ENDPOINT, dangerouslyAllowBrowser: false, ...options }) as ResolvedConfig;
const keyed = { apiKey: "sk_pp_secret", endpoint: "https://api.example.com" };

afterEach(() => vi.unstubAllEnvs());

describe("browserPlatform.refuse", () => {
  it("accepts a relay endpoint without a key, and a key the page explicitly allows", () => {
    expect(browserPlatform.refuse(config({ endpoint: "/api/pandaprobe" }))).toBeUndefined();
    expect(browserPlatform.refuse(config({ ...keyed, dangerouslyAllowBrowser: true }))).toBeUndefined();
  });

  it("in development, refuses a key or a missing relay and explains the relay", () => {
    expect(browserPlatform.refuse(config(keyed))).toMatch(/expose your secret key.*createRelayHandler.*dangerouslyAllowBrowser: true/);
    expect(browserPlatform.refuse(config({}))).toMatch(/relay route \(served by createRelayHandler/);
  });

  it("in a production build, still refuses both, briefly", () => {
    vi.stubEnv("NODE_ENV", "production");
    expect(browserPlatform.refuse(config(keyed))).toBe("an apiKey in a browser is refused without dangerouslyAllowBrowser: true.");
    expect(browserPlatform.refuse(config({}))).toBe("in a browser, set endpoint to your app's relay route.");
  });
});
