/**
 * The file-backed queue against the real backend: a process killed with SIGKILL while its traces
 * wait on disk; the next process on the same directory delivers every one of them, once.
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { buildNodeSdk, runChild, type BuiltSdk } from "../support/sdk-child.js";
import { freshAccount, poll, type Account } from "./kit.js";

const kit = inject("backend");
const fixture = resolve("test/fixtures/durable-child.mjs");
let sdk: BuiltSdk;
let account: Account;
let dir: string;
/** Where the first process sends: a server that takes requests and never answers, so its traces wait. */
let stalled: Server;

beforeAll(async () => {
  [sdk, account] = await Promise.all([buildNodeSdk(), freshAccount(kit, "durable")]);
  dir = mkdtempSync(join(tmpdir(), "pandaprobe-backend-queue-"));
  stalled = createServer(() => {});
  await new Promise<void>((done) => stalled.listen(0, "127.0.0.1", done));
}, 60_000);
afterAll(async () => {
  stalled?.closeAllConnections();
  stalled?.close();
  sdk?.remove();
  await account?.revoke();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const records = () => readdirSync(dir).filter((name) => !name.endsWith(".tmp"));

it("100 traces waiting in the queue directory of a process killed with SIGKILL are all persisted by the next process", async () => {
  const credentials = { API_KEY: account.apiKey, PROJECT_NAME: account.projectName, QUEUE_DIR: dir, SDK_URL: sdk.url };
  const producer = runChild(fixture, {
    ...credentials,
    MODE: "produce",
    COUNT: "100",
    MAX_QUEUE_SIZE: "20",
    COLLECTOR_URL: `http://127.0.0.1:${(stalled.address() as AddressInfo).port}`,
  });
  await poll(async () => (producer.stdout().includes("ended") && records().length === 100 ? true : undefined), 30_000, "on disk");
  producer.proc.kill("SIGKILL");
  expect(await producer.exited).toEqual({ code: null, signal: "SIGKILL" });

  const deliverer = runChild(fixture, { ...credentials, MODE: "deliver", COLLECTOR_URL: kit.endpoint });
  expect(await deliverer.exited).toEqual({ code: 0, signal: null });
  expect(JSON.parse(deliverer.stdout())).toEqual({ reports: [] });
  expect(records()).toEqual([]);

  const names = await poll(async () => {
    const page = await account.get<{ items: { name: string }[]; total: number }>("/traces?limit=200");
    return page.total >= 100 ? page.items.map((t) => t.name) : undefined;
  }, 60_000, "persisted");
  expect(names.sort()).toEqual(Array.from({ length: 100 }, (_, i) => `t-${i}`).sort());
}, 180_000);
