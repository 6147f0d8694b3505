import { builtinModules } from "node:module";
import { defineConfig } from "vite";

/** One file per entry point; shared modules become shared chunks, so an app loads one core. */
const entries = {
  index: "src/index.ts",
  browser: "src/index.browser.ts",
  edge: "src/index.edge.ts",
  relay: "src/relay/index.ts",
  "integration-kit": "src/integration-kit.ts",
  openai: "src/integrations/openai.ts",
  ai: "src/integrations/ai-sdk.ts",
  anthropic: "src/integrations/anthropic.ts",
  langchain: "src/integrations/langchain.ts",
  gemini: "src/integrations/gemini.ts",
  mistral: "src/integrations/mistral.ts",
  bedrock: "src/integrations/bedrock.ts",
  "vercel-ai": "src/integrations/vercel-ai.ts",
  "openai-agents": "src/integrations/openai-agents.ts",
  "claude-agent-sdk": "src/integrations/claude-agent-sdk.ts",
  deepagents: "src/integrations/deepagents.ts",
  react: "react/index.ts",
  "react.server": "react/index.server.ts",
};

/** The React bindings' client modules (not the entries, not the server-safe withPandaProbe). */
const CLIENT_MODULE = /\/react\/(?!index\.|with-ids\.)[^/]+$/;

export default defineConfig({
  build: {
    target: "es2022",
    sourcemap: true,
    minify: false,
    lib: {
      entry: entries,
      formats: ["es", "cjs"],
      fileName: (format, name) => `${name}.${format === "es" ? "js" : "cjs"}`,
    },
    rollupOptions: {
      // Peers and the runtime's built-ins are the app's; the core is imported as "pandaprobe"
      // by integrations so it is never duplicated.
      external: [
        /^node:/,
        ...builtinModules,
        /^pandaprobe($|\/)/,
        "idb",
        "zone.js",
        /^openai($|\/)/,
        /^@openai\//,
        /^deepagents($|\/)/,
        /^@anthropic-ai\//,
        /^ai($|\/)/,
        /^@ai-sdk\//,
        /^@langchain\//,
        /^@google\/genai($|\/)/,
        /^@mistralai\//,
        /^@aws-sdk\//,
        /^@smithy\//,
        /^react($|\/)/,
        /^react-dom($|\/)/,
      ],
      onwarn(warning, warn) {
        // The bindings' "use client" directives are put back on their chunk below.
        if (warning.code === "MODULE_LEVEL_DIRECTIVE" && warning.id?.includes("/react/")) return;
        warn(warning);
      },
      output: {
        // RSC bundlers read "use client" per file: the client modules get one chunk that carries it.
        codeSplitting: { groups: [{ name: "react-client", test: CLIENT_MODULE }] },
        banner: (chunk) => (!chunk.isEntry && chunk.moduleIds.some((id) => CLIENT_MODULE.test(id)) ? '"use client";' : ""),
      },
    },
  },
});
