/** The SDK sending to the local collector end to end: a Node client whose endpoint is the collector. */
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { Client, session, user } from "../../src/index.js";
import { call, startTemp, tempDir } from "./support.js";

const temp = tempDir();
afterAll(() => temp.remove());

it("a session of traces with nested spans, token usage, time to first token, an error and a score reads back from the collector", async () => {
  const collector = await startTemp(join(temp.dir, "sdk.jsonl"));
  const client = new Client({ apiKey: "sk_pp_anything", projectName: "local", endpoint: collector.url, flushInterval: 0.05 });
  try {
    const ids: string[] = [];
    await session("sdk-session", () =>
      user("sdk-user", async () => {
        for (const question of ["first", "second"]) {
          await client.startTrace("turn", { input: { messages: [{ role: "user", content: question }] } }, async (t) => {
            ids.push(t.traceId);
            const reply = await t.span("generate", { kind: "LLM", model: "gpt-4o-mini" }, async (s) => {
              s.setCompletionStartTime(Date.now());
              s.setTokenUsage({ prompt_tokens: 12, completion_tokens: 8 });
              return `answer to ${question}`;
            });
            t.setOutput({ messages: [{ role: "assistant", content: reply }] });
          });
        }
        await client
          .startTrace("failing", undefined, async () => {
            throw new Error("model unavailable");
          })
          .catch(() => {});
      }),
    );
    client.score(ids[0]!, "helpful", true);
    await client.flush();

    const { body: sessionDetail } = await call(collector.url, "GET", "/sessions/sdk-session");
    expect(sessionDetail).toMatchObject({ trace_count: 3, has_error: true, user_id: "sdk-user", total_tokens: 40 });
    expect(sessionDetail.traces.map((t: { name: string; status: string }) => `${t.name}:${t.status}`)).toEqual(["turn:COMPLETED", "turn:COMPLETED", "failing:ERROR"]);
    const [first] = sessionDetail.traces;
    expect(first.spans).toEqual([
      expect.objectContaining({ name: "generate", kind: "LLM", status: "OK", model: "gpt-4o-mini", time_to_first_token_ms: expect.any(Number) }),
    ]);
    expect(first.output).toEqual({ messages: [{ role: "assistant", content: "answer to first" }] });
    const { body: scores } = await call(collector.url, "GET", `/evaluations/trace-scores/${ids[0]}`);
    expect(scores).toEqual([expect.objectContaining({ name: "helpful", value: "true", data_type: "BOOLEAN" })]);
  } finally {
    await client.shutdown();
    await collector.close();
  }
});
