import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { clone, fixture, pointsIntoInput, testConfig } from "../test/helpers.js";
import { mapConfirmationGoodsMovements, mapMaterialDocument, mapMaterialDocumentItem } from "./map-material-movement.js";

const config = testConfig();
type Doc = { d: Record<string, unknown> & { to_MaterialDocumentItem: { results: Record<string, unknown>[] } } };

/** One user-entered item of the 321 fixture, changed for another movement type. */
function variant(type: string, extra: Record<string, unknown> = {}): Doc {
  const doc = clone(fixture("material-document-4900000123.json")) as Doc;
  const first = doc.d.to_MaterialDocumentItem.results[0] as Record<string, unknown>;
  doc.d.to_MaterialDocumentItem.results = [{ ...first, GoodsMovementType: type, ...extra }];
  return doc;
}

const summary = (doc: Doc) => {
  const [m] = mapMaterialDocument(doc, config)._unsafeUnwrap();
  return m === undefined ? undefined : { kind: m.kind, from: m.from?.stockType, to: m.to?.stockType, isReversal: m.isReversal, reverses: m.reverses };
};

describe("mapMaterialDocument", () => {
  it("maps the 321 usage-decision transfer and skips the automatic line", () => {
    expect(mapMaterialDocument(fixture("material-document-4900000123.json"), config)._unsafeUnwrap()).toMatchInlineSnapshot(`
      [
        {
          "batchId": "B2026-0301",
          "from": {
            "site": {
              "id": "1710",
            },
            "stockType": "quality_inspection",
            "storageLocation": "171A",
          },
          "kind": "status_changed",
          "material": {
            "id": "FG-4711",
          },
          "movementId": "2026/4900000123/0001",
          "occurredAt": "2026-03-03T09:41:05+01:00",
          "postingDate": "2026-03-03",
          "quantity": {
            "unit": "H87",
            "value": "20",
          },
          "reason": {
            "text": "UD lot 040000001234",
          },
          "revision": "0",
          "sourceMovementType": "321",
          "sourceRefs": [
            {
              "key": "MaterialDocumentYear=2026,MaterialDocument=4900000123,MaterialDocumentItem=0001",
              "kind": "A_MaterialDocumentItem",
              "system": "S4PCLNT100",
            },
          ],
          "to": {
            "site": {
              "id": "1710",
            },
            "stockType": "unrestricted",
            "storageLocation": "171A",
          },
        },
      ]
    `);
  });

  it("maps a goods issue and a goods receipt for a production order", () => {
    const movements = mapMaterialDocument(fixture("material-document-4900000200.json"), testConfig({ extensions: { namespace: "sap" } }))._unsafeUnwrap();
    expect(movements).toMatchInlineSnapshot(`
      [
        {
          "batchId": "C-88123",
          "extensions": {
            "sap": {
              "GoodsMovementCode": "03",
              "YY1_Shift_MMI": "B",
            },
          },
          "from": {
            "site": {
              "id": "1710",
            },
            "stockType": "unrestricted",
            "storageLocation": "171C",
          },
          "kind": "consumed",
          "material": {
            "id": "RM-CAST-22",
          },
          "movementId": "2026/4900000200/0001",
          "occurredAt": "2026-03-03T09:41:05+01:00",
          "order": {
            "componentItemId": "0000123456/0001",
            "orderId": "1000123",
          },
          "postingDate": "2026-03-03",
          "quantity": {
            "unit": "H87",
            "value": "125.000",
          },
          "revision": "0",
          "sourceMovementType": "261",
          "sourceRefs": [
            {
              "key": "MaterialDocumentYear=2026,MaterialDocument=4900000200,MaterialDocumentItem=0001",
              "kind": "A_MaterialDocumentItem",
              "system": "S4PCLNT100",
            },
          ],
        },
        {
          "batchId": "B2026-0301",
          "extensions": {
            "sap": {
              "GoodsMovementCode": "03",
            },
          },
          "kind": "produced",
          "material": {
            "id": "FG-4711",
          },
          "movementId": "2026/4900000200/0002",
          "occurredAt": "2026-03-03T09:41:05+01:00",
          "order": {
            "orderId": "1000123",
          },
          "postingDate": "2026-03-03",
          "quantity": {
            "unit": "H87",
            "value": "120.000",
          },
          "revision": "0",
          "sourceMovementType": "101",
          "sourceRefs": [
            {
              "key": "MaterialDocumentYear=2026,MaterialDocument=4900000200,MaterialDocumentItem=0002",
              "kind": "A_MaterialDocumentItem",
              "system": "S4PCLNT100",
            },
          ],
          "to": {
            "site": {
              "id": "1710",
            },
            "stockType": "quality_inspection",
            "storageLocation": "171A",
          },
        },
      ]
    `);
  });

  it.each([
    ["101", { InventoryStockType: "07" }, { kind: "produced", to: "blocked" }],
    ["102", {}, { kind: "produced", to: "unrestricted", isReversal: true }],
    ["261", {}, { kind: "consumed", from: "unrestricted" }],
    ["262", {}, { kind: "consumed", from: "unrestricted", isReversal: true }],
    ["311", { IssuingOrReceivingStorageLoc: "171B" }, { kind: "transferred", from: "unrestricted", to: "unrestricted" }],
    ["321", {}, { kind: "status_changed", from: "quality_inspection", to: "unrestricted" }],
    ["322", {}, { kind: "status_changed", from: "unrestricted", to: "quality_inspection" }],
    ["343", {}, { kind: "status_changed", from: "blocked", to: "unrestricted" }],
    ["344", {}, { kind: "status_changed", from: "unrestricted", to: "blocked" }],
    ["349", {}, { kind: "status_changed", from: "blocked", to: "quality_inspection" }],
    ["350", {}, { kind: "status_changed", from: "quality_inspection", to: "blocked" }],
    ["551", {}, { kind: "scrapped", from: "unrestricted" }],
    ["553", {}, { kind: "scrapped", from: "quality_inspection" }],
    ["555", {}, { kind: "scrapped", from: "blocked" }],
    ["556", {}, { kind: "scrapped", from: "blocked", isReversal: true }],
  ])("movement type %s %o", (type, extra, expected) => {
    expect(summary(variant(type, extra))).toEqual({ from: undefined, to: undefined, isReversal: undefined, reverses: undefined, ...expected });
  });

  it("keeps the reversed movement's direction for a referenced reversal (344 of a 343)", () => {
    const doc = variant("344", { ReversedMaterialDocumentYear: "2026", ReversedMaterialDocument: "4900000100", ReversedMaterialDocumentItem: "1" });
    expect(summary(doc)).toEqual({ kind: "status_changed", from: "blocked", to: "unrestricted", isReversal: true, reverses: "2026/4900000100/0001" });
  });

  it("rejects an unknown movement type unless it is configured", () => {
    const error = mapMaterialDocument(variant("Z91"), config)._unsafeUnwrapErr();
    expect(error.message).toMatchInlineSnapshot(`"/d/to_MaterialDocumentItem/results/0/GoodsMovementType has value "Z91": movement type not in the configured movementTypes table"`);
    const configured = testConfig({ movementTypes: { Z91: { kind: "adjusted", direction: "decrease", from: "unrestricted" } } });
    const [m] = mapMaterialDocument(variant("Z91"), configured)._unsafeUnwrap();
    expect(m?.kind).toBe("adjusted");
    expect(m?.direction).toBe("decrease");
  });

  it("maps a single item with the header passed separately", () => {
    const doc = fixture("material-document-4900000123.json") as Doc;
    const item = doc.d.to_MaterialDocumentItem.results[0];
    const { to_MaterialDocumentItem: _items, ...header } = doc.d;
    const m = mapMaterialDocumentItem({ d: item }, header, config)._unsafeUnwrap();
    expect(m?.movementId).toBe("2026/4900000123/0001");
    expect(mapMaterialDocumentItem(item, undefined, config)._unsafeUnwrapErr().code).toBe("missing_property");
  });

  it.each([
    ["results null", { results: null }, "/d/to_MaterialDocumentItem/results"],
    ["an empty object", {}, "/d/to_MaterialDocumentItem"],
    ["a paged list (__next)", { results: [], __next: "A_MaterialDocumentHeader(MaterialDocumentYear='2026',MaterialDocument='4900000123')/to_MaterialDocumentItem?$skiptoken=1" }, "/d/to_MaterialDocumentItem/__next"],
  ])("reports items holding %s at a path of the input, never a partial document", (_name, value, path) => {
    const doc = clone(fixture("material-document-4900000123.json")) as Record<string, Record<string, unknown>>;
    (doc["d"] as Record<string, unknown>)["to_MaterialDocumentItem"] = value;
    const error = mapMaterialDocument(doc, config)._unsafeUnwrapErr();
    expect(error.path).toBe(path);
    expect(error.code !== "invalid_entity" && error.issues.every((i) => pointsIntoInput(doc, i))).toBe(true);
  });

  it("reports an expanded header that is not an entity, at its path", () => {
    const doc = fixture("material-document-4900000123.json") as Doc;
    const item = { ...doc.d.to_MaterialDocumentItem.results[0], to_MaterialDocumentHeader: { results: null } };
    const error = mapMaterialDocumentItem({ d: item }, undefined, config)._unsafeUnwrapErr();
    expect(error.path).toBe("/d/to_MaterialDocumentHeader/results");
  });

  it("never throws and is deterministic on arbitrary input and on arbitrary item values", () => {
    fc.assert(
      fc.property(fc.anything(), (input) => {
        expect(mapMaterialDocument(input, config)).toEqual(mapMaterialDocument(input, config));
      }),
      { numRuns: 200 },
    );
    const base = variant("311", { IssuingOrReceivingStorageLoc: "171B" });
    const keys = Object.keys(base.d.to_MaterialDocumentItem.results[0] ?? {});
    fc.assert(
      fc.property(fc.constantFrom(...keys), fc.anything(), (key, value) => {
        const doc = clone(base);
        (doc.d.to_MaterialDocumentItem.results[0] as Record<string, unknown>)[key] = value;
        expect(mapMaterialDocument(doc, config)).toEqual(mapMaterialDocument(doc, config));
      }),
      { numRuns: 300 },
    );
  });
});

