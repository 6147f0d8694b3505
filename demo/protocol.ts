/**
 * What the page and the demo server say to each other on `POST /api/chat`: the request as JSON, the
 * answer as newline-delimited JSON events, one per line, streamed as the model produces them.
 */
export interface ChatMessage {
  role: "user" | "assistant";
  content: string;
}

export interface ChatRequest {
  /** The conversation so far, ending with the user's new message. */
  messages: ChatMessage[];
  /** The page's conversation id: the server traces the call in this session. */
  sessionId?: string;
  userId?: string;
  /** The page's trace of this turn, so the two traces of one turn can be found from each other. */
  browserTraceId?: string;
}

export type ChatEvent =
  | { type: "start"; model: string; traceId: string | undefined }
  | { type: "delta"; text: string }
  | { type: "done" }
  | { type: "error"; message: string };

export const CHAT_ROUTE = "/api/chat";
export const RELAY_ROUTE = "/api/pandaprobe";
