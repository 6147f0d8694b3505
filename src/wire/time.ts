let cachedSecond = NaN;
let cachedPrefix = "";

/**
 * ISO 8601 UTC with milliseconds, as the wire wants it. A trace formats several timestamps within
 * the same second: the date part is computed once per second (toISOString costs ~1 µs each).
 */
export function isoTime(epochMs: number): string;
/** Absent stays absent: the wire omits an unset time. */
export function isoTime(epochMs: number | undefined): string | undefined;
export function isoTime(epochMs: number | undefined): string | undefined {
  if (epochMs === undefined) return epochMs;
  const second = Math.floor(epochMs / 1000);
  const millis = epochMs - second * 1000;
  // Fractional milliseconds (from performance.now) are formatted by the Date, uncached.
  if (second === cachedSecond && Number.isInteger(millis)) return cachedPrefix + (millis < 10 ? "00" : millis < 100 ? "0" : "") + millis + "Z";
  const iso = new Date(epochMs).toISOString();
  if (Number.isInteger(millis)) {
    cachedSecond = second;
    cachedPrefix = iso.slice(0, -4);
  }
  return iso;
}

export const epochMs = (date: Date | number | string): number => (typeof date == "number" ? date : +new Date(date));

/**
 * A time the wire can carry: from 1970 to a four-digit year. A provider's microseconds or
 * nanoseconds would make toISOString throw or write a year the contract refuses.
 */
export const isWireTime = (ms: number): boolean => ms >= 0 && ms < 2.5e14;
