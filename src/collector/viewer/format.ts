/** Small display helpers. */

export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return "–";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

export function time(iso: string | null | undefined): string {
  if (!iso) return "–";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString(undefined, { dateStyle: "short", timeStyle: "medium" });
}

export function cost(value: number | null | undefined): string {
  if (!value) return "–";
  return `$${value < 0.01 ? value.toPrecision(2) : value.toFixed(4)}`;
}

export function short(id: string | null | undefined, length = 8): string {
  if (!id) return "–";
  return id.length > length + 1 ? `${id.slice(0, length)}…` : id;
}
