import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const src = (file: string) => fileURLToPath(new URL(`./src/${file}`, import.meta.url));
/** Integrations and bindings import the core as "pandaprobe" (one instance at run time): tests resolve it to src. */
const core = (entry: string) => ({
  alias: [
    { find: /^pandaprobe$/, replacement: src(entry) },
    { find: /^pandaprobe\/integration-kit$/, replacement: src("integration-kit.ts") },
    // The official SDK's subpaths, for the programs written against it.
    { find: /^pandaprobe\/wrappers\/(openai|anthropic|gemini|bedrock|mistral)$/, replacement: src("integrations/$1.ts") },
    { find: /^pandaprobe\/integrations\/(langchain|langgraph)$/, replacement: src("integrations/langchain.ts") },
    { find: /^pandaprobe\/ai$/, replacement: src("integrations/ai-sdk.ts") },
  ],
});
const ZONE_TESTS = "test/browser/zone-context.test.ts";

export default defineConfig({
  test: {
    // Projects inherit these only with `extends: true`; a loaded 2-core machine needs the margin
    // (tsc runs, Chromium start-ups and the 1,000-flow context test each take seconds there).
    testTimeout: 60_000,
    hookTimeout: 120_000,
    projects: [
      {
        extends: true,
        resolve: core("index.ts"),
        test: { name: "node", environment: "node", include: ["test/**/*.test.ts"], exclude: [ZONE_TESTS] },
      },
      {
        // zone.js follows only the generator-based code ES2016 lowers async/await to, as apps relying on it must be compiled.
        extends: true,
        resolve: core("index.ts"),
        oxc: { target: "es2016" },
        test: { name: "zone", include: [ZONE_TESTS] },
      },
      {
        // A page resolves "pandaprobe" to the browser entry; the Node entry would bring AsyncLocalStorage.
        extends: true,
        resolve: core("index.browser.ts"),
        test: { name: "react", include: ["test/react/**/*.test.tsx"] },
      },
    ],
  },
});
