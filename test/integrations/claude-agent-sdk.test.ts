/**
 * The Claude Agent SDK traced by `wrapClaudeAgentQuery()`: `query()` runs the SDK's bundled Claude
 * Code CLI for real, pointed at the fake Anthropic Messages server through ANTHROPIC_BASE_URL.
 * Tools are in-process MCP tools (no shell, no files), allowed by name.
 */
import { createSdkMcpServer, query, tool, type Options, type SDKMessage } from "@anthropic-ai/claude-agent-sdk";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { init, session, setSession, setUser, startTrace, user } from "../../src/index.js";
import { ClaudeAgentSDKAdapter, wrapClaudeAgentQuery, type ClaudeAgentOptions } from "../../src/integrations/claude-agent-sdk.js";
import type { SpanData, TraceData } from "../../src/wire/types.js";
import { startFakeAnthropic, type FakeAnthropic } from "../support/fake-anthropic.js";
import { closeIntegration, resetIntegration, startIntegration } from "../support/integration.js";
import { type Tracing } from "../support/tracing.js";

let tracing: Tracing;
let fake: FakeAnthropic;
let home: string;

beforeAll(async () => {
  ({ tracing, fake } = await startIntegration(startFakeAnthropic));
  home = mkdtempSync(join(tmpdir(), "claude-agent-test-"));
});
afterEach(() => resetIntegration(tracing, fake));
afterAll(async () => {
  await closeIntegration(tracing, fake);
  rmSync(home, { recursive: true, force: true });
});

const calc = createSdkMcpServer({
  name: "calc",
  version: "1.0.0",
  tools: [
    tool("add", "Adds two numbers", { a: z.number(), b: z.number() }, async ({ a, b }) => ({ content: [{ type: "text", text: String(a + b) }] })),
    tool("divide", "Divides", { a: z.number(), b: z.number() }, async ({ b }) => ({ content: [{ type: "text", text: `cannot divide by ${b}` }], isError: true })),
  ],
});

/** The CLI in a throwaway home, talking only to the fake; only the calculator's tools allowed. */
function options(extra: Options = {}): Options {
  return {
    cwd: home,
    model: "claude-fake-1",
    mcpServers: { calc },
    allowedTools: ["mcp__calc__add", "mcp__calc__divide"],
    tools: [],
    settingSources: [],
    maxTurns: 6,
    env: {
      ...process.env,
      ANTHROPIC_BASE_URL: fake.url,
      ANTHROPIC_API_KEY: "sk-ant-test",
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
      HOME: home,
      CLAUDE_CONFIG_DIR: home,
    },
    ...extra,
  };
}

async function drain(messages: AsyncIterable<SDKMessage>): Promise<SDKMessage[]> {
  const seen: SDKMessage[] = [];
  for await (const message of messages) seen.push(message);
  return seen;
}

function tree(trace: TraceData): [string, string, string | undefined][] {
  const byId = new Map(trace.spans.map((s) => [s.span_id, s]));
  return trace.spans.map((s) => [s.kind, s.name, s.parent_span_id && byId.get(s.parent_span_id)?.name]);
}

function only(traces: TraceData[]): TraceData {
  expect(traces).toHaveLength(1);
  return traces[0]!;
}

function spans(trace: TraceData, kind: string): SpanData[] {
  return trace.spans.filter((s) => s.kind === kind);
}

