import { Document } from "@langchain/core/documents";
import type { BaseMessage } from "@langchain/core/messages";
import { StringOutputParser } from "@langchain/core/output_parsers";
import { ChatPromptTemplate } from "@langchain/core/prompts";
import { BaseRetriever } from "@langchain/core/retrievers";
import { RunnableLambda, RunnableParallel, RunnablePassthrough, RunnableSequence } from "@langchain/core/runnables";
import { tool } from "@langchain/core/tools";
import { Command, END, interrupt, MemorySaver, MessagesAnnotation, START, StateGraph } from "@langchain/langgraph";
import { ToolNode } from "@langchain/langgraph/prebuilt";
import { ChatOpenAI } from "@langchain/openai";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { init, session, setSession, setUser, startTrace, user } from "../../src/index.js";
import type { SpanData, TraceData } from "../../src/wire/types.js";
import { LangChainCallbackHandler, LangGraphCallbackHandler } from "../../src/integrations/langchain.js";
import { startFakeOpenAI, type FakeOpenAI } from "../support/fake-openai.js";
import { closeIntegration, resetIntegration, startIntegration } from "../support/integration.js";
import { byName, traceToCollector, type Tracing } from "../support/tracing.js";

let tracing: Tracing;
let fake: FakeOpenAI;

beforeAll(async () => ({ tracing, fake } = await startIntegration(startFakeOpenAI)));
afterEach(() => resetIntegration(tracing, fake));
afterAll(() => closeIntegration(tracing, fake));

function chatModel(options: { streaming?: boolean } = {}) {
  return new ChatOpenAI({
    apiKey: "test",
    model: "gpt-4o-mini",
    temperature: 0.2,
    maxRetries: 0,
    configuration: { baseURL: fake.baseURL },
    ...options,
  });
}

const add = tool(async ({ a, b }) => String(a + b), {
  name: "add",
  description: "Adds two numbers.",
  schema: z.object({ a: z.number(), b: z.number() }),
});

/** The trace's spans in opening order (start time, then the order they were sent in). */
function spansOf(trace: TraceData): SpanData[] {
  return trace.spans
    .map((span, index) => ({ span, index }))
    .sort((x, y) => x.span.started_at.localeCompare(y.span.started_at) || x.index - y.index)
    .map(({ span }) => span);
}

function only(trace: TraceData, name: string): SpanData {
  const found = trace.spans.filter((s) => s.name === name);
  expect(found, `exactly one span named ${name}`).toHaveLength(1);
  return found[0]!;
}

function childrenOf(trace: TraceData, parent: SpanData | undefined): SpanData[] {
  return spansOf(trace).filter((s) => s.parent_span_id === parent?.span_id);
}

/** A single-trace answer, once it arrived. */
async function theTrace(): Promise<TraceData> {
  const traces = await tracing.sent();
  expect(traces).toHaveLength(1);
  return traces[0]!;
}

const USAGE = { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18, cache_read_tokens: 0, reasoning_tokens: 0 };

