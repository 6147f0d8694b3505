/**
 * The declarations again, for `require`: the package is "type": "module", so TypeScript reads
 * dist/types as ES module declarations, and a CommonJS consumer (moduleResolution node16) refuses
 * to import them (TS1479). The same files under a "type": "commonjs" folder describe dist/*.cjs.
 */
import { cpSync, rmSync, writeFileSync } from "node:fs";

rmSync("dist/types-cjs", { recursive: true, force: true });
cpSync("dist/types", "dist/types-cjs", { recursive: true });
writeFileSync("dist/types-cjs/package.json", '{ "type": "commonjs" }\n');
