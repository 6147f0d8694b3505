/**
 * One traced turn: from the click to the last token on screen, as the trace `chat-turn` with
 *   - `answer` (LLM): the server's streamed answer; its time to first token is when the first token
 *     was rendered, which is what the user waited for. The request carries this span's trace
 *     context, so the server's spans (`chat-api` and its model call) are its children;
 *   - `offline-reply`: the page's canned answer when the server was out of reach;
 *   - `render`: until React has committed the finished answer.
 */
import { useCallback } from "react";
import { SpanKind, traceHeaders, type Span } from "pandaprobe";
import { useTrace } from "pandaprobe/react";
import type { ChatMessage } from "../protocol.js";
import { offlineReply, openChat } from "./chat-stream.js";
import { useNextCommit } from "./use-next-commit.js";

export type TurnStatus = "streaming" | "done" | "offline" | "error";

export interface TurnView {
  content: string;
  status: TurnStatus;
  /** Milliseconds from the click to the first rendered token. */
  firstTokenMs?: number;
  totalMs?: number;
  error?: string;
}

export function useChatTurn(ids: { conversationId: string; userId: string }) {
  const { startTrace } = useTrace();
  const nextCommit = useNextCommit();
  const { conversationId, userId } = ids;

  return useCallback(
    (history: ChatMessage[], show: (view: Partial<TurnView>) => void): Promise<string> => {
      const clicked = performance.now();
      let text = "";
      /** Shows one more piece; the first one, once on screen, is the span's first token. */
      const render = async (piece: string, span: Span) => {
        const first = text === "";
        text += piece;
        show({ content: text });
        if (!first) return;
        await nextCommit();
        span.setCompletionStartTime(new Date());
        show({ firstTokenMs: Math.round(performance.now() - clicked) });
      };

      const turn = startTrace("chat-turn", { input: { messages: [history.at(-1)!] } }, async (trace) => {
        let offline = false;
        await trace.span("answer", { kind: SpanKind.LLM, input: { messages: history } }, async (span) => {
          let events;
          try {
            events = await openChat({ messages: history, sessionId: conversationId, userId }, traceHeaders(span));
          } catch (error) {
            // fetch() rejects with a TypeError only when the request could not be made at all.
            if (!(error instanceof TypeError)) throw error;
            span.setError(error);
            offline = true;
            return;
          }
          for await (const event of events) {
            if (event.type === "start") {
              span.setModel(event.model);
            } else if (event.type === "delta") {
              await render(event.text, span);
            } else if (event.type === "error") {
              throw new Error(event.message);
            }
          }
          span.setOutput({ role: "assistant", content: text });
        });
        if (offline) {
          trace.setMetadata({ offline: true });
          await trace.span("offline-reply", { kind: SpanKind.OTHER }, async (span) => {
            for await (const piece of offlineReply()) await render(piece, span);
            span.setOutput({ role: "assistant", content: text });
          });
        }
        await trace.span("render", undefined, () => {
          show({ status: offline ? "offline" : "done", totalMs: Math.round(performance.now() - clicked) });
          return nextCommit();
        });
        trace.setOutput({ messages: [{ role: "assistant", content: text }] });
        return text;
      });
      return turn.catch((error: unknown) => {
        show({ status: "error", error: error instanceof Error ? error.message : String(error) });
        throw error;
      });
    },
    [startTrace, nextCommit, conversationId, userId],
  );
}
