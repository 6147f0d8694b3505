#!/usr/bin/env node
/**
 * Builds the local collector (`pandaprobe dev`): the server as one Node module with a shebang
 * (dist/collector/cli.js, the package's `bin`), and the viewer as static files (dist/collector/viewer/).
 * Neither is part of the SDK's entries: the SDK's bundles do not change.
 */
import { chmodSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { build as bundle } from "esbuild";
import { build as vite } from "vite";

const root = fileURLToPath(new URL("..", import.meta.url));
const out = `${root}dist/collector/cli.js`;

await vite({ configFile: `${root}src/collector/viewer/vite.config.ts` });
await bundle({
  entryPoints: [`${root}src/collector/cli.ts`],
  outfile: out,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  banner: { js: "#!/usr/bin/env node" },
  logLevel: "warning",
});
chmodSync(out, 0o755);
