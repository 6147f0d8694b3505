/**
 * `npm run demo`: builds the chat page (Vite) and the demo server (esbuild) from this repository's
 * source, and the local collector with its viewer (scripts/build-collector.mjs) when it is missing
 * or older than its source, all at once; then starts the server, which starts the collector (unless
 * PANDAPROBE_ENDPOINT points elsewhere) and prints the URLs.
 */
import { fileURLToPath } from "node:url";
import { build as bundle } from "esbuild";
import { build as buildPage } from "vite";
import { buildCollector, collectorIsFresh } from "../scripts/build-collector.mjs";

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const started = performance.now();

/** The SDK's entries resolved to the source, as the page's Vite config does: one core, no dist/ needed. */
const ENTRIES = {
  pandaprobe: "src/index.ts",
  "pandaprobe/openai": "src/integrations/openai.ts",
  "pandaprobe/relay": "src/relay/index.ts",
  "pandaprobe/integration-kit": "src/integration-kit.ts",
};
const fromSource = {
  name: "pandaprobe-from-source",
  setup(build) {
    build.onResolve({ filter: /^pandaprobe(\/[\w-]+)?$/ }, (args) => {
      const file = ENTRIES[args.path];
      return file ? { path: here(`../${file}`) } : undefined;
    });
  },
};

const collectorNeeded = !process.env.PANDAPROBE_ENDPOINT && !collectorIsFresh();
await Promise.all([
  buildPage({ configFile: here("./vite.config.ts"), logLevel: "warn" }),
  bundle({
    entryPoints: [here("./server/cli.ts")],
    outfile: here("./dist/server.mjs"),
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    plugins: [fromSource],
    sourcemap: true,
    logLevel: "warning",
  }),
  collectorNeeded ? buildCollector() : undefined,
]);
const built = collectorNeeded ? "the page, the server and the collector" : "the page and the server";
console.log(`demo: built ${built} in ${Math.round(performance.now() - started)} ms`);
await import(here("./dist/server.mjs"));
