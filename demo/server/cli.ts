/**
 * Entry of the bundled demo server (`npm run demo` builds and starts it): the local collector
 * unless PANDAPROBE_ENDPOINT is set, then the server; prints the URLs; on Ctrl-C (or SIGTERM, or
 * the terminal closing) sends the traces still queued, then stops the collector.
 */
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { readConfig } from "./config.js";
import { startLocalCollector, type LocalCollector } from "./local-collector.js";
import { startDemo, type Demo } from "./main.js";

// The bundle sits next to the built page (demo/dist/server.mjs, demo/dist/public/), two levels below the root.
const PAGE_DIR = fileURLToPath(new URL("./public", import.meta.url));
const COLLECTOR_CLI = fileURLToPath(new URL("../../dist/collector/cli.js", import.meta.url));

function fail(message: string): never {
  console.error(`demo: ${message}`);
  process.exit(1);
}

const config = readConfig();
let collector: LocalCollector | undefined;
if (config.collector) {
  collector = await startLocalCollector(COLLECTOR_CLI, config.collector).catch((error: Error) =>
    fail(`${error.message}\nChoose another port with PANDAPROBE_COLLECTOR_PORT=..., or send elsewhere with PANDAPROBE_ENDPOINT=...`),
  );
  config.pandaprobe.endpoint = collector.url;
}

const demo: Demo = await startDemo(config, PAGE_DIR).catch(async (error: NodeJS.ErrnoException) => {
  await collector?.stop();
  if (error.code !== "EADDRINUSE") throw error;
  return fail(`port ${config.port} on ${config.host} is taken; choose another with DEMO_PORT=...`);
});

const { endpoint, projectName } = config.pandaprobe;
const destination = !collector
  ? `${endpoint} (project "${projectName}")`
  : collector.dataFile
    ? `the local collector, kept in ${resolve(collector.dataFile)}`
    : "the local collector that was already running there";
console.log(
  [
    "",
    `  PandaProbe demo chat   ${demo.url}`,
    ...(collector ? [`  trace viewer           ${collector.url}/`] : []),
    `  traces go to           ${destination}`,
    `  model                  ${demo.model}`,
    "",
    "  Ctrl-C stops it all.",
    "",
  ].join("\n"),
);

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    // Sends what is still queued before leaving (signals skip Node's beforeExit), while the collector still listens.
    void demo
      .close()
      .finally(() => collector?.stop())
      .finally(() => process.exit(0));
  });
}
