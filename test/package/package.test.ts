import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCollector, type Collector } from "../support/collector.js";
import { startFakeOpenAI, type FakeOpenAI } from "../support/fake-openai.js";
import { installPackedPackage, type InstalledPackage, type NodeRun } from "../support/package-install.js";
import { byName, mergeTraces } from "../support/tracing.js";

/**
 * The package as `npm install pandaprobe` gives it: built, packed, unpacked into a project's
 * node_modules. Every other test imports src/; these check what users actually load: the exports
 * map, both module formats, the declarations, the browser and react-server builds, the tarball.
 */

/** The public names of each entry point (API.md). */
const ENTRY_NAMES: Record<string, string[]> = {
  pandaprobe: [
    "init", "Client", "getClient", "flush", "shutdown", "onError",
    "session", "user", "setSession", "setUser", "getSessionId", "getUserId",
    "startTrace", "trace", "span", "getCurrentTrace", "getCurrentSpan", "score", "logTrace",
    "SpanKind", "SpanStatusCode", "TraceStatus", "ScoreDataType",
    "withTrace", "withSpan", "getSpanStack", "VERSION",
  ],
  "pandaprobe/relay": ["createRelayHandler"],
  "pandaprobe/integration-kit": ["assertKnownKeys", "traceInputFromArgs", "traceOutputFromResult"],
  "pandaprobe/openai": ["wrapOpenAI"],
  "pandaprobe/anthropic": ["wrapAnthropic"],
  "pandaprobe/ai": ["pandaprobeMiddleware", "pandaProbeMiddleware", "pandaprobeTelemetry"],
  "pandaprobe/gemini": ["wrapGemini"],
  "pandaprobe/mistral": ["wrapMistral"],
  "pandaprobe/bedrock": ["wrapBedrock"],
  "pandaprobe/wrappers/openai": ["wrapOpenAI"],
  "pandaprobe/wrappers/anthropic": ["wrapAnthropic"],
  "pandaprobe/wrappers/gemini": ["wrapGemini"],
  "pandaprobe/wrappers/bedrock": ["wrapBedrock"],
  "pandaprobe/wrappers/mistral": ["wrapMistral"],
  "pandaprobe/integrations/langchain": ["LangChainCallbackHandler"],
  "pandaprobe/integrations/langgraph": ["LangGraphCallbackHandler"],
  "pandaprobe/openai-agents": ["pandaprobeTraceProcessor", "OpenAIAgentsAdapter"],
  "pandaprobe/claude-agent-sdk": ["wrapClaudeAgentQuery", "ClaudeAgentSDKAdapter"],
  "pandaprobe/deepagents": ["DeepAgentsCallbackHandler"],
  "pandaprobe/integrations/vercel-ai": ["pandaprobeMiddleware", "pandaProbeMiddleware", "pandaprobeTelemetry"],
  "pandaprobe/integrations/openai-agents": ["pandaprobeTraceProcessor", "OpenAIAgentsAdapter"],
  "pandaprobe/integrations/claude-agent-sdk": ["wrapClaudeAgentQuery", "ClaudeAgentSDKAdapter"],
  "pandaprobe/integrations/deepagents": ["DeepAgentsCallbackHandler"],
  "pandaprobe/langchain": ["LangChainCallbackHandler", "LangGraphCallbackHandler"],
  "pandaprobe/react": ["PandaProbeProvider", "PandaProbeSession", "PandaProbeUser", "usePandaProbe", "useSession", "useUser", "useTrace"],
};
const ENTRIES = Object.keys(ENTRY_NAMES);
/** The optional peer each entry may need at run time; the others need none. */
const PEER_OF: Record<string, string> = {
  "pandaprobe/langchain": "@langchain/core",
  "pandaprobe/integrations/langchain": "@langchain/core",
  "pandaprobe/integrations/langgraph": "@langchain/core",
  "pandaprobe/deepagents": "@langchain/core",
  "pandaprobe/integrations/deepagents": "@langchain/core",
  "pandaprobe/react": "react",
};