describe("an LCEL chain (prompt | model | parser)", () => {
  const chain = () =>
    ChatPromptTemplate.fromMessages([
      ["system", "Answer in one word."],
      ["human", "{question}"],
    ])
      .pipe(chatModel())
      .pipe(new StringOutputParser());

  it("is one trace: the sequence as the root CHAIN span, prompt, model and parser as its children", async () => {
    fake.script({ text: "Four", usage: { prompt_tokens: 20, completion_tokens: 1, cached_tokens: 8, reasoning_tokens: 3 } });
    const answer = await chain().invoke({ question: "What is 2+2?" }, { callbacks: [new LangChainCallbackHandler()] });
    expect(answer).toBe("Four");

    const trace = await theTrace();
    expect(trace).toMatchObject({
      name: "LangChain",
      status: "COMPLETED",
      input: { question: "What is 2+2?" },
      output: { messages: [{ role: "assistant", content: "Four" }] },
    });
    expect(trace.session_id).toBeUndefined();

    const [root] = childrenOf(trace, undefined);
    expect(root).toMatchObject({ name: "RunnableSequence", kind: "CHAIN", status: "OK", input: { question: "What is 2+2?" }, output: "Four" });
    expect(childrenOf(trace, root).map((s) => [s.name, s.kind])).toEqual([
      ["ChatPromptTemplate", "CHAIN"],
      ["ChatOpenAI", "LLM"],
      ["StrOutputParser", "CHAIN"],
    ]);
    expect(only(trace, "ChatPromptTemplate").output).toEqual({
      messages: [
        { role: "system", content: "Answer in one word." },
        { role: "user", content: "What is 2+2?" },
      ],
    });
    expect(only(trace, "ChatOpenAI")).toMatchObject({
      status: "OK",
      input: {
        messages: [
          { role: "system", content: "Answer in one word." },
          { role: "user", content: "What is 2+2?" },
        ],
      },
      output: { role: "assistant", content: "Four" },
      model: "gpt-4o-mini",
      model_parameters: { temperature: 0.2, stream: false },
      token_usage: { prompt_tokens: 20, completion_tokens: 1, total_tokens: 21, cache_read_tokens: 8, reasoning_tokens: 3 },
    });
    expect(only(trace, "ChatOpenAI").completion_start_time).toBeUndefined();
    expect(fake.requests[0]!.body).not.toHaveProperty("pandaprobe");
  });

  it("streamed, learns the chain's input at its end and times the model's first token", async () => {
    fake.script({ text: "Four and more" });
    const chunks: string[] = [];
    const stream = await chain().stream({ question: "2+2?" }, { callbacks: [new LangChainCallbackHandler()] });
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.join("")).toBe("Four and more");

    const trace = await theTrace();
    expect(trace).toMatchObject({ input: { question: "2+2?" }, output: { messages: [{ role: "assistant", content: "Four and more" }] } });
    const llm = only(trace, "ChatOpenAI");
    expect(llm).toMatchObject({ output: { role: "assistant", content: "Four and more" }, token_usage: USAGE });
    expect(llm.completion_start_time! >= llm.started_at && llm.completion_start_time! <= llm.ended_at!).toBe(true);
  });
});