describe("mapConfirmationGoodsMovements", () => {
  it("maps the goods receipt a confirmation posted, with the confirmation's posting date and operation", () => {
    const movements = mapConfirmationGoodsMovements(fixture("production-confirmation-12345-3.json"), config)._unsafeUnwrap();
    expect(movements).toMatchInlineSnapshot(`
      [
        {
          "batchId": "B2026-0301",
          "kind": "produced",
          "material": {
            "id": "FG-4711",
          },
          "movementId": "2026/4900000300/0001",
          "order": {
            "operationId": "0010",
            "orderId": "1000123",
          },
          "postingDate": "2026-03-02",
          "quantity": {
            "unit": "H87",
            "value": "120",
          },
          "revision": "0",
          "sourceMovementType": "101",
          "sourceRefs": [
            {
              "key": "MaterialDocumentYear=2026,MaterialDocument=4900000300,MaterialDocumentItem=0001",
              "kind": "A_MaterialDocumentItem",
              "system": "S4PCLNT100",
            },
          ],
          "to": {
            "site": {
              "id": "1710",
            },
            "stockType": "unrestricted",
            "storageLocation": "171A",
          },
        },
      ]
    `);
  });

  it("reports a paged goods-movement list instead of mapping part of it", () => {
    const conf = clone(fixture("production-confirmation-12345-3.json")) as { d: Record<string, Record<string, unknown>> };
    (conf.d["to_ProdnOrdConfMatlDocItm"] as Record<string, unknown>)["__next"] = "ProdnOrdConf2(ConfirmationGroup='12345',ConfirmationCount='3')/to_ProdnOrdConfMatlDocItm?$skiptoken=1";
    expect(mapConfirmationGoodsMovements(conf, config)._unsafeUnwrapErr().path).toBe("/d/to_ProdnOrdConfMatlDocItm/__next");
  });

  it("never throws and is deterministic", () => {
    fc.assert(
      fc.property(fc.anything(), (input) => {
        expect(mapConfirmationGoodsMovements(input, config)).toEqual(mapConfirmationGoodsMovements(input, config));
      }),
      { numRuns: 100 },
    );
  });
});

describe("code tables are looked up as data, not as object members", () => {
  // A movement type or unit named like a member every object has must be unmapped, not "found".
  for (const name of ["constructor", "__proto__", "toString", "hasOwnProperty"]) {
    it(`GoodsMovementType ${JSON.stringify(name)} is unmapped`, () => {
      const mapped = mapMaterialDocument(variant(name), config);
      expect(mapped._unsafeUnwrapErr()).toMatchObject({ code: "unknown_movement_type" });
    });
    it(`EntryUnit ${JSON.stringify(name)} is unmapped`, () => {
      const mapped = mapMaterialDocument(variant("321", { EntryUnit: name, EntryUnitISOCode: name, EntryUnitSAPCode: name }), config);
      expect(mapped._unsafeUnwrapErr()).toMatchObject({ code: "unknown_unit" });
    });
  }
});
