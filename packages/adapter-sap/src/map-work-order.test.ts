import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { clone, fixture, testConfig } from "../test/helpers.js";
import { deriveOrderStatus, mapProductionOrder } from "./map-work-order.js";

const config = testConfig();
type Wire = { d: Record<string, unknown> & { to_ProductionOrderOperation: { results: Record<string, unknown>[] } } };

describe("mapProductionOrder", () => {
  it("maps the expanded production order fixture to the documented WorkOrder", () => {
    const result = mapProductionOrder(fixture("production-order-1000123.json"), config);
    expect(result._unsafeUnwrap()).toMatchInlineSnapshot(`
      {
        "components": [
          {
            "backflush": false,
            "finallyIssued": false,
            "itemId": "0000123456/0001",
            "material": {
              "id": "RM-CAST-22",
            },
            "operationId": "0010",
            "requiredQuantity": {
              "unit": "H87",
              "value": "505",
            },
            "supplyLocation": {
              "site": {
                "id": "1710",
              },
              "stockType": "unrestricted",
              "storageLocation": "171C",
            },
            "withdrawnQuantity": {
              "unit": "H87",
              "value": "125",
            },
          },
        ],
        "confirmedYieldQuantity": {
          "unit": "H87",
          "value": "120",
        },
        "material": {
          "id": "FG-4711",
        },
        "operations": [
          {
            "confirmedYieldQuantity": {
              "unit": "H87",
              "value": "120",
            },
            "description": "Machining",
            "operationId": "0010",
            "plannedQuantity": {
              "unit": "H87",
              "value": "500",
            },
            "schedule": {
              "actualStart": "2026-03-02T06:12:40+01:00",
            },
            "sequence": "0",
            "status": "in_progress",
            "workCenter": {
              "id": "MILL-01",
              "level": "work_center",
              "site": {
                "id": "1710",
              },
            },
          },
          {
            "confirmedYieldQuantity": {
              "unit": "H87",
              "value": "0",
            },
            "description": "Leak test",
            "operationId": "0020",
            "plannedQuantity": {
              "unit": "H87",
              "value": "500",
            },
            "sequence": "0",
            "status": "released",
            "workCenter": {
              "id": "TEST-02",
              "level": "work_center",
              "site": {
                "id": "1710",
              },
            },
          },
        ],
        "orderId": "1000123",
        "orderType": "PP01",
        "outputBatch": {
          "batchId": "B2026-0301",
          "material": {
            "id": "FG-4711",
          },
        },
        "plannedQuantity": {
          "unit": "H87",
          "value": "500",
        },
        "plannedScrapQuantity": {
          "unit": "H87",
          "value": "5",
        },
        "receivingLocation": {
          "site": {
            "id": "1710",
          },
          "stockType": "unrestricted",
          "storageLocation": "171A",
        },
        "revision": "20260302071530",
        "schedule": {
          "actualStart": "2026-03-02T06:12:40+01:00",
          "plannedEnd": "2026-03-04T14:00:00+01:00",
          "plannedStart": "2026-03-02T06:00:00+01:00",
          "scheduledEnd": "2026-03-04T14:00:00+01:00",
          "scheduledStart": "2026-03-02T06:00:00+01:00",
        },
        "site": {
          "id": "1710",
        },
        "sourceRefs": [
          {
            "key": "ManufacturingOrder=1000123",
            "kind": "A_ProductionOrder_2",
            "system": "S4PCLNT100",
          },
        ],
        "sourceStatuses": [
          "REL",
          "PCNF",
          "PRC",
          "SETC",
        ],
        "status": "in_progress",
      }
    `);
  });

  it("copies customer fields into extensions only when configured", () => {
    const withExt = mapProductionOrder(fixture("production-order-1000123.json"), testConfig({ extensions: { namespace: "sap" } }));
    expect(withExt._unsafeUnwrap().extensions).toEqual({ sap: { YY1_ShiftPattern_ORD: "3x8" } });
    expect(mapProductionOrder(fixture("production-order-1000123.json"), config)._unsafeUnwrap().extensions).toBeUndefined();
  });

  it("normalises an internal (ALPHA) order number to the external form", () => {
    const wire = clone(fixture("production-order-1000123.json")) as Wire;
    wire.d["ManufacturingOrder"] = "000001000123";
    const order = mapProductionOrder(wire, config)._unsafeUnwrap();
    expect(order.orderId).toBe("1000123");
    expect(order.sourceRefs[0].key).toBe("ManufacturingOrder=1000123");
  });

  it("rejects an order without expanded operations, naming the navigation", () => {
    const wire = clone(fixture("production-order-1000123.json")) as Wire;
    (wire.d as Record<string, unknown>)["to_ProductionOrderOperation"] = { __deferred: { uri: "x" } };
    const error = mapProductionOrder(wire, config)._unsafeUnwrapErr();
    expect(error.message).toMatchInlineSnapshot(`"/d/to_ProductionOrderOperation is missing: $expand=to_ProductionOrderOperation is required to map a WorkOrder"`);
  });

  it("reports a decimal sent as a number and an unknown unit", () => {
    const wire = clone(fixture("production-order-1000123.json")) as Wire;
    wire.d["TotalQuantity"] = 500;
    wire.d["ProductionUnitISOCode"] = "";
    wire.d["ProductionUnit"] = "ZZZ";
    const error = mapProductionOrder(wire, config)._unsafeUnwrapErr();
    expect(error.code === "invalid_entity" ? [] : error.issues.map((i) => i.message)).toMatchInlineSnapshot(`
      [
        "/d/ProductionUnit has value "ZZZ": SAP unit not in the configured unit table and no ISO code sent",
        "/d/TotalQuantity has value 500: Edm.Decimal is a JSON string such as "500.000"",
      ]
    `);
  });

  it("passes model validation errors through as invalid_entity", () => {
    const wire = clone(fixture("production-order-1000123.json")) as Wire;
    wire.d["MfgOrderPlannedEndDate"] = "/Date(1767225600000)/";
    const error = mapProductionOrder(wire, config)._unsafeUnwrapErr();
    expect(error.code).toBe("invalid_entity");
    expect(error.message).toMatchInlineSnapshot(`"WorkOrder is invalid: /schedule/plannedEnd: "2026-01-01T14:00:00+01:00" is before /schedule/plannedStart "2026-03-02T06:00:00+01:00""`);
  });

  it("never throws and is deterministic on arbitrary input", () => {
    fc.assert(
      fc.property(fc.anything(), (input) => {
        const a = mapProductionOrder(input, config);
        const b = mapProductionOrder(input, config);
        expect(a).toEqual(b);
      }),
      { numRuns: 200 },
    );
  });

  it("never throws when fixture properties are replaced by arbitrary values", () => {
    const base = fixture("production-order-1000123.json") as Wire;
    const keys = Object.keys(base.d);
    fc.assert(
      fc.property(fc.constantFrom(...keys), fc.anything(), (key, value) => {
        const wire = clone(base);
        wire.d[key] = value;
        const a = mapProductionOrder(wire, config);
        expect(mapProductionOrder(wire, config)).toEqual(a);
      }),
      { numRuns: 300 },
    );
  });
});

