import { describe, expect, it } from "vitest";
import * as V from "../src/generated/validators.js";
import type { ValidatorFunction } from "../src/validator-function.js";
import { clone, validExamples } from "./fixtures.js";

// The generated validators test a string's UTF-16 length before counting its code points
// (tooling/generate/validators.ts, lengthFastPaths): the verdicts must stay those of code points.
const validate = (V as unknown as { validateWorkOrder: ValidatorFunction<unknown> }).validateWorkOrder;
const base = validExamples("WorkOrder")[0]!.json as { material: Record<string, unknown>; orderId: string };
const ASTRAL = "\u{1F3ED}"; // one code point, two UTF-16 units

function verdict(edit: (order: typeof base) => void): { valid: boolean; keywords: string[] } {
  const order = clone(base);
  edit(order);
  const valid = validate(order);
  return { valid, keywords: (validate.errors ?? []).map((e) => e.keyword) };
}

describe("maxLength and minLength count code points", () => {
  it.each([
    ["256 BMP characters", "a".repeat(256), true],
    ["257 BMP characters", "a".repeat(257), false],
    ["256 astral characters (512 units)", ASTRAL.repeat(256), true],
    ["257 astral characters (514 units)", ASTRAL.repeat(257), false],
    ["255 BMP + 1 astral (257 units, 256 code points)", "a".repeat(255) + ASTRAL, true],
    ["a lone high surrogate counts as one", "a".repeat(255) + "\ud83c", true],
  ])("maxLength 256 (material description): %s", (_name, description, valid) => {
    const result = verdict((order) => {
      order.material["description"] = description;
    });
    expect(result.valid).toBe(valid);
    if (!valid) expect(result.keywords).toContain("maxLength");
  });

  it("minLength 1 (orderId): the empty string fails, one character passes", () => {
    expect(verdict((order) => (order.orderId = "")).keywords).toContain("minLength");
    expect(verdict((order) => (order.orderId = "1")).valid).toBe(true);
  });
});
