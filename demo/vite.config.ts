import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const repo = (path: string) => fileURLToPath(new URL(`../${path}`, import.meta.url));

/** The chat page, with the SDK resolved to this repository's source (its browser entry). */
export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  resolve: {
    alias: [
      { find: /^pandaprobe$/, replacement: repo("src/index.browser.ts") },
      { find: /^pandaprobe\/react$/, replacement: repo("react/index.ts") },
    ],
  },
  oxc: { jsx: { runtime: "automatic" } },
  build: {
    outDir: "dist/public",
    emptyOutDir: true,
    target: "es2022",
    sourcemap: true,
    reportCompressedSize: false,
    rollupOptions: {
      // The bindings' "use client" marks them for RSC bundlers; in a plain client bundle it means nothing.
      onwarn(warning, warn) {
        if (warning.code === "MODULE_LEVEL_DIRECTIVE" && warning.id?.includes("/react/")) return;
        warn(warning);
      },
    },
  },
  logLevel: "warn",
});
