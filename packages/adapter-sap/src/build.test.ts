import type { MaterialMovement, ProductionConfirmation, QualityHold } from "@millwright/model";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { loadModel } from "../test/metadata.js";
import { fixture, testConfig } from "../test/helpers.js";
import { buildConfirmationCreate, buildHoldTransferPosting, buildMaterialDocumentCreate, confirmationExternalId } from "./build.js";
import { checkAgainstEdmx } from "./edmx-check.js";
import { mapMaterialDocument } from "./map-material-movement.js";
import { mapProductionConfirmation } from "./map-production-confirmation.js";
import { mapInspectionLot } from "./map-quality-hold.js";

const config = testConfig();
const confModel = loadModel("API_PROD_ORDER_CONFIRMATION_2_SRV");
const docModel = loadModel("API_MATERIAL_DOCUMENT_SRV");

const confirmation: ProductionConfirmation = {
  confirmationId: "MES-4711-0010-3",
  order: { orderId: "1000123", operationId: "0010" },
  site: { id: "1710" },
  workCenter: { id: "MILL-01", level: "work_center", site: { id: "1710" } },
  yieldQuantity: { value: "120.000", unit: "H87" },
  scrapQuantity: { value: "2.000", unit: "H87" },
  varianceReason: { code: "0002" },
  isFinal: false,
  postingDate: "2026-03-02",
  executionStart: "2026-03-02T06:12:40+01:00",
  executionEnd: "2026-03-02T10:30:00+01:00",
  revision: "0",
  sourceRefs: [{ system: "MES", kind: "confirmation", key: "MES-4711-0010-3" }],
};

