#!/usr/bin/env node
/**
 * Builds the local collector (`pandaprobe dev`): the server as one Node module with a shebang
 * (dist/collector/cli.js, the package's `bin`), and the viewer as static files (dist/collector/viewer/).
 * Neither is part of the SDK's entries: the SDK's bundles do not change.
 *
 * Run as a script it always builds; `npm run demo` imports `collectorIsFresh` and builds only when
 * the output is missing or older than its sources.
 */
import { chmodSync, existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build as bundle } from "esbuild";
import { build as vite } from "vite";

const root = fileURLToPath(new URL("..", import.meta.url));
const out = `${root}dist/collector/cli.js`;
const viewerIndex = `${root}dist/collector/viewer/index.html`;

/** What the two outputs are made from: the collector, the parts of the core it imports, this script, the dependencies. */
const SOURCES = ["src/collector", "src/wire", "src/base", "scripts/build-collector.mjs", "package-lock.json"];

function newestMtime(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((name) => newestMtime(join(path, name))));
}

/** Both outputs exist and are newer than every source file. */
export function collectorIsFresh() {
  if (!existsSync(out) || !existsSync(viewerIndex)) return false;
  const built = Math.min(statSync(out).mtimeMs, statSync(viewerIndex).mtimeMs);
  return SOURCES.every((source) => !existsSync(`${root}${source}`) || newestMtime(`${root}${source}`) < built);
}

export async function buildCollector() {
  await Promise.all([
    vite({ configFile: `${root}src/collector/viewer/vite.config.ts` }),
    bundle({
      entryPoints: [`${root}src/collector/cli.ts`],
      outfile: out,
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      banner: { js: "#!/usr/bin/env node" },
      logLevel: "warning",
    }),
  ]);
  chmodSync(out, 0o755);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await buildCollector();
