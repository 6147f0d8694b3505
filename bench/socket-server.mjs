/**
 * The ingestion endpoint of bench/socket.mjs, in a process of its own so none of its work is
 * counted as the traced process's CPU: POST /<variant>/traces answers 202 as the API does, after
 * reading the body and checking it is a whole trace (root + 3 spans, session and user).
 *
 * Messages out: {port} once listening; {counts: {variant: {ok, bad}}} when asked with {cmd: "counts"}.
 */
import { createServer } from "node:http";

const counts = {};
const server = createServer((req, res) => {
  const chunks = [];
  req.on("data", (chunk) => chunks.push(chunk));
  req.on("end", () => {
    const variant = req.url.split("/")[1];
    const tally = (counts[variant] ??= { ok: 0, bad: 0 });
    let trace;
    try {
      trace = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch {
      trace = undefined;
    }
    const whole = req.method === "POST" && req.url.endsWith("/traces") && trace?.spans?.length === 3 && trace.session_id === "s" && trace.user_id === "u";
    if (whole) tally.ok++;
    else tally.bad++;
    res.writeHead(whole ? 202 : 422, { "Content-Type": "application/json" });
    res.end(whole ? `{"trace_id":"${trace.trace_id}","task_id":"bench"}` : '{"detail":"not a whole trace"}');
  });
});
// Longer than any pause between one variant's samples: no reconnects mid-run.
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => process.send({ port: server.address().port }));
process.on("message", (msg) => {
  if (msg.cmd === "counts") process.send({ counts });
});
process.on("disconnect", () => process.exit(0));
