import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseDecimal } from "./decimal.js";
import { FieldReader } from "./field-reader.js";

describe("parseDecimal", () => {
  it("reads decimal strings exactly", () => {
    expect(parseDecimal("500")).toBe("500");
    expect(parseDecimal("0500.000")).toBe("500.000");
    expect(parseDecimal("-0.500")).toBe("-0.500");
    expect(parseDecimal("+1.5")).toBe("1.5");
    expect(parseDecimal(" 7 ")).toBe("7");
    expect(parseDecimal(500)).toBeUndefined();
    expect(parseDecimal("1e3")).toBeUndefined();
    expect(parseDecimal("1,5")).toBeUndefined();
  });

  it("keeps every canonical decimal, drops a leading zero, and is idempotent", () => {
    const decimal = fc.tuple(fc.boolean(), fc.bigInt({ min: 0n, max: 10n ** 30n - 1n }), fc.option(fc.stringMatching(/^\d{1,15}$/), { nil: undefined }))
      .map(([neg, int, frac]) => `${neg && int !== 0n ? "-" : ""}${int}${frac === undefined ? "" : `.${frac}`}`);
    fc.assert(fc.property(decimal, (d) => {
      expect(parseDecimal(d)).toBe(d);
      expect(parseDecimal(parseDecimal(` +${d.replace("-", "")} `))).toBe(d.replace("-", ""));
      expect(parseDecimal(`0${d.replace("-", "")}`)).toBe(d.replace("-", ""));
    }));
  });
});

describe("FieldReader", () => {
  it("reads text and decimals, recording one issue per value of the wrong form at its pointer", () => {
    const r = new FieldReader({ Material: " FG-4711 ", Qty: "0500.000", Bad: 42, Empty: "", "a/b~c": 1.5 }, "/d");
    expect([r.text("Material", true), r.decimal("Qty", true), r.text("Absent")]).toEqual(["FG-4711", "500.000", undefined]);
    expect(r.issues).toEqual([]);
    expect([r.text("Bad"), r.text("Empty", true), r.decimal("Missing", true), r.decimal("a/b~c")]).toEqual([undefined, undefined, undefined, undefined]);
    expect(r.issues.map((i) => i.message)).toMatchInlineSnapshot(`
      [
        "/d/Bad has value 42: a text is a JSON string",
        "/d/Empty is missing: required, must not be empty",
        "/d/Missing is missing: a required decimal",
        "/d/a~1b~0c has value 1.5: a decimal is a JSON string such as "500.000"",
      ]
    `);
  });

  it("reads any wire form through field(), sharing one issue list across rows", () => {
    const first = new FieldReader({ n: "x" }, "/rows/0");
    const asInt = (v: unknown) => (typeof v === "string" && /^\d+$/.test(v) ? Number(v) : undefined);
    expect(first.field("n", asInt, { form: "digits" })).toBeUndefined();
    const second = new FieldReader({ n: "12" }, "/rows/1", first.issues);
    expect([second.field("n", asInt, { form: "digits" }), second.field("m", asInt, { required: "required", form: "digits" })]).toEqual([12, undefined]);
    expect(second.issues.map((i) => `${i.code} ${i.path}`)).toEqual(["invalid_wire_value /rows/0/n", "missing_property /rows/1/m"]);
  });
});
