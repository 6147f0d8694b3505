/**
 * Starts the backend kit (idempotent: seconds when it already runs) and hands its endpoint and
 * organisation to the tests, which make a fresh API key and project per test run.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { TestProject } from "vitest/node";
import type { BackendKit } from "./kit.js";

declare module "vitest" {
  export interface ProvidedContext {
    backend: BackendKit;
  }
}

export default function setup(project: TestProject): void {
  const start = fileURLToPath(new URL("../../../shared/backend/start.sh", import.meta.url));
  // Progress goes to stderr (shown); stdout is the three PANDAPROBE_* lines.
  const out = execFileSync("bash", [start], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  const vars = Object.fromEntries(out.trim().split("\n").map((line) => line.split("=", 2) as [string, string]));
  const home = process.env["PP_HOME"] ?? "/tmp/pandaprobe-backend";
  const { orgId } = JSON.parse(readFileSync(`${home}/credentials.json`, "utf8")) as { orgId: string };
  project.provide("backend", { endpoint: vars["PANDAPROBE_ENDPOINT"]!, orgId, run: Date.now().toString(36) });
}
