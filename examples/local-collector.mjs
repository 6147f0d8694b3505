// A minimal stand-in for the PandaProbe ingestion API on 127.0.0.1, so the example needs no account.
import { createServer } from "node:http";

export function startLocalCollector({ port = 0, log = console.log } = {}) {
  const traces = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      if (req.method === "POST" && req.url === "/traces") {
        const trace = JSON.parse(body);
        traces.push(trace);
        log(
          `collector <- trace "${trace.name}" session=${trace.session_id} user=${trace.user_id} ` +
            `status=${trace.status} spans=${trace.spans.length} input=${JSON.stringify(trace.input)}`,
        );
        res.writeHead(202, { "content-type": "application/json" });
        res.end(JSON.stringify({ trace_id: trace.trace_id, task_id: "local" }));
        return;
      }
      res.writeHead(404).end();
    });
  });
  return new Promise((resolve) =>
    server.listen(port, "127.0.0.1", () =>
      resolve({
        url: `http://127.0.0.1:${server.address().port}`,
        traces,
        close: () => new Promise((done) => server.close(done)),
      }),
    ),
  );
}
