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

  it("round-trips Edm.Time", () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 86_399 }), (s) => parseEdmTime(formatEdmTime(s)) === s));
  });
});
