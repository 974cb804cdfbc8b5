import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { clone, fixture, testConfig } from "../test/helpers.js";
import { mapProductionConfirmation } from "./map-production-confirmation.js";

const config = testConfig();
type Wire = { d: Record<string, unknown> };
const conf = () => clone(fixture("production-confirmation-12345-3.json")) as Wire;

describe("mapProductionConfirmation", () => {
  it("maps the confirmation fixture with its goods receipt batch", () => {
    expect(mapProductionConfirmation(conf(), config)._unsafeUnwrap()).toMatchInlineSnapshot(`
      {
        "confirmationId": "0000012345/00000003",
        "executionEnd": "2026-03-02T10:30:00+01:00",
        "executionStart": "2026-03-02T06:12:40+01:00",
        "externalId": "3f6c2a9e-8b1d-5e4f-9a7c-2d1e0b3c4f5a",
        "isFinal": false,
        "order": {
          "operationId": "0010",
          "orderId": "1000123",
        },
        "outputBatch": {
          "batchId": "B2026-0301",
          "material": {
            "id": "FG-4711",
          },
          "site": {
            "id": "1710",
          },
        },
        "postingDate": "2026-03-02",
        "revision": "0",
        "reworkQuantity": {
          "unit": "H87",
          "value": "0",
        },
        "scrapQuantity": {
          "unit": "H87",
          "value": "2",
        },
        "site": {
          "id": "1710",
        },
        "sourceRefs": [
          {
            "key": "ConfirmationGroup=0000012345,ConfirmationCount=00000003",
            "kind": "ProdnOrdConf2",
            "system": "S4PCLNT100",
          },
        ],
        "varianceReason": {
          "code": "0002",
        },
        "workCenter": {
          "id": "MILL-01",
          "level": "work_center",
          "site": {
            "id": "1710",
          },
        },
        "yieldQuantity": {
          "unit": "H87",
          "value": "120",
        },
      }
    `);
  });

  it("needs the cancelled id for a reversal", () => {
    const c = conf();
    c.d["IsReversal"] = true;
    c.d["ConfirmationCount"] = "4";
    expect(mapProductionConfirmation(c, config)._unsafeUnwrapErr().message).toMatchInlineSnapshot(`"/d/IsReversal has value true: a reversal confirmation needs the cancelled confirmation id (options.reverses): SAP does not name it"`);
    expect(mapProductionConfirmation(c, config, { reverses: "0000012345/00000003" })._unsafeUnwrap().reverses).toBe("0000012345/00000003");
  });

  it("copies the documented extension properties when configured", () => {
    const mapped = mapProductionConfirmation(conf(), testConfig({ extensions: { namespace: "sap" } }))._unsafeUnwrap();
    expect(mapped.extensions).toEqual({ sap: { OpConfirmedWorkQuantity1: "4.300", Personnel: "0", Sequence: "0" } });
  });

  it("never throws and is deterministic", () => {
    const base = conf();
    fc.assert(
      fc.property(fc.constantFrom(...Object.keys(base.d)), fc.anything(), (key, value) => {
        const c = clone(base);
        c.d[key] = value;
        expect(mapProductionConfirmation(c, config)).toEqual(mapProductionConfirmation(c, config));
      }),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(fc.anything(), (input) => {
        expect(mapProductionConfirmation(input, config)).toEqual(mapProductionConfirmation(input, config));
      }),
      { numRuns: 100 },
    );
  });
});