let pkg: InstalledPackage;
beforeAll(async () => {
  pkg = await installPackedPackage();
}, 120_000);
afterAll(() => pkg?.cleanup());

/** Loads every entry in one process and prints, per entry, its export names or the load error. */
function loadEveryEntry(esm: boolean): string {
  const load = esm ? "await import(name)" : "require(name)";
  return `
    const out = {};
    for (const name of ${JSON.stringify(ENTRIES)}) {
      try { out[name] = { names: Object.keys(${load}) }; }
      catch (e) { out[name] = { error: String(e && e.message) }; }
    }
    console.log(JSON.stringify(out));`;
}

function json(result: NodeRun): Record<string, { names?: string[]; error?: string }> {
  expect(result, result.stderr).toMatchObject({ code: 0 });
  return JSON.parse(result.stdout) as Record<string, { names?: string[]; error?: string }>;
}

describe("Node loads every entry point of the installed package", () => {
  it.each([
    ["import", true],
    ["require", false],
  ])("%s exposes the public names of each entry", async (_, esm) => {
    const loaded = json(await pkg.node(pkg.app, loadEveryEntry(esm), { esm }));
    for (const entry of ENTRIES) {
      expect(loaded[entry], entry).not.toHaveProperty("error");
      expect(loaded[entry]!.names, entry).toEqual(expect.arrayContaining(ENTRY_NAMES[entry]!));
    }
  });

  it.each([
    ["import", true],
    ["require", false],
  ])("%s of an entry needs no peer but its own: the core, relay and wrappers load without any", async (_, esm) => {
    const loaded = json(await pkg.node(pkg.bare, loadEveryEntry(esm), { esm }));
    for (const entry of ENTRIES) {
      const peer = PEER_OF[entry];
      if (peer === undefined) expect(loaded[entry], entry).toMatchObject({ names: expect.arrayContaining(ENTRY_NAMES[entry]!) });
      else expect(loaded[entry]!.error, entry).toContain(`'${peer}`);
    }
  });

  it("a trace made through the installed package reaches the collector, its OpenAI call nested, its ids attached", async () => {
    const collector: Collector = await startCollector();
    const openai: FakeOpenAI = await startFakeOpenAI();
    try {
      const common = (imports: string) => `${imports}
        init({ apiKey: "sk_pp_test", projectName: "package-test", endpoint: process.env.COLLECTOR_URL, flushInterval: 0.05 });
        const client = wrapOpenAI(new OpenAI({ apiKey: "test", baseURL: process.env.OPENAI_URL, maxRetries: 0 }));
        const answer = (name) =>
          session("conversation-1", () =>
            user("user-1", () =>
              startTrace(name, { input: "hi" }, async (t) => {
                const r = await client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] });
                t.setOutput(r.choices[0].message.content);
              })));`;
      const env = { COLLECTOR_URL: collector.url, OPENAI_URL: openai.baseURL };
      const esm = await pkg.node(
        pkg.app,
        `${common(`import OpenAI from "openai";
          import { init, session, shutdown, startTrace, user } from "pandaprobe";
          import { wrapOpenAI } from "pandaprobe/openai";`)}
        await answer("esm-turn");
        await shutdown();`,
        { esm: true, env },
      );
      const cjs = await pkg.node(
        pkg.app,
        `${common(`const { default: OpenAI } = require("openai");
          const { init, session, shutdown, startTrace, user } = require("pandaprobe");
          const { wrapOpenAI } = require("pandaprobe/openai");`)}
        answer("cjs-turn").then(shutdown);`,
        { env },
      );
      expect(esm, esm.stderr).toMatchObject({ code: 0, stderr: "" });
      expect(cjs, cjs.stderr).toMatchObject({ code: 0, stderr: "" });

      expect(collector.contractFailures).toEqual([]);
      const traces = mergeTraces(collector.traces());
      for (const name of ["esm-turn", "cjs-turn"]) {
        const trace = byName(traces, name);
        expect(trace).toMatchObject({ status: "COMPLETED", session_id: "conversation-1", user_id: "user-1", input: "hi", output: "ok" });
        expect(trace.spans).toHaveLength(1);
        expect(trace.spans[0]).toMatchObject({ kind: "LLM", model: "gpt-4o-mini", status: "OK" });
      }
    } finally {
      await openai.close();
      await collector.close();
    }
  });
});

