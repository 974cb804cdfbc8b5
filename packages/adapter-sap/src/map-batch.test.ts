import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { clone, fixture, testConfig } from "../test/helpers.js";
import { mapBatch } from "./map-batch.js";

const config = testConfig();
type Wire = { d: Record<string, unknown> };

describe("mapBatch", () => {
  it("maps the batch master fixture", () => {
    expect(mapBatch(fixture("batch-fg-4711-b2026-0301.json"), config)._unsafeUnwrap()).toMatchInlineSnapshot(`
      {
        "availableOn": "2026-03-03",
        "batchId": "B2026-0301",
        "countryOfOrigin": "DE",
        "disposition": "restricted",
        "expiresOn": "2028-03-01",
        "manufacturedOn": "2026-03-02",
        "material": {
          "id": "FG-4711",
        },
        "revision": "20260302143000",
        "site": {
          "id": "1710",
        },
        "sourceRefs": [
          {
            "key": "Material=FG-4711,BatchIdentifyingPlant=1710,Batch=B2026-0301",
            "kind": "Batch",
            "system": "S4PCLNT100",
          },
        ],
      }
    `);
  });

  it("reads the disposition from the restricted and deletion flags", () => {
    const wire = clone(fixture("batch-fg-4711-b2026-0301.json")) as Wire;
    wire.d["MatlBatchIsInRstrcdUseStock"] = false;
    expect(mapBatch(wire, config)._unsafeUnwrap().disposition).toBe("unrestricted");
    wire.d["BatchIsMarkedForDeletion"] = true;
    expect(mapBatch(wire, config)._unsafeUnwrap().disposition).toBe("closed");
    expect(mapBatch(wire, testConfig({ batchDeletionIsClosed: false }))._unsafeUnwrap().disposition).toBe("unrestricted");
  });

  it("accepts a String(14) change stamp and leaves site out for plant-independent batches", () => {
    const wire = clone(fixture("batch-fg-4711-b2026-0301.json")) as Wire;
    wire.d["LastChangeDateTime"] = "20260302143000";
    wire.d["BatchIdentifyingPlant"] = "";
    const batch = mapBatch(wire, config)._unsafeUnwrap();
    expect(batch.revision).toBe("20260302143000");
    expect(batch.site).toBeUndefined();
  });

  it("rejects expiry before manufacture through the model", () => {
    const wire = clone(fixture("batch-fg-4711-b2026-0301.json")) as Wire;
    wire.d["ShelfLifeExpirationDate"] = "/Date(1735689600000)/";
    expect(mapBatch(wire, config)._unsafeUnwrapErr().message).toMatchInlineSnapshot(`"Batch is invalid: /expiresOn: "2025-01-01" is before /manufacturedOn "2026-03-02""`);
  });

  it("never throws and is deterministic", () => {
    const base = fixture("batch-fg-4711-b2026-0301.json") as Wire;
    fc.assert(
      fc.property(fc.constantFrom(...Object.keys(base.d)), fc.anything(), (key, value) => {
        const wire = clone(base);
        wire.d[key] = value;
        expect(mapBatch(wire, config)).toEqual(mapBatch(wire, config));
      }),
      { numRuns: 200 },
    );
    fc.assert(
      fc.property(fc.anything(), (input) => {
        expect(mapBatch(input, config)).toEqual(mapBatch(input, config));
      }),
      { numRuns: 100 },
    );
  });
});