describe("a chat model called directly", () => {
  it("roots a trace of its own: the LLM span, the last user message in, the assistant message out", async () => {
    fake.script({ text: "Hello there" });
    const reply = await chatModel().invoke([["system", "Be kind."], ["human", "Hi!"]], { callbacks: [new LangChainCallbackHandler()] });
    expect(reply.content).toBe("Hello there");

    const trace = await theTrace();
    expect(trace).toMatchObject({
      name: "ChatOpenAI",
      input: { messages: [{ role: "user", content: "Hi!" }] },
      output: { messages: [{ role: "assistant", content: "Hello there" }] },
    });
    expect(trace.spans).toHaveLength(1);
    expect(trace.spans[0]).toMatchObject({ kind: "LLM", token_usage: USAGE });
    expect(trace.spans[0]!.parent_span_id).toBeUndefined();
  });

  it("streamed with .stream(): the host gets every chunk, the span the whole text and time to first token", async () => {
    fake.script({ text: "one two three" });
    const pieces: string[] = [];
    for await (const chunk of await chatModel().stream("Count", { callbacks: [new LangChainCallbackHandler()] })) {
      pieces.push(chunk.content as string);
    }
    expect(pieces.join("")).toBe("one two three");
    expect(pieces.filter((p) => p !== "")).toEqual(["one ", "two ", "three"]);

    const trace = await theTrace();
    const [llm] = trace.spans;
    expect(llm).toMatchObject({
      kind: "LLM",
      status: "OK",
      output: { role: "assistant", content: "one two three" },
      model: "gpt-4o-mini",
      token_usage: USAGE,
    });
    expect(llm!.completion_start_time! >= llm!.started_at).toBe(true);
    expect(fake.requests[0]!.body).toMatchObject({ stream: true });
  });

  it("abandoned mid-stream: the span and trace are closed once idle, with the text streamed so far", async () => {
    fake.script({ text: "alpha beta gamma" });
    const handler = new LangChainCallbackHandler({ idleTimeout: 0.5 });
    for await (const chunk of await chatModel().stream("Go", { callbacks: [handler] })) {
      // LangChain reports a chunk after handing it over: "alpha " is known once "beta " arrives.
      if (chunk.content === "beta ") break;
    }
    await vi.waitFor(async () => expect(await tracing.sent()).toHaveLength(1), { timeout: 5000, interval: 25 });

    const trace = await theTrace();
    expect(trace).toMatchObject({ status: "COMPLETED", metadata: { abandoned: true } });
    const [llm] = trace.spans;
    expect(llm).toMatchObject({ kind: "LLM", status: "OK", metadata: { abandoned: true } });
    expect(llm!.ended_at).toBeDefined();
    expect((llm!.output as { content: string }).content).toBe("alpha ");
    expect(llm!.completion_start_time).toBeDefined();
  });

  it("a provider error (500): ERROR LLM span and trace with the provider's message; the host gets LangChain's error", async () => {
    fake.script({ error: { status: 500, message: "upstream exploded" } }, { error: { status: 500, message: "upstream exploded" } });
    const untraced = await chatModel().invoke("Hi").catch((e: unknown) => e);
    const traced = await chatModel()
      .invoke("Hi", { callbacks: [new LangChainCallbackHandler()] })
      .catch((e: unknown) => e);
    expect(traced).toBeInstanceOf(Error);
    expect(traced!.constructor).toBe(untraced!.constructor);
    expect((traced as Error).message).toBe((untraced as Error).message);
    expect((traced as Error).message).toContain("upstream exploded");

    const trace = await theTrace();
    expect(trace.status).toBe("ERROR");
    expect(trace.metadata).toMatchObject({ error: (traced as Error).message });
    expect(trace.spans[0]).toMatchObject({ kind: "LLM", status: "ERROR" });
    expect(trace.spans[0]!.error).toContain("upstream exploded");
  });
});

