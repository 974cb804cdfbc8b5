import { describe, expect, test } from "vitest";
import * as V from "./generated/validators.js";
import { WmsEventSchema, WmsRequestSchema } from "./generated/zod.js";
import { parseWmsEvent, parseWmsRequest } from "./parse.js";

const site = { id: "1710" };
const receipt = {
  eventId: "T-1",
  type: "receipt",
  occurredAt: "2026-03-02T05:00:00Z",
  material: { id: "RM10" },
  quantity: { value: "10", unit: "KGM" },
  to: { site, bin: "IN-01" },
};

// The WMS contract's conditional requirements (allOf of if/then) are the one place the zod
// schemas use a refinement: these cases prove ajv and zod still agree on it.
const cases: [string, unknown, boolean][] = [
  ["a receipt with its destination", receipt, true],
  ["a receipt without a destination", { ...receipt, to: undefined }, false],
  ["a pick needs from and to", { ...receipt, type: "pick", to: { site } }, false],
  ["a pick with from and to", { ...receipt, type: "pick", from: { site, bin: "A-1" } }, true],
  ["a stock status change needs at and both stock types", { ...receipt, type: "stock_status_change", to: undefined, at: { site } }, false],
  ["a cycle count with its direction", { ...receipt, type: "cycle_count_adjustment", to: undefined, at: { site }, direction: "decrease" }, true],
];

describe("WMS event contract", () => {
  test.each(cases)("%s", (_name, raw, valid) => {
    const input = JSON.parse(JSON.stringify(raw)) as unknown;
    expect(V.validateWmsEvent(input)).toBe(valid);
    expect(WmsEventSchema.safeParse(input).success).toBe(valid);
    expect(parseWmsEvent(input).isOk()).toBe(valid);
  });

  test("the issue names the property the type requires", () => {
    const issues = parseWmsEvent({ ...receipt, type: "transfer", to: undefined })._unsafeUnwrapErr().issues;
    expect(issues.map((i) => `${i.code} ${i.path}`)).toEqual(["missing_property /from", "missing_property /to"]);
  });
});

describe("WMS request contract", () => {
  const block = { requestId: "R-1", type: "block", requestedAt: "2026-03-02T05:00:00Z", holdId: "H-1", material: { id: "FG126" } };
  test("a block request, and a block request that carries staging lines", () => {
    expect(parseWmsRequest(block).isOk()).toBe(true);
    const withLines = { ...block, lines: [{ lineId: "1", material: { id: "RM10" }, quantity: { value: "1", unit: "H87" } }] };
    expect(V.validateWmsRequest(withLines)).toBe(false);
    expect(WmsRequestSchema.safeParse(withLines).success).toBe(false);
    expect(parseWmsRequest(withLines)._unsafeUnwrapErr().issues.map((i) => `${i.code} ${i.path}: ${i.message}`)).toEqual([
      "forbidden_property /lines: /lines is not allowed for this type of record",
    ]);
  });
});