describe("a query", () => {
  it("is one trace: CHAIN and AGENT, a LLM span per model turn, a TOOL span per tool use, usage and cost from the result", async () => {
    fake.script(
      { text: "Let me add.", toolUses: [{ id: "toolu_add", name: "mcp__calc__add", input: { a: 2, b: 3 } }] },
      { text: "2 + 3 = 5" },
    );
    const traced = wrapClaudeAgentQuery(query);
    const messages = await drain(traced({ prompt: "What is 2 + 3?", options: options({ systemPrompt: "You add numbers." }) }));
    expect(messages.map((m) => m.type)).toEqual(["system", "assistant", "assistant", "user", "assistant", "result"]);

    const trace = only(await tracing.sent());
    expect(trace).toMatchObject({
      name: "ClaudeAgentSDK",
      status: "COMPLETED",
      input: { messages: [{ role: "user", content: "What is 2 + 3?" }] },
      output: { messages: [{ role: "assistant", content: "2 + 3 = 5" }] },
    });
    expect(tree(trace)).toEqual([
      ["CHAIN", "ClaudeAgentSDK", undefined],
      ["AGENT", "ClaudeAgentSDK", "ClaudeAgentSDK"],
      ["LLM", "claude-llm", "ClaudeAgentSDK"],
      ["TOOL", "mcp__calc__add", "ClaudeAgentSDK"],
      ["LLM", "claude-llm", "ClaudeAgentSDK"],
    ]);
    const [first, second] = spans(trace, "LLM") as [SpanData, SpanData];
    const call = { id: "toolu_add", type: "function", function: { name: "mcp__calc__add", arguments: '{"a":2,"b":3}' } };
    expect(first).toMatchObject({
      status: "OK",
      model: "claude-fake-1",
      input: { messages: [{ role: "system", content: "You add numbers." }, { role: "user", content: "What is 2 + 3?" }] },
      output: { messages: [{ role: "assistant", content: "Let me add.", tool_calls: [call] }] },
      model_parameters: { maxTurns: 6 },
    });
    expect(second.input).toEqual({
      messages: [
        { role: "system", content: "You add numbers." },
        { role: "user", content: "What is 2 + 3?" },
        { role: "assistant", content: "Let me add.", tool_calls: [call] },
        { role: "tool", tool_call_id: "toolu_add", content: "5" },
      ],
    });
    const result = messages.at(-1) as Extract<SDKMessage, { type: "result" }>;
    expect(second.token_usage).toEqual({
      prompt_tokens: result.usage.input_tokens,
      completion_tokens: result.usage.output_tokens,
      total_tokens: result.usage.input_tokens + result.usage.output_tokens,
    });
    expect(second.cost).toEqual({ total: result.total_cost_usd });
    expect(first.token_usage).toBeUndefined();
    expect(spans(trace, "TOOL")[0]).toMatchObject({ status: "OK", input: { a: 2, b: 3 }, output: "5", metadata: { tool_use_id: "toolu_add" } });
    expect(spans(trace, "AGENT")[0]).toMatchObject({ metadata: { num_turns: result.num_turns, claude_session_id: result.session_id } });
  });

  it("a tool result marked as an error is an ERROR TOOL span; the query goes on", async () => {
    fake.script({ toolUses: [{ id: "toolu_div", name: "mcp__calc__divide", input: { a: 1, b: 0 } }] }, { text: "Division by zero." });
    await drain(wrapClaudeAgentQuery(query)({ prompt: "1 / 0?", options: options() }));
    const trace = only(await tracing.sent());
    expect(spans(trace, "TOOL")[0]).toMatchObject({ name: "mcp__calc__divide", status: "ERROR", output: "cannot divide by 0", error: "cannot divide by 0" });
    expect(trace.status).toBe("COMPLETED");
  });

  it("with partial messages, each turn records its time to first token; the stream events reach the caller", async () => {
    fake.script({ text: "Streaming a longer answer.", delayMs: 5 });
    const messages = await drain(wrapClaudeAgentQuery(query)({ prompt: "Stream", options: options({ includePartialMessages: true }) }));
    expect(messages.some((m) => m.type === "stream_event")).toBe(true);
    const llm = spans(only(await tracing.sent()), "LLM")[0]!;
    expect(llm.output).toEqual({ messages: [{ role: "assistant", content: "Streaming a longer answer." }] });
    const first = Date.parse(llm.completion_start_time!);
    expect(first).toBeGreaterThanOrEqual(Date.parse(llm.started_at));
    expect(first).toBeLessThanOrEqual(Date.parse(llm.ended_at!));
  });

  it("a failed query fails the agent, the root and the trace; the caller gets the SDK's error", async () => {
    // A request the API refuses as too long: the CLI gives up at once, with an error result.
    fake.script({ error: { status: 400, type: "invalid_request_error", message: "prompt is too long" } });
    const seen: SDKMessage[] = [];
    const traced = wrapClaudeAgentQuery(query)({ prompt: "Hi", options: options() });
    await expect(
      (async () => {
        for await (const message of traced) seen.push(message);
      })(),
    ).rejects.toThrow(/prompt is too long/i);
    expect(seen.at(-1)).toMatchObject({ type: "result", is_error: true });
    const trace = only(await tracing.sent());
    expect(trace).toMatchObject({ status: "ERROR", metadata: { error: expect.stringMatching(/prompt is too long/i) } });
    expect(trace.spans[0]).toMatchObject({ kind: "CHAIN", status: "ERROR" });
    expect(spans(trace, "AGENT")[0]).toMatchObject({ status: "ERROR", error: expect.stringMatching(/prompt is too long/i) });
  });

  it("a caller that stops reading abandons the query: the trace completes, marked abandoned", async () => {
    fake.script({ text: "First words of a long answer.", toolUses: [{ id: "toolu_add", name: "mcp__calc__add", input: { a: 1, b: 1 } }] }, { text: "never read" });
    const traced = wrapClaudeAgentQuery(query)({ prompt: "Long job", options: options() });
    for await (const message of traced) if (message.type === "assistant") break;
    const trace = only(await tracing.sent());
    expect(trace).toMatchObject({ status: "COMPLETED", metadata: { abandoned: true } });
    expect(spans(trace, "LLM")[0]).toMatchObject({ output: { messages: [{ role: "assistant", content: "First words of a long answer." }] } });
  });

  it("a subagent started by the Agent tool is an AGENT span with its prompt in and its report out", async () => {
    fake.script(
      { toolUses: [{ id: "toolu_agent", name: "Agent", input: { subagent_type: "calculator", description: "Add numbers", prompt: "What is 2 + 2?", run_in_background: false } }] },
      { text: "4" },
      { text: "The calculator says 4." },
    );
    const messages = await drain(
      wrapClaudeAgentQuery(query)({
        prompt: "Ask the calculator what 2 + 2 is",
        options: options({
          tools: ["Agent"],
          allowedTools: ["Agent", "mcp__calc__add"],
          agents: { calculator: { description: "Adds numbers", prompt: "You add numbers.", tools: ["mcp__calc__add"] } },
        }),
      }),
    );
    expect(messages.at(-1)).toMatchObject({ type: "result", subtype: "success" });
    const trace = only(await tracing.sent());
    // The CLI streams the subagent's prompt but not its turns: its report comes back as the tool result.
    expect(tree(trace)).toEqual([
      ["CHAIN", "ClaudeAgentSDK", undefined],
      ["AGENT", "ClaudeAgentSDK", "ClaudeAgentSDK"],
      ["LLM", "claude-llm", "ClaudeAgentSDK"],
      ["AGENT", "calculator", "ClaudeAgentSDK"],
      ["LLM", "claude-llm", "ClaudeAgentSDK"],
    ]);
    expect(spans(trace, "AGENT")[1]).toMatchObject({
      status: "OK",
      input: { subagent_type: "calculator", prompt: "What is 2 + 2?" },
      output: expect.stringContaining("4"),
      metadata: { tool_use_id: "toolu_agent" },
    });
    expect(trace.output).toEqual({ messages: [{ role: "assistant", content: "The calculator says 4." }] });
  });

  it("inside a current trace, the query is a subtree of it", async () => {
    fake.script({ text: "ok" });
    await startTrace("my-app", undefined, () => drain(wrapClaudeAgentQuery(query)({ prompt: "Hi", options: options() })));
    const trace = only(await tracing.sent());
    expect(trace.name).toBe("my-app");
    expect(tree(trace)).toEqual([
      ["CHAIN", "ClaudeAgentSDK", undefined],
      ["AGENT", "ClaudeAgentSDK", "ClaudeAgentSDK"],
      ["LLM", "claude-llm", "ClaudeAgentSDK"],
    ]);
  });

  it("the Query's own methods still work through the wrapper", async () => {
    fake.script({ text: "ok" });
    const traced = wrapClaudeAgentQuery(query)({ prompt: "Hi", options: options() });
    expect(typeof traced.interrupt).toBe("function");
    const models = await traced.supportedModels();
    expect(Array.isArray(models)).toBe(true);
    await drain(traced);
    expect(only(await tracing.sent()).status).toBe("COMPLETED");
  });
});

