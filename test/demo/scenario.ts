/**
 * The demo's end-to-end scenario, shared by the run against the test collector (test/demo) and the
 * one against the real backend (test/backend): what a user does in the page, and what must have
 * arrived afterwards, whoever stored it.
 *
 * In the page: three turns as Ada; a new conversation as Grace with one turn, one made offline
 * (answered by the page itself), one back online, and one the fake model fails.
 */
import { expect } from "vitest";
import type { BrowserContext, Page } from "playwright-core";
import type { SpanData, TraceData } from "../../src/wire/types.js";
import type { ReadBack } from "./read-back.js";

export const FIRST = ["Hello!", "What is a session?", "How is time to first token measured?"];
export const SECOND = { online: "Hello!", offline: "Do you work offline?", back: "Tell me something", failing: "Please fail this one" };
/** One trace per turn, the page's (all 7), holding the server's spans where it answered (all but the offline turn). */
export const TURNS = 7;

/** A trace as stored: its latest fields and all its spans. */
export interface StoredTrace extends Omit<TraceData, "spans"> {
  spans: SpanData[];
}

export interface Conversations {
  first: string;
  second: string;
}

async function send(page: Page, text: string): Promise<{ status: string; text: string }> {
  const index = await page.locator("[data-role=assistant]").count();
  await page.fill("input[aria-label=message]", text);
  await page.click("button[type=submit]");
  await page.waitForFunction(
    (i) => {
      const answer = document.querySelectorAll<HTMLElement>("[data-role=assistant]")[i];
      return answer !== undefined && answer.dataset.status !== "streaming";
    },
    index,
    { timeout: 30_000 },
  );
  const answer = page.locator("[data-role=assistant]").nth(index);
  return { status: (await answer.getAttribute("data-status"))!, text: await answer.innerText() };
}

async function sessionId(page: Page): Promise<string> {
  return (await page.locator("[data-testid=session-id]").innerText()).trim();
}

/** Plays the scenario in the page at `url`, checking what the user sees; screenshots go to `shots` (a directory path ending in /). */
export async function chat(context: BrowserContext, page: Page, url: string, shots: string): Promise<Conversations> {
  await page.goto(url);
  await page.waitForSelector("input[aria-label=message]");
  const first = await sessionId(page);
  expect(await page.locator("[data-testid=user-id]").innerText()).toBe("user-ada");
  for (const question of FIRST) {
    const answer = await send(page, question);
    expect(answer.status).toBe("done");
    expect(answer.text).toMatch(/first token/);
  }
  await page.screenshot({ path: `${shots}demo-chat.png` });

  await page.selectOption("select[aria-label=user]", "user-grace");
  const second = await sessionId(page);
  expect(second).not.toBe(first);
  expect(await page.locator("[data-role=assistant]").count()).toBe(0);
  expect((await send(page, SECOND.online)).status).toBe("done");

  await context.setOffline(true);
  const offline = await send(page, SECOND.offline);
  expect(offline.status).toBe("offline");
  expect(offline.text).toMatch(/You are offline/);
  await context.setOffline(false);

  expect((await send(page, SECOND.back)).status).toBe("done");
  const failing = await send(page, SECOND.failing);
  expect(failing.status).toBe("error");
  expect(failing.text).toMatch(/asked me to fail/);
  await page.screenshot({ path: `${shots}demo-chat-offline-and-error.png` });
  return { first, second };
}

/** Depth-first, children in start order; throws on a span whose parent is not in the trace, or one listed twice. */
export function spanTree(trace: StoredTrace): [number, SpanData][] {
  const ids = new Set(trace.spans.map((s) => s.span_id));
  expect(ids.size, `${trace.trace_id} lists a span twice`).toBe(trace.spans.length);
  for (const span of trace.spans) if (span.parent_span_id) expect(ids, `${span.name}'s parent`).toContain(span.parent_span_id);
  const byStart = [...trace.spans].sort((a, b) => Date.parse(a.started_at) - Date.parse(b.started_at));
  const visit = (parent: string | undefined, depth: number): [number, SpanData][] =>
    byStart.filter((s) => (s.parent_span_id ?? undefined) === parent).flatMap((s) => [[depth, s] as [number, SpanData], ...visit(s.span_id, depth + 1)]);
  return visit(undefined, 0);
}

