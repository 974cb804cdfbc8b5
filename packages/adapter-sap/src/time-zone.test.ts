import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatEdmTime } from "./edm-time.js";
import { toTimestamp } from "./time-zone.js";

describe("plant time zones", () => {
  it("combines date and Edm.Time in the plant time zone, across DST", () => {
    expect(toTimestamp("/Date(1492041600000)/", "PT15H51M04S", "Europe/Berlin")).toBe("2017-04-13T15:51:04+02:00");
    expect(toTimestamp("/Date(1772409600000)/", "PT06H12M40S", "Europe/Berlin")).toBe("2026-03-02T06:12:40+01:00");
    expect(toTimestamp("/Date(1772409600000)/", "PT06H12M40S", "America/Chicago")).toBe("2026-03-02T06:12:40-06:00");
    // 2026-03-29 02:30 does not exist in Berlin: the earlier offset is used.
    expect(toTimestamp(`/Date(${Date.UTC(2026, 2, 29)})/`, "PT02H30M00S", "Europe/Berlin")).toBe("2026-03-29T03:30:00+02:00");
    expect(toTimestamp(`/Date(${Date.UTC(2026, 9, 25)})/`, "PT02H30M00S", "Europe/Berlin")).toBe("2026-10-25T02:30:00+02:00");
    expect(toTimestamp("/Date(1772409600000)/", "PT25H00M00S", "UTC")).toBeUndefined();
  });

  it("keeps the wall-clock time for every instant in a zone", () => {
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(1990, 0, 1) / 86_400_000, max: Date.UTC(2080, 0, 1) / 86_400_000 }), fc.integer({ min: 0, max: 86_399 }), fc.constantFrom("Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "UTC"), (day, s, tz) => {
        const ts = toTimestamp(`/Date(${day * 86_400_000})/`, formatEdmTime(s), tz);
        expect(ts).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}([+-]\d{2}:\d{2}|Z)$/);
        const local = new Date((day * 86_400_000) + s * 1000).toISOString().slice(0, 19);
        // Outside DST gaps the wall clock is kept exactly.
        if (ts !== undefined && ts.slice(0, 19) !== local) expect(Math.abs(Date.parse(`${ts.slice(0, 19)}Z`) - Date.parse(`${local}Z`))).toBeLessThanOrEqual(3_600_000);
      }),
      { numRuns: 300 },
    );
  });
});