describe("tools and retrievers", () => {
  it("a tool-calling agent loop: LLM, TOOL, LLM under the agent, tool calls in OpenAI's shape", async () => {
    fake.script({ toolCalls: [{ id: "call_7", name: "add", arguments: { a: 2, b: 5 } }] }, { text: "It is 7." });
    const model = chatModel().bindTools([add]);
    const agent = RunnableLambda.from(async (question: string, config) => {
      const messages: BaseMessage[] = [];
      let reply = await model.invoke([["human", question]], config);
      while (reply.tool_calls?.length) {
        messages.push(reply);
        for (const call of reply.tool_calls) messages.push(await add.invoke(call, config));
        reply = await model.invoke([["human", question], ...messages], config);
      }
      return reply.content as string;
    }).withConfig({ runName: "calculator" });

    expect(await agent.invoke("2+5?", { callbacks: [new LangChainCallbackHandler()] })).toBe("It is 7.");

    const trace = await theTrace();
    expect(trace).toMatchObject({
      name: "calculator",
      input: { messages: [{ role: "user", content: "2+5?" }] },
      output: { messages: [{ role: "assistant", content: "It is 7." }] },
    });
    const [root] = childrenOf(trace, undefined);
    expect(root).toMatchObject({ name: "calculator", kind: "CHAIN", status: "OK" });
    const steps = childrenOf(trace, root);
    expect(steps.map((s) => [s.name, s.kind])).toEqual([
      ["ChatOpenAI", "LLM"],
      ["add", "TOOL"],
      ["ChatOpenAI", "LLM"],
    ]);
    expect(steps[0]!.output).toEqual({
      role: "assistant",
      content: "",
      tool_calls: [{ id: "call_7", type: "function", function: { name: "add", arguments: '{"a":2,"b":5}' } }],
    });
    expect(steps[1]).toMatchObject({
      input: { a: 2, b: 5 },
      output: { role: "tool", content: "7", tool_call_id: "call_7", name: "add" },
      metadata: { tool_call_id: "call_7" },
    });
    expect((steps[2]!.input as { messages: unknown[] }).messages).toEqual([
      { role: "user", content: "2+5?" },
      steps[0]!.output,
      { role: "tool", content: "7", tool_call_id: "call_7", name: "add" },
    ]);
  });

  it("a failing tool: ERROR TOOL span, ERROR chain and trace, the host gets the tool's error", async () => {
    const boom = new Error("division by zero");
    const divide = tool(
      async () => {
        throw boom;
      },
      { name: "divide", description: "Divides.", schema: z.object({ a: z.number() }) },
    );
    const run = RunnableLambda.from(async (a: number, config) => divide.invoke({ a }, config)).withConfig({ runName: "math" });
    await expect(run.invoke(1, { callbacks: [new LangChainCallbackHandler()] })).rejects.toBe(boom);

    const trace = await theTrace();
    expect(trace).toMatchObject({ status: "ERROR", metadata: { error: "division by zero" } });
    expect(only(trace, "math")).toMatchObject({ kind: "CHAIN", status: "ERROR" });
    expect(only(trace, "divide")).toMatchObject({ kind: "TOOL", status: "ERROR", parent_span_id: only(trace, "math").span_id });
    expect(only(trace, "divide").error).toContain("division by zero");
  });

  it("a retriever in a RAG chain: RETRIEVER span with the query in and documents out", async () => {
    class Shelf extends BaseRetriever {
      lc_namespace = ["test", "retrievers"];
      override async _getRelevantDocuments(query: string) {
        return [
          new Document({ pageContent: `Pandas eat bamboo (${query}).`, metadata: { source: "zoo.txt" } }),
          new Document({ pageContent: "Pandas sleep a lot.", metadata: { source: "wiki.txt" } }),
        ];
      }
    }
    fake.script({ text: "Bamboo." });
    const prompt = ChatPromptTemplate.fromMessages([["human", "Context: {context}\nQuestion: {question}"]]);
    const rag = RunnableSequence.from([
      {
        context: new Shelf().pipe((docs: Document[]) => docs.map((d) => d.pageContent).join(" ")),
        question: new RunnablePassthrough(),
      },
      prompt,
      chatModel(),
      new StringOutputParser(),
    ]);
    expect(await rag.invoke("What do pandas eat?", { callbacks: [new LangChainCallbackHandler()] })).toBe("Bamboo.");

    const trace = await theTrace();
    expect(trace).toMatchObject({
      input: { messages: [{ role: "user", content: "What do pandas eat?" }] },
      output: { messages: [{ role: "assistant", content: "Bamboo." }] },
    });
    const retriever = only(trace, "Shelf");
    expect(retriever).toMatchObject({
      kind: "RETRIEVER",
      status: "OK",
      input: "What do pandas eat?",
      output: [
        { page_content: "Pandas eat bamboo (What do pandas eat?).", metadata: { source: "zoo.txt" } },
        { page_content: "Pandas sleep a lot.", metadata: { source: "wiki.txt" } },
      ],
    });
    // Every span hangs off the root, through spans of the same trace.
    const ids = new Set(trace.spans.map((s) => s.span_id));
    expect(trace.spans.filter((s) => s.parent_span_id === undefined)).toHaveLength(1);
    for (const span of trace.spans) if (span.parent_span_id) expect(ids.has(span.parent_span_id)).toBe(true);
    expect(only(trace, "ChatOpenAI").input).toEqual({
      messages: [{ role: "user", content: "Context: Pandas eat bamboo (What do pandas eat?). Pandas sleep a lot.\nQuestion: What do pandas eat?" }],
    });
  });
});

function calculatorGraph() {
  const model = chatModel().bindTools([add]);
  return new StateGraph(MessagesAnnotation)
    .addNode("agent", async (state) => ({ messages: [await model.invoke(state.messages)] }))
    .addNode("tools", new ToolNode([add]))
    .addEdge(START, "agent")
    .addConditionalEdges("agent", (state) => {
      const last = state.messages.at(-1) as { tool_calls?: unknown[] };
      return last.tool_calls?.length ? "tools" : END;
    })
    .addEdge("tools", "agent")
    .compile();
}

