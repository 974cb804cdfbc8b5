import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseTime } from "./time.js";

describe("parseTime", () => {
  it("is Date.parse for every ISO time toISOString writes, with and without ms", () => {
    fc.assert(
      fc.property(fc.integer({ min: -62_167_219_200_000, max: 253_402_300_799_999 }), (ms) => {
        const text = new Date(ms).toISOString();
        expect(parseTime(text)).toBe(Date.parse(text));
        const seconds = `${text.slice(0, 19)}Z`;
        expect(parseTime(seconds)).toBe(Date.parse(seconds));
      }),
      { numRuns: 5000 },
    );
  });

  it("is Date.parse for near misses and other forms (NaN included)", () => {
    const texts = [
      "2026-02-29T00:00:00Z", "2028-02-29T00:00:00.000Z", "2026-02-30T00:00:00Z", "2026-04-31T00:00:00Z", "2026-13-01T00:00:00Z",
      "2026-00-01T00:00:00Z", "2026-03-00T00:00:00Z", "2026-03-01T24:00:00Z", "2026-03-01T24:00:00.000Z", "2026-03-01T23:60:00Z",
      "2026-03-01T23:59:60Z", "2026-03-01T12:00:00.5Z", "2026-03-01T12:00:00,000Z", "2026-03-01 12:00:00.000Z", "2026-03-01T12:00:00+01:00",
      "2026-03-01T12:00:00.000+00:00", "2026-03-01T12:00:00", "2026-03-01", "+002026-03-01T12:00:00.000Z", "0000-01-01T00:00:00Z",
      "0099-12-28T00:00:00Z", "2026-0a-01T00:00:00Z", "2026-03-01T12:00:0xZ", "2026-03-01T12:00:00.0x0Z", "not a time", "",
      "2026-03-01T12:00:00.000z", "2026/03/01T12:00:00.000Z",
    ];
    for (const text of texts) expect([text, parseTime(text)]).toEqual([text, Date.parse(text)]);
  });
});
