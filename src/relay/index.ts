/**
 * `pandaprobe/relay`: the server route browsers send traces to. The browser SDK posts to the app's
 * own route; the relay validates and forwards to PandaProbe with the API key, which stays on the server.
 *
 *   // app/api/pandaprobe/[...path]/route.ts (Next.js)
 *   const relay = createRelayHandler({ apiKey: process.env.PANDAPROBE_API_KEY!, projectName: "web" });
 *   export { relay as POST, relay as OPTIONS }; // OPTIONS only matters with `allowedOrigins`
 *
 *   // Node http / Express
 *   app.use("/api/pandaprobe", toNodeHandler(createRelayHandler({ apiKey, projectName })));
 */
export { createRelayHandler, type RelayHandler } from "./handler.js";
export { toNodeHandler, type NodeHandler } from "./node.js";
export type { AuthResult, RelayOptions } from "./options.js";
