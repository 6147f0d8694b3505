/**
 * A page that loads the browser build as it is, with nothing replacing `process.env.NODE_ENV`
 * (native ESM with an import map, a bundler without a replace step): there is no `process`, and
 * the SDK must load and trace as a production build does.
 */
import { runInNewContext } from "node:vm";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";

async function browserBuildWithoutDefines(): Promise<string> {
  const result = await build({
    entryPoints: [new URL("../../src/index.browser.ts", import.meta.url).pathname],
    bundle: true,
    write: false,
    format: "iife",
    globalName: "pandaprobe",
    platform: "neutral",
    mainFields: ["module", "main"],
    logLevel: "silent",
  });
  return result.outputFiles[0]!.text;
}

describe("a page where nothing defines process", () => {
  it("loads the SDK, scopes ids and records a trace", async () => {
    const code = await browserBuildWithoutDefines();
    const posted: string[] = [];
    const reports: string[] = [];
    const page = {
      reports,
      ...{ crypto: globalThis.crypto, TextEncoder, AbortController, setTimeout, clearTimeout, queueMicrotask, console },
      fetch: async (url: string) => (posted.push(url), new Response(null, { status: 202 })),
    };
    const [ids, shutdown] = runInNewContext(
      `${code}
      pandaprobe.onError((error) => reports.push(error.code));
      const client = pandaprobe.init({ endpoint: "/api/pandaprobe" });
      const seen = pandaprobe.session("conversation-1", () => {
        const trace = pandaprobe.startTrace("turn");
        trace.end();
        return [typeof process, pandaprobe.getSessionId(), trace.sessionId, client.enabled];
      });
      [seen, () => client.shutdown()];`,
      page,
    );
    expect(ids).toEqual(["undefined", "conversation-1", "conversation-1", true]);
    // Without IndexedDB the trace waits in memory; shutting down delivers it.
    await shutdown();
    expect(posted).toEqual(["/api/pandaprobe/traces"]);
    expect(reports).toEqual(["storage"]);
  });
});
