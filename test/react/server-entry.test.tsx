// @vitest-environment node
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { build } from "esbuild";
import type { TraceData } from "pandaprobe";
import { afterAll, describe, expect, it } from "vitest";
import { validateTrace } from "../support/contract.js";

const root = new URL("../../", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "pandaprobe-rsc-"));
// The bundle imports React by name: it resolves from the project's node_modules.
symlinkSync(join(root, "node_modules"), join(dir, "node_modules"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The fixture bundled with the core's Node entry, React left to Node's resolution under the condition. */
async function runAsServerComponent(): Promise<string> {
  const outfile = join(dir, "server-component.mjs");
  await build({
    entryPoints: [join(root, "test/react/server-component.fixture.ts")],
    outfile,
    bundle: true,
    format: "esm",
    platform: "node",
    external: ["react"],
    alias: { pandaprobe: join(root, "src/index.ts") },
    logLevel: "silent",
  });
  const { stdout } = await promisify(execFile)(process.execPath, ["--conditions=react-server", outfile], { cwd: dir });
  return stdout;
}

describe("the react-server entry", () => {
  it("imports in a server component and passes the ids to the client provider; withPandaProbe scopes server traces", async () => {
    const out = JSON.parse(await runAsServerComponent()) as {
      reactServerBuild: boolean;
      clientProvider: string;
      props: Record<string, string>;
      sessionComponent: string;
      result: string;
      traces: TraceData[];
    };
    expect(out.reactServerBuild).toBe(true);
    expect(out.clientProvider).toBe("PandaProbeProvider");
    expect(out.props).toEqual({ session: "conv-1", user: "alice", child: "main" });
    expect(out.sessionComponent).toBe("function");
    expect(out.result).toBe("done");
    for (const trace of out.traces) validateTrace(trace);
    expect(out.traces.map((t) => [t.name, t.session_id, t.user_id])).toEqual([
      ["server-action", "conv-1", "alice"],
      ["outside", undefined, undefined],
    ]);
  });

  it("client modules start with the 'use client' directive; the server entry and withPandaProbe do not", () => {
    const first = (file: string) => readFileSync(join(root, "react", file), "utf8").split("\n")[0];
    for (const file of ["index.ts", "provider.ts", "hooks.ts", "context.ts"]) expect(first(file), file).toBe('"use client";');
    for (const file of ["index.server.ts", "with-ids.ts"]) expect(first(file), file).not.toContain("use client");
  });
});
