/**
 * The Node sender over TLS, as a process sending to PandaProbe's https endpoint does: a server with
 * its own certificate on 127.0.0.1, trusted through NODE_EXTRA_CA_CERTS (read at process start, so
 * the SDK runs in a child process), and refused when untrusted: reported, never thrown.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { contractErrors } from "../support/contract.js";
import { buildNodeSdk, runChild, type BuiltSdk } from "../support/sdk-child.js";

let dir: string;
let sdk: BuiltSdk;
let server: Server;
let endpoint: string;
const bodies: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "pandaprobe-tls-"));
  execFileSync("openssl", [
    "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
    "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"),
  ], { stdio: "ignore" });
  server = createServer({ key: readFileSync(join(dir, "key.pem")), cert: readFileSync(join(dir, "cert.pem")) }, (req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      bodies.push(body);
      res.writeHead(202, { "content-type": "application/json" }).end(JSON.stringify({ trace_id: "x", task_id: "y" }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  endpoint = `https://localhost:${(server.address() as AddressInfo).port}`;
  sdk = await buildNodeSdk();
  writeFileSync(
    join(sdk.dir, "send.mjs"),
    `import * as sdk from ${JSON.stringify(sdk.url)};
const reports = [];
sdk.init({ apiKey: "sk_pp_tls", projectName: "tls", endpoint: process.env.ENDPOINT, maxRetries: 0 });
sdk.onError((error) => reports.push(error.code + ": " + error.message));
for (const t of ["a", "b", "c"]) sdk.startTrace("over-tls-" + t, undefined, (trace) => trace.span("step").end());
await sdk.shutdown();
process.stdout.write(JSON.stringify(reports));
`,
  );
}, 60_000);

afterAll(() => {
  server?.closeAllConnections();
  server?.close();
  sdk?.remove();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it("delivers over TLS to a server whose certificate the process trusts", async () => {
  const child = runChild(join(sdk.dir, "send.mjs"), { ENDPOINT: endpoint, NODE_EXTRA_CA_CERTS: join(dir, "cert.pem") });
  expect(await child.exited).toEqual({ code: 0, signal: null });
  expect(JSON.parse(child.stdout())).toEqual([]);
  const names = bodies.map((body) => JSON.parse(body) as { name: string }).map((t) => t.name).sort();
  expect(names).toEqual(["over-tls-a", "over-tls-b", "over-tls-c"]);
  for (const body of bodies) expect(contractErrors("trace", JSON.parse(body))).toEqual([]);
});

it("reports a certificate it cannot trust as a network error and sends nothing, without failing the process", async () => {
  bodies.length = 0;
  const child = runChild(join(sdk.dir, "send.mjs"), { ENDPOINT: endpoint });
  expect(await child.exited).toEqual({ code: 0, signal: null });
  const reports = JSON.parse(child.stdout()) as string[];
  expect(reports.length).toBeGreaterThan(0);
  expect(reports.every((r) => r.startsWith("network_error: "))).toBe(true);
  expect(reports.join("\n")).toMatch(/certificate/i);
  expect(bodies).toEqual([]);
});
