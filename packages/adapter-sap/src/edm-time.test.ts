import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatEdmTime, parseEdmTime, parseSapDate, toCalendarDate } from "./edm-time.js";

describe("Edm dates and times", () => {
  it("reads /Date(ms)/ and /Date(ms+0000)/", () => {
    expect(parseSapDate("/Date(1492041600000)/")).toBe(1492041600000);
    expect(parseSapDate("/Date(1492041600000+0000)/")).toBe(1492041600000);
    expect(parseSapDate("/Date(-86400000)/")).toBe(-86400000);
    expect(parseSapDate("2017-04-13")).toBeUndefined();
    expect(toCalendarDate("/Date(1492041600000)/")).toBe("2017-04-13");
  });

  it("reads the usual forms without a regex exactly as the regex reads them", () => {
    // The reference: the regexes alone (the readers' fast paths must agree with them).
    const date = (v: string) => {
      const m = /^\/Date\((-?\d{1,15})([+-]\d{4})?\)\/$/.exec(v);
      const ms = m === null ? NaN : Number(m[1]);
      return Number.isSafeInteger(ms) && Math.abs(ms) <= 8.64e15 ? ms : undefined;
    };
    const time = (v: string) => {
      const m = /^PT(?:(\d{1,2})H)?(?:(\d{1,2})M)?(?:(\d{1,2})(?:\.\d+)?S)?$/.exec(v);
      if (m === null || v === "PT") return undefined;
      const [h, min, sec] = [Number(m[1] ?? 0), Number(m[2] ?? 0), Number(m[3] ?? 0)];
      return h > 23 || min > 59 || sec > 59 ? undefined : h * 3600 + min * 60 + sec;
    };
    const digits = fc.stringMatching(/^[0-9]{0,17}$/);
    fc.assert(
      fc.property(fc.oneof(digits.map((d) => `/Date(${d})/`), digits.map((d) => `/Date(-${d})/`), digits.map((d) => `/Date(${d}+0060)/`), fc.string()), (v) => {
        expect(parseSapDate(v)).toBe(date(v));
      }),
      { numRuns: 2000 },
    );
    const two = fc.stringMatching(/^[0-9A-Z ]{2}$/);
    fc.assert(
      fc.property(fc.oneof(fc.tuple(two, two, two).map(([h, m, s]) => `PT${h}H${m}M${s}S`), fc.string()), (v) => {
        expect(parseEdmTime(v)).toBe(time(v));
      }),
      { numRuns: 2000 },
    );
    expect([parseSapDate("/Date(000000000000000)/"), parseSapDate("/Date(999999999999999)/"), parseSapDate("/Date(1234567890123456)/")]).toEqual([0, 999999999999999, undefined]);
  });

  it("round-trips Edm.Time", () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 86_399 }), (s) => parseEdmTime(formatEdmTime(s)) === s));
  });
});
