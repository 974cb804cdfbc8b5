import fc from "fast-check";
import { describe, expect, test } from "vitest";
import {
  addQuantities,
  compareQuantities,
  convertQuantity,
  createQuantity,
  isZeroQuantity,
  subtractQuantities,
  sumQuantities,
} from "./quantity.js";

const kg = (value: string) => ({ value, unit: "KGM" });

describe("exact quantity arithmetic", () => {
  test("sums never drift: ten times 0.1 is exactly 1.0", () => {
    expect(sumQuantities(Array.from({ length: 10 }, () => kg("0.1")))._unsafeUnwrap()).toEqual(kg("1.0"));
    expect(0.1 * 3).not.toBe(0.3); // the float the library avoids
  });

  test("results keep the larger scale of their operands", () => {
    expect(addQuantities(kg("10.000"), kg("2.5"))._unsafeUnwrap()).toEqual(kg("12.500"));
    expect(subtractQuantities(kg("10.000"), kg("10"))._unsafeUnwrap()).toEqual(kg("0.000"));
  });

  test("the largest decimals the schema admits add exactly", () => {
    const big = `${"9".repeat(31)}.${"9".repeat(15)}`;
    expect(addQuantities(kg(big), kg("0.000000000000001"))._unsafeUnwrap()).toEqual(kg(`1${"0".repeat(31)}.${"0".repeat(15)}`));
  });

  test("units must agree, and the error says which", () => {
    expect(addQuantities(kg("1"), { value: "1", unit: "GRM" })._unsafeUnwrapErr()).toMatchInlineSnapshot(`
      {
        "code": "unit_mismatch",
        "message": "cannot combine KGM with GRM; convert one of them first",
        "value": [
          "KGM",
          "GRM",
        ],
      }
    `);
  });

  test("a negative result is refused, since quantities are not negative", () => {
    expect(subtractQuantities(kg("1.5"), kg("2"))._unsafeUnwrapErr().code).toBe("negative_result");
  });

  test("bad operands are named", () => {
    expect(addQuantities(kg("1e3"), kg("1"))._unsafeUnwrapErr()).toMatchInlineSnapshot(`
      {
        "code": "invalid_decimal",
        "message": ""1e3" is not a decimal string (pattern ^-?(0|[1-9][0-9]{0,30})(\\.[0-9]{1,15})?$)",
        "value": "1e3",
      }
    `);
    expect(createQuantity("1", "kg")._unsafeUnwrapErr().code).toBe("invalid_unit");
    expect(createQuantity("-2", "KGM")._unsafeUnwrapErr().code).toBe("negative_result");
    expect(createQuantity("2.000", "KGM")._unsafeUnwrap()).toEqual(kg("2.000"));
  });

  test("compare ignores trailing zeros", () => {
    expect(compareQuantities(kg("10.0"), kg("10"))._unsafeUnwrap()).toBe(0);
    expect(compareQuantities(kg("9.999"), kg("10"))._unsafeUnwrap()).toBe(-1);
    expect(isZeroQuantity(kg("0.000"))).toBe(true);
    expect(isZeroQuantity(kg("0.001"))).toBe(false);
  });

  test("an empty sum needs its unit", () => {
    expect(sumQuantities([])._unsafeUnwrapErr().code).toBe("empty_sum");
    expect(sumQuantities([], "H87")._unsafeUnwrap()).toEqual({ value: "0", unit: "H87" });
  });

  test("conversion uses an explicit table only", () => {
    const table = [{ from: "KGM", to: "GRM", factor: "1000" }];
    expect(convertQuantity(kg("1.5"), "GRM", table)._unsafeUnwrap()).toEqual({ value: "1500.0", unit: "GRM" });
    expect(convertQuantity({ value: "250", unit: "GRM" }, "KGM", table)._unsafeUnwrap()).toEqual(kg("0.25"));
    expect(convertQuantity(kg("1"), "LBR", table)._unsafeUnwrapErr().code).toBe("no_conversion");
    const thirds = [{ from: "H87", to: "PK", factor: "3" }];
    expect(convertQuantity({ value: "1", unit: "PK" }, "H87", thirds)._unsafeUnwrapErr().code).toBe("inexact_conversion");
    expect(convertQuantity({ value: "1", unit: "PK" }, "H87", thirds, { scale: 3 })._unsafeUnwrap()).toEqual({ value: "0.333", unit: "H87" });
  });

  test("property: a + b - b = a, and the sum of parts equals the total, exactly", () => {
    const decimal = fc
      .tuple(fc.bigInt({ min: 0n, max: 10n ** 20n }), fc.integer({ min: 0, max: 6 }))
      .map(([n, scale]) => {
        const s = n.toString().padStart(scale + 1, "0");
        return scale === 0 ? s : `${s.slice(0, -scale)}.${s.slice(-scale)}`;
      });
    fc.assert(
      fc.property(decimal, decimal, (a, b) => {
        const sum = addQuantities(kg(a), kg(b))._unsafeUnwrap();
        const back = subtractQuantities(sum, kg(b))._unsafeUnwrap();
        expect(compareQuantities(back, kg(a))._unsafeUnwrap()).toBe(0);
      }),
      { numRuns: 2000 },
    );
  });
});
