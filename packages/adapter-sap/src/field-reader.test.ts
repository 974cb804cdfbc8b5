import { describe, expect, it } from "vitest";
import { expandedRows } from "./common.js";
import type { SapWireIssue } from "./errors.js";
import { createFieldReader, createRowReader, parseFlag } from "./field-reader.js";

describe("scalar wire values", () => {
  it("reads flags", () => {
    expect([parseFlag("X"), parseFlag(""), parseFlag(true), parseFlag(false), parseFlag(null), parseFlag("Y")]).toEqual([true, false, true, false, false, undefined]);
  });
});

describe("field reader", () => {
  it("turns wire values into canonical ones in the plant's time zone", () => {
    const r = createFieldReader(
      { Material: " FG-4711 ", TotalQuantity: "0500.000", OrderIsDeleted: "X", MfgOrderPlannedStartDate: "/Date(1772409600000)/", MfgOrderPlannedStartTime: "PT06H12M40S", LastChangeDateTime: "/Date(1772438400000+0000)/" },
      "/d",
      "Europe/Berlin",
    );
    expect([r.text("Material", true), r.decimal("TotalQuantity", true), r.flag("OrderIsDeleted"), r.date("MfgOrderPlannedStartDate", true)]).toEqual(["FG-4711", "500.000", true, "2026-03-02"]);
    expect(r.timestamp("MfgOrderPlannedStartDate", "MfgOrderPlannedStartTime")).toBe("2026-03-02T06:12:40+01:00");
    expect(r.instant("LastChangeDateTime")).toBe(1772438400000);
    expect(r.text("Absent")).toBeUndefined();
    expect(r.issues).toEqual([]);
  });

  it("records one issue per value of the wrong form, at its pointer, into a list shared across rows", () => {
    const first = createFieldReader({ Material: 42 }, "/d/results/0", "UTC");
    first.text("Material");
    const r = createFieldReader({ Material: 42, TotalQuantity: "1e3", OrderIsDeleted: "Y", MfgOrderPlannedStartDate: "2026-03-02", MfgOrderPlannedEndDate: "/Date(0)/", MfgOrderPlannedEndTime: "PT25H00M00S" }, "/d/results/1", "UTC", first.issues);
    expect([r.text("Material"), r.text("Plant", true), r.decimal("TotalQuantity"), r.flag("OrderIsDeleted"), r.date("MfgOrderPlannedStartDate"), r.timestamp("MfgOrderPlannedEndDate", "MfgOrderPlannedEndTime")]).toEqual([undefined, undefined, undefined, false, undefined, undefined]);
    expect(r.issues).toBe(first.issues);
    expect(r.issues.map((i) => `${i.code} ${i.path}`)).toEqual([
      "invalid_wire_value /d/results/0/Material",
      "invalid_wire_value /d/results/1/Material",
      "missing_property /d/results/1/Plant",
      "invalid_wire_value /d/results/1/TotalQuantity",
      "invalid_wire_value /d/results/1/OrderIsDeleted",
      "invalid_wire_value /d/results/1/MfgOrderPlannedStartDate",
      "invalid_wire_value /d/results/1/MfgOrderPlannedEndTime",
    ]);
    expect(r.issues[0]?.message).toMatchInlineSnapshot(`"/d/results/0/Material has value 42: Edm.String is a JSON string"`);
  });
});

describe("reads of values the mapper loaded itself", () => {
  const values: unknown[] = [undefined, null, "", " ", "X", "x", true, false, 0, 7, " FG-4711 ", "a\u0001", "0500.000", "-1", "+3", "1e5", "/Date(1772409600000)/", "/Date(1772409600000+0060)/", "/Date(-5)/", "/Date(99999999999999999)/", "PT06H12M40S", "PT6H", "PT24H00M00S", {}, []];

  it("gives the values and issues of the reads by name (text, decimal, flag, timestamp)", () => {
    for (const v of values) {
      for (const t of values) {
        const row = { A: v, T: t };
        const byName = createFieldReader(row, "/d", "Europe/Berlin");
        const byValue = createFieldReader(row, "/d", "Europe/Berlin");
        expect([byValue.textOf(v, "A"), byValue.textOf(v, "A", true), byValue.decimalOf(v, "A"), byValue.decimalOf(v, "A", true), byValue.flagOf(v, "A"), byValue.timestampOf(v, "A", "T")]).toEqual([
          byName.text("A"), byName.text("A", true), byName.decimal("A"), byName.decimal("A", true), byName.flag("A"), byName.timestamp("A", "T"),
        ]);
        expect(byValue.issues).toEqual(byName.issues);
      }
    }
  });

  it("names a row of a results array by its pointer, built for the issue", () => {
    const rows = [{ Material: "A" }, { Material: 7, "a/b~c": 8 }];
    const wire = { results: rows };
    const nav = expandedRows({ to_X: wire }, "to_X", "/d", [], true)![1]!;
    expect(nav.path).toBe("/d/to_X/results/1");
    const issues: SapWireIssue[] = [];
    const r = createRowReader(nav, "Europe/Berlin", issues);
    r.text("Material");
    r.text("a/b~c");
    expect(issues.map((i) => i.path)).toEqual(["/d/to_X/results/1/Material", "/d/to_X/results/1/a~1b~0c"]);
    expect(issues.map((i) => i.path)).toEqual([createFieldReader(nav.row, nav.path, "UTC").at("Material"), createFieldReader(nav.row, nav.path, "UTC").at("a/b~c")]);
  });
});
