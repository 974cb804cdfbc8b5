import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseWorkOrder } from "@millwright/model";
import { clone, fixture, pointsIntoInput, testConfig } from "../test/helpers.js";
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
    expect(error.message).toMatchInlineSnapshot(`"/d/to_ProductionOrderOperation is missing: $expand=to_ProductionOrderOperation is required"`);
  });

  it("reports a decimal sent as a number and an unknown unit", () => {
    const wire = clone(fixture("production-order-1000123.json")) as Wire;
    wire.d["TotalQuantity"] = 500;
    wire.d["ProductionUnitISOCode"] = "";
    wire.d["ProductionUnitSAPCode"] = "";
    wire.d["ProductionUnit"] = "ZZZ";
    const error = mapProductionOrder(wire, config)._unsafeUnwrapErr();
    expect(error.code === "invalid_entity" ? [] : error.issues.map((i) => i.message)).toMatchInlineSnapshot(`
      [
        "/d/ProductionUnit has value "ZZZ": SAP unit not in the configured unit table and no ISO code sent",
        "/d/TotalQuantity has value 500: Edm.Decimal is a JSON string such as "500.000"",
      ]
    `);
  });

  it("reads units by their language-independent internal code before the logon-language unit", () => {
    const wire = clone(fixture("production-order-1000123.json")) as Wire;
    // ProductionUnit is converted to the logon language's external form; ProductionUnitSAPCode is not ("No Conversion" in the EDMX).
    wire.d["ProductionUnitISOCode"] = "";
    wire.d["ProductionUnit"] = "STK";
    for (const op of wire.d.to_ProductionOrderOperation.results) {
      op["OperationUnitISOCode"] = "";
      op["OperationUnit"] = "STK";
    }
    const order = mapProductionOrder(wire, config)._unsafeUnwrap();
    expect(order.plannedQuantity.unit).toBe("H87");
    expect(order.operations.every((op) => op.plannedQuantity === undefined || op.plannedQuantity.unit === "H87")).toBe(true);
  });

  it("passes model validation errors through as invalid_entity", () => {
    const wire = clone(fixture("production-order-1000123.json")) as Wire;
    wire.d["MfgOrderPlannedEndDate"] = "/Date(1767225600000)/";
    const error = mapProductionOrder(wire, config)._unsafeUnwrapErr();
    expect(error.code).toBe("invalid_entity");
    expect(error.message).toMatchInlineSnapshot(`"WorkOrder is invalid: /schedule/plannedEnd: "2026-01-01T14:00:00+01:00" is before /schedule/plannedStart "2026-03-02T06:00:00+01:00""`);
  });

  it("derives the status from the OrderIs… flags and status codes, the same in a German logon", () => {
    const english = clone(fixture("production-order-1000123.json")) as Wire;
    english.d["OrderIsPartiallyConfirmed"] = "";
    // Short texts as a German logon returns them (TJ02T/TJ30T are language-dependent); codes and flags are not.
    const german = clone(english);
    const texts: Readonly<Record<string, string>> = { REL: "FREI", PCNF: "TRÜC", PRC: "VKAL", SETC: "ABRV" };
    for (const row of (german.d["to_ProductionOrderStatus"] as { results: Record<string, unknown>[] }).results) {
      row["StatusShortName"] = texts[row["StatusShortName"] as string];
      row["StatusName"] = "(deutsch)";
    }
    const user = { ManufacturingOrder: "1000123", StatusCode: "E0002", IsUserStatus: true, StatusName: "On hold" };
    (english.d["to_ProductionOrderStatus"] as { results: unknown[] }).results.push({ ...user, StatusShortName: "HOLD" });
    (german.d["to_ProductionOrderStatus"] as { results: unknown[] }).results.push({ ...user, StatusShortName: "HALT" });
    const holdConfig = testConfig({ workOrder: { onHoldUserStatuses: ["E0002"] } });
    const en = mapProductionOrder(english, holdConfig)._unsafeUnwrap();
    const de = mapProductionOrder(german, holdConfig)._unsafeUnwrap();
    expect([en.status, de.status]).toEqual(["on_hold", "on_hold"]);
    // A system status whose English short text matches a rule but whose flag is not set changes nothing.
    const stale = clone(english);
    (stale.d["to_ProductionOrderStatus"] as { results: unknown[] }).results.push({ ManufacturingOrder: "1000123", StatusCode: "I9999", IsUserStatus: false, StatusShortName: "TECO" });
    expect(mapProductionOrder(stale, config)._unsafeUnwrap().status).toBe("released");
    expect(mapProductionOrder(german, config)._unsafeUnwrap().status).toBe("released");
  });

  it("rejects an order that carries none of the OrderIs… status flags instead of calling it planned", () => {
    const wire = clone(fixture("production-order-1000123.json")) as Wire;
    for (const key of Object.keys(wire.d)) if (key.startsWith("OrderIs")) delete wire.d[key];
    const error = mapProductionOrder(wire, config)._unsafeUnwrapErr();
    expect(error.message).toMatchInlineSnapshot(`"/d/OrderIsReleased is missing: the status flags (OrderIsCreated, OrderIsReleased, OrderIsPartiallyReleased, OrderIsConfirmed, OrderIsPartiallyConfirmed, OrderIsDelivered, OrderIsDeleted, OrderIsMarkedForDeletion, OrderIsLocked, OrderIsTechnicallyCompleted, OrderIsClosed) are required to derive the status; do not $select them away"`);
    expect(error.code !== "invalid_entity" && error.issues.every((i) => pointsIntoInput(wire, i))).toBe(true);
  });

  it.each([
    ["results null", { results: null }, ["/d/to_ProductionOrderOperation/results"]],
    ["an empty object", {}, ["/d/to_ProductionOrderOperation"]],
    ["a string", "0010", ["/d/to_ProductionOrderOperation"]],
    ["null", null, ["/d/to_ProductionOrderOperation"]],
    ["a row that is not an object", { results: [1] }, ["/d/to_ProductionOrderOperation/results/0"]],
  ])("reports an expanded navigation holding %s at the navigation's own path", (_name, value, paths) => {
    const wire = clone(fixture("production-order-1000123.json")) as Wire;
    (wire.d as Record<string, unknown>)["to_ProductionOrderOperation"] = value;
    const error = mapProductionOrder(wire, config)._unsafeUnwrapErr();
    expect(error.code === "invalid_entity" ? [] : error.issues.map((i) => i.path)).toEqual(paths);
    expect(error.code !== "invalid_entity" && error.issues.every((i) => pointsIntoInput(wire, i))).toBe(true);
  });

  it("reports a server-paged expanded navigation (__next) instead of mapping a partial list", () => {
    const wire = clone(fixture("production-order-1000123.json")) as Wire;
    (wire.d.to_ProductionOrderOperation as Record<string, unknown>)["__next"] = "A_ProductionOrder_2('1000123')/to_ProductionOrderOperation?$skiptoken=2";
    const error = mapProductionOrder(wire, config)._unsafeUnwrapErr();
    expect(error.message).toMatchInlineSnapshot(`"/d/to_ProductionOrderOperation/__next has value "A_ProductionOrder_2('1000123')/to_ProductionOrderOperation?$skiptoken=2": the server paged $expand=to_ProductionOrderOperation: read the rest from __next before mapping; a partial list is not mapped"`);
    expect(error.code !== "invalid_entity" && error.issues.every((i) => pointsIntoInput(wire, i))).toBe(true);
  });

  it("gives the paths of a bare-array navigation as they are in the input", () => {
    const wire = clone(fixture("production-order-1000123.json")) as Wire;
    const rows = wire.d.to_ProductionOrderOperation.results;
    (wire.d as Record<string, unknown>)["to_ProductionOrderOperation"] = rows;
    expect(mapProductionOrder(wire, config)._unsafeUnwrap().operations).toHaveLength(mapProductionOrder(fixture("production-order-1000123.json"), config)._unsafeUnwrap().operations.length);
    delete (rows[1] as Record<string, unknown>)["ManufacturingOrderOperation"];
    const error = mapProductionOrder(wire, config)._unsafeUnwrapErr();
    expect(error.code === "invalid_entity" ? [] : error.issues.map((i) => i.path)).toEqual(["/d/to_ProductionOrderOperation/1/ManufacturingOrderOperation"]);
    expect(error.code !== "invalid_entity" && error.issues.every((i) => pointsIntoInput(wire, i))).toBe(true);
  });

  it("gives only orders the generated validator and the model's rules accept, from mutated payloads", () => {
    // The mapper skips parseWorkOrder when its cheap check (checked-work-order.ts) says the order is
    // valid; this holds that check to the model's verdict on thousands of near-valid payloads.
    const base = fixture("production-order-1000123.json") as Wire & { d: { to_ProductionOrderComponent: { results: Record<string, unknown>[] } } };
    const tricky = fc.constantFrom<unknown>(
      undefined, null, "", " ", "X", true, false, 7, "abc", " 12 ", "0500.000", "-1", "-0", "+3", "1e5", "a\u0001b", "x\u00a0", "\u00a0x", "Ä", "１２",
      "/Date(1772409600000)/", "/Date(1767225600000)/", "/Date(1780000000000)/", "/Date(-62135596800001)/", "/Date(253402300800000)/", "PT23H59M59S", "PT02H30M00S", "PT24H00M00S",
      "20260302071530", "ST", "PCE", "KGM", "ZZZ", "0010", "0020", "0030", "x".repeat(129), "y".repeat(1025),
    );
    // A row of the payload; undefined when an earlier change replaced its navigation.
    const rowOf = (wire: typeof base, which: number): Record<string, unknown> | undefined =>
      which === 0 ? wire.d : which <= 2 ? wire.d.to_ProductionOrderOperation?.results?.[which - 1] : wire.d.to_ProductionOrderComponent?.results?.[0];
    let mapped = 0;
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.nat(), tricky), { minLength: 1, maxLength: 3 }), (changes) => {
        const wire = clone(base);
        for (const [which, k, value] of changes) {
          const row = rowOf(wire, which);
          if (typeof row !== "object" || row === null) continue;
          const keys = Object.keys(row);
          const key = keys[k % keys.length]!;
          if (value === undefined) delete row[key];
          else row[key] = value;
        }
        const result = mapProductionOrder(wire, config);
        if (result.isOk()) {
          mapped += 1;
          expect(parseWorkOrder(result.value).isOk()).toBe(true);
        }
      }),
      { numRuns: 3000 },
    );
    expect(mapped).toBeGreaterThan(1000);
  });

  it("gives only valid orders for long operation lists across DST changes", () => {
    const base = fixture("production-order-1000123.json") as Wire;
    const template = base.d.to_ProductionOrderOperation.results[1]!;
    const dates = ["/Date(1774656000000)/", "/Date(1774742400000)/", "/Date(1761436800000)/", "/Date(1761350400000)/", null];
    const times = ["PT00H00M00S", "PT02H30M00S", "PT23H59M59S", "PT06H12M40S"];
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(4), fc.nat(3), fc.nat(4), fc.nat(3)), { minLength: 1, maxLength: 40 }), (ops) => {
        const wire = clone(base);
        wire.d.to_ProductionOrderOperation.results = ops.map(([sd, st, ed, et], k) => ({
          ...template,
          ManufacturingOrderOperation: String((k + 1) * 10).padStart(4, "0"),
          OpActualExecutionStartDate: dates[sd],
          OpActualExecutionStartTime: times[st],
          OpActualExecutionEndDate: dates[ed],
          OpActualExecutionEndTime: times[et],
        }));
        const result = mapProductionOrder(wire, config);
        if (result.isOk()) expect(parseWorkOrder(result.value).isOk()).toBe(true);
        else expect(result.error.code).toBe("invalid_entity");
      }),
      { numRuns: 300 },
    );
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
  const row = (shortName: string, isUserStatus = false, code = "I0000") => ({ code, shortName, isUserStatus });
  it.each([
    [{ OrderIsMarkedForDeletion: true, OrderIsClosed: true }, [], "cancelled"],
    [{ OrderIsClosed: true, OrderIsTechnicallyCompleted: true }, [], "closed"],
    [{ OrderIsTechnicallyCompleted: true, OrderIsPartiallyConfirmed: true }, [], "completed"],
    [{ OrderIsConfirmed: true, OrderIsLocked: true }, [], "completed"],
    [{ OrderIsLocked: true, OrderIsPartiallyConfirmed: true }, [], "on_hold"],
    [{ OrderIsReleased: true, OrderIsPartiallyConfirmed: true }, [], "in_progress"],
    [{ OrderIsPartiallyReleased: true }, [], "released"],
    [{ OrderIsCreated: true }, [], "planned"],
    [{}, [row("TECO")], "planned"],
    [{ OrderIsDelivered: true, OrderIsReleased: true }, [], "released"],
  ] as const)("flags %o statuses %o → %s", (flags, statuses, expected) => {
    expect(deriveOrderStatus({ flags, statuses }, config)).toBe(expected);
  });

  it("uses configured user statuses and DLV as completed", () => {
    const c = testConfig({ workOrder: { onHoldUserStatuses: ["E0002"], deliveredIsCompleted: true } });
    expect(deriveOrderStatus({ flags: { OrderIsReleased: true }, statuses: [row("HOLD", true, "E0002")] }, c)).toBe("on_hold");
    expect(deriveOrderStatus({ flags: { OrderIsReleased: true }, statuses: [row("E0002", true, "E0005")] }, c)).toBe("released");
    expect(deriveOrderStatus({ flags: { OrderIsDelivered: true }, statuses: [] }, c)).toBe("completed");
  });
});
