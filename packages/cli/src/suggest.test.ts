import { eventTypes } from "@millwright/model";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { didYouMean, editDistance, suggest } from "./suggest.js";

describe("editDistance", () => {
  test("counts insertions, deletions, substitutions and swaps of neighbours as one edit each", () => {
    expect(editDistance("validate", "validate", 2)).toBe(0);
    expect(editDistance("valdiate", "validate", 2)).toBe(1);
    expect(editDistance("valdate", "validate", 2)).toBe(1);
    expect(editDistance("vxlidate", "validate", 2)).toBe(1);
    expect(editDistance("ca", "abc", 3)).toBe(3);
    expect(editDistance("frobnicate", "validate", 2)).toBe(3);
  });

  test("is symmetric, zero only for equal strings, and never more than limit + 1", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 12 }), fc.string({ maxLength: 12 }), fc.nat(5), (a, b, limit) => {
        const d = editDistance(a, b, limit);
        expect(d).toBe(editDistance(b, a, limit));
        expect(d === 0).toBe(a === b);
        expect(d).toBeLessThanOrEqual(limit + 1);
      }),
    );
  });
});

describe("suggest", () => {
  test("the closest command, option or event type; nothing when far or tied", () => {
    expect(suggest("valdiate", ["validate", "catalog", "diff", "codegen", "align"])).toBe("validate");
    expect(suggest("frobnicate", ["validate", "catalog", "diff", "codegen", "align"])).toBeUndefined();
    expect(suggest("--fromat", ["--entity", "--format", "--progress", "--help"])).toBe("--format");
    expect(suggest("dev.millwright.workorder.relased.v1", eventTypes)).toBe("dev.millwright.workorder.released.v1");
    expect(suggest("WORKORDER", ["WorkOrder", "Batch"])).toBe("WorkOrder");
    // "ab" is one edit from both: no guess.
    expect(suggest("ab", ["aa", "bb"])).toBeUndefined();
    expect(suggest("x", ["ts", "go"])).toBeUndefined();
  });

  test("didYouMean is a clause for a message, or nothing", () => {
    expect(didYouMean("jsn", ["text", "json"])).toBe('; did you mean "json"?');
    expect(didYouMean("yaml", ["text", "json"])).toBe("");
  });
});
