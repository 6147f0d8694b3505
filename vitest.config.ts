import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const src = (file: string) => fileURLToPath(new URL(`./src/${file}`, import.meta.url));
/** Integrations and bindings import the core as "pandaprobe" (one instance at run time): tests resolve it to src. */
const core = (entry: string) => ({ alias: [{ find: /^pandaprobe$/, replacement: src(entry) }] });
const ZONE_TESTS = "test/browser/zone-context.test.ts";

export default defineConfig({
  test: {
    testTimeout: 20_000,
    projects: [
      {
        resolve: core("index.ts"),
        test: { name: "node", environment: "node", include: ["test/**/*.test.ts"], exclude: [ZONE_TESTS] },
      },
      {
        // zone.js follows only the generator-based code ES2016 lowers async/await to, as apps relying on it must be compiled.
        resolve: core("index.ts"),
        oxc: { target: "es2016" },
        test: { name: "zone", include: [ZONE_TESTS] },
      },
      {
        // A page resolves "pandaprobe" to the browser entry; the Node entry would bring AsyncLocalStorage.
        resolve: core("index.browser.ts"),
        test: { name: "react", include: ["test/react/**/*.test.tsx"] },
      },
    ],
  },
});
