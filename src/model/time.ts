/** ISO 8601 UTC with milliseconds, as the wire wants it. */
export function isoTime(epochMs: number): string {
  return new Date(epochMs).toISOString();
}

export function epochMs(date: Date | number | string): number {
  return typeof date === "number" ? date : new Date(date).getTime();
}