describe("deriveOrderStatus", () => {
  const row = (shortName: string, isUserStatus = false) => ({ shortName, isUserStatus });
  it.each([
    [{ OrderIsMarkedForDeletion: true, OrderIsClosed: true }, [], "cancelled"],
    [{ OrderIsClosed: true, OrderIsTechnicallyCompleted: true }, [], "closed"],
    [{ OrderIsTechnicallyCompleted: true, OrderIsPartiallyConfirmed: true }, [], "completed"],
    [{ OrderIsConfirmed: true, OrderIsLocked: true }, [], "completed"],
    [{ OrderIsLocked: true, OrderIsPartiallyConfirmed: true }, [], "on_hold"],
    [{ OrderIsReleased: true, OrderIsPartiallyConfirmed: true }, [], "in_progress"],
    [{ OrderIsPartiallyReleased: true }, [], "released"],
    [{ OrderIsCreated: true }, [], "planned"],
    [{}, [row("TECO")], "completed"],
    [{ OrderIsDelivered: true, OrderIsReleased: true }, [], "released"],
  ] as const)("flags %o statuses %o → %s", (flags, statuses, expected) => {
    expect(deriveOrderStatus({ flags, statuses }, config)).toBe(expected);
  });

  it("uses configured user statuses and DLV as completed", () => {
    const c = testConfig({ workOrder: { onHoldUserStatuses: ["HOLD"], deliveredIsCompleted: true } });
    expect(deriveOrderStatus({ flags: { OrderIsReleased: true }, statuses: [row("HOLD", true)] }, c)).toBe("on_hold");
    expect(deriveOrderStatus({ flags: { OrderIsDelivered: true }, statuses: [] }, c)).toBe("completed");
  });
});
