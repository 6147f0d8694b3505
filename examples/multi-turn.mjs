// A multi-turn conversation traced to a local endpoint: one trace per turn, all in one session.
import { flush, init, session, span, trace, user } from "pandaprobe";
import { startLocalCollector } from "./local-collector.mjs";

const collector = await startLocalCollector();
init({ apiKey: "sk_pp_local", projectName: "examples", endpoint: collector.url });

// Stands in for an LLM call; a real app would use a wrapped OpenAI/Anthropic client.
const callModel = span(
  async (messages) => {
    await new Promise((r) => setTimeout(r, 20));
    const last = messages.at(-1).content;
    return { role: "assistant", content: `You said "${last}" (turn ${Math.ceil(messages.length / 2)}).` };
  },
  { name: "fake-llm", kind: "LLM", model: "fake-model-1" },
);

const lookUpAccount = span(async (userId) => ({ userId, plan: "pro" }), { name: "account-lookup", kind: "TOOL" });

const chatTurn = trace(
  async (history, userId) => {
    await lookUpAccount(userId);
    return callModel(history);
  },
  { name: "support-agent", tags: ["example"] },
);

const history = [];
await session("conversation-123", () =>
  user("user-abc", async () => {
    for (const input of ["Hi!", "How do I reset my password?", "Thanks, bye"]) {
      history.push({ role: "user", content: input });
      console.log(`You: ${input}`);
      const reply = await chatTurn(history, "user-abc");
      history.push(reply);
      console.log(`Assistant: ${reply.content}`);
    }
  }),
);

await flush();
console.log(`\n${collector.traces.length} traces received, sessions: ${[...new Set(collector.traces.map((t) => t.session_id))]}`);
await collector.close();
