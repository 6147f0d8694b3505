/** Entry of the bundled demo server (`npm run demo` builds and starts it): start, print the URLs, stop cleanly. */
import { fileURLToPath } from "node:url";
import { readConfig } from "./config.js";
import { startDemo } from "./main.js";

const config = readConfig();
// The bundle sits next to the built page (demo/dist/server.mjs, demo/dist/public/).
const demo = await startDemo(config, fileURLToPath(new URL("./public", import.meta.url))).catch((error: NodeJS.ErrnoException) => {
  if (error.code !== "EADDRINUSE") throw error;
  console.error(`demo: port ${config.port} on ${config.host} is taken; choose another with DEMO_PORT=...`);
  process.exit(1);
});
const { endpoint, projectName } = config.pandaprobe;
console.log(
  [
    "",
    `  PandaProbe demo chat   ${demo.url}`,
    `  traces go to           ${endpoint} (project "${projectName}")`,
    `  model                  ${demo.model}`,
    "",
  ].join("\n"),
);

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    // Sends what is still queued before leaving: signals skip Node's beforeExit.
    void demo.close().finally(() => process.exit(0));
  });
}
