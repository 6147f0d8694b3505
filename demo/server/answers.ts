/**
 * The fake model's answers: deterministic (the same prompt always gets the same words at the same
 * pace), so screenshots and tests are stable, and shaped like a helpful reply about the demo.
 */
const TOPICS: { match: RegExp; answer: string }[] = [
  {
    match: /\b(hi|hello|hey)\b/i,
    answer:
      "Hello! I am the demo's fake model. Every message you send becomes one trace, from your click to the last token on screen, with the server's model call inside it.",
  },
  {
    match: /\bsession/i,
    answer:
      "A session groups the traces of one conversation. This page starts a new session id for each conversation, and each message's trace, the server's part included, lands in it.",
  },
  {
    match: /\b(token|ttft|first)\b/i,
    answer:
      "Time to first token is the moment the first piece of the answer arrived. The server records it on the model span, and the page records when the first token was rendered, which is what you actually waited for.",
  },
  {
    match: /\boffline/i,
    answer:
      "When the page is offline, its traces wait in IndexedDB. They are sent as soon as the browser is back online, and deleted only once the collector acknowledged them, so nothing is lost.",
  },
];

const FALLBACK = [
  "Good question. Here is a deterministic answer, streamed one token at a time at a human pace, so you can watch the time to first token and the whole turn in the trace viewer.",
  "Let me think about that. I am a fake model, so my answer is always the same for the same words, which keeps the demo's traces and screenshots stable from run to run.",
  "Noted. This reply comes from the demo server's built-in model, spoken over the real Chat Completions streaming wire, so the real openai client and its PandaProbe wrapper handle it as they would the real thing.",
];

/** A recognisable prompt makes the fake model fail mid-stream, to show an error trace. */
export const FAIL_PATTERN = /\bfail/i;
export const FAIL_PREFIX = "Trying to answer that, but";
export const FAIL_MESSAGE = "fake model: the prompt asked me to fail";

function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

export function answerFor(prompt: string): string {
  const topic = TOPICS.find((t) => t.match.test(prompt));
  return topic ? topic.answer : FALLBACK[hash(prompt) % FALLBACK.length]!;
}

/** Word-sized tokens that keep their leading space, as model tokenizers do. */
export function tokens(text: string): string[] {
  return text.match(/\s*\S+/g) ?? [];
}

/** Milliseconds before token `index` of `text`: 30-60 ms, the same every time. */
export function tokenDelay(text: string, index: number): number {
  return 30 + (hash(`${index}:${text}`) % 31);
}
