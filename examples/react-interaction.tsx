/**
 * Tracing a user interaction in the browser: one trace per message sent, with time to first token
 * on the model span and a render span that ends once React has put the answer on the screen.
 *
 *   <PandaProbeProvider options={{ endpoint: "/api/pandaprobe" }} session={conversationId}>
 *     <Chat model={streamAnswer} />
 *   </PandaProbeProvider>
 */
import type { Trace } from "pandaprobe";
import { useCallback, useEffect, useRef, useState, type FormEvent } from "react";
// In an app: import { useTrace } from "pandaprobe/react";
import { useTrace } from "../react/index.js";

/**
 * A callback that runs `action` as one trace (named `name`, its arguments the input) with the
 * tree's session and user ids. The trace ends when the action's promise settles.
 */
export function useTracedAction<A extends unknown[], R>(
  name: string,
  action: (trace: Trace, ...args: A) => Promise<R>,
): (...args: A) => Promise<R> {
  const { startTrace } = useTrace();
  return useCallback(
    (...args: A) => startTrace(name, { input: args.length === 1 ? args[0] : args }, (trace) => action(trace, ...args)),
    [startTrace, name, action],
  );
}

/** A promise for the end of React's next commit: "the user can see it now". */
function useNextCommit(): () => Promise<void> {
  const waiting = useRef<(() => void)[]>([]);
  useEffect(() => {
    for (const resolve of waiting.current.splice(0)) resolve();
  });
  return useCallback(() => new Promise<void>((resolve) => waiting.current.push(resolve)), []);
}

export function Chat({ model }: { model: (message: string) => AsyncIterable<string> }) {
  const [answer, setAnswer] = useState("");
  const [done, setDone] = useState(true);
  const nextCommit = useNextCommit();

  const send = useTracedAction("chat-turn", async (trace, message: string) => {
    setDone(false);
    const text = await trace.span("llm", { kind: "LLM", input: message }, async (span) => {
      let text = "";
      for await (const token of model(message)) {
        if (text === "") span.setCompletionStartTime(new Date());
        text += token;
        setAnswer(text);
      }
      span.setOutput(text);
      return text;
    });
    await trace.span("render", undefined, () => {
      setDone(true);
      return nextCommit();
    });
    trace.setOutput(text);
    return text;
  });

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const input = event.currentTarget.elements.namedItem("message") as HTMLInputElement;
    void send(input.value);
  }

  return (
    <form onSubmit={onSubmit}>
      <input name="message" aria-label="message" />
      <button type="submit">send</button>
      <output aria-busy={!done}>{answer}</output>
    </form>
  );
}
