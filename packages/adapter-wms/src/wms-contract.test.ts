import { parseWorkOrder } from "@millwright/model";
import { describe, expect, it } from "vitest";
import { placedHold, releasedHold, releasedOrder } from "../test/fixtures/canonical-records.js";
import { createStagingRequest, parseWmsEvent, parseWmsRequest, toHoldRequest, toMaterialMovement, type WmsEvent } from "./wms-contract.js";

const line = { site: { id: "1710" }, storageLocation: "0001", bin: "LINE-1" };
const stock = { site: { id: "1710" }, storageLocation: "0001", bin: "STOCK-01" };
const base = { eventId: "T-1", occurredAt: "2026-03-02T06:10:00+01:00", material: { id: "RM-CAST-22" }, quantity: { value: "12.5", unit: "KGM" } };

describe("WMS events → MaterialMovement", () => {
  const cases: [WmsEvent, string][] = [
    [{ ...base, type: "pick", from: stock, to: { ...stock, bin: "STAGE-01" } }, "transferred"],
    [{ ...base, type: "stage_to_line", from: { ...stock, bin: "STAGE-01" }, to: line }, "transferred"],
    [{ ...base, type: "return_from_line", from: line, to: stock }, "transferred"],
    [{ ...base, type: "putaway", from: { ...stock, bin: "GR-ZONE" }, to: stock }, "transferred"],
    [{ ...base, type: "transfer", from: stock, to: { ...stock, storageLocation: "0002" } }, "transferred"],
    [{ ...base, type: "receipt", to: stock, order: { orderId: "1000123" } }, "produced"],
    [{ ...base, type: "receipt", to: stock }, "adjusted"],
    [{ ...base, type: "stock_status_change", at: stock, fromStockType: "unrestricted", toStockType: "blocked" }, "status_changed"],
    [{ ...base, type: "cycle_count_adjustment", at: stock, direction: "decrease" }, "adjusted"],
  ];
  it.each(cases)("%# %o → %s", (event, kind) => {
    expect(parseWmsEvent(event).isOk()).toBe(true);
    const movement = toMaterialMovement(event, { system: "WMS-1" })._unsafeUnwrap();
    expect(movement.kind).toBe(kind);
    expect(movement.movementId).toBe("T-1");
    expect(movement.sourceRefs).toEqual([{ system: "WMS-1", kind: `wms:${event.type}`, key: "T-1" }]);
  });

  it("rejects incomplete events with every issue", () => {
    expect(parseWmsEvent({ ...base, type: "pick", to: line, quantity: { value: "-1", unit: "KGM" }, colour: "red" })._unsafeUnwrapErr()).toMatchInlineSnapshot(`
      {
        "code": "invalid_wms_event",
        "issues": [
          {
            "code": "missing_property",
            "message": "/from is required but missing",
            "path": "/from",
            "rule": "required",
          },
          {
            "code": "unknown_property",
            "message": "/colour is not a known property (unknown properties are rejected; site-specific fields go in extensions)",
            "path": "/colour",
            "rule": "additionalProperties: false",
            "value": "red",
          },
        ],
        "message": "not a valid WMS event: /from is required but missing; /colour is not a known property (unknown properties are rejected; site-specific fields go in extensions)",
      }
    `);
  });

  it("a transfer to the same place breaks the model's rule, reported by parseMaterialMovement", () => {
    const error = toMaterialMovement({ ...base, type: "transfer", from: stock, to: stock }, { system: "WMS-1" })._unsafeUnwrapErr();
    expect(error.issues.map((i) => i.code)).toEqual(["same_location"]);
  });
});

describe("outbound requests", () => {
  it("stages a released order's open components, minus what was withdrawn", () => {
    expect(parseWorkOrder(releasedOrder).isOk()).toBe(true);
    const request = createStagingRequest(releasedOrder, { destination: line, requestedAt: "2026-03-02T05:00:00+01:00" })._unsafeUnwrap();
    expect(parseWmsRequest(request).isOk()).toBe(true);
    expect(request.lines.map((l) => [l.lineId, l.quantity.value, l.quantity.unit, l.batchId])).toEqual([
      ["0000123456/0001", "505.500", "KGM", "C-88123"],
      ["0000123456/0002", "1500", "H87", undefined],
    ]);
    expect(request.requestId).toBe("1000123/staging/20260301061530");
    expect(request.requiredBy).toBe("2026-03-02T06:00:00+01:00");
  });

  it("does not stage an order that is not released", () => {
    expect(createStagingRequest({ ...releasedOrder, status: "planned" }, { destination: line, requestedAt: "2026-03-02T05:00:00+01:00" })._unsafeUnwrapErr().message).toMatchInlineSnapshot(
      `"/status has value "planned": only released or in_progress orders are staged"`,
    );
  });

  it("blocks a placed hold and unblocks a released one", () => {
    const block = toHoldRequest(placedHold)._unsafeUnwrap();
    const unblock = toHoldRequest(releasedHold)._unsafeUnwrap();
    expect([block.type, unblock.type]).toEqual(["block", "unblock"]);
    expect(parseWmsRequest(block).isOk()).toBe(true);
    expect(parseWmsRequest(unblock).isOk()).toBe(true);
    expect(block.location).toEqual({ site: { id: "1710" }, storageLocation: "171A" });
    expect(toHoldRequest({ ...placedHold, status: "cancelled" })._unsafeUnwrapErr().code).toBe("no_stock_effect");
  });
});
