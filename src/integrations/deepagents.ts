/**
 * DeepAgents (`deepagents`): a deep agent is a LangGraph graph, so the LangGraph handler traces it;
 * this one names its runs as PandaProbe's other SDKs do.
 *
 *   const handler = new DeepAgentsCallbackHandler({ sessionId: "conv-1" });
 *   await agent.invoke({ messages }, { callbacks: [handler] });
 *
 *   CHAIN  DeepAgents (or the agent's own name)
 *   ├── CHAIN  model_request → LLM  ChatOpenAI ...
 *   └── CHAIN  tools
 *       └── TOOL  task                          (the sub-agent call)
 *           └── AGENT  <sub-agent name>         (its model requests and tools nest here)
 */
import type { SpanOptions } from "pandaprobe";
import { PandaProbeCallbackHandler, type LangChainHandlerOptions } from "./langchain.js";

/** The name LangGraph gives a graph compiled without one: a trace named so says nothing. */
const UNNAMED_GRAPH = "LangGraph";
const TRACE_NAME = "DeepAgents";

export type DeepAgentsHandlerOptions = LangChainHandlerOptions;

export class DeepAgentsCallbackHandler extends PandaProbeCallbackHandler {
  name = "PandaProbeDeepAgentsCallbackHandler";

  protected traceName(rootName: string): string {
    return rootName === UNNAMED_GRAPH ? TRACE_NAME : rootName;
  }

  /** The run as a whole is a CHAIN, as in PandaProbe's other SDKs; the agents it starts are AGENT spans. */
  protected override rootSpan(name: string, options: SpanOptions): { name: string; options: SpanOptions } {
    return { name: this.traceName(name), options: options.kind === "AGENT" ? { ...options, kind: "CHAIN" } : options };
  }
}