function spanNamed(trace: StoredTrace, name: string): SpanData {
  const found = trace.spans.find((s) => s.name === name);
  if (!found) throw new Error(`trace ${trace.name} ${trace.trace_id} has no span ${name}: ${trace.spans.map((s) => s.name)}`);
  return found;
}

/** The text of the last message of a `{messages: [...]}` input or output. */
export function lastMessage(value: unknown): string | undefined {
  const messages = (value as { messages?: { content?: unknown }[] } | undefined)?.messages;
  const content = messages?.at(-1)?.content;
  return typeof content === "string" ? content : undefined;
}

/** A span's time to first token lies within it. */
function expectFirstToken(span: SpanData): void {
  expect(span.completion_start_time, `${span.name} has a time to first token`).toBeTruthy();
  const first = Date.parse(span.completion_start_time!);
  expect(first).toBeGreaterThanOrEqual(Date.parse(span.started_at));
  expect(first).toBeLessThanOrEqual(Date.parse(span.ended_at!));
}

/** The server's part of a turn: its span `chat-api` under the page's `answer`, and the wrapped model call under that. */
function serverPart(turn: StoredTrace): { api: SpanData; llm: SpanData } {
  const answer = spanNamed(turn, "answer");
  const api = spanNamed(turn, "chat-api");
  expect(api.parent_span_id, `${turn.trace_id}: chat-api's parent`).toBe(answer.span_id);
  const llm = turn.spans.filter((s) => s.parent_span_id === api.span_id);
  expect(llm.map((s) => s.kind)).toEqual(["LLM"]);
  return { api, llm: llm[0]! };
}

/**
 * Everything the scenario must have left in the store: every turn once, as one trace (the page's,
 * with the server's spans under its answer), with its session, user, spans and errors.
 */
