import { describe, expect, it } from "vitest";
import { createFieldReader, parseFlag } from "./field-reader.js";

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