describe("buildConfirmationCreate", () => {
  it("builds the ProdnOrdConf2 body with a deterministic ExternalSystemConfirmation", () => {
    const body = buildConfirmationCreate(confirmation, config)._unsafeUnwrap();
    expect(body).toMatchInlineSnapshot(`
      {
        "ConfirmationScrapQuantity": "2.000",
        "ConfirmationUnit": "ST",
        "ConfirmationYieldQuantity": "120.000",
        "ConfirmedExecutionEndDate": "/Date(1772409600000)/",
        "ConfirmedExecutionEndTime": "PT10H30M00S",
        "ConfirmedExecutionStartDate": "/Date(1772409600000)/",
        "ConfirmedExecutionStartTime": "PT06H12M40S",
        "ExternalSystemConfirmation": "83a76b9f-d8d7-5628-a963-d9754271d565",
        "IsFinalConfirmation": false,
        "OrderID": "1000123",
        "OrderOperation": "0010",
        "Plant": "1710",
        "PostingDate": "/Date(1772409600000)/",
        "VarianceReasonCode": "0002",
        "WorkCenter": "MILL-01",
      }
    `);
    expect(buildConfirmationCreate(confirmation, config)._unsafeUnwrap()).toEqual(body);
    expect(checkAgainstEdmx(confModel, "ProdnOrdConf2", body)).toEqual([]);
  });

  it("keeps an existing externalId and round-trips the mapped SAP fixture", () => {
    const mapped = mapProductionConfirmation(fixture("production-confirmation-12345-3.json"), config)._unsafeUnwrap();
    expect(confirmationExternalId(mapped, config)).toBe("3f6c2a9e-8b1d-5e4f-9a7c-2d1e0b3c4f5a");
    const body = buildConfirmationCreate(mapped, config)._unsafeUnwrap();
    expect(checkAgainstEdmx(confModel, "ProdnOrdConf2", body)).toEqual([]);
    const back = mapProductionConfirmation({ ...body, ConfirmationGroup: "12345", ConfirmationCount: "3" }, config)._unsafeUnwrap();
    expect({ ...back, outputBatch: mapped.outputBatch }).toEqual({ ...mapped, varianceReason: mapped.varianceReason, text: mapped.text });
  });

  it("rejects a reversal and a too-long text", () => {
    expect(buildConfirmationCreate({ ...confirmation, reverses: "X/1" }, config)._unsafeUnwrapErr().message).toMatchInlineSnapshot(`"/reverses has value "X/1": a reversal is posted with the CancelProdnOrdConf function, not as a create"`);
    expect(buildConfirmationCreate({ ...confirmation, text: "x".repeat(41) }, config)._unsafeUnwrapErr().code).toBe("too_long");
  });

  it("always fits the EDMX for arbitrary quantities, dates and ids", () => {
    const decimal = fc.tuple(fc.bigInt({ min: 0n, max: 9_999_999_999n }), fc.integer({ min: 0, max: 999 })).map(([i, f]) => `${i}.${String(f).padStart(3, "0")}`);
    fc.assert(
      fc.property(decimal, decimal, fc.boolean(), fc.date({ min: new Date("2000-01-01T00:00:00Z"), max: new Date("2090-01-01T00:00:00Z"), noInvalidDate: true }), fc.stringMatching(/^[A-Z0-9]{1,12}$/), (y, s, isFinal, when, order) => {
        const c: ProductionConfirmation = {
          ...confirmation,
          order: { orderId: order, operationId: "0010" },
          yieldQuantity: { value: y, unit: "H87" },
          scrapQuantity: { value: s, unit: "H87" },
          isFinal,
          postingDate: when.toISOString().slice(0, 10),
          executionStart: when.toISOString().replace(/\.\d+Z$/, "Z"),
        };
        const { executionEnd: _end, ...rest } = c;
        const body = buildConfirmationCreate(rest, config)._unsafeUnwrap();
        expect(checkAgainstEdmx(confModel, "ProdnOrdConf2", body)).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });
});

describe("buildMaterialDocumentCreate", () => {
  it("builds the goods issue + receipt deep insert for a production order", () => {
    const movements = mapMaterialDocument(fixture("material-document-4900000200.json"), config)._unsafeUnwrap();
    const [issue, receipt] = movements as [MaterialMovement, MaterialMovement];
    const gr = buildMaterialDocumentCreate([receipt], config)._unsafeUnwrap();
    expect(gr).toMatchInlineSnapshot(`
      {
        "DocumentDate": "/Date(1772496000000)/",
        "GoodsMovementCode": "02",
        "PostingDate": "/Date(1772496000000)/",
        "to_MaterialDocumentItem": {
          "results": [
            {
              "Batch": "B2026-0301",
              "EntryUnit": "ST",
              "GoodsMovementRefDocType": "F",
              "GoodsMovementType": "101",
              "InventoryStockType": "02",
              "ManufacturingOrder": "1000123",
              "Material": "FG-4711",
              "Plant": "1710",
              "QuantityInEntryUnit": "120.000",
              "StorageLocation": "171A",
            },
          ],
        },
      }
    `);
    expect(checkAgainstEdmx(docModel, "A_MaterialDocumentHeader", gr)).toEqual([]);
    const gi = buildMaterialDocumentCreate([issue], config)._unsafeUnwrap();
    expect(gi["GoodsMovementCode"]).toBe("03");
    expect(checkAgainstEdmx(docModel, "A_MaterialDocumentHeader", gi)).toEqual([]);
    expect(buildMaterialDocumentCreate(movements, config)._unsafeUnwrapErr().message).toMatchInlineSnapshot(`"/1/kind has value "produced": every movement of one document has GoodsMovementCode 03"`);
  });

  it("derives the movement type from kind and stock types when none is given", () => {
    const [m] = mapMaterialDocument(fixture("material-document-4900000123.json"), config)._unsafeUnwrap();
    const { sourceMovementType: _t, ...rest } = m as MaterialMovement;
    const body = buildMaterialDocumentCreate([rest], config)._unsafeUnwrap();
    expect(body.to_MaterialDocumentItem.results[0]?.["GoodsMovementType"]).toBe("321");
    expect(checkAgainstEdmx(docModel, "A_MaterialDocumentHeader", body)).toEqual([]);
  });
});

describe("buildHoldTransferPosting", () => {
  const hold = mapInspectionLot(
    { lot: fixture("inspection-lot-040000001234.json"), usageDecision: fixture("inspection-lot-usage-decision-040000001234.json") },
    config,
  )._unsafeUnwrap();

  it.each([
    [{ status: "released" }, "321"],
    [{ status: "released", heldStockType: "blocked" }, "343"],
    [{ status: "placed", heldStockType: "quality_inspection" }, "322"],
    [{ status: "placed", heldStockType: "blocked" }, "344"],
    [{ status: "rejected", disposition: { decision: "rework", decidedAt: "2026-03-03T09:40:00+01:00" } }, "350"],
    [{ status: "rejected", disposition: { decision: "scrap", decidedAt: "2026-03-03T09:40:00+01:00" } }, "553"],
  ] as const)("%o posts %s and fits the EDMX", (change, type) => {
    const h = { ...hold, ...change } as QualityHold;
    const body = buildHoldTransferPosting(h, config, { postingDate: "2026-03-03" })._unsafeUnwrap();
    expect(body.to_MaterialDocumentItem.results[0]?.["GoodsMovementType"]).toBe(type);
    expect(checkAgainstEdmx(docModel, "A_MaterialDocumentHeader", body)).toEqual([]);
  });
});

describe("checkAgainstEdmx", () => {
  it("reports unknown properties, wrong types, lengths and decimal scale", () => {
    const issues = checkAgainstEdmx(confModel, "ProdnOrdConf2", {
      OrderID: "1234567890123",
      Colour: "red",
      ConfirmationYieldQuantity: "1.2345",
      IsFinalConfirmation: "X",
      PostingDate: "2026-03-02",
    });
    expect(issues.map((i) => i.message)).toMatchInlineSnapshot(`
      [
        "/OrderID has value "1234567890123": Edm.String MaxLength 12",
        "/Colour has value "red": ProdnOrdConf2Type has no property Colour",
        "/ConfirmationYieldQuantity has value "1.2345": Edm.Decimal Precision 13 Scale 3 as a JSON string",
        "/IsFinalConfirmation has value "X": Edm.Boolean is true or false",
        "/PostingDate has value "2026-03-02": Edm.DateTime is /Date(ms)/",
      ]
    `);
  });
});