describe("an app that both imports and requires pandaprobe (two copies of the SDK)", () => {
  it("has one global client, one carrier of scopes and one set of error handlers", async () => {
    const collector = await startCollector();
    // The first trace is refused, so the client reports it.
    collector.respond((request) => ((request.json as { name?: string }).name === "first" ? { status: 422, body: { detail: "refused" } } : undefined));
    try {
      const run = await pkg.node(
        pkg.app,
        `import { createRequire } from "node:module";
        import * as esm from "pandaprobe";
        const cjs = createRequire(import.meta.url)("pandaprobe");
        const reported = [];
        cjs.onError((error) => reported.push(error.code));
        const client = esm.init({ apiKey: "sk_pp_test", projectName: "package-test", endpoint: process.env.COLLECTOR_URL });
        const seen = esm.session("conversation-1", () =>
          cjs.user("user-1", () => {
            cjs.startTrace("first").end();
            const second = cjs.startTrace("second");
            second.end();
            return [esm.getUserId(), cjs.getSessionId(), second.sessionId];
          }));
        await cjs.shutdown();
        console.log(JSON.stringify({ twoCopies: esm.init !== cjs.init, oneClient: cjs.getClient() === client, seen, reported }));`,
        { esm: true, env: { COLLECTOR_URL: collector.url } },
      );
      expect(run, run.stderr).toMatchObject({ code: 0 });
      expect(JSON.parse(run.stdout)).toEqual({
        twoCopies: true,
        oneClient: true,
        seen: ["user-1", "conversation-1", "conversation-1"],
        reported: ["http_error"],
      });
      expect(collector.traces().map((t) => [t.name, t.session_id, t.user_id])).toEqual([["second", "conversation-1", "user-1"]]);
    } finally {
      await collector.close();
    }
  });
});

