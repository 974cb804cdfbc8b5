import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { z } from "zod";
import { isCalendarDate, isDateTime, isUuid } from "./formats.js";
import { compareTimestamps } from "./timestamp.js";

describe("compareTimestamps", () => {
  test("compares instants, not strings", () => {
    expect(compareTimestamps("2026-03-01T10:00:00+01:00", "2026-03-01T09:00:00Z")).toBe(0);
    expect(compareTimestamps("2026-03-01T00:30:00+01:00", "2026-02-28T23:45:00Z")).toBeLessThan(0);
    expect(compareTimestamps("2026-03-01T00:00:00-05:30", "2026-03-01T05:29:59Z")).toBeGreaterThan(0);
  });

  test("keeps precision below the millisecond", () => {
    expect(compareTimestamps("2026-03-01T09:00:00.0000001Z", "2026-03-01T09:00:00Z")).toBeGreaterThan(0);
    expect(compareTimestamps("2026-03-01T09:00:00.120Z", "2026-03-01T09:00:00.12Z")).toBe(0);
  });

  test("property: agrees with Date for millisecond timestamps in any offset", () => {
    const instant = fc.date({ min: new Date("1900-01-01T00:00:00Z"), max: new Date("2199-12-31T23:59:59Z"), noInvalidDate: true });
    const offset = fc.integer({ min: -14 * 60, max: 14 * 60 });
    const render = (d: Date, minutes: number) => {
      const local = new Date(d.getTime() + minutes * 60_000).toISOString().slice(0, 23);
      if (minutes === 0) return `${local}Z`;
      const abs = Math.abs(minutes);
      return `${local}${minutes < 0 ? "-" : "+"}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
    };
    fc.assert(
      fc.property(instant, offset, instant, offset, (a, oa, b, ob) => {
        const sa = render(a, oa);
        const sb = render(b, ob);
        expect(isDateTime(sa) && isDateTime(sb)).toBe(true);
        expect(Math.sign(compareTimestamps(sa, sb))).toBe(Math.sign(a.getTime() - b.getTime()));
      }),
      { numRuns: 5000 },
    );
  });
});

describe("formats agree with zod's ISO checks", () => {
  const cases = [
    "2026-03-01T06:00:00Z", "2026-03-01T06:00:00.123456789+01:00", "2026-03-01t06:00:00z", "2026-03-01 06:00:00Z",
    "2026-03-01T06:00Z", "2026-03-01T06:00:00", "2026-03-01T06:00:00+0100", "2026-02-30T06:00:00Z", "2024-02-29T00:00:00Z",
    "2023-02-29T00:00:00Z", "2026-03-01T24:00:00Z", "2026-03-01T23:59:60Z", "2026-13-01T00:00:00Z", "0000-01-01T00:00:00Z",
    "2026-03-01T06:00:00+24:00", "2026-03-01T06:00:00.Z", "",
  ];
  test.each(cases)("date-time %j", (value) => {
    expect(isDateTime(value)).toBe(z.iso.datetime({ offset: true }).safeParse(value).success);
  });
  test.each(["2026-03-01", "2024-02-29", "2023-02-29", "2026-04-31", "2026-3-1", "20260301", "2026-03-01T00:00:00Z"])("date %j", (value) => {
    expect(isCalendarDate(value)).toBe(z.iso.date().safeParse(value).success);
  });
  test.each([
    "5b7c0b1e-3d6f-5a8e-9c1d-2f4e6a8b0c1d", "5B7C0B1E-3D6F-5A8E-9C1D-2F4E6A8B0C1D", "5b7c0b1e-3d6f-0a8e-9c1d-2f4e6a8b0c1d",
    "5b7c0b1e-3d6f-5a8e-cc1d-2f4e6a8b0c1d", "00000000-0000-0000-0000-000000000000", "urn:uuid:5b7c0b1e-3d6f-5a8e-9c1d-2f4e6a8b0c1d",
  ])("uuid %j", (value) => {
    expect(isUuid(value)).toBe(z.uuid().safeParse(value).success);
  });
});
