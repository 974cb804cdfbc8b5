import type { MaterialMovement, ProductionConfirmation, QualityHold } from "@millwright/model";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { loadModel } from "../test/metadata.js";
import { fixture, testConfig } from "../test/helpers.js";
import { buildConfirmationCancel, buildConfirmationCreate, buildHoldTransferPosting, buildMaterialDocumentCancel, buildMaterialDocumentCreate, confirmationExternalId } from "./build.js";
import { createSapConfig } from "./config.js";
import { checkAgainstEdmx, checkFunctionImport } from "./edmx-check.js";
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
    const body = buildConfirmationCreate(confirmation, config, { unit: "ST" })._unsafeUnwrap();
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
    expect(buildConfirmationCreate(confirmation, config, { unit: "ST" })._unsafeUnwrap()).toEqual(body);
    expect(checkAgainstEdmx(confModel, "ProdnOrdConf2", body)).toEqual([]);
  });

  it("keeps an existing externalId and round-trips the mapped SAP fixture", () => {
    const mapped = mapProductionConfirmation(fixture("production-confirmation-12345-3.json"), config)._unsafeUnwrap();
    expect(confirmationExternalId(mapped, config)).toBe("3f6c2a9e-8b1d-5e4f-9a7c-2d1e0b3c4f5a");
    const body = buildConfirmationCreate(mapped, config, { unit: "ST" })._unsafeUnwrap();
    expect(checkAgainstEdmx(confModel, "ProdnOrdConf2", body)).toEqual([]);
    const back = mapProductionConfirmation({ ...body, ConfirmationGroup: "12345", ConfirmationCount: "3" }, config)._unsafeUnwrap();
    expect({ ...back, outputBatch: mapped.outputBatch }).toEqual({ ...mapped, varianceReason: mapped.varianceReason, text: mapped.text });
  });

  it("rejects a reversal and a too-long text", () => {
    expect(buildConfirmationCreate({ ...confirmation, reverses: "X/1" }, config, { unit: "ST" })._unsafeUnwrapErr().message).toMatchInlineSnapshot(`"/reverses has value "X/1": a cancellation is posted with SAP's CancelProdnOrdConf function (buildConfirmationCancel), not as a create"`);
    expect(buildConfirmationCreate({ ...confirmation, text: "x".repeat(41) }, config, { unit: "ST" })._unsafeUnwrapErr().code).toBe("too_long");
    // One ConfirmationUnit carries yield, scrap and rework: a scrap in another unit is refused, not written in the yield's unit.
    expect(buildConfirmationCreate({ ...confirmation, scrapQuantity: { value: "0.4", unit: "KGM" } }, config, { unit: "ST" })._unsafeUnwrapErr().message).toMatchInlineSnapshot(`"/scrapQuantity/unit has value "KGM": ProdnOrdConf2 has one ConfirmationUnit: scrapQuantity is in the unit of yieldQuantity (H87)"`);
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
        const body = buildConfirmationCreate(rest, config, { unit: "ST" })._unsafeUnwrap();
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
    const gr = buildMaterialDocumentCreate([receipt], config, { entryUnits: ["ST"] })._unsafeUnwrap();
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
    const gi = buildMaterialDocumentCreate([issue], config, { entryUnits: ["ST"] })._unsafeUnwrap();
    expect(gi["GoodsMovementCode"]).toBe("03");
    expect(checkAgainstEdmx(docModel, "A_MaterialDocumentHeader", gi)).toEqual([]);
    expect(buildMaterialDocumentCreate(movements, config, { entryUnits: ["ST", "ST"] })._unsafeUnwrapErr().message).toMatchInlineSnapshot(`"/1/kind has value "produced": every movement of one document has GoodsMovementCode 03"`);
  });

  it("derives the movement type from kind and stock types when none is given", () => {
    const [m] = mapMaterialDocument(fixture("material-document-4900000123.json"), config)._unsafeUnwrap();
    const { sourceMovementType: _t, ...rest } = m as MaterialMovement;
    const body = buildMaterialDocumentCreate([rest], config, { entryUnits: ["ST"] })._unsafeUnwrap();
    expect(body.to_MaterialDocumentItem.results[0]?.["GoodsMovementType"]).toBe("321");
    expect(checkAgainstEdmx(docModel, "A_MaterialDocumentHeader", body)).toEqual([]);
  });
});