describe("sessions and users", () => {
  it("prefers explicit ids over scoped ones over imperative ones", async () => {
    setSession("imperative-s");
    setUser("imperative-u");
    const ask = (prompt: string, ids?: ClaudeAgentOptions) => drain(wrapClaudeAgentQuery(query, ids)({ prompt, options: options() }));
    await ask("one");
    await session("scoped-s", () => user("scoped-u", () => ask("two")));
    await session("scoped-s", () => ask("three", { sessionId: "explicit-s", userId: "explicit-u" }));
    const traces = await tracing.sent();
    const ids = (prompt: string) => {
      const trace = traces.find((t) => JSON.stringify(t.input).includes(`"${prompt}"`))!;
      return [trace.session_id, trace.user_id];
    };
    expect(ids("one")).toEqual(["imperative-s", "imperative-u"]);
    expect(ids("two")).toEqual(["scoped-s", "scoped-u"]);
    expect(ids("three")).toEqual(["explicit-s", "explicit-u"]);
  });

  it("a multi-turn conversation is one trace per query, all in the session", async () => {
    fake.script({ text: "Hello!" }, { text: "Reset it in Settings." });
    const traced = new ClaudeAgentSDKAdapter({ tags: ["chat"] }).wrapQuery(query);
    await session("conv-1", () =>
      user("user-1", async () => {
        for (const prompt of ["Hi!", "How do I reset my password?"]) await drain(traced({ prompt, options: options() }));
      }),
    );
    const traces = await tracing.sent();
    expect(traces.map((t) => [t.session_id, t.user_id, t.tags])).toEqual([
      ["conv-1", "user-1", ["chat"]],
      ["conv-1", "user-1", ["chat"]],
    ]);
    expect(traces.map((t) => [t.input, t.output])).toEqual([
      [{ messages: [{ role: "user", content: "Hi!" }] }, { messages: [{ role: "assistant", content: "Hello!" }] }],
      [{ messages: [{ role: "user", content: "How do I reset my password?" }] }, { messages: [{ role: "assistant", content: "Reset it in Settings." }] }],
    ]);
  });

  it("a typo'd or ill-typed option is a TypeError from the wrapper", () => {
    expect(() => wrapClaudeAgentQuery(query, { session: "x" } as ClaudeAgentOptions)).toThrow(TypeError);
  });
});

describe("with tracing disabled", () => {
  it("returns the SDK's own Query and sends nothing", async () => {
    init({ enabled: false });
    fake.script({ text: "plain" });
    const messages = await drain(wrapClaudeAgentQuery(query)({ prompt: "Hi", options: options() }));
    expect(messages.at(-1)).toMatchObject({ type: "result", subtype: "success" });
    await tracing.client.flush();
    expect(tracing.collector.traces()).toEqual([]);
  });
});
