/** The page's side of `/api/chat`: a request, and the answer's NDJSON events as they arrive. */
import { CHAT_ROUTE, type ChatEvent, type ChatRequest } from "../protocol.js";

/**
 * Sends the turn, with `headers` (the trace context of the span it answers). Rejects with the fetch's TypeError when the network is unreachable (offline), so
 * the caller can tell that apart from a failed answer, which arrives as an `error` event.
 */
export async function openChat(request: ChatRequest, headers: Record<string, string>): Promise<AsyncIterable<ChatEvent>> {
  const response = await fetch(CHAT_ROUTE, {
    method: "POST",
    headers: { ...headers, "content-type": "application/json" },
    body: JSON.stringify(request),
  });
  if (!response.body || !response.headers.get("content-type")?.includes("ndjson")) {
    const text = await response.text();
    return (async function* () {
      yield { type: "error", message: `chat failed with HTTP ${response.status}: ${text.slice(0, 200)}` } as const;
    })();
  }
  return events(response.body);
}

async function* events(body: ReadableStream<Uint8Array>): AsyncIterable<ChatEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffered = "";
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buffered += decoder.decode(value, { stream: true });
      let newline: number;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        if (line) yield JSON.parse(line) as ChatEvent;
      }
    }
  } finally {
    reader.releaseLock();
  }
}

const OFFLINE_REPLY =
  "You are offline, so this canned reply comes from the page itself. The trace of this turn is waiting in IndexedDB and will be sent when you are back online.";

/** The page's own answer when the server is out of reach, streamed like a real one. */
export async function* offlineReply(): AsyncIterable<string> {
  for (const piece of OFFLINE_REPLY.match(/\s*\S+/g) ?? []) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    yield piece;
  }
}
