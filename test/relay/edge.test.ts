/** `pandaprobe/relay` must load in edge runtimes (Workers, Vercel Edge, Deno): no Node built-ins at run time. */
import { build } from "esbuild";
import { describe, expect, it } from "vitest";

describe("relay entry in an edge runtime", () => {
  it("bundles for a neutral platform without importing any node: module", async () => {
    const result = await build({
      entryPoints: [new URL("../../src/relay/index.ts", import.meta.url).pathname],
      bundle: true,
      write: false,
      platform: "neutral",
      format: "esm",
      metafile: true,
      logLevel: "silent",
      // Left external so that an import of one shows up in the metafile instead of failing the build.
      external: ["node:*", "async_hooks", "http", "stream", "buffer"],
    });
    const imports = Object.values(result.metafile.outputs).flatMap((o) => o.imports.map((i) => i.path));
    expect(imports).toEqual([]);
    const code = result.outputFiles[0]!.text;
    expect(code).toContain("function createRelayHandler");
    expect(code).toContain("function toNodeHandler");
  });
});
