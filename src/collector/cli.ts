/**
 * `pandaprobe dev [--port N] [--host H] [--data FILE]`: the local collector and its viewer.
 * The port also comes from PANDAPROBE_COLLECTOR_PORT; 0 picks a free one (the URL is printed).
 */
import { fileURLToPath } from "node:url";
import { parseArgs } from "./args.js";
import { startCollector } from "./server.js";

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2), process.env);
  if (typeof options === "string") {
    console.error(options);
    process.exit(process.argv[2] === "--help" || process.argv[2] === "-h" ? 0 : 2);
  }
  const collector = await startCollector({ ...options, viewerDir: fileURLToPath(new URL("./viewer/", import.meta.url)) });
  const { entries, skipped } = collector.replayed;
  console.log(
    [
      `PandaProbe local collector listening on ${collector.url}`,
      `  viewer:   ${collector.url}/`,
      `  endpoint: PANDAPROBE_ENDPOINT=${collector.url}   (any API key and project name are accepted)`,
      `  data:     ${options.dataFile} (${collector.store.traces.size} traces from ${entries} writes${skipped ? `, ${skipped} torn line(s) skipped` : ""})`,
    ].join("\n"),
  );
  const stop = () => void collector.close().then(() => process.exit(0));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

main().catch((error: unknown) => {
  const code = (error as { code?: string }).code;
  console.error(code === "EADDRINUSE" ? `pandaprobe dev: the port is in use; pick another with --port.` : error);
  process.exit(1);
});
