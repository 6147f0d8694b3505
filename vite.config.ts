import { builtinModules } from "node:module";
import { defineConfig } from "vite";

// Library mode: one ESM and one CJS file per entry point, Node built-ins left to the runtime.
export default defineConfig({
  build: {
    target: "es2022",
    sourcemap: true,
    minify: false,
    lib: {
      entry: { index: "src/index.ts" },
      formats: ["es", "cjs"],
      fileName: (format, name) => `${name}.${format === "es" ? "js" : "cjs"}`,
    },
    rollupOptions: {
      external: [/^node:/, ...builtinModules],
    },
  },
});
