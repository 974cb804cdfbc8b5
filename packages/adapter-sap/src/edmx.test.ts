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

  it("refuses OData V4 metadata instead of half-reading it", () => {
    const v4 = `<?xml version="1.0" encoding="utf-8"?>
<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">
  <edmx:DataServices>
    <Schema Namespace="com.sap.gateway.srvd_a2x.api_production_order_2.v0001" xmlns="http://docs.oasis-open.org/odata/ns/edm">
      <EntityType Name="ProductionOrderType"><Key><PropertyRef Name="ManufacturingOrder"/></Key>
        <Property Name="ManufacturingOrder" Type="Edm.String" Nullable="false" MaxLength="12"/>
        <NavigationProperty Name="_Operation" Type="Collection(com.sap.gateway.srvd_a2x.api_production_order_2.v0001.OperationType)"/>
      </EntityType>
      <EntityContainer Name="Container"><EntitySet Name="ProductionOrder" EntityType="com.sap.gateway.srvd_a2x.api_production_order_2.v0001.ProductionOrderType"/></EntityContainer>
    </Schema>
  </edmx:DataServices>
</edmx:Edmx>`;
    const error = parseEdmx(v4)._unsafeUnwrapErr();
    expect(error.path).toBe("/Edmx/@Version");
    expect(error.message).toMatchInlineSnapshot(`"OData V4 metadata (edmx:Edmx Version="4.0") is not supported; this adapter targets the OData V2 APIs (API_PRODUCTION_ORDER_2_SRV, API_MATERIAL_DOCUMENT_SRV, API_PROD_ORDER_CONFIRMATION_2_SRV, API_INSPECTIONLOT_SRV), whose $metadata is edmx:Edmx Version="1.0""`);
    expect(parseEdmx(v4.replace('Version="4.0"', 'Version="4.01"'))._unsafeUnwrapErr().path).toBe("/Edmx/@Version");
    expect(parseEdmx(v4.replace(' Version="4.0"', ""))._unsafeUnwrapErr().message).toMatchInlineSnapshot(`"edmx:Edmx Version is missing: OData V2 metadata has Version="1.0""`);
  });

  it("reads function imports with their parameters", () => {
    const model = loadModel("API_MATERIAL_DOCUMENT_SRV");
    expect(model.functionImports["Cancel"]).toMatchInlineSnapshot(`
      {
        "entitySet": "A_MaterialDocumentHeader",
        "httpMethod": "POST",
        "name": "Cancel",
        "parameters": [
          {
            "maxLength": 4,
            "name": "MaterialDocumentYear",
            "nullable": true,
            "type": "Edm.String",
          },
          {
            "maxLength": 10,
            "name": "MaterialDocument",
            "nullable": true,
            "type": "Edm.String",
          },
          {
            "name": "PostingDate",
            "nullable": true,
            "precision": 0,
            "type": "Edm.DateTime",
          },
        ],
        "returnType": "API_MATERIAL_DOCUMENT_SRV.A_MaterialDocumentHeaderType",
      }
    `);
    expect(Object.keys(loadModel("API_PROD_ORDER_CONFIRMATION_2_SRV").functionImports)).toContain("CancelProdnOrdConf");
  });
});
