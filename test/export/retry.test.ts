import { describe, expect, it } from "vitest";
import { parseRetryAfter } from "../../src/base/retry-after.js";
import { backoffDelay, isRetryableStatus } from "../../src/export/retry.js";

describe("backoffDelay", () => {
  const almostOne = () => 0.999999;

  it("doubles the ceiling with each attempt", () => {
    expect(backoffDelay(0, 100, 10_000, almostOne)).toBe(99);
    expect(backoffDelay(1, 100, 10_000, almostOne)).toBe(199);
    expect(backoffDelay(2, 100, 10_000, almostOne)).toBe(399);
    expect(backoffDelay(3, 100, 10_000, almostOne)).toBe(799);
  });

  it("never exceeds maxMs, even for huge attempt numbers", () => {
    expect(backoffDelay(10, 100, 5_000, almostOne)).toBe(4_999);
    expect(backoffDelay(5_000, 100, 5_000, almostOne)).toBe(4_999);
  });

  it("uses full jitter: anywhere from 0 up to the ceiling", () => {
    expect(backoffDelay(3, 100, 10_000, () => 0)).toBe(0);
    expect(backoffDelay(3, 100, 10_000, () => 0.5)).toBe(400);
    for (let i = 0; i < 1000; i++) {
      const d = backoffDelay(4, 100, 10_000);
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThan(1_600);
    }
  });
});

describe("parseRetryAfter", () => {
  const now = Date.parse("2025-01-01T00:00:00Z");

  it("reads delta-seconds as milliseconds", () => {
    expect(parseRetryAfter("2", now)).toBe(2_000);
    expect(parseRetryAfter(" 120 ", now)).toBe(120_000);
    expect(parseRetryAfter("0", now)).toBe(0);
  });

  it("reads an HTTP-date relative to now", () => {
    expect(parseRetryAfter("Wed, 01 Jan 2025 00:00:10 GMT", now)).toBe(10_000);
  });

  it("treats an HTTP-date in the past as no wait", () => {
    expect(parseRetryAfter("Tue, 31 Dec 2024 23:59:00 GMT", now)).toBe(0);
  });

  it("returns undefined when absent or unparseable", () => {
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter("", now)).toBeUndefined();
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter("-5", now)).toBeUndefined();
    expect(parseRetryAfter("1.5", now)).toBeUndefined();
  });
});

describe("isRetryableStatus", () => {
  it.each([408, 429, 500, 502, 503, 504, 599])("retries %i", (status) => {
    expect(isRetryableStatus(status)).toBe(true);
  });

  it.each([200, 202, 301, 400, 401, 403, 404, 409, 413, 422, 600])("does not retry %i", (status) => {
    expect(isRetryableStatus(status)).toBe(false);
  });
});
