// @vitest-environment happy-dom
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { Client } from "pandaprobe";
import { afterEach, describe, expect, it } from "vitest";
import { Chat } from "../../examples/react-interaction.js";
import { PandaProbeProvider } from "../../react/index.js";
import { capture } from "./capture.js";

afterEach(cleanup);

const FIRST_TOKEN_MS = 40;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A streaming model: the first token after a think time, then one token every few milliseconds. */
async function* model(message: string): AsyncIterable<string> {
  await sleep(FIRST_TOKEN_MS);
  for (const token of ["You ", "said ", message]) {
    yield token;
    await sleep(5);
  }
}

const ms = (iso: string | undefined) => Date.parse(iso!);

describe("examples/react-interaction.tsx: tracing send, first token, rendered answer", () => {
  it("gives one trace per message, with time to first token and a render span that ends after the commit", async () => {
    const sink = capture();
    // What the user saw when the trace ended: the render span must not end before the answer is on screen.
    const busyWhenExported: (string | null | undefined)[] = [];
    const exporter = {
      ...sink.exporter,
      enqueue: (envelope: { path: string; body: string }) => {
        busyWhenExported.push(document.querySelector("output")?.getAttribute("aria-busy"));
        sink.exporter.enqueue(envelope);
      },
    };
    render(
      <PandaProbeProvider client={new Client({ exporter })} session="conv-1" user="alice">
        <Chat model={model} />
      </PandaProbeProvider>,
    );
    fireEvent.change(screen.getByLabelText("message"), { target: { value: "hi" } });
    fireEvent.click(screen.getByText("send"));

    await waitFor(() => expect(sink.traces()).toHaveLength(1));
    const output = screen.getByRole("status");
    expect([output.textContent, output.getAttribute("aria-busy")]).toEqual(["You said hi", "false"]);
    expect(busyWhenExported).toEqual(["false"]);

    const turn = sink.trace("chat-turn");
    expect([turn.session_id, turn.user_id, turn.input, turn.output, turn.status]).toEqual([
      "conv-1",
      "alice",
      "hi",
      "You said hi",
      "COMPLETED",
    ]);
    const [llm, rendered] = turn.spans;
    expect([llm!.name, llm!.kind, llm!.output, rendered!.name]).toEqual(["llm", "LLM", "You said hi", "render"]);
    const timeToFirstToken = ms(llm!.completion_start_time) - ms(llm!.started_at);
    expect(timeToFirstToken).toBeGreaterThanOrEqual(FIRST_TOKEN_MS - 5);
    expect(ms(llm!.completion_start_time)).toBeLessThanOrEqual(ms(llm!.ended_at));
    expect(ms(rendered!.started_at)).toBeGreaterThanOrEqual(ms(llm!.ended_at));
    expect(ms(rendered!.ended_at)).toBeLessThanOrEqual(ms(turn.ended_at));
  });
});
