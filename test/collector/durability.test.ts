/**
 * The journal: what the collector acknowledged survives a restart and a `kill -9` in the middle
 * of a stream of writes; a line torn by the crash is skipped.
 */
import { appendFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { bundledCli, call, makeTrace, spawnCollector, startTemp, tempDir } from "./support.js";

const temp = tempDir();
afterAll(() => temp.remove());

describe("restart", () => {
  it("keeps every trace, span, merge, patch and score, and skips a torn last line", async () => {
    const file = join(temp.dir, "restart.jsonl");
    const first = await startTemp(file);
    const traces = Array.from({ length: 20 }, (_, i) => makeTrace({ spans: 5, session: `restart-${i % 3}`, user: `user-${i % 2}` }));
    for (const trace of traces) expect((await call(first.url, "POST", "/traces", trace)).status).toBe(202);
    await call(first.url, "POST", "/traces", { ...traces[0], status: "ERROR", metadata: { retried: true }, spans: [] });
    await call(first.url, "PATCH", `/traces/${traces[1]!.trace_id}`, { tags: ["patched"] });
    await call(first.url, "POST", "/evaluations/trace-scores", { trace_id: traces[2]!.trace_id, name: "q", value: "0.5", data_type: "NUMERIC", source: "PROGRAMMATIC" });
    const before = await Promise.all(traces.map((t) => call(first.url, "GET", `/traces/${t.trace_id}`)));
    const sessionsBefore = await call(first.url, "GET", "/sessions");
    await first.close();
    // What a crash mid-write leaves: a line without its end.
    appendFileSync(file, '{"op":"trace","at":"2026-01-01T00:00:00.000Z","body":{"trace_id":"');

    const second = await startTemp(file);
    try {
      expect(second.replayed).toEqual({ entries: 23, skipped: 1 });
      const after = await Promise.all(traces.map((t) => call(second.url, "GET", `/traces/${t.trace_id}`)));
      expect(after).toEqual(before);
      expect(after[0]!.body).toMatchObject({ status: "ERROR", metadata: { retried: true } });
      expect(after[1]!.body.tags).toEqual(["patched"]);
      expect((await call(second.url, "GET", `/evaluations/trace-scores/${traces[2]!.trace_id}`)).body).toHaveLength(1);
      expect(await call(second.url, "GET", "/sessions")).toEqual(sessionsBefore);
      // Appends after the cut start on a line of their own.
      expect((await call(second.url, "POST", "/traces", makeTrace())).status).toBe(202);
    } finally {
      await second.close();
    }
    const lines = readFileSync(file, "utf8").split("\n");
    expect(lines.pop()).toBe("");
    expect(lines.map((line) => JSON.parse(line).op)).toHaveLength(24);
  });
});

describe("kill -9", () => {
  it("loses no acknowledged trace when the process dies in the middle of a stream of writes", async () => {
    const file = join(temp.dir, "crash.jsonl");
    const cli = await bundledCli(temp.dir);
    const child = await spawnCollector(cli, file);
    const acknowledged: string[] = [];
    let killed = false;
    // Four clients writing 20-span traces until the process is gone; the kill lands mid-stream.
    const writers = Array.from({ length: 4 }, async () => {
      while (!killed) {
        const trace = makeTrace({ spans: 20, session: "crash" });
        try {
          const answer = await call(child.url, "POST", "/traces", trace);
          if (answer.status === 202) acknowledged.push(trace.trace_id);
        } catch {
          return; // The connection died with the process: that write was never acknowledged.
        }
      }
    });
    while (acknowledged.length < 150) await new Promise((resolve) => setTimeout(resolve, 5));
    child.process.kill("SIGKILL");
    killed = true;
    await Promise.all(writers);
    expect(await child.exited).toBe(null);

    const restarted = await spawnCollector(cli, file);
    try {
      const missing: string[] = [];
      for (const id of acknowledged) {
        const { status, body } = await call(restarted.url, "GET", `/traces/${id}`);
        if (status !== 200 || body.spans.length !== 20) missing.push(id);
      }
      expect(missing).toEqual([]);
      const { body } = await call(restarted.url, "GET", "/traces?session_id=crash&limit=1");
      expect(body.total).toBeGreaterThanOrEqual(acknowledged.length);
    } finally {
      restarted.process.kill("SIGTERM");
      await restarted.exited;
    }
  });
});
