/**
 * Developer checks are written `if (DEV && process.env.NODE_ENV !== "production")`. Bundlers
 * replace the second operand and drop the branch from production bundles (an imported constant
 * alone would not be dropped: esbuild inlines it but keeps the dead code). `DEV`, read once, spares
 * Node its slow `process.env` getter (~0.4 µs) on every traced call of a production process, and
 * keeps a page where nothing defines `process` (native ESM, no bundler) from reading it: there,
 * the SDK runs as a production build.
 */
export const DEV = typeof process !== "undefined" && process.env.NODE_ENV !== "production";
