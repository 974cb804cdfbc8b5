import { afterEach, describe, expect, it } from "vitest";
import { clone, fixture, testConfig } from "../test/helpers.js";
import { startSap } from "../test/sap-system.js";
import { handleInspectionLotEvent, handleMaterialDocumentEvent, handleProductionOrderEvent, parseSapEventType } from "./business-event.js";
import { createSapClient } from "./client.js";
import type { TestSapServer } from "./test-server/index.js";

const PO = "API_PRODUCTION_ORDER_2_SRV";
let sap: TestSapServer | undefined;
afterEach(async () => {
  await sap?.close();
  sap = undefined;
});

const sapEvent = {
  specversion: "1.0",
  type: "sap.s4.beh.productionorder.v1.ProductionOrder.Released.v1",
  source: "/default/sap.s4.beh/S4PCLNT100",
  id: "a823e884-5edc-4194-a81a-f3a3632417ee",
  time: "2026-03-02T06:15:30Z",
  data: { ManufacturingOrder: "1000123" },
};

describe("SAP business events", () => {
  it("splits SAP event types", () => {
    expect(parseSapEventType(sapEvent.type)._unsafeUnwrap()).toEqual({ object: "productionorder", objectVersion: "v1", entity: "ProductionOrder", action: "Released", actionVersion: "v1" });
    expect(parseSapEventType("dev.millwright.workorder.released.v1")._unsafeUnwrapErr().message).toMatchInlineSnapshot(`"/type has value "dev.millwright.workorder.released.v1": sap.s4.beh.<object>.v<n>.<Entity>.<Action>.v<n>"`);
  });

  it("fetches the order by key, maps it, and gives a redelivered event the same canonical id", async () => {
    sap = await startSap();
    const { __metadata: _m, ...row } = clone((fixture("production-order-1000123.json") as { d: Record<string, unknown> }).d);
    sap.seed(PO, "A_ProductionOrder_2", [row]);
    const options = { client: createSapClient({ serviceUrl: sap.serviceUrl(PO), baseDelayMs: 1 }), config: testConfig(), source: "urn:millwright:sap:S4PCLNT100", keyProperty: "ManufacturingOrder" };
    const first = (await handleProductionOrderEvent(sapEvent, options))._unsafeUnwrap();
    const again = (await handleProductionOrderEvent({ ...sapEvent, id: "another-delivery" }, options))._unsafeUnwrap();
    expect(again.id).toBe(first.id);
    expect([first.type, first.subject, first.sequence]).toEqual(["dev.millwright.workorder.started.v1", "1000123", "00000020260302071530"]);
    const missing = await handleProductionOrderEvent({ ...sapEvent, data: { ManufacturingOrder: "999" } }, options);
    expect(missing._unsafeUnwrapErr().code).toBe("http_error");
    const noKey = await handleProductionOrderEvent({ ...sapEvent, data: {} }, options);
    expect(noKey._unsafeUnwrapErr().message).toMatchInlineSnapshot(`"/data/ManufacturingOrder is missing: the order number (String 12)"`);
  });

  it("reads a material document by its keys and emits one canonical event per item, the same ids on redelivery", async () => {
    sap = await startSap();
    const { __metadata: _m, ...row } = clone((fixture("material-document-4900000123.json") as { d: Record<string, unknown> }).d);
    sap.seed("API_MATERIAL_DOCUMENT_SRV", "A_MaterialDocumentHeader", [row]);
    const documentEvent = {
      ...sapEvent,
      type: "sap.s4.beh.materialdocument.v1.MaterialDocument.Created.v1",
      data: { MaterialDocument: "4900000123", MaterialDocumentYear: "2026" },
    };
    const options = { client: createSapClient({ serviceUrl: sap.serviceUrl("API_MATERIAL_DOCUMENT_SRV"), baseDelayMs: 1 }), config: testConfig(), source: "urn:millwright:sap:S4PCLNT100" };
    const first = (await handleMaterialDocumentEvent(documentEvent, options))._unsafeUnwrap();
    // One event per item the user entered; SAP's automatically created counter-line of a transfer is not a movement of its own.
    const entered = (row["to_MaterialDocumentItem"] as { results: { IsAutomaticallyCreated: string }[] }).results.filter((i) => i.IsAutomaticallyCreated !== "X");
    expect(first).toHaveLength(entered.length);
    expect(entered.length).toBeGreaterThan(0);
    expect(first.every((e) => e.type.startsWith("dev.millwright.materialmovement."))).toBe(true);
    const again = (await handleMaterialDocumentEvent({ ...documentEvent, id: "redelivered" }, options))._unsafeUnwrap();
    expect(again.map((e) => e.id)).toEqual(first.map((e) => e.id));
    const wrongObject = await handleMaterialDocumentEvent(sapEvent, options);
    expect(wrongObject._unsafeUnwrapErr().message).toMatchInlineSnapshot(`"/type has value "sap.s4.beh.productionorder.v1.ProductionOrder.Released.v1": a material document event (sap.s4.beh.materialdocument…)"`);
    const noYear = await handleMaterialDocumentEvent({ ...documentEvent, data: { MaterialDocument: "4900000123" } }, options);
    expect(noYear._unsafeUnwrapErr().message).toMatchInlineSnapshot(`"/data/MaterialDocumentYear is missing: the material document year (String 4)"`);
  });

  it("reads an inspection lot and its usage decision and emits the hold event for its status", async () => {
    sap = await startSap();
    const { __metadata: _l, ...lot } = clone((fixture("inspection-lot-040000001234.json") as { d: Record<string, unknown> }).d);
    const { __metadata: _u, ...decision } = clone((fixture("inspection-lot-usage-decision-040000001234.json") as { d: Record<string, unknown> }).d);
    sap.seed("API_INSPECTIONLOT_SRV", "A_InspectionLot", [lot]);
    sap.seed("API_INSPECTIONLOT_SRV", "A_InspLotUsageDecision", [decision]);
    const lotEvent = { ...sapEvent, type: "sap.s4.beh.inspectionlot.v1.InspectionLot.Changed.v1", data: { InspectionLot: String(lot["InspectionLot"]) } };
    const options = { client: createSapClient({ serviceUrl: sap.serviceUrl("API_INSPECTIONLOT_SRV"), baseDelayMs: 1 }), config: testConfig(), source: "urn:millwright:sap:S4PCLNT100" };
    const first = (await handleInspectionLotEvent(lotEvent, options))._unsafeUnwrap();
    expect(first.type).toBe("dev.millwright.qualityhold.released.v1");
    expect(first.subject).toBe(String(lot["InspectionLot"]).padStart(12, "0")); // ALPHA: all-numeric keys padded to MaxLength 12
    const again = (await handleInspectionLotEvent({ ...lotEvent, id: "redelivered" }, options))._unsafeUnwrap();
    expect(again.id).toBe(first.id);
    const bad = await handleInspectionLotEvent({ ...lotEvent, data: { InspectionLot: "LOT-1" } }, options);
    expect(bad._unsafeUnwrapErr().message).toMatchInlineSnapshot(`"/data/InspectionLot has value "LOT-1": the inspection lot number (String 12, digits)"`);
  });
});
