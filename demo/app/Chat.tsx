import { useState, type FormEvent } from "react";
import type { ChatMessage } from "../protocol.js";
import { useChatTurn, type TurnView } from "./use-chat-turn.js";

interface Entry {
  question: string;
  answer: TurnView;
}

const SUGGESTIONS = ["Hello!", "What is a session?", "How is time to first token measured?", "Please fail this one"];

function seconds(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** The conversation: what was asked, and each answer as it streams in. */
export function Chat(props: { conversationId: string; userId: string }) {
  const [entries, setEntries] = useState<Entry[]>([]);
  const [draft, setDraft] = useState("");
  const busy = entries.at(-1)?.answer.status === "streaming";
  const runTurn = useChatTurn(props);

  function send(question: string) {
    if (!question.trim() || busy) return;
    // Failed and offline answers are not part of what the model sees next.
    const history: ChatMessage[] = entries
      .filter((e) => e.answer.status === "done")
      .flatMap((e) => [
        { role: "user" as const, content: e.question },
        { role: "assistant" as const, content: e.answer.content },
      ]);
    history.push({ role: "user", content: question });
    const index = entries.length;
    setEntries((all) => [...all, { question, answer: { content: "", status: "streaming" } }]);
    setDraft("");
    const show = (view: Partial<TurnView>) =>
      setEntries((all) => all.map((e, i) => (i === index ? { ...e, answer: { ...e.answer, ...view } } : e)));
    runTurn(history, show).catch(() => {});
  }

  function onSubmit(event: FormEvent) {
    event.preventDefault();
    send(draft);
  }

  return (
    <main className="chat">
      <ol className="log" aria-label="conversation">
        {entries.length === 0 ? <li className="empty">Ask something, or pick a suggestion below.</li> : null}
        {entries.map((entry, i) => (
          <li key={i} className="turn">
            <p className="bubble user">{entry.question}</p>
            <div className={`bubble assistant is-${entry.answer.status}`} data-role="assistant" data-status={entry.answer.status}>
              {entry.answer.content || (entry.answer.status === "streaming" ? "…" : "")}
              {entry.answer.error ? <p className="error">failed: {entry.answer.error}</p> : null}
              <p className="timing">
                {entry.answer.firstTokenMs !== undefined ? `first token ${seconds(entry.answer.firstTokenMs)}` : null}
                {entry.answer.totalMs !== undefined ? ` · whole turn ${seconds(entry.answer.totalMs)}` : null}
                {entry.answer.status === "offline" ? " · offline reply" : null}
              </p>
            </div>
          </li>
        ))}
      </ol>
      <div className="suggestions">
        {SUGGESTIONS.map((s) => (
          <button key={s} type="button" disabled={busy} onClick={() => send(s)}>
            {s}
          </button>
        ))}
      </div>
      <form className="composer" onSubmit={onSubmit}>
        <input aria-label="message" placeholder="Message" value={draft} onChange={(e) => setDraft(e.target.value)} />
        <button type="submit" disabled={busy || !draft.trim()}>
          Send
        </button>
      </form>
    </main>
  );
}
