/**
 * Spans that end after their trace, against the real backend, whose two worker processes may apply
 * a trace's upserts in either order: every span is stored in its final state, with its output.
 */
import { afterAll, expect, inject, it } from "vitest";
import { Client, type PandaProbeError } from "../../src/index.js";
import { contractCheckingFetch, freshAccount, poll, type Account } from "./kit.js";

const kit = inject("backend");
let account: Account | undefined;
let client: Client | undefined;
afterAll(async () => {
  await client?.shutdown();
  await account?.revoke();
});

interface StoredTrace {
  spans: { name: string; status: string; output: unknown; ended_at: string | null }[];
}

it("30 traces each with a span ending within the hold and one ending after it: all stored OK with their outputs, in at most 2 requests per trace", async () => {
  account = await freshAccount(kit, "late-spans");
  const violations: string[] = [];
  const reports: PandaProbeError[] = [];
  const bodies: string[] = [];
  const checked = contractCheckingFetch(violations);
  const counting: typeof fetch = (input, init) => {
    if (typeof init?.body === "string" && new URL(String(input)).pathname === "/traces") bodies.push(init.body);
    return checked(input, init);
  };
  // A hold of 300 ms: "soon" ends within it, "late" after it.
  client = new Client(
    { apiKey: account.apiKey, projectName: account.projectName, endpoint: kit.endpoint, flushInterval: 0.3, fetch: counting },
    {},
  );
  client.onError((error) => reports.push(error as PandaProbeError));

  const ids: string[] = [];
  const ending: Promise<void>[] = [];
  for (let i = 0; i < 30; i++) {
    const t = client.startTrace(`late-${i}`);
    t.span("on-time").setOutput("before the end").end();
    const soon = t.span("soon");
    const late = t.span("late");
    t.end();
    ids.push(t.traceId);
    const after = (ms: number, span: typeof soon, output: string) =>
      new Promise<void>((resolve) => setTimeout(() => resolve(void span.setOutput(output).end()), ms));
    ending.push(after(50, soon, `soon ${i}`), after(900 + i * 10, late, `late ${i}`));
  }
  await Promise.all(ending);
  await client.flush();

  for (const [i, id] of ids.entries()) {
    const stored = await poll(
      async () => {
        const trace = await account!.get<StoredTrace>(`/traces/${id}`);
        return trace.spans.length === 3 && trace.spans.every((s) => s.status !== "UNSET") ? trace : undefined;
      },
      60_000,
      `trace ${i} stored with 3 final spans`,
    );
    const byName = Object.fromEntries(stored.spans.map((s) => [s.name, s]));
    expect(byName["soon"]).toMatchObject({ status: "OK", output: `soon ${i}` });
    expect(byName["late"]).toMatchObject({ status: "OK", output: `late ${i}` });
    expect(byName["on-time"]).toMatchObject({ status: "OK", output: "before the end" });
  }
  // The trace with on-time and soon, then late alone: never one request per span, never an UNSET span.
  expect(bodies.length).toBeLessThanOrEqual(60);
  expect(bodies.some((b) => b.includes('"UNSET"'))).toBe(false);
  expect(reports).toEqual([]);
  expect(violations).toEqual([]);
  console.log(`late spans: ${bodies.length} POST /traces for 30 traces of 3 spans, 2 of them ending after their trace`);
}, 180_000);
