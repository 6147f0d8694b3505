/**
 * The page of the two-tier chat app (test/support/continuation-app.ts): each turn is a trace from
 * the click to the rendered answer; `instrumentFetch()` adds the trace context to its same-origin
 * `fetch`, so the server's spans join the turn's trace.
 */
import { flush, init, instrumentFetch, onError, session, startTrace, user } from "../../../src/index.browser.js";

export interface ContinuationPageApi {
  errors: string[];
  /** One turn as `claimedUser` (what the page says; the server's auth may differ) against `route`. */
  turn(route: string, question: string, sessionId: string, claimedUser: string): Promise<{ traceId: string; answerSpanId: string; answer: string }>;
  flush(): Promise<void>;
}

declare global {
  interface Window {
    chat: ContinuationPageApi;
  }
}

const errors: string[] = [];
init({ endpoint: "/api/pandaprobe" });
onError((error) => errors.push(error.message));
instrumentFetch();

window.chat = {
  errors,
  turn: (route, question, sessionId, claimedUser) =>
    session(sessionId, () =>
      user(claimedUser, () =>
        startTrace("chat-turn", { input: { messages: [{ role: "user", content: question }] } }, async (t) => {
          let answerSpanId = "";
          const answer = await t.span("answer", { kind: "CHAIN" }, async (s) => {
            answerSpanId = s.spanId;
            // Called before the callback's first await: the current span is still known here.
            const response = await fetch(route, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ question }) });
            const text = await response.text();
            s.setOutput(text);
            return text;
          });
          t.setOutput({ messages: [{ role: "assistant", content: answer }] });
          return { traceId: t.traceId, answerSpanId, answer };
        }),
      ),
    ),
  flush,
};