describe("other reverse mappings of the builders", () => {
  it("refuses to pick one of several movement types or stock type codes, naming the candidates", () => {
    const [, receipt] = mapMaterialDocument(fixture("material-document-4900000200.json"), config)._unsafeUnwrap() as [MaterialMovement, MaterialMovement];
    const { sourceMovementType: _t, ...derived } = receipt;
    const twoReceipts = testConfig({ movementTypes: { "521": { kind: "produced", to: "item" } } });
    const type = buildMaterialDocumentCreate([derived], twoReceipts, { entryUnits: ["ST"] })._unsafeUnwrapErr();
    expect(type.message).toMatchInlineSnapshot(`"/0/sourceMovementType is missing: several configured movement types give this kind and these stock types (101, 521): set sourceMovementType"`);
    expect(type.candidates).toEqual(["101", "521"]);
    const twoCodes = testConfig({ inventoryStockTypes: { "03": "quality_inspection" } });
    expect(buildMaterialDocumentCreate([receipt], twoCodes, { entryUnits: ["ST"] })._unsafeUnwrapErr().message).toMatchInlineSnapshot(`"/0/to/stockType has value "quality_inspection": several InventoryStockType codes are configured for this stock type (02, 03): the builder does not pick one"`);
    const noCode = testConfig({ inventoryStockTypes: { "02": "blocked" } });
    expect(buildMaterialDocumentCreate([receipt], noCode, { entryUnits: ["ST"] })._unsafeUnwrapErr().message).toMatchInlineSnapshot(`"/0/to/stockType has value "quality_inspection": no InventoryStockType code is configured for this stock type (inventoryStockTypes)"`);
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
    const body = buildHoldTransferPosting(h, config, { postingDate: "2026-03-03", unit: "ST" })._unsafeUnwrap();
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

describe("outbound units", () => {
  const piecesOrder = { ...confirmation, yieldQuantity: { value: "120.000", unit: "H87" }, scrapQuantity: { value: "2.000", unit: "H87" } };

  it("writes the SAP unit the builder is given (the order's unit as SAP sent it), not the first table entry", () => {
    // An order in PC (ProductionUnit "PC", ISO PCE) maps to H87; the confirmation must go back in PC.
    const body = buildConfirmationCreate(piecesOrder, config, { unit: "PC" })._unsafeUnwrap();
    expect(body["ConfirmationUnit"]).toBe("PC");
    const [, receipt] = mapMaterialDocument(fixture("material-document-4900000200.json"), config)._unsafeUnwrap() as [MaterialMovement, MaterialMovement];
    const doc = buildMaterialDocumentCreate([receipt], config, { entryUnits: ["PC"] })._unsafeUnwrap();
    expect(doc.to_MaterialDocumentItem.results[0]?.["EntryUnit"]).toBe("PC");
  });

  it("refuses to pick one of several SAP units of a Rec 20 code, naming the code and the candidates", () => {
    const error = buildConfirmationCreate(piecesOrder, config)._unsafeUnwrapErr();
    expect(error.code).toBe("ambiguous_unit");
    expect(error.message).toMatchInlineSnapshot(`"/yieldQuantity/unit has value "H87": H87 is the Rec 20 code of several SAP units (ST, PC): pass the unit SAP sent (options.unit) or configure outboundUnits.H87"`);
    const [, receipt] = mapMaterialDocument(fixture("material-document-4900000200.json"), config)._unsafeUnwrap() as [MaterialMovement, MaterialMovement];
    expect(buildMaterialDocumentCreate([receipt], config)._unsafeUnwrapErr().path).toBe("/0/quantity/unit");
  });

  it("uses the configured outbound unit of a Rec 20 code, and a unique reverse mapping as it is", () => {
    const c = testConfig({ outboundUnits: { H87: "PC" } });
    expect(buildConfirmationCreate(piecesOrder, c)._unsafeUnwrap()["ConfirmationUnit"]).toBe("PC");
    const kilos = { ...confirmation, yieldQuantity: { value: "12.5", unit: "KGM" }, scrapQuantity: { value: "0.5", unit: "KGM" } };
    expect(buildConfirmationCreate(kilos, config)._unsafeUnwrap()["ConfirmationUnit"]).toBe("KG");
  });

  it("rejects a given SAP unit that the unit table maps to another Rec 20 code", () => {
    expect(buildConfirmationCreate(piecesOrder, config, { unit: "KG" })._unsafeUnwrapErr().message).toMatchInlineSnapshot(`"/yieldQuantity/unit has value "H87": options.unit KG is the SAP unit of KGM in the unit table, not of H87"`);
  });

  it("rejects an outbound unit the unit table maps to another code", () => {
    const bad = createSapConfig({ system: "S4PCLNT100", timeZone: "Europe/Berlin", outboundUnits: { H87: "KG" } });
    expect(bad._unsafeUnwrapErr().message).toMatchInlineSnapshot(`"/outboundUnits/H87 has value "KG": the unit table maps SAP unit KG to KGM, not to H87"`);
  });

  it("needs an explicit unit for a hold transfer posting in pieces", () => {
    const hold = mapInspectionLot({ lot: fixture("inspection-lot-040000001234.json"), usageDecision: fixture("inspection-lot-usage-decision-040000001234.json") }, config)._unsafeUnwrap();
    expect(buildHoldTransferPosting(hold, config, { postingDate: "2026-03-03" })._unsafeUnwrapErr().code).toBe("ambiguous_unit");
    const body = buildHoldTransferPosting(hold, config, { postingDate: "2026-03-03", unit: "ST" })._unsafeUnwrap();
    expect(body.to_MaterialDocumentItem.results[0]?.["EntryUnit"]).toBe("ST");
  });
});

describe("reversals and cancellations", () => {
  const movements = () => mapMaterialDocument(fixture("material-document-4900000200.json"), config)._unsafeUnwrap() as [MaterialMovement, MaterialMovement];

  it("refuses a canonical reversal as a create, naming the field and the rule", () => {
    const [issue] = movements();
    const reversal: MaterialMovement = { ...issue, movementId: "2026/4900000201/0001", isReversal: true, reverses: issue.movementId, sourceMovementType: "262", postingDate: "2026-03-04" };
    const error = buildMaterialDocumentCreate([reversal], config, { entryUnits: ["ST"] })._unsafeUnwrapErr();
    expect(error.path).toBe("/0/reverses");
    expect(error.message).toMatchInlineSnapshot(`"/0/reverses has value "2026/4900000200/0001": a reversal of a posted movement is posted with SAP's Cancel or CancelItem function (buildMaterialDocumentCancel), which keeps the link to the original; a create would post an unlinked movement"`);
  });

  it("still builds an unreferenced reversal type (a 262 return of components) as a create", () => {
    const [issue] = movements();
    const back: MaterialMovement = { ...issue, movementId: "2026/4900000202/0001", isReversal: true, sourceMovementType: "262" };
    const body = buildMaterialDocumentCreate([back], config, { entryUnits: ["ST"] })._unsafeUnwrap();
    expect(body.to_MaterialDocumentItem.results[0]?.["GoodsMovementType"]).toBe("262");
  });

  it("builds the CancelItem / Cancel function import call of API_MATERIAL_DOCUMENT_SRV for a canonical reversal", () => {
    const [issue] = movements();
    const reversal: MaterialMovement = { ...issue, movementId: "2026/4900000201/0001", isReversal: true, reverses: issue.movementId, postingDate: "2026-03-04" };
    expect(buildMaterialDocumentCancel(reversal)._unsafeUnwrap()).toMatchInlineSnapshot(`
      {
        "functionImport": "CancelItem",
        "method": "POST",
        "parameters": {
          "MaterialDocument": "'4900000200'",
          "MaterialDocumentItem": "'0001'",
          "MaterialDocumentYear": "'2026'",
          "PostingDate": "datetime'2026-03-04T00:00:00'",
        },
        "path": "CancelItem?MaterialDocumentYear='2026'&MaterialDocument='4900000200'&MaterialDocumentItem='0001'&PostingDate=datetime'2026-03-04T00%3A00%3A00'",
      }
    `);
    expect(buildMaterialDocumentCancel(reversal, { scope: "document" })._unsafeUnwrap().path).toMatchInlineSnapshot(`"Cancel?MaterialDocumentYear='2026'&MaterialDocument='4900000200'&PostingDate=datetime'2026-03-04T00%3A00%3A00'"`);
    expect(checkFunctionImport(docModel, buildMaterialDocumentCancel(reversal)._unsafeUnwrap())).toEqual([]);
    expect(buildMaterialDocumentCancel(issue)._unsafeUnwrapErr().message).toMatchInlineSnapshot(`"/reverses is missing: a cancellation names the movement it reverses (reverses); post a reversal type on its own with buildMaterialDocumentCreate"`);
    expect(buildMaterialDocumentCancel({ ...reversal, reverses: "MES-42" })._unsafeUnwrapErr().message).toMatchInlineSnapshot(`"/reverses has value "MES-42": reverses is the movementId of a SAP material document item, MaterialDocumentYear/MaterialDocument/MaterialDocumentItem (e.g. 2026/4900000123/0001)"`);
  });

  it("builds the CancelProdnOrdConf call for a cancelling confirmation", () => {
    const cancel: ProductionConfirmation = { ...confirmation, confirmationId: "MES-4711-0010-3-X", reverses: "0000012345/00000003", text: "wrong count" };
    const request = buildConfirmationCancel(cancel, config)._unsafeUnwrap();
    expect(request).toMatchInlineSnapshot(`
      {
        "functionImport": "CancelProdnOrdConf",
        "method": "POST",
        "parameters": {
          "ConfirmationCount": "'00000003'",
          "ConfirmationGroup": "'0000012345'",
          "ConfirmationText": "'wrong count'",
          "ExternalSystemConfirmation": "guid'22024d9a-7642-55fb-b363-6c60d747b9dd'",
          "PostingDate": "datetime'2026-03-02T00:00:00'",
        },
        "path": "CancelProdnOrdConf?ConfirmationGroup='0000012345'&ConfirmationCount='00000003'&PostingDate=datetime'2026-03-02T00%3A00%3A00'&ConfirmationText='wrong%20count'&ExternalSystemConfirmation=guid'22024d9a-7642-55fb-b363-6c60d747b9dd'",
      }
    `);
    expect(checkFunctionImport(confModel, request)).toEqual([]);
    expect(buildConfirmationCancel(confirmation, config)._unsafeUnwrapErr().message).toMatchInlineSnapshot(`"/reverses is missing: a cancellation names the confirmation it cancels (reverses)"`);
    expect(buildConfirmationCancel({ ...cancel, reverses: "MES-4711-0010-3" }, config)._unsafeUnwrapErr().message).toMatchInlineSnapshot(`"/reverses has value "MES-4711-0010-3": reverses is the SAP key ConfirmationGroup/ConfirmationCount of the cancelled confirmation (e.g. 0000012345/00000003); pass options.cancels when it is another system's id"`);
    const sapKey = buildConfirmationCancel({ ...cancel, reverses: "MES-4711-0010-3" }, config, { cancels: { confirmationGroup: "12345", confirmationCount: "3" } })._unsafeUnwrap();
    expect(sapKey.parameters).toEqual(request.parameters);
  });
});
