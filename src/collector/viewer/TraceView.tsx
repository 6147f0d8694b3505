/** One trace: its header, its span tree as a timeline, and the selected span's details. */
import { useJson, type Score, type SpanDetail, type TraceDetail } from "./api.js";
import { cost, duration, time } from "./format.js";
import type { Selection } from "./selection.js";

interface Row {
  span: SpanDetail;
  depth: number;
}

/** Depth-first order of the span tree; a span whose parent is missing is shown as a root. */
function tree(spans: SpanDetail[]): Row[] {
  const ids = new Set(spans.map((s) => s.span_id));
  const children = new Map<string | null, SpanDetail[]>();
  for (const span of spans) {
    const parent = span.parent_span_id && ids.has(span.parent_span_id) ? span.parent_span_id : null;
    children.set(parent, [...(children.get(parent) ?? []), span]);
  }
  const rows: Row[] = [];
  const visit = (parent: string | null, depth: number) => {
    for (const span of children.get(parent) ?? []) {
      rows.push({ span, depth });
      visit(span.span_id, depth + 1);
    }
  };
  visit(null, 0);
  return rows;
}

const ms = (iso: string | null | undefined): number => (iso ? Date.parse(iso) : Number.NaN);

/** Chat messages as a conversation; anything else as JSON. */
function Value({ value }: { value: unknown }) {
  if (value === null || value === undefined) return <span className="muted">–</span>;
  const messages = (value as { messages?: unknown }).messages;
  if (Array.isArray(messages) && messages.every((m) => m && typeof m === "object" && "role" in m)) {
    return (
      <div className="messages">
        {messages.map((m: { role: string; content?: unknown }, i) => (
          <div key={i} className={`message role-${m.role}`}>
            <span className="role">{m.role}</span>
            <span className="content">{typeof m.content === "string" ? m.content : JSON.stringify(m.content, null, 2)}</span>
          </div>
        ))}
      </div>
    );
  }
  return <pre>{typeof value === "string" ? value : JSON.stringify(value, null, 2)}</pre>;
}

function Field({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <>
      <dt>{label}</dt>
      <dd>{children}</dd>
    </>
  );
}

function tokens(usage: Record<string, unknown> | null): string {
  if (!usage) return "–";
  const n = (key: string) => (typeof usage[key] === "number" ? (usage[key] as number) : undefined);
  const parts = [
    n("prompt_tokens") !== undefined ? `${n("prompt_tokens")} in` : "",
    n("completion_tokens") !== undefined ? `${n("completion_tokens")} out` : "",
    n("reasoning_tokens") ? `${n("reasoning_tokens")} reasoning` : "",
    n("cache_read_tokens") ? `${n("cache_read_tokens")} cached` : "",
  ].filter(Boolean);
  const total = n("total_tokens");
  return `${total ?? "?"} total${parts.length ? ` (${parts.join(", ")})` : ""}`;
}

function SpanPanel({ span }: { span: SpanDetail }) {
  return (
    <div className="span-detail" data-testid="span-detail">
      <h3>
        {span.name} <span className="kind">{span.kind}</span> <span className={`status status-${span.status.toLowerCase()}`}>{span.status}</span>
      </h3>
      {span.error ? (
        <p className="error" data-testid="span-error">
          {span.error}
        </p>
      ) : null}
      <dl>
        <Field label="Started">{time(span.started_at)}</Field>
        <Field label="Duration">{duration(span.latency_ms)}</Field>
        {span.model ? <Field label="Model">{span.model}</Field> : null}
        {span.token_usage ? <Field label="Tokens">{tokens(span.token_usage)}</Field> : null}
        {span.cost ? <Field label="Cost">{Object.entries(span.cost).map(([k, v]) => `${k} ${cost(v)}`).join(" · ")}</Field> : null}
        {span.time_to_first_token_ms !== null ? (
          <Field label="Time to first token">
            <span data-testid="ttft">{duration(span.time_to_first_token_ms)}</span>
          </Field>
        ) : null}
        {span.model_parameters ? <Field label="Parameters">{JSON.stringify(span.model_parameters)}</Field> : null}
        {Object.keys(span.metadata).length ? <Field label="Metadata">{JSON.stringify(span.metadata)}</Field> : null}
      </dl>
      <h4>Input</h4>
      <Value value={span.input} />
      <h4>Output</h4>
      <Value value={span.output} />
    </div>
  );
}

