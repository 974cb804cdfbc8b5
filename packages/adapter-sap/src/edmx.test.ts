import { describe, expect, it } from "vitest";
import { loadModel, readEdmx, SERVICES } from "../test/metadata.js";
import { entityTypeOf, parseEdmx } from "./edmx.js";

describe("parseEdmx", () => {
  it.each(SERVICES)("reads %s", (service) => {
    const model = parseEdmx(readEdmx(service))._unsafeUnwrap();
    expect(model.namespace).toBe(service);
    expect(Object.keys(model.entitySets).length).toBeGreaterThan(1);
  });

  it("gives keys, Edm types, MaxLength, Precision/Scale and navigations", () => {
    const model = loadModel("API_PRODUCTION_ORDER_2_SRV");
    const order = entityTypeOf(model, "A_ProductionOrder_2");
    expect(order?.keys).toEqual(["ManufacturingOrder"]);
    expect(order?.properties["ManufacturingOrder"]).toEqual({ name: "ManufacturingOrder", type: "Edm.String", nullable: false, maxLength: 12, displayFormat: "UpperCase" });
    expect(order?.properties["TotalQuantity"]).toMatchObject({ type: "Edm.Decimal", precision: 13, scale: 3 });
    expect(order?.properties["LastChangeDateTime"]).toMatchObject({ type: "Edm.String", maxLength: 14 });
    expect(order?.navigations["to_ProductionOrderOperation"]).toEqual({ name: "to_ProductionOrderOperation", toType: "A_ProductionOrderOperation_2Type", many: true });
    const conf = entityTypeOf(loadModel("API_PROD_ORDER_CONFIRMATION_2_SRV"), "ProdnOrdConf2");
    expect(conf?.keys).toEqual(["ConfirmationGroup", "ConfirmationCount"]);
    expect(conf?.properties["ExternalSystemConfirmation"]?.type).toBe("Edm.Guid");
  });

  it("rejects text that is not XML", () => {
    expect(parseEdmx("<edmx:Edmx><unclosed>")._unsafeUnwrapErr().code).toBe("invalid_edmx");
    expect(parseEdmx("<a/>")._unsafeUnwrapErr().message).toMatchInlineSnapshot(`"EDMX has no Schema with a Namespace"`);
  });
});
