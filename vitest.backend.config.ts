import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

/**
 * `npm run test:backend`: end-to-end tests against the real PandaProbe backend, which the kit in
 * `../shared/backend` (from the repo root) runs on 127.0.0.1. Without the kit there is nothing to
 * run against: one line says so and the run ends successfully, having tested nothing.
 */
const kit = fileURLToPath(new URL("../shared/backend/", import.meta.url));
if (!existsSync(`${kit}start.sh`)) {
  console.log(`test:backend: no backend kit at ${kit}; nothing was tested.`);
  process.exit(0);
}

export default defineConfig({
  resolve: { alias: [{ find: /^pandaprobe$/, replacement: fileURLToPath(new URL("./src/index.ts", import.meta.url)) }] },
  test: {
    name: "backend",
    environment: "node",
    include: ["test/backend/**/*.e2e.ts"],
    globalSetup: ["test/backend/global-setup.ts"],
    // The rate limit is 100 traces per minute per key: a burst beyond it takes over a minute by nature.
    testTimeout: 240_000,
    hookTimeout: 180_000,
    // Tests share one backend (and its two worker processes): one at a time keeps reads predictable.
    fileParallelism: false,
  },
});