function Timeline({ trace, selected, onSelect }: { trace: TraceDetail; selected: string | undefined; onSelect: (id: string) => void }) {
  const rows = tree(trace.spans);
  const start = Math.min(ms(trace.started_at), ...trace.spans.map((s) => ms(s.started_at)));
  const ends = [ms(trace.ended_at), ...trace.spans.map((s) => ms(s.ended_at))].filter((t) => !Number.isNaN(t));
  const end = Math.max(start + 1, ...ends);
  const pct = (t: number) => `${(((t - start) / (end - start)) * 100).toFixed(3)}%`;
  return (
    <div className="timeline" role="tree">
      <div className="scale">
        <span>0</span>
        <span>{duration(end - start)}</span>
      </div>
      {rows.map(({ span, depth }) => {
        const from = ms(span.started_at);
        const to = Number.isNaN(ms(span.ended_at)) ? end : ms(span.ended_at);
        const first = ms(span.completion_start_time);
        return (
          <button
            key={span.span_id}
            role="treeitem"
            className={`row ${selected === span.span_id ? "selected" : ""} ${span.status === "ERROR" ? "failed" : ""}`}
            data-testid="span-row"
            data-span-id={span.span_id}
            data-depth={depth}
            onClick={() => onSelect(span.span_id)}
          >
            <span className="label" style={{ paddingLeft: `${depth * 14 + 4}px` }}>
              <span className="kind">{span.kind}</span> {span.name}
            </span>
            <span className="lane">
              <span className="bar" style={{ left: pct(from), width: `calc(${pct(to)} - ${pct(from)})` }}>
                {!Number.isNaN(first) ? <span className="waiting" style={{ width: `${(((first - from) / Math.max(1, to - from)) * 100).toFixed(3)}%` }} title="time to first token" /> : null}
              </span>
            </span>
            <span className="took">
              {duration(span.latency_ms)}
              {span.time_to_first_token_ms !== null ? <small> · TTFT {duration(span.time_to_first_token_ms)}</small> : null}
            </span>
          </button>
        );
      })}
    </div>
  );
}

export function TraceView({ selection, select, version }: { selection: Selection; select: (s: Selection) => void; version: number }) {
  const trace = useJson<TraceDetail>(selection.trace ? `/traces/${selection.trace}` : null, version);
  const scores = useJson<Score[]>(selection.trace ? `/evaluations/trace-scores/${selection.trace}` : null, version);
  if (!selection.trace) return <section className="detail empty">Pick a trace to see its spans.</section>;
  if (trace.error) return <section className="detail error">{trace.error}</section>;
  const t = trace.data;
  if (!t) return <section className="detail" />;
  const span = t.spans.find((s) => s.span_id === selection.span) ?? t.spans[0];
  return (
    <section className="detail" data-testid="trace-detail" data-trace-id={t.trace_id}>
      <h2>
        {t.name} <span className={`status status-${t.status.toLowerCase()}`}>{t.status}</span>
      </h2>
      <dl className="summary">
        <Field label="Started">{time(t.started_at)}</Field>
        <Field label="Duration">{duration(ms(t.ended_at) - ms(t.started_at))}</Field>
        <Field label="Session">{t.session_id ?? "–"}</Field>
        <Field label="User">{t.user_id ?? "–"}</Field>
        <Field label="Tokens">{t.total_tokens || "–"}</Field>
        <Field label="Cost">{cost(t.total_cost)}</Field>
        {t.tags.length ? <Field label="Tags">{t.tags.join(", ")}</Field> : null}
        {t.environment ? <Field label="Environment">{t.environment}</Field> : null}
        {scores.data?.length ? <Field label="Scores">{scores.data.map((s) => `${s.name} = ${s.value}`).join(" · ")}</Field> : null}
      </dl>
      <div className="io">
        <div>
          <h4>Input</h4>
          <Value value={t.input} />
        </div>
        <div>
          <h4>Output</h4>
          <Value value={t.output} />
        </div>
      </div>
      <h3>Spans ({t.spans.length})</h3>
      <Timeline trace={t} selected={span?.span_id} onSelect={(id) => select({ ...selection, span: id })} />
      {span ? <SpanPanel span={span} /> : null}
    </section>
  );
}