describe("bundlers pick the right build", () => {
  it("a browser bundle of an app using pandaprobe and pandaprobe/react takes the browser build: no Node built-ins", async () => {
    writeFileSync(
      join(pkg.app, "page.tsx"),
      `import { init, startTrace } from "pandaprobe";
       import { PandaProbeProvider, useTrace } from "pandaprobe/react";
       init({ endpoint: "/api/pandaprobe" });
       export function Chat() { const { span } = useTrace(); return <button onClick={() => startTrace("click").end()}>{String(span)}</button>; }
       export const App = () => <PandaProbeProvider session="s"><Chat /></PandaProbeProvider>;`,
    );
    const result = await build({
      absWorkingDir: pkg.app,
      entryPoints: ["page.tsx"],
      bundle: true,
      platform: "browser",
      format: "esm",
      jsx: "automatic",
      write: false,
      metafile: true,
      logLevel: "silent",
    });
    const shipped = Object.keys(result.metafile.inputs).filter((path) => path.includes("node_modules/pandaprobe/"));
    expect(shipped).toEqual(expect.arrayContaining(["node_modules/pandaprobe/dist/browser.js", "node_modules/pandaprobe/dist/react.js"]));
    expect(shipped.filter((path) => /\/dist\/index\.|\.cjs$/.test(path))).toEqual([]);
    const code = result.outputFiles[0]!.text;
    expect(code).not.toMatch(/["']node:/);
    expect(code).not.toContain("AsyncLocalStorage");
  });

  it.each([
    ["Cloudflare (wrangler)", ["workerd", "worker", "browser"]],
    ["Next.js and Vercel edge", ["edge-light", "worker", "browser"]],
  ])("a bundle for %s takes the edge build: no Node built-in but node:async_hooks", async (_, conditions) => {
    writeFileSync(join(pkg.app, "edge-worker.ts"), `export { init, session, startTrace } from "pandaprobe";\nexport { wrapOpenAI } from "pandaprobe/openai";`);
    const result = await build({
      absWorkingDir: pkg.app,
      entryPoints: ["edge-worker.ts"],
      bundle: true,
      platform: "neutral",
      conditions,
      mainFields: ["module", "main"],
      external: ["node:*"],
      format: "esm",
      write: false,
      metafile: true,
      logLevel: "silent",
    });
    const shipped = Object.keys(result.metafile.inputs).filter((path) => path.includes("node_modules/pandaprobe/"));
    expect(shipped).toContain("node_modules/pandaprobe/dist/edge.js");
    expect(shipped.filter((path) => /\/dist\/(index|browser)\./.test(path))).toEqual([]);
    const imports = result.metafile.outputs[Object.keys(result.metafile.outputs)[0]!]!.imports.map((i) => i.path);
    expect([...new Set(imports)]).toEqual(["node:async_hooks"]);
  });

  it("a test runner resolving for browsers with require (Jest + jsdom) gets CommonJS, not the ES module build", async () => {
    // Jest's jsdom environment resolves with the "browser" and "require" conditions, and cannot load an ES module.
    const result = await pkg.node(
      pkg.app,
      `const core = require("pandaprobe");
       console.log(JSON.stringify({ core: require.resolve("pandaprobe"), react: require.resolve("pandaprobe/react"), names: Object.keys(core) }));`,
      { flags: ["--conditions=browser"] },
    );
    expect(result, result.stderr).toMatchObject({ code: 0 });
    const loaded = JSON.parse(result.stdout) as { core: string; react: string; names: string[] };
    expect(loaded.core).toMatch(/\/dist\/browser\.cjs$/);
    expect(loaded.react).toMatch(/\/dist\/react\.cjs$/);
    expect(loaded.names).toEqual(expect.arrayContaining(ENTRY_NAMES.pandaprobe!));
  });

  it("under react-server, pandaprobe/react is the server entry, and imports cleanly with React's server build", async () => {
    const bundled = await build({
      absWorkingDir: pkg.app,
      stdin: { contents: `export * from "pandaprobe/react";`, resolveDir: pkg.app },
      bundle: true,
      platform: "node",
      format: "esm",
      conditions: ["react-server"],
      external: ["react"],
      write: false,
      metafile: true,
      logLevel: "silent",
    });
    expect(Object.keys(bundled.metafile.inputs)).toContain("node_modules/pandaprobe/dist/react.server.js");

    const server = ["PandaProbeProvider", "PandaProbeSession", "PandaProbeUser", "withPandaProbe"];
    for (const esm of [true, false]) {
      const code = esm
        ? `const m = await import("pandaprobe/react"); const { createElement } = await import("react");`
        : `const m = require("pandaprobe/react"); const { createElement } = require("react");`;
      const result = await pkg.node(
        pkg.app,
        `${code}
         const element = m.PandaProbeProvider({ session: "s", children: createElement("p") });
         console.log(JSON.stringify({ names: Object.keys(m).sort(), props: element.props.session }));`,
        { esm, flags: ["--conditions=react-server"] },
      );
      expect(result, result.stderr).toMatchObject({ code: 0 });
      expect(JSON.parse(result.stdout)).toEqual({ names: server, props: "s" });
    }
  });
});

describe("TypeScript consumers get the declarations", () => {
  const CONSUMER = `
    import { init, Client, startTrace, trace, span, session, user, setSession, setUser, getSessionId, getUserId,
      flush, shutdown, onError, getClient, getCurrentTrace, getCurrentSpan, score, logTrace,
      SpanKind, SpanStatusCode, TraceStatus, ScoreDataType, type Trace, type Span, type PandaProbeOptions } from "pandaprobe";
    import { createRelayHandler } from "pandaprobe/relay";
    import { wrapOpenAI } from "pandaprobe/openai";
    import { wrapAnthropic } from "pandaprobe/anthropic";
    import { pandaprobeMiddleware } from "pandaprobe/ai";
    import { LangChainCallbackHandler, LangGraphCallbackHandler } from "pandaprobe/langchain";
    import { PandaProbeProvider, PandaProbeSession, PandaProbeUser, usePandaProbe, useSession, useUser, useTrace } from "pandaprobe/react";

    const options: PandaProbeOptions = { apiKey: "k", projectName: "p" };
    export const client: Client = init(options);
    const root: Trace = startTrace("manual");
    export const child: Span = root.span("step");
    export const sync: number = startTrace("sync", undefined, () => 1);
    export const later: Promise<string> = startTrace("async", { sessionId: "s" }, async () => "x");
    export const double: (x: number) => number = span((x: number) => x * 2, { kind: SpanKind.TOOL });
    export const relay: (req: Request) => Promise<Response> = createRelayHandler({ apiKey: "k", projectName: "p" });
    export const handler = new LangGraphCallbackHandler({ sessionId: "s" });
    export const ids: (string | undefined)[] = [session("s", () => getSessionId()), user("u", () => getUserId())];
    export const all = [trace, setSession, setUser, flush, shutdown, onError, getClient, getCurrentTrace, getCurrentSpan, score,
      logTrace, SpanStatusCode, TraceStatus, ScoreDataType, wrapOpenAI, wrapAnthropic, pandaprobeMiddleware,
      LangChainCallbackHandler, PandaProbeProvider, PandaProbeSession, PandaProbeUser, usePandaProbe, useSession, useUser, useTrace];
  `;

  function tsconfig(dir: string, name: string, options: Record<string, unknown>, files: string[]): string {
    const compilerOptions = { strict: true, noEmit: true, target: "es2022", lib: ["es2022", "dom"], types: ["node"], skipLibCheck: false, ...options };
    writeFileSync(join(dir, name), JSON.stringify({ compilerOptions, files }));
    return name;
  }

  async function typeCheck(dir: string, config: string): Promise<void> {
    const result = await pkg.tsc(dir, config);
    expect(result.stdout + result.stderr, config).toBe("");
    expect(result.code, config).toBe(0);
  }

  it.each([
    ["bundler", { module: "esnext", moduleResolution: "bundler" }],
    ["nodenext", { module: "nodenext", moduleResolution: "nodenext" }],
  ])("moduleResolution %s: every entry point's names type-check, from ES modules and CommonJS", async (resolution, options) => {
    writeFileSync(join(pkg.app, "consumer.ts"), CONSUMER);
    writeFileSync(join(pkg.app, "consumer.cts"), CONSUMER);
    const files = resolution === "nodenext" ? ["consumer.ts", "consumer.cts"] : ["consumer.ts"];
    await typeCheck(pkg.app, tsconfig(pkg.app, `tsconfig.${resolution}.json`, options, files));
  });

  // TypeScript 5 reads what TypeScript 7 no longer checks: a CommonJS file under node16 refuses ES
  // module declarations (TS1479), and node10 (module commonjs, tsc --init's default) reads no exports map.
  it("require gets declarations TypeScript reads as CommonJS, and node10 finds every subpath through typesVersions", () => {
    type Branch = { types: string; default: string };
    const exportsMap = pkg.manifest.exports as Record<string, { import: Branch; require: Branch }>;
    const typesVersions = (pkg.manifest.typesVersions as Record<string, Record<string, string[]>>)["*"]!;
    for (const entry of ENTRIES) {
      const subpath = entry.replace(/^pandaprobe/, ".");
      const { import: esm, require: cjs } = exportsMap[subpath]!;
      expect(esm.types, entry).toMatch(/^\.\/dist\/types\//);
      expect(cjs.types, entry).toBe(esm.types.replace("/dist/types/", "/dist/types-cjs/"));
      if (subpath !== ".") expect(typesVersions[subpath.slice(2)], entry).toEqual([esm.types]);
    }
    const cjsFolder = JSON.parse(readFileSync(join(pkg.app, "node_modules/pandaprobe/dist/types-cjs/package.json"), "utf8"));
    expect(cjsFolder).toEqual({ type: "commonjs" });
  });

  it("the react-server condition types pandaprobe/react as the server entry", async () => {
    writeFileSync(
      join(pkg.app, "server.tsx"),
      `import { PandaProbeProvider, withPandaProbe } from "pandaprobe/react";
       // @ts-expect-error hooks are client-only
       import { useTrace } from "pandaprobe/react";
       export const page = <PandaProbeProvider session="s" options={{ endpoint: "/api/pandaprobe" }}><p /></PandaProbeProvider>;
       export const n: number = withPandaProbe({ session: "s" }, () => 1);
       export { useTrace };`,
    );
    const config = tsconfig(pkg.app, "tsconfig.server.json", { module: "esnext", moduleResolution: "bundler", customConditions: ["react-server"], jsx: "react-jsx" }, ["server.tsx"]);
    await typeCheck(pkg.app, config);
  });

  it("the core and relay declarations need no peer's types", async () => {
    writeFileSync(
      join(pkg.bare, "consumer.ts"),
      `import { init, startTrace, type Trace } from "pandaprobe";
       import { createRelayHandler, toNodeHandler } from "pandaprobe/relay";
       init({ apiKey: "k", projectName: "p" });
       export const t: Trace = startTrace("t");
       export const handler = toNodeHandler(createRelayHandler({ apiKey: "k", projectName: "p" }));`,
    );
    await typeCheck(pkg.bare, tsconfig(pkg.bare, "tsconfig.json", { module: "nodenext", moduleResolution: "nodenext" }, ["consumer.ts"]));
  });
});

describe("the tarball", () => {
  const shipped = () => new Set(pkg.pack.files.map((f) => f.path));

  it("holds only the build, the manifest and the docs", () => {
    const unexpected = [...shipped()].filter((path) => !/^(package\.json|README\.md|LICENSE(\.\w+)?|dist\/.+)$/.test(path));
    expect(unexpected).toEqual([]);
    expect([...shipped()].filter((path) => /\.tsx?$/.test(path) && !path.endsWith(".d.ts"))).toEqual([]);
  });

  it("holds every file the manifest points at", () => {
    const targets: string[] = [];
    const collect = (value: unknown): void => {
      if (typeof value === "string") targets.push(value.replace(/^\.\//, ""));
      else if (value && typeof value === "object") Object.values(value).forEach(collect);
    };
    collect([pkg.manifest.main, pkg.manifest.module, pkg.manifest.types, pkg.manifest.typesVersions, pkg.manifest.exports]);
    expect(targets.length).toBeGreaterThan(20);
    expect(targets.filter((path) => !shipped().has(path))).toEqual([]);
  });

  it("its source maps point at shipped maps and carry their sources, which are not shipped", () => {
    const dist = join(pkg.app, "node_modules/pandaprobe");
    for (const path of shipped()) {
      if (!/\.c?js$/.test(path)) continue;
      const url = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(readFileSync(join(dist, path), "utf8"))?.[1];
      if (url === undefined) continue;
      const mapPath = join(path, "..", url);
      expect(shipped(), path).toContain(mapPath);
      const map = JSON.parse(readFileSync(join(dist, mapPath), "utf8")) as { sources: string[]; sourcesContent?: (string | null)[] };
      expect(map.sourcesContent?.filter((s) => typeof s === "string"), mapPath).toHaveLength(map.sources.length);
    }
  });

  it("is small: what users download stays proportionate", () => {
    // Today about 670 kB packed, 2.7 MB unpacked: the core, a dozen integrations, the local
    // collector with its viewer (React, 232 kB), source maps included; a stray folder would blow these.
    expect(pkg.pack.size).toBeLessThan(1024 * 1024);
    expect(pkg.pack.unpackedSize).toBeLessThan(4 * 1024 * 1024);
  });
});
