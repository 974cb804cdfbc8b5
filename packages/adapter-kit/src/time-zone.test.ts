import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { composeTimestamp, formatTimestamp, isTimeZone, localToUtc } from "./time-zone.js";

describe("plant time zones", () => {
  it("knows IANA zones", () => {
    expect([isTimeZone("Europe/Berlin"), isTimeZone("UTC"), isTimeZone("Mars/Olympus")]).toEqual([true, true, false]);
  });

  it("writes an instant with the zone's offset, across DST", () => {
    expect(formatTimestamp(Date.UTC(2026, 2, 2, 5, 12, 40), "Europe/Berlin")).toBe("2026-03-02T06:12:40+01:00");
    expect(formatTimestamp(Date.UTC(2026, 6, 2, 5, 12, 40), "Europe/Berlin")).toBe("2026-07-02T07:12:40+02:00");
    expect(formatTimestamp(Date.UTC(2026, 2, 2, 5, 12, 40), "UTC")).toBe("2026-03-02T05:12:40Z");
    expect(formatTimestamp(Date.UTC(2026, 2, 2, 5, 12, 40), "Asia/Kolkata")).toBe("2026-03-02T10:42:40+05:30");
  });

  it("reads a wall-clock time in a gap with the earlier offset and in an overlap as the first occurrence", () => {
    expect(localToUtc(Date.UTC(2026, 2, 2, 6, 0, 0), "Europe/Berlin")).toBe(Date.UTC(2026, 2, 2, 5, 0, 0));
    expect(composeTimestamp(Date.UTC(2026, 2, 29), 2.5 * 3600, "Europe/Berlin")).toBe("2026-03-29T03:30:00+02:00");
    expect(composeTimestamp(Date.UTC(2026, 9, 25), 2.5 * 3600, "Europe/Berlin")).toBe("2026-10-25T02:30:00+02:00");
    expect(composeTimestamp(Date.UTC(10000, 0, 1), 0, "UTC")).toBeUndefined();
  });

  it("writes the same date and time fields as the Date getters, in every year 0001-9999", () => {
    // formatTimestamp computes the fields arithmetically; this is the Date-based reference.
    const pad = (n: number, w = 2) => String(n).padStart(w, "0");
    const reference = (utcMs: number, tz: string) => {
      const text = formatTimestamp(utcMs, tz);
      const zone = /(?:Z|[+-]\d+:\d+)$/.exec(text)?.[0] ?? "";
      const offset = zone === "Z" ? 0 : (zone.startsWith("-") ? -1 : 1) * (Number(zone.slice(1, zone.indexOf(":"))) * 60 + Number(zone.slice(zone.indexOf(":") + 1)));
      const d = new Date(utcMs + offset * 60_000);
      return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}${zone}`;
    };
    const edges = [Date.UTC(1970, 0, 1), -1, -30_610_224_000_000, -30_610_224_000_001, Date.UTC(2000, 1, 29, 23, 59, 59, 999), Date.UTC(2100, 2, 1), Date.UTC(1600, 1, 29), -62_135_596_800_000, -62_135_596_800_000 + 3_600_000, 253_402_300_799_999, 253_402_300_800_000];
    for (const ms of edges) for (const tz of ["UTC", "Europe/Berlin", "America/New_York"]) expect(formatTimestamp(ms, tz)).toBe(reference(ms, tz));
    expect(formatTimestamp(-62_135_596_800_000, "UTC")).toBe("0001-01-01T00:00:00Z");
    expect(formatTimestamp(253_402_300_800_000, "UTC")).toBe("10000-01-01T00:00:00Z");
    fc.assert(
      fc.property(fc.integer({ min: -62_135_596_800_000 - 86_400_000, max: 253_402_300_800_000 + 86_400_000 }), fc.constantFrom("Europe/Berlin", "Asia/Kolkata", "America/New_York", "Europe/London", "UTC"), (ms, tz) => {
        expect(formatTimestamp(ms, tz)).toBe(reference(ms, tz));
      }),
      { numRuns: 2000 },
    );
  });

  it("round-trips every instant through its local wall-clock time", () => {
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(1990, 0, 1), max: Date.UTC(2080, 0, 1) }), fc.constantFrom("Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "UTC"), (ms, tz) => {
        const instant = Math.floor(ms / 1000) * 1000;
        const text = formatTimestamp(instant, tz);
        expect(Date.parse(text)).toBe(instant);
        const local = Date.parse(`${text.slice(0, 19)}Z`);
        // An instant in the repeated hour of an overlap comes back as the first occurrence.
        expect(Math.abs(localToUtc(local, tz) - instant)).toBeLessThanOrEqual(3_600_000);
      }),
      { numRuns: 300 },
    );
  });
});