export function expectDelivered(stored: StoredTrace[], { first, second }: Conversations): void {
  const traces = [...stored].sort((a, b) => Date.parse(a.started_at) - Date.parse(b.started_at));
  expect(new Set(traces.map((t) => t.session_id))).toEqual(new Set([first, second]));
  // Nothing lost, nothing doubled: each turn once, the page's trace, in the order sent.
  expect(traces).toHaveLength(TURNS);
  expect(traces.map((t) => t.name)).toEqual(Array(TURNS).fill("chat-turn"));
  const turns1 = traces.filter((t) => t.session_id === first);
  const turns2 = traces.filter((t) => t.session_id === second);
  expect(turns1.map((t) => lastMessage(t.input))).toEqual(FIRST);
  expect(turns2.map((t) => lastMessage(t.input))).toEqual([SECOND.online, SECOND.offline, SECOND.back, SECOND.failing]);
  for (const t of turns1) expect(t.user_id).toBe("user-ada");
  for (const t of turns2) expect(t.user_id).toBe("user-grace");
  // The page's links to the server are the trace itself now: no ids of other traces in metadata.
  for (const t of traces) expect(Object.keys(t.metadata ?? {}).filter((key) => key.endsWith("trace_id"))).toEqual([]);

  // The span trees, in start order: the page's steps of each turn, the server's under the answer.
  const shape = (t: StoredTrace) => spanTree(t).map(([depth, s]) => `${depth}:${s.kind}:${s.name}`);
  const served = (t: StoredTrace) => ["0:LLM:answer", "1:OTHER:chat-api", `2:LLM:${serverPart(t).llm.name}`];
  const [offline, failed] = [turns2[1]!, turns2[3]!];
  const answered = [...turns1, turns2[0]!, turns2[2]!];
  for (const turn of answered) expect(shape(turn)).toEqual([...served(turn), "0:OTHER:render"]);
  expect(shape(offline)).toEqual(["0:LLM:answer", "0:OTHER:offline-reply", "0:OTHER:render"]);
  expect(shape(failed)).toEqual(served(failed));

  // The server's part of every turn it answered: its model call, with time to first token.
  for (const turn of [...answered, failed]) {
    const { api, llm } = serverPart(turn);
    expect(lastMessage(api.input)).toBe(lastMessage(turn.input));
    expect(llm.model).toBe("fake-gpt-mini");
    expectFirstToken(llm);
  }

  // The answered turns: the first rendered token on the answer span, the server's and the page's output the same.
  for (const turn of answered) {
    expect(turn.status).toBe("COMPLETED");
    const answer = spanNamed(turn, "answer");
    expect(answer.status).toBe("OK");
    expect(answer.model).toBe("fake-gpt-mini");
    expectFirstToken(answer);
    expect(spanNamed(turn, "render").status).toBe("OK");
    const { api, llm } = serverPart(turn);
    expect(api.status).toBe("OK");
    expect(llm.status).toBe("OK");
    expect(llm.token_usage?.completion_tokens).toBeGreaterThan(0);
    expect(lastMessage(turn.output)?.length).toBeGreaterThan(20);
    expect(lastMessage(api.output)).toBe(lastMessage(turn.output));
  }

  // Offline: the request failed, the page answered itself, and the trace arrived once back online.
  expect(offline.status).toBe("COMPLETED");
  expect(offline.metadata?.["offline"]).toBe(true);
  expect(spanNamed(offline, "answer").status).toBe("ERROR");
  expectFirstToken(spanNamed(offline, "offline-reply"));
  expect(lastMessage(offline.output)).toMatch(/You are offline/);

  // The failing turn: the trace and every span of it ERROR with the model's message, the page's and the server's.
  expect(failed.status).toBe("ERROR");
  for (const span of failed.spans) {
    expect(span.status, span.name).toBe("ERROR");
    expect(span.error, span.name).toMatch(/asked me to fail/);
  }
}

/**
 * What the read routes must show after the scenario, on a store that holds nothing else: the two
 * sessions with their users, error flags and traces in order, the users' counts, and every turn
 * (expectDelivered) with the time to first token the routes derive from it.
 */
export function expectReadBack(read: ReadBack, { first, second }: Conversations): void {
  const session = (id: string) => read.sessions.find((s) => s.session_id === id);
  expect(read.sessions.map((s) => s.session_id).sort()).toEqual([first, second].sort());
  // One trace per turn: Ada three, Grace four (one offline, one failing).
  expect(session(first)).toMatchObject({ trace_count: 3, user_id: "user-ada", has_error: false });
  expect(session(second)).toMatchObject({ trace_count: 4, user_id: "user-grace", has_error: true });

  expectDelivered(read.traces, { first, second });
  const startOf = new Map(read.traces.map((t) => [t.trace_id, Date.parse(t.started_at)]));
  for (const id of [first, second]) {
    const listed = read.sessionTraces[id]!;
    expect(listed).toEqual(read.traces.filter((t) => t.session_id === id).map((t) => t.trace_id).sort((a, b) => startOf.get(a)! - startOf.get(b)!));
  }

  const user = (id: string) => read.users.find((u) => u.user_id === id);
  expect(read.users.map((u) => u.user_id).sort()).toEqual(["user-ada", "user-grace"]);
  expect(user("user-ada")).toMatchObject({ trace_count: 3, error_count: 0 });
  // The failing turn, one trace.
  expect(user("user-grace")).toMatchObject({ trace_count: 4, error_count: 1 });

  for (const span of read.traces.flatMap((t) => t.spans)) {
    const expected = span.completion_start_time ? Date.parse(span.completion_start_time) - Date.parse(span.started_at) : null;
    if (expected === null) expect(span.time_to_first_token_ms).toBeNull();
    else expect(span.time_to_first_token_ms).toBeCloseTo(expected, 0);
  }
}
