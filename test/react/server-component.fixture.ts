/**
 * Run by server-entry.test.tsx as `node --conditions=react-server` (bundled, React external): what a
 * React Server Component module does with `pandaprobe/react`.
 */
import { init, startTrace, type TraceData } from "pandaprobe";
import * as React from "react";
import { PandaProbeProvider, PandaProbeSession, withPandaProbe } from "../../react/index.server.js";

const bodies: string[] = [];
init({ exporter: { enqueue: (e) => void bodies.push(e.body), flush: async () => {}, shutdown: async () => {} } });

// A server component: `<PandaProbeProvider session user>` around the page.
const element = PandaProbeProvider({
  session: "conv-1",
  user: "alice",
  children: React.createElement("main", null, "page"),
}) as React.ReactElement<{ session: string; user: string; children: React.ReactElement }>;

// Server code of the same request (a server action, a data fetch) traces with the ids it was given.
const result = await withPandaProbe({ session: "conv-1", user: "alice" }, async () => {
  await new Promise((resolve) => setTimeout(resolve, 5));
  startTrace("server-action").end();
  return "done";
});
startTrace("outside").end();

console.log(
  JSON.stringify({
    reactServerBuild: !("useState" in React) && !("createContext" in React),
    clientProvider: typeof element.type === "function" ? element.type.name : String(element.type),
    props: { session: element.props.session, user: element.props.user, child: element.props.children.type },
    sessionComponent: typeof PandaProbeSession,
    result,
    traces: bodies.map((b) => JSON.parse(b) as TraceData),
  }),
);
