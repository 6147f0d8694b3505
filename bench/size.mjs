#!/usr/bin/env node
/**
 * What the SDK adds to a browser app's production bundle.
 *
 *   node bench/size.mjs           prints a markdown report
 *   node bench/size.mjs --check   same, exits 1 when the SDK's share is over the CI budget
 *
 * A small app (init with a relay endpoint, so the IndexedDB exporter is in, + startTrace + span +
 * session/user) is bundled from src/index.browser.ts the way an app's bundler would ship it for
 * production (esbuild, NODE_ENV=production, minified, tree-shaken, ES2020), then gzipped at level
 * 9. The SDK's share is that bundle minus the same app with its tracing calls removed, so the
 * app's own code is not counted.
 * @langfuse/tracing is measured the same way for context.
 */
import { gzipSync } from "node:zlib";
import { existsSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
/** The target the browser issue sets. */
export const SDK_BAR_BYTES = 6144;
/**
 * What CI enforces today: the measured share plus a little room, so a change that makes the
 * browser bundle grow fails the build unless it raises this on purpose. It comes down as the SDK
 * slims toward the bar.
 */
export const SDK_BUDGET_BYTES = 12_544;

/** The app's own work, shared by every variant so only the tracing library differs. */
const APP_CORE = `
export async function answer(question) {
  const res = await fetch("/api/chat", { method: "POST", body: JSON.stringify({ question }) });
  const { text } = await res.json();
  document.querySelector("#out").textContent = text;
  return text;
}
`;

const VARIANTS = {
  baseline: `${APP_CORE}
document.querySelector("#ask").addEventListener("click", () => answer("hi"));
`,
  pandaprobe: `${APP_CORE}
import { init, session, span, startTrace, user } from "pandaprobe";
init({ endpoint: "/api/pandaprobe" });
const retrieve = span(async (q) => [q], { kind: "RETRIEVER" });
document.querySelector("#ask").addEventListener("click", () =>
  session("conversation-1", () =>
    user("user-1", () => {
      const trace = startTrace("turn", { input: { messages: [{ role: "user", content: "hi" }] } });
      return retrieve("hi").then(() => answer("hi")).then((text) => {
        trace.setOutput({ messages: [{ role: "assistant", content: text }] });
        trace.end();
      });
    })));
`,
  // Instrumentation API only: a browser app still needs an OpenTelemetry tracer provider and an
  // exporter (@opentelemetry/sdk-trace-web + @langfuse/otel, not installed), so this is a lower bound.
  langfuse: `${APP_CORE}
import { observe, propagateAttributes, startActiveObservation } from "@langfuse/tracing";
const retrieve = observe(async (q) => [q], { name: "retrieve", asType: "retriever" });
document.querySelector("#ask").addEventListener("click", () =>
  propagateAttributes({ sessionId: "conversation-1", userId: "user-1" }, () =>
    startActiveObservation("turn", async (obs) => {
      obs.update({ input: "hi" });
      await retrieve("hi");
      obs.update({ output: await answer("hi") });
    })));
`,
};

async function bundle(source) {
  const result = await build({
    stdin: { contents: source, resolveDir: root, sourcefile: "app.js", loader: "js" },
    alias: { pandaprobe: join(root, "src/index.browser.ts") },
    bundle: true,
    minify: true,
    // What esbuild sets itself when minifying for the browser (and Vite/webpack for production): written out.
    define: { "process.env.NODE_ENV": '"production"' },
    treeShaking: true,
    format: "esm",
    platform: "browser",
    target: "es2020",
    write: false,
    metafile: true,
    logLevel: "silent",
  });
  const code = result.outputFiles[0].contents;
  const inputs = Object.values(result.metafile.outputs)[0].inputs;
  return { min: code.byteLength, gzip: gzipSync(code, { level: 9 }).byteLength, inputs };
}

/** The same app through Vite's production build (Rolldown, its own minifier); every chunk counted. */
async function bundleWithVite(source) {
  const { build: viteBuild } = await import("vite");
  const result = await viteBuild({
    configFile: false,
    root,
    logLevel: "silent",
    define: { "process.env.NODE_ENV": '"production"' },
    resolve: { alias: { pandaprobe: join(root, "src/index.browser.ts") } },
    plugins: [{ name: "app", resolveId: (id) => (id === "app.js" ? "\0app" : undefined), load: (id) => (id === "\0app" ? source : undefined) }],
    build: { write: false, target: "es2020", modulePreload: false, rollupOptions: { input: "app.js", preserveEntrySignatures: false } },
  });
  const code = [result].flat()[0].output.filter((o) => o.type === "chunk").map((chunk) => chunk.code).join("\n");
  return { min: Buffer.byteLength(code), gzip: gzipSync(code, { level: 9 }).byteLength };
}

/**
 * Layers of the SDK bundled alone (an entry's exports are kept): what the feature list
 * costs before the API on top of it, so the bar can be weighed against it.
 */
const EXPORT_LAYER = `export { browserPlatform } from "./src/platform/browser.ts";`;
const MODEL = `export { Trace } from "./src/trace/trace.ts"; export { traceBodies } from "./src/wire/payload.ts";`;
const LAYERS = {
  "idb (the IndexedDB wrapper the issue names)": `export { openDB } from "idb";`,
  "export layer: IndexedDB + memory queue, Web Locks, BroadcastChannel, keepalive, retries, sender (with idb)": EXPORT_LAYER,
  "model: Trace, Span, serializer, payload builder (and the explicit context they read)": MODEL,
  "export layer and model together (no client, options, zone context, session/user or decorators)": `${EXPORT_LAYER}\n${MODEL}`,
};

/** Minified bytes per module, grouped per package for node_modules, biggest first. */
function topModules(inputs, limit) {
  return Object.entries(inputs)
    .map(([path, { bytesInOutput }]) => ({ module: path.replace(/^.*node_modules\//, "node_modules/"), bytes: bytesInOutput }))
    .filter((m) => m.bytes > 0 && m.module !== "<stdin>")
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, limit);
}

/** Sizes in bytes; `sdk` and `langfuse` are the shares over the baseline app. */
export async function measureSizes() {
  const baseline = await bundle(VARIANTS.baseline);
  const pandaprobe = await bundle(VARIANTS.pandaprobe);
  let langfuse;
  if (existsSync(join(root, "node_modules/@langfuse/tracing")) && existsSync(join(root, "node_modules/@opentelemetry/api"))) {
    langfuse = await bundle(VARIANTS.langfuse);
  }
  const share = (b, base = baseline) => b && { min: b.min - base.min, gzip: b.gzip - base.gzip };
  const viteBaseline = await bundleWithVite(VARIANTS.baseline);
  return {
    viteSdk: share(await bundleWithVite(VARIANTS.pandaprobe), viteBaseline),
    baseline,
    pandaprobe,
    sdk: share(pandaprobe),
    langfuse,
    langfuseShare: share(langfuse),
    top: topModules(pandaprobe.inputs, 15),
    langfuseTop: langfuse ? topModules(langfuse.inputs, 5) : [],
    layers: await Promise.all(Object.entries(LAYERS).map(async ([layer, source]) => ({ layer, ...(await bundle(source)) }))),
  };
}

const kib = (n) => `${(n / 1024).toFixed(2)} KiB`;

export function sizeReport(s) {
  const lines = [
    "## Browser bundle size (esbuild for production: NODE_ENV=production, minified, ES2020, gzip -9)",
    "",
    "| bundle | minified | gzip |",
    "|---|---:|---:|",
    `| app without tracing (baseline) | ${s.baseline.min} B | ${s.baseline.gzip} B |`,
    `| app + pandaprobe (init relay + IndexedDB queue, startTrace, span, session, user) | ${s.pandaprobe.min} B | ${s.pandaprobe.gzip} B |`,
    `| **pandaprobe share** | ${s.sdk.min} B | **${s.sdk.gzip} B (${kib(s.sdk.gzip)})**; bar ${SDK_BAR_BYTES} B: ${s.sdk.gzip <= SDK_BAR_BYTES ? "met" : "**not met**"}; CI budget ${SDK_BUDGET_BYTES} B |`,
    `| pandaprobe share, the same apps built by Vite for production | ${s.viteSdk.min} B | ${s.viteSdk.gzip} B (${kib(s.viteSdk.gzip)}) |`,
  ];
  if (s.langfuse) {
    lines.push(
      `| app + @langfuse/tracing (observe, propagateAttributes; no tracer provider or exporter) | ${s.langfuse.min} B | ${s.langfuse.gzip} B |`,
      `| @langfuse/tracing share (lower bound) | ${s.langfuseShare.min} B | ${s.langfuseShare.gzip} B (${kib(s.langfuseShare.gzip)}) |`,
    );
  }
  lines.push("", "Layers bundled alone, the same way:", "", "| layer | minified | gzip |", "|---|---:|---:|");
  for (const l of s.layers) lines.push(`| ${l.layer} | ${l.min} B | ${l.gzip} B |`);
  lines.push("", "Biggest modules in the pandaprobe app (minified bytes before gzip):", "", "| module | bytes |", "|---|---:|");
  for (const m of s.top) lines.push(`| ${relative(root, join(root, m.module))} | ${m.bytes} |`);
  if (s.langfuseTop.length) {
    lines.push("", "Biggest modules in the @langfuse/tracing app:", "", "| module | bytes |", "|---|---:|");
    for (const m of s.langfuseTop) lines.push(`| ${m.module} | ${m.bytes} |`);
  }
  return lines.join("\n");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const sizes = await measureSizes();
  console.log(sizeReport(sizes));
  if (process.argv.includes("--check") && sizes.sdk.gzip > SDK_BUDGET_BYTES) {
    console.error(`\nthe SDK adds ${sizes.sdk.gzip} B gzip, over the ${SDK_BUDGET_BYTES} B CI budget`);
    process.exit(1);
  }
}
