/**
 * What the page and the demo server say to each other on `POST /api/chat`: the request as JSON, the
 * answer as newline-delimited JSON events, one per line, streamed as the model produces them. The
 * request's headers carry the page's trace context (`traceparent`, `tracestate`, `baggage`).
 */
export interface ChatMessage {
  role: "user" | "assistant";
  content: string;
}

export interface ChatRequest {
  /** The conversation so far, ending with the user's new message. */
  messages: ChatMessage[];
  /**
   * The page's conversation and user: the session and user of the server's own trace when the
   * request carries no trace context (with it, the turn is the page's trace, with the page's ids).
   */
  sessionId?: string;
  userId?: string;
}

export type ChatEvent =
  | { type: "start"; model: string }
  | { type: "delta"; text: string }
  | { type: "done" }
  | { type: "error"; message: string };

export const CHAT_ROUTE = "/api/chat";
export const RELAY_ROUTE = "/api/pandaprobe";