describe("a LangGraph StateGraph (agent node + ToolNode, looping until no tool calls)", () => {
  it("is one trace: the graph as the root AGENT span, its nodes as CHAIN spans in step order", async () => {
    fake.script({ toolCalls: [{ id: "call_1", name: "add", arguments: { a: 1, b: 2 } }] }, { text: "1+2 is 3." });
    const result = await calculatorGraph().invoke(
      { messages: [{ role: "user", content: "What is 1+2?" }] },
      { callbacks: [new LangGraphCallbackHandler()] },
    );
    expect(result.messages.at(-1)!.content).toBe("1+2 is 3.");

    const trace = await theTrace();
    expect(trace).toMatchObject({
      name: "LangGraph",
      status: "COMPLETED",
      input: { messages: [{ role: "user", content: "What is 1+2?" }] },
      output: { messages: [{ role: "assistant", content: "1+2 is 3." }] },
    });
    const [graph, ...others] = childrenOf(trace, undefined);
    expect(others).toEqual([]);
    expect(graph).toMatchObject({ name: "LangGraph", kind: "AGENT", status: "OK" });
    expect((graph!.output as { messages: unknown[] }).messages).toHaveLength(4);

    // LangGraph's internal __start__ run is hidden, as in LangSmith.
    const nodes = childrenOf(trace, graph);
    expect(nodes.map((n) => [n.name, n.kind, n.metadata?.langgraph_step])).toEqual([
      ["agent", "CHAIN", 1],
      ["tools", "CHAIN", 2],
      ["agent", "CHAIN", 3],
    ]);
    const [agent1, tools, agent2] = nodes;
    expect(childrenOf(trace, agent1).map((s) => [s.name, s.kind])).toEqual([
      ["ChatOpenAI", "LLM"],
      ["RunnableLambda", "CHAIN"],
    ]);
    expect(childrenOf(trace, agent1)[1]!.output).toBe("tools");
    expect(childrenOf(trace, tools).map((s) => [s.name, s.kind])).toEqual([["add", "TOOL"]]);
    expect(childrenOf(trace, tools)[0]).toMatchObject({ input: { a: 1, b: 2 }, output: { role: "tool", content: "3" } });
    const finalLlm = childrenOf(trace, agent2)[0]!;
    expect(finalLlm).toMatchObject({ kind: "LLM", output: { role: "assistant", content: "1+2 is 3." }, token_usage: USAGE });
    expect((finalLlm.input as { messages: { role: string }[] }).messages.map((m) => m.role)).toEqual(["user", "assistant", "tool"]);
  });

  it("the LangChain handler on a graph: the same tree, the trace named LangChain", async () => {
    fake.script({ text: "Hi." });
    await calculatorGraph().invoke({ messages: [{ role: "user", content: "Hello" }] }, { callbacks: [new LangChainCallbackHandler()] });
    const trace = await theTrace();
    expect(trace.name).toBe("LangChain");
    expect(childrenOf(trace, undefined).map((s) => [s.name, s.kind])).toEqual([["LangGraph", "AGENT"]]);
  });

  it("a node failing on a provider 500: ERROR LLM, node and graph spans, ERROR trace, the host gets the error", async () => {
    fake.script({ error: { status: 500, message: "model overloaded" } });
    const error = (await calculatorGraph()
      .invoke({ messages: [{ role: "user", content: "1+1?" }] }, { callbacks: [new LangGraphCallbackHandler()] })
      .then(() => undefined, (e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toContain("model overloaded");

    const trace = await theTrace();
    expect(trace.status).toBe("ERROR");
    expect(trace.metadata?.error).toContain("model overloaded");
    for (const name of ["LangGraph", "agent", "ChatOpenAI"]) {
      expect(only(trace, name).status, name).toBe("ERROR");
      expect(only(trace, name).error, name).toContain("model overloaded");
    }
    expect(trace.spans.every((s) => s.ended_at !== undefined)).toBe(true);
  });

  it("a compiled graph used as a node: the node's CHAIN span holds the subgraph as an AGENT span", async () => {
    fake.script({ text: "Researched." });
    const outer = new StateGraph(MessagesAnnotation).addNode("researcher", calculatorGraph()).addEdge(START, "researcher").compile();
    await outer.invoke({ messages: [{ role: "user", content: "Look it up" }] }, { callbacks: [new LangGraphCallbackHandler()] });

    const trace = await theTrace();
    const [graph] = childrenOf(trace, undefined);
    const [node] = childrenOf(trace, graph);
    const [subgraph] = childrenOf(trace, node);
    expect([graph, node, subgraph].map((s) => [s!.name, s!.kind])).toEqual([
      ["LangGraph", "AGENT"],
      ["researcher", "CHAIN"],
      ["LangGraph", "AGENT"],
    ]);
    expect(childrenOf(trace, subgraph).map((s) => [s.name, s.kind])).toEqual([["agent", "CHAIN"]]);
  });

  it("an interrupt is control flow, not a failure: the node ends OK, marked interrupted, and the trace completes", async () => {
    const approval = new StateGraph(MessagesAnnotation)
      .addNode("review", () => {
        const answer = interrupt("Approve?") as string;
        return { messages: [{ role: "assistant", content: `Reviewed: ${answer}` }] };
      })
      .addEdge(START, "review")
      .compile({ checkpointer: new MemorySaver() });
    const handler = new LangGraphCallbackHandler();
    const config = { callbacks: [handler], configurable: { thread_id: "t-1" } };

    await approval.invoke({ messages: [{ role: "user", content: "Ship it" }] }, config);
    const resumed = await approval.invoke(new Command({ resume: "yes" }), config);
    expect(resumed.messages.at(-1)!.content).toBe("Reviewed: yes");

    const traces = (await tracing.sent()).sort((a, b) => a.started_at.localeCompare(b.started_at));
    expect(traces.map((t) => t.status)).toEqual(["COMPLETED", "COMPLETED"]);
    expect(only(traces[0]!, "review")).toMatchObject({ status: "OK", metadata: { interrupted: "GraphInterrupt" } });
    expect(only(traces[1]!, "review")).toMatchObject({ status: "OK", output: { messages: [{ role: "assistant", content: "Reviewed: yes" }] } });
    expect(traces[1]!.output).toEqual({ messages: [{ role: "assistant", content: "Reviewed: yes" }] });
  });

  it("the seed's multi-turn conversation: one trace per invoke, all in the constructor's session", async () => {
    const graph = calculatorGraph();
    const handler = new LangGraphCallbackHandler({ sessionId: "conversation-123", userId: "user-abc" });
    const turns = ["Hi, I'm Ada.", "What is my name?", "Thanks!"];
    const replies = ["Hello Ada!", "Your name is Ada.", "You're welcome."];
    fake.script(...replies.map((text) => ({ text })));

    let history: BaseMessage[] = [];
    for (const text of turns) {
      const state = await graph.invoke({ messages: [...history, { role: "user", content: text }] }, { callbacks: [handler] });
      history = state.messages;
    }
    expect(history.map((m) => m.content)).toEqual([turns[0], replies[0], turns[1], replies[1], turns[2], replies[2]]);

    const traces = await tracing.sent();
    expect(traces).toHaveLength(3);
    const inOrder = [...traces].sort((a, b) => a.started_at.localeCompare(b.started_at));
    inOrder.forEach((trace, i) => {
      expect(trace).toMatchObject({
        name: "LangGraph",
        session_id: "conversation-123",
        user_id: "user-abc",
        input: { messages: [{ role: "user", content: turns[i] }] },
        output: { messages: [{ role: "assistant", content: replies[i] }] },
      });
      // The model saw the whole conversation so far.
      expect((only(trace, "ChatOpenAI").input as { messages: unknown[] }).messages).toHaveLength(2 * i + 1);
    });
  });
});

describe("session and user ids", () => {
  const invoke = (handler: LangChainCallbackHandler) => chatModel().invoke("Hi", { callbacks: [handler] });

  it("constructor ids beat session()/user()", async () => {
    await session("scoped-session", () =>
      user("scoped-user", () => invoke(new LangChainCallbackHandler({ sessionId: "explicit-session", userId: "explicit-user" }))),
    );
    expect(await theTrace()).toMatchObject({ session_id: "explicit-session", user_id: "explicit-user" });
  });

  it("session()/user() beat setSession()/setUser(), which apply when nothing else is set", async () => {
    setSession("imperative-session");
    setUser("imperative-user");
    const handler = new LangChainCallbackHandler();
    await session("scoped-session", () => user("scoped-user", () => invoke(handler)));
    await invoke(handler);

    const traces = (await tracing.sent()).sort((a, b) => a.started_at.localeCompare(b.started_at));
    expect(traces.map((t) => [t.session_id, t.user_id])).toEqual([
      ["scoped-session", "scoped-user"],
      ["imperative-session", "imperative-user"],
    ]);
  });

  it("a graph's trace takes the scoped ids in effect where it was invoked", async () => {
    await session("graph-session", () =>
      calculatorGraph().invoke({ messages: [{ role: "user", content: "Hi" }] }, { callbacks: [new LangGraphCallbackHandler()] }),
    );
    expect((await theTrace()).session_id).toBe("graph-session");
  });
});

describe("options", () => {
  it("a typo'd or ill-typed option is a TypeError from the constructor, not a run silently untraced", () => {
    for (const Handler of [LangChainCallbackHandler, LangGraphCallbackHandler]) {
      expect(() => new Handler({ sesionId: "c-1" } as never)).toThrow(/unknown callback handler option key "sesionId"/);
      expect(() => new Handler({ sessionId: 42 as never })).toThrow(/sessionId must be a string, got a number/);
      expect(() => new Handler({ userId: null as never })).toThrow(/userId must be a string, got null/);
      expect(() => new Handler({ tags: ["ok", 7 as never] })).toThrow(/a tag must be a string/);
      expect(() => new Handler({ metadata: "v1" as never })).toThrow(/metadata must be an object/);
      expect(() => new Handler({ idleTimeout: "60" as never })).toThrow(/idleTimeout must be a positive number of seconds/);
      expect(() => new Handler({ idleTimeout: 0 })).toThrow(/idleTimeout must be a positive number of seconds/);
    }
  });

  it("the handler's tags and metadata go on the traces it opens", async () => {
    await chatModel().invoke("Hi", { callbacks: [new LangChainCallbackHandler({ tags: ["prod"], metadata: { release: "r1" } })] });
    expect(await theTrace()).toMatchObject({ tags: ["prod"], metadata: { release: "r1" } });
  });
});

describe("inside a current trace", () => {
  it("nests the run tree under the current span instead of opening a trace, leaving the host's trace alone", async () => {
    fake.script({ text: "Nested answer." });
    const chain = ChatPromptTemplate.fromMessages([["human", "{q}"]]).pipe(chatModel()).pipe(new StringOutputParser());
    const handler = new LangChainCallbackHandler({ sessionId: "ignored-when-nested" });
    const out = await startTrace("host-agent", { input: { messages: [{ role: "user", content: "outer question" }] } }, async (t) =>
      t.span("plan", { kind: "AGENT" }, async () => {
        const answer = await chain.invoke({ q: "inner" }, { callbacks: [handler] });
        t.setOutput({ messages: [{ role: "assistant", content: "host output" }] });
        return answer;
      }),
    );
    expect(out).toBe("Nested answer.");

    const trace = byName(await tracing.sent(), "host-agent");
    expect(trace.session_id).toBeUndefined();
    expect(trace).toMatchObject({
      input: { messages: [{ role: "user", content: "outer question" }] },
      output: { messages: [{ role: "assistant", content: "host output" }] },
    });
    const plan = only(trace, "plan");
    expect(plan.parent_span_id).toBeUndefined();
    const sequence = only(trace, "RunnableSequence");
    expect(sequence.parent_span_id).toBe(plan.span_id);
    expect(childrenOf(trace, sequence).map((s) => s.name)).toEqual(["ChatPromptTemplate", "ChatOpenAI", "StrOutputParser"]);
  });

  it("directly under the trace when no span is current", async () => {
    await startTrace("host", undefined, () => chatModel().invoke("Hi", { callbacks: [new LangChainCallbackHandler()] }));
    const trace = await theTrace();
    expect(trace.name).toBe("host");
    expect(trace.spans).toHaveLength(1);
    expect(trace.spans[0]).toMatchObject({ name: "ChatOpenAI", kind: "LLM", status: "OK" });
    expect(trace.spans[0]!.parent_span_id).toBeUndefined();
  });
});

describe("robustness", () => {
  it("one handler, concurrent runs: one trace each, every span in its own run's trace", async () => {
    const handler = new LangChainCallbackHandler();
    const chain = ChatPromptTemplate.fromMessages([["human", "{q}"]]).pipe(chatModel()).pipe(new StringOutputParser());
    const answers = await Promise.all(["a", "b", "c"].map((q) => chain.invoke({ q }, { callbacks: [handler] })));
    expect(answers).toEqual(["ok", "ok", "ok"]);

    const traces = await tracing.sent();
    expect(traces.map((t) => (t.input as { q: string }).q).sort()).toEqual(["a", "b", "c"]);
    for (const trace of traces) {
      expect(trace.spans).toHaveLength(4);
      const llm = only(trace, "ChatOpenAI");
      expect(llm.input).toEqual({ messages: [{ role: "user", content: (trace.input as { q: string }).q }] });
      expect(llm.parent_span_id).toBe(only(trace, "RunnableSequence").span_id);
    }
  });

  it("a branch that outlives its run's failure stays in that run's trace, under its own span", async () => {
    fake.script({ text: "late answer" });
    let modelReached!: () => void;
    const reached = new Promise<void>((resolve) => (modelReached = resolve));
    const model = chatModel();
    const both = RunnableParallel.from({
      fails: RunnableLambda.from(async () => {
        throw new Error("fast failure");
      }).withConfig({ runName: "fails" }),
      slow: RunnableLambda.from(async (question: string, config) => {
        await new Promise((resolve) => setTimeout(resolve, 100));
        const reply = await model.invoke(question, config);
        modelReached();
        return reply.content;
      }).withConfig({ runName: "slow" }),
    }).withConfig({ runName: "both" });
    await expect(both.invoke("q", { callbacks: [new LangChainCallbackHandler()] })).rejects.toThrow("fast failure");
    await reached;

    const trace = await theTrace();
    expect(trace).toMatchObject({ name: "both", status: "ERROR" });
    const llm = only(trace, "ChatOpenAI");
    expect(llm).toMatchObject({ kind: "LLM", status: "OK", output: { role: "assistant", content: "late answer" } });
    expect(llm.parent_span_id).toBe(only(trace, "slow").span_id);
  });

  it("a tracing failure never reaches LangChain: the run still returns its value", async () => {
    // Naming the trace throws inside the handler, as any bookkeeping failure would.
    const handler = new (class extends LangChainCallbackHandler {
      protected override traceName(): string {
        throw new Error("bookkeeping failed");
      }
    })();
    fake.script({ text: "still fine" });
    const reply = await chatModel().invoke("Hi", { callbacks: [handler] });
    expect(reply.content).toBe("still fine");
    expect(await tracing.sent()).toEqual([]);
  });

  it("with tracing disabled, runs pass straight through and nothing is sent", async () => {
    init({ enabled: false });
    try {
      fake.script({ text: "untraced" });
      const reply = await chatModel().invoke("Hi", { callbacks: [new LangGraphCallbackHandler()] });
      expect(reply.content).toBe("untraced");
      await new Promise((r) => setTimeout(r, 100));
      expect(tracing.collector.traces()).toEqual([]);
    } finally {
      await tracing.close();
      tracing = await traceToCollector();
    }
  });
});
