import { parseWorkOrder, type WorkOrder } from "@millwright/model";
import { describe, expect, it } from "vitest";
import { clone, fixture, testConfig } from "../test/helpers.js";
import { isCheckedWorkOrder } from "./checked-work-order.js";
import { mapProductionOrder } from "./map-work-order.js";

const mapped = mapProductionOrder(fixture("production-order-1000123.json"), testConfig())._unsafeUnwrap();

/** `n` copies of an item, each changed by `change`. */
function many<T>(item: T, n: number, change: (copy: T, i: number) => void): T[] {
  return Array.from({ length: n }, (_, i) => {
    const copy = clone(item);
    change(copy, i);
    return copy;
  });
}

/** One change to a valid order, and whether the model accepts the result. */
const cases: readonly [string, (w: WorkOrder) => void, boolean][] = [
  ["a control character in the order number", (w) => { w.orderId = "10\u000100"; }, false],
  ["a C1 control character in a material", (w) => { w.material.id = "RM\u0085X"; }, false],
  ["a leading space", (w) => { w.site.id = " 1710"; }, false],
  ["a trailing no-break space (non-ASCII white space)", (w) => { w.site.id = "1710\u00a0"; }, false],
  ["a non-ASCII last character that is not white space", (w) => { w.site.id = "Walldorf-Ä"; }, true],
  ["an identifier of 129 characters", (w) => { w.orderId = "1".repeat(129); }, false],
  ["an identifier of 128 characters", (w) => { w.orderId = "1".repeat(128); }, true],
  ["a negative quantity", (w) => { w.plannedQuantity.value = "-5"; }, false],
  ["a negative zero (valid, left to the model)", (w) => { w.plannedQuantity.value = "-0"; }, true],
  ["a decimal with a leading zero", (w) => { w.plannedQuantity.value = "0500"; }, false],
  ["a unit that is not a Rec 20 code", (w) => { w.plannedQuantity.unit = "st"; }, false],
  ["a scrap quantity in another unit", (w) => { w.plannedScrapQuantity = { value: "1", unit: "KGM" }; }, false],
  ["an end before the start", (w) => { w.schedule!.plannedEnd = "2026-01-01T14:00:00+01:00"; }, false],
  ["an end at another offset after the start", (w) => { w.schedule!.plannedEnd = "2026-03-02T05:30:00Z"; }, true],
  ["a timestamp on 30 February", (w) => { w.schedule!.plannedEnd = "2026-02-30T14:00:00+01:00"; }, false],
  ["a timestamp with fraction digits (valid, left to the model)", (w) => { w.schedule!.plannedEnd = "2026-03-04T14:00:00.5+01:00"; }, true],
  ["a duplicate operation", (w) => { w.operations.push(clone(w.operations[0]!)); }, false],
  ["a component of an unknown operation", (w) => { w.components[0]!.operationId = "9999"; }, false],
  ["a duplicate component", (w) => { w.components.push(clone(w.components[0]!)); }, false],
  ["an output batch of another material", (w) => { w.outputBatch = { material: { id: "OTHER" }, batchId: "B1" }; }, false],
  ["an operation text of 1025 characters", (w) => { w.operations[0]!.description = "x".repeat(1025); }, false],
  ["a duplicate operation in a long list", (w) => { w.operations = many(w.operations[0]!, 12, (op, i) => { op.operationId = String(i === 11 ? 0 : i); }); w.components = []; }, false],
  ["a long list of distinct operations", (w) => { w.operations = many(w.operations[0]!, 12, (op, i) => { op.operationId = String(i); }); w.components = []; }, true],
  ["a duplicate component in a long list", (w) => { w.components = many(w.components[0]!, 12, (c, i) => { c.itemId = String(i === 11 ? 0 : i); }); }, false],
  ["a component of an unknown operation in long lists", (w) => {
    w.operations = many(w.operations[0]!, 12, (op, i) => { op.operationId = String(i); });
    w.components = many(w.components[0]!, 12, (c, i) => { c.itemId = String(i); c.operationId = String(i === 11 ? 99 : i); });
  }, false],
  ["a priority of 1000", (w) => { w.priority = 1000; }, false],
  ["a revision with a leading zero", (w) => { w.revision = "020260302071530"; }, false],
  ["an unknown status", (w) => { (w as { status: string }).status = "running"; }, false],
];

describe("isCheckedWorkOrder", () => {
  it("accepts the mapped fixture, which the model accepts", () => {
    expect(isCheckedWorkOrder(mapped)).toBe(true);
    expect(parseWorkOrder(mapped).isOk()).toBe(true);
  });

  it.each(cases)("never accepts what the model refuses: %s", (_name, change, modelAccepts) => {
    const w = clone(mapped);
    change(w);
    expect(parseWorkOrder(w).isOk()).toBe(modelAccepts);
    // Sound: a yes means the model says yes. A valid but unusual order may get a no (the model decides).
    if (!modelAccepts) expect(isCheckedWorkOrder(w)).toBe(false);
  });

  it("leaves orders with extensions to the model", () => {
    const w = clone(mapped);
    w.extensions = { "sap.s4": { YY1_ShiftPattern_ORD: "3x8" } };
    expect(isCheckedWorkOrder(w)).toBe(false);
  });
});
