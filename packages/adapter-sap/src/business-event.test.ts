import { afterEach, describe, expect, it } from "vitest";
import { clone, fixture, testConfig } from "../test/helpers.js";
import { startSap } from "../test/sap-system.js";
import { handleProductionOrderEvent, parseSapEventType } from "./business-event.js";
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
    expect(noKey._unsafeUnwrapErr().message).toMatchInlineSnapshot(`"/data/ManufacturingOrder has value undefined: the order number (String 12)"`);
  });
});
