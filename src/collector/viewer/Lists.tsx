/** The left column (sessions and users, filterable) and the middle one (the traces of the selection). */
import { useState } from "react";
import { query, useJson, type Page, type SessionSummary, type TraceListItem, type UserSummary } from "./api.js";
import { duration, short, time } from "./format.js";
import type { Selection } from "./selection.js";

const PAGE = 50;

function Pager({ page, onOffset }: { page: Page<unknown> | undefined; onOffset: (offset: number) => void }) {
  if (!page || page.total <= page.limit) return null;
  const last = Math.min(page.offset + page.limit, page.total);
  return (
    <div className="pager">
      <button disabled={page.offset === 0} onClick={() => onOffset(Math.max(0, page.offset - page.limit))}>
        ‹
      </button>
      <span>
        {page.offset + 1}–{last} of {page.total}
      </span>
      <button disabled={last >= page.total} onClick={() => onOffset(page.offset + page.limit)}>
        ›
      </button>
    </div>
  );
}

const Status = ({ status }: { status: string }) => <span className={`status status-${status.toLowerCase()}`}>{status}</span>;

export function Sidebar({ selection, select, version }: { selection: Selection; select: (s: Selection) => void; version: number }) {
  const [filter, setFilter] = useState("");
  const [offset, setOffset] = useState(0);
  const [userOffset, setUserOffset] = useState(0);
  const sessions = useJson<Page<SessionSummary>>(`/sessions${query({ limit: PAGE, offset, user_id: selection.user, query: filter.trim() })}`, version);
  const users = useJson<Page<UserSummary>>(`/traces/users${query({ limit: PAGE, offset: userOffset })}`, version);
  return (
    <nav className="sidebar">
      <section>
        <h2>
          Sessions <small>{sessions.data?.total ?? ""}</small>
        </h2>
        <input
          type="search"
          placeholder="Filter by session id"
          aria-label="Filter sessions"
          value={filter}
          onChange={(e) => {
            setFilter(e.target.value);
            setOffset(0);
          }}
        />
        <button className={`item ${!selection.session ? "selected" : ""}`} onClick={() => select({ user: selection.user })}>
          All traces{selection.user ? ` of ${selection.user}` : ""}
        </button>
        <ul>
          {sessions.data?.items.map((s) => (
            <li key={s.session_id}>
              <button
                className={`item ${selection.session === s.session_id ? "selected" : ""}`}
                data-testid="session"
                data-session-id={s.session_id}
                onClick={() => select({ session: s.session_id, user: selection.user })}
              >
                <span className="title">{s.session_id}</span>
                <span className="meta">
                  {s.trace_count} trace{s.trace_count === 1 ? "" : "s"} · {s.user_id ?? "no user"} · {time(s.first_trace_at)}
                  {s.has_error ? <span className="status status-error">ERROR</span> : null}
                </span>
              </button>
            </li>
          ))}
        </ul>
        <Pager page={sessions.data} onOffset={setOffset} />
      </section>
      <section>
        <h2>
          Users <small>{users.data?.total ?? ""}</small>
        </h2>
        <ul>
          {users.data?.items.map((u) => (
            <li key={u.user_id}>
              <button
                className={`item ${selection.user === u.user_id ? "selected" : ""}`}
                data-testid="user"
                data-user-id={u.user_id}
                onClick={() => select(selection.user === u.user_id ? {} : { user: u.user_id })}
              >
                <span className="title">{u.user_id}</span>
                <span className="meta">
                  {u.trace_count} trace{u.trace_count === 1 ? "" : "s"}
                  {u.error_count ? ` · ${u.error_count} error${u.error_count === 1 ? "" : "s"}` : ""} · last {time(u.last_seen)}
                </span>
              </button>
            </li>
          ))}
        </ul>
        <Pager page={users.data} onOffset={setUserOffset} />
      </section>
    </nav>
  );
}

/** A session's traces oldest first (the conversation's order); otherwise the newest first. */
export function TraceList({ selection, select, version }: { selection: Selection; select: (s: Selection) => void; version: number }) {
  const [offsets, setOffsets] = useState<Record<string, number>>({});
  const key = `${selection.session ?? ""}|${selection.user ?? ""}`;
  const offset = offsets[key] ?? 0;
  const url = `/traces${query({ session_id: selection.session, user_id: selection.user, sort_order: selection.session ? "asc" : "desc", limit: PAGE, offset })}`;
  const traces = useJson<Page<TraceListItem>>(url, version);
  const heading = selection.session ? `Session ${selection.session}` : selection.user ? `Traces of ${selection.user}` : "All traces";
  return (
    <section className="traces">
      <h2>
        {heading} <small data-testid="trace-total">{traces.data?.total ?? ""}</small>
      </h2>
      {traces.error ? <p className="error">{traces.error}</p> : null}
      {traces.data && traces.data.total === 0 ? <p className="empty">No traces yet. Send some to this collector's endpoint.</p> : null}
      <ol>
        {traces.data?.items.map((t) => (
          <li key={t.trace_id}>
            <button
              className={`item ${selection.trace === t.trace_id ? "selected" : ""}`}
              data-testid="trace-item"
              data-trace-id={t.trace_id}
              onClick={() => select({ ...selection, trace: t.trace_id, span: undefined })}
            >
              <span className="title">
                {t.name} <Status status={t.status} />
              </span>
              <span className="meta">
                {time(t.started_at)} · {duration(t.latency_ms)} · {t.span_count} span{t.span_count === 1 ? "" : "s"}
                {t.total_tokens ? ` · ${t.total_tokens} tokens` : ""}
                {!selection.session && t.session_id ? ` · session ${short(t.session_id, 12)}` : ""}
              </span>
            </button>
          </li>
        ))}
      </ol>
      <Pager page={traces.data} onOffset={(o) => setOffsets({ ...offsets, [key]: o })} />
    </section>
  );
}
