import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { clone, fixture, testConfig } from "../test/helpers.js";
import { mapInspectionLot } from "./map-quality-hold.js";

const config = testConfig();
type Wire = { d: Record<string, unknown> };
const lot = () => clone(fixture("inspection-lot-040000001234.json")) as Wire;
const ud = () => clone(fixture("inspection-lot-usage-decision-040000001234.json")) as Wire;

describe("mapInspectionLot", () => {
  it("maps a lot with an accepting usage decision to a released hold", () => {
    expect(mapInspectionLot({ lot: lot(), usageDecision: ud() }, config)._unsafeUnwrap()).toMatchInlineSnapshot(`
      {
        "disposition": {
          "code": "A1",
          "codeGroup": "01",
          "decidedAt": "2026-03-03T09:40:00+01:00",
          "decidedBy": "QM_MUELLER",
          "decision": "use",
          "targetStockType": "unrestricted",
        },
        "heldStockType": "quality_inspection",
        "holdId": "040000001234",
        "placedAt": "2026-03-02T14:05:00+01:00",
        "quantity": {
          "unit": "H87",
          "value": "20",
        },
        "reason": {
          "catalog": "InspectionLotOrigin",
          "code": "04",
          "text": "Goods receipt from production",
        },
        "revision": "20260303084012",
        "scope": {
          "batch": {
            "batchId": "B2026-0301",
            "material": {
              "id": "FG-4711",
            },
            "site": {
              "id": "1710",
            },
          },
          "kind": "batch",
          "location": {
            "site": {
              "id": "1710",
            },
            "stockType": "quality_inspection",
            "storageLocation": "171A",
          },
        },
        "sourceRefs": [
          {
            "key": "InspectionLot=040000001234",
            "kind": "A_InspectionLot",
            "system": "S4PCLNT100",
          },
          {
            "key": "InspectionLot=040000001234",
            "kind": "A_InspLotUsageDecision",
            "system": "S4PCLNT100",
          },
        ],
        "status": "released",
      }
    `);
  });

  it("maps a lot without a decision to a placed hold", () => {
    const l = lot();
    l.d["InspectionLotHasUsageDecision"] = false;
    const hold = mapInspectionLot({ lot: l }, config)._unsafeUnwrap();
    expect([hold.status, hold.disposition, hold.revision, hold.sourceRefs.length]).toEqual(["placed", undefined, "20260302130500", 1]);
  });

  it("maps a rejecting valuation, and lets a configured code win over the valuation", () => {
    const u = ud();
    u.d["InspLotUsageDecisionValuation"] = "R";
    u.d["InspectionLotUsageDecisionCode"] = "R1";
    const l = lot();
    l.d["InspLotQtyToFree"] = "0";
    l.d["InspLotQtyToBlocked"] = "20";
    const rejected = mapInspectionLot({ lot: l, usageDecision: u }, config)._unsafeUnwrap();
    expect([rejected.status, rejected.disposition?.decision, rejected.disposition?.targetStockType]).toEqual(["rejected", "scrap", "blocked"]);
    const c = testConfig({ usageDecisionCodes: { "01/R1": { status: "rejected", decision: "return_to_supplier" } } });
    expect(mapInspectionLot({ lot: l, usageDecision: u }, c)._unsafeUnwrap().disposition?.decision).toBe("return_to_supplier");
  });

  it("rejects an unmapped usage decision", () => {
    const u = ud();
    u.d["InspLotUsageDecisionValuation"] = "Q";
    expect(mapInspectionLot({ lot: lot(), usageDecision: u }, config)._unsafeUnwrapErr().message).toMatchInlineSnapshot(`"/usageDecision/d/InspLotUsageDecisionValuation has value "Q": usage decision not in usageDecisionCodes or usageDecisionValuations"`);
  });

  it("maps a cancelled lot and an order-scoped lot", () => {
    const l = lot();
    l.d["to_InspectionLotWithStatus"] = { InspectionLot: "040000001234", InspLotStatusCanceled: "X", InspLotStatusInspCompleted: "" };
    expect(mapInspectionLot({ lot: l, usageDecision: ud() }, config)._unsafeUnwrap().status).toBe("cancelled");
    const o = lot();
    o.d["Batch"] = "";
    o.d["InspectionLotHasUsageDecision"] = false;
    expect(mapInspectionLot({ lot: o }, config)._unsafeUnwrap().scope).toEqual({ kind: "order", order: { orderId: "1000123" }, material: { id: "FG-4711" } });
  });

  it("never throws and is deterministic", () => {
    const base = lot();
    fc.assert(
      fc.property(fc.constantFrom(...Object.keys(base.d)), fc.anything(), fc.anything(), (key, value, other) => {
        const l = clone(base);
        l.d[key] = value;
        const input = { lot: l, usageDecision: other };
        expect(mapInspectionLot(input, config)).toEqual(mapInspectionLot(input, config));
      }),
      { numRuns: 200 },
    );
    fc.assert(
      fc.property(fc.anything(), (input) => {
        expect(mapInspectionLot(input as never, config)).toEqual(mapInspectionLot(input as never, config));
      }),
      { numRuns: 100 },
    );
  });
});
