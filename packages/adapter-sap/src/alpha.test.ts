import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { alphaToExternal, alphaToInternal } from "./alpha.js";

describe("ALPHA conversion", () => {
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
