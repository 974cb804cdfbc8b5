import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  alphaToExternal,
  alphaToInternal,
  formatEdmTime,
  parseDecimal,
  parseEdmTime,
  parseFlag,
  parseSapDate,
  readNavigation,
  stripMetadata,
  toCalendarDate,
  toTimestamp,
  unwrapCollection,
  unwrapEntity,
} from "./wire.js";

describe("OData V2 envelopes", () => {
  it("unwraps entities and collections with __next and __count", () => {
    expect(unwrapEntity({ d: { A: 1 } })._unsafeUnwrap()).toEqual({ A: 1 });
    expect(unwrapCollection({ d: { results: [{ A: 1 }], __next: "X?$skiptoken=1", __count: "7" } })._unsafeUnwrap()).toEqual({
      results: [{ A: 1 }],
      next: "X?$skiptoken=1",
      count: 7,
    });
    expect(unwrapCollection({ d: [{ A: 1 }] })._unsafeUnwrap().results).toHaveLength(1);
    expect(unwrapEntity({ d: { results: [] } })._unsafeUnwrapErr().message).toMatchInlineSnapshot(`"/d/results has value "[…]": expected one entity, got a collection"`);
    expect(unwrapCollection({ value: [] })._unsafeUnwrapErr().message).toMatchInlineSnapshot(`"/d/results is missing: an OData V2 collection response is {"d": {"results": […]}}"`);
  });

  it("reads expanded, deferred and absent navigations and strips metadata", () => {
    expect(readNavigation({ n: { results: [{ a: 1 }] } }, "n")).toEqual({ kind: "expanded", rows: [{ a: 1 }], rowPaths: ["/results/0"] });
    expect(readNavigation({ n: [{ a: 1 }] }, "n")).toEqual({ kind: "expanded", rows: [{ a: 1 }], rowPaths: ["/0"] });
    expect(readNavigation({ n: { a: 1 } }, "n")).toEqual({ kind: "expanded", rows: [{ a: 1 }], rowPaths: [""] });
    expect(readNavigation({ n: { __deferred: { uri: "u" } } }, "n")).toEqual({ kind: "deferred", uri: "u" });
    expect(readNavigation({}, "n")).toEqual({ kind: "absent" });
    expect(readNavigation({ n: null }, "n")).toEqual({ kind: "null" });
    expect(stripMetadata({ __metadata: { type: "t" }, A: "1", n: { __deferred: { uri: "u" } } })).toEqual({ A: "1" });
  });
});

describe("malformed and paged navigations", () => {
  it("reports what is not an expanded navigation at a path that exists, and never drops rows", () => {
    expect(readNavigation({ n: { results: null } }, "n")).toMatchObject({ kind: "invalid", path: "/results", value: null });
    expect(readNavigation({ n: {} }, "n")).toMatchObject({ kind: "invalid", path: "", value: {} });
    expect(readNavigation({ n: "x" }, "n")).toMatchObject({ kind: "invalid", path: "" });
    expect(readNavigation({ n: { results: [{ a: 1 }, 2] } }, "n")).toMatchObject({ kind: "invalid", path: "/results/1", value: 2 });
    expect(readNavigation({ n: [{ a: 1 }, null] }, "n")).toMatchObject({ kind: "invalid", path: "/1", value: null });
  });

  it("flags a server-paged expanded navigation as incomplete", () => {
    expect(readNavigation({ n: { results: [{ a: 1 }], __next: "E('1')/n?$skiptoken=1" } }, "n")).toEqual({
      kind: "incomplete",
      rows: [{ a: 1 }],
      rowPaths: ["/results/0"],
      next: "E('1')/n?$skiptoken=1",
    });
  });
});

describe("dates and times", () => {
  it("reads /Date(ms)/ and /Date(ms+0000)/", () => {
    expect(parseSapDate("/Date(1492041600000)/")).toBe(1492041600000);
    expect(parseSapDate("/Date(1492041600000+0000)/")).toBe(1492041600000);
    expect(parseSapDate("/Date(-86400000)/")).toBe(-86400000);
    expect(parseSapDate("2017-04-13")).toBeUndefined();
    expect(toCalendarDate("/Date(1492041600000)/")).toBe("2017-04-13");
  });

  it("combines date and Edm.Time in the plant time zone, across DST", () => {
    expect(toTimestamp("/Date(1492041600000)/", "PT15H51M04S", "Europe/Berlin")).toBe("2017-04-13T15:51:04+02:00");
    expect(toTimestamp("/Date(1772409600000)/", "PT06H12M40S", "Europe/Berlin")).toBe("2026-03-02T06:12:40+01:00");
    expect(toTimestamp("/Date(1772409600000)/", "PT06H12M40S", "America/Chicago")).toBe("2026-03-02T06:12:40-06:00");
    // 2026-03-29 02:30 does not exist in Berlin: the earlier offset is used.
    expect(toTimestamp(`/Date(${Date.UTC(2026, 2, 29)})/`, "PT02H30M00S", "Europe/Berlin")).toBe("2026-03-29T03:30:00+02:00");
    expect(toTimestamp(`/Date(${Date.UTC(2026, 9, 25)})/`, "PT02H30M00S", "Europe/Berlin")).toBe("2026-10-25T02:30:00+02:00");
    expect(toTimestamp("/Date(1772409600000)/", "PT25H00M00S", "UTC")).toBeUndefined();
  });

  it("round-trips Edm.Time", () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 86_399 }), (s) => parseEdmTime(formatEdmTime(s)) === s));
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

describe("values", () => {
  it("reads Edm.Decimal strings exactly", () => {
    expect(parseDecimal("500")).toBe("500");
    expect(parseDecimal("0500.000")).toBe("500.000");
    expect(parseDecimal("-0.500")).toBe("-0.500");
    expect(parseDecimal("+1.5")).toBe("1.5");
    expect(parseDecimal(500)).toBeUndefined();
    expect(parseDecimal("1e3")).toBeUndefined();
  });

  it("reads flags", () => {
    expect([parseFlag("X"), parseFlag(""), parseFlag(true), parseFlag(false), parseFlag(null), parseFlag("Y")]).toEqual([true, false, true, false, false, undefined]);
  });

  it("applies ALPHA conversion only to all-numeric values, both directions", () => {
    expect(alphaToInternal("1000123", 12)).toBe("000001000123");
    expect(alphaToInternal("FG-4711", 40)).toBe("FG-4711");
    expect(alphaToExternal("000001000123")).toBe("1000123");
    expect(alphaToExternal("0000")).toBe("0");
    expect(alphaToExternal("B-0001")).toBe("B-0001");
    fc.assert(
      fc.property(fc.stringMatching(/^[1-9][0-9]{0,11}$/), (v) => alphaToExternal(alphaToInternal(v, 12)) === v),
    );
    fc.assert(fc.property(fc.string({ maxLength: 14 }), (v) => alphaToInternal(alphaToInternal(v, 12), 12) === alphaToInternal(v, 12)));
  });
});
