import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseBatch, parseMaterialMovement, parseProductionConfirmation, parseQualityHold, type MaterialMovement } from "@millwright/model";
import { Ajv } from "ajv";
import addFormats from "ajv-formats";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { batch, confirmation, movements, placedHold, releasedHold } from "../test/fixtures/canonical-records.js";
import { mapEpcisDocument } from "./epcis-in.js";
import { toEpcisEventHash, epcisHashOptions } from "./epcis-hash.js";
import { toEpcisDocument, type EpcisOutRecord } from "./epcis-out.js";

const schema = JSON.parse(readFileSync(fileURLToPath(new URL("../test/fixtures/EPCIS-JSON-Schema.json", import.meta.url)), "utf8")) as object;
const ajv = new Ajv({ allErrors: true, strict: false });
addFormats.default(ajv);
const validateEpcis = ajv.compile(schema);

const config = { creationDate: "2026-03-03T10:00:00Z" };
const records: EpcisOutRecord[] = [
  ...movements.map((value) => ({ entity: "MaterialMovement" as const, value })),
  { entity: "Batch", value: batch },
  { entity: "QualityHold", value: placedHold },
  { entity: "QualityHold", value: releasedHold },
  { entity: "ProductionConfirmation", value: confirmation },
];

describe("EPCIS out", () => {
  it("the schema validator accepts GS1's own examples (a check of the check)", () => {
    const dir = fileURLToPath(new URL("../test/fixtures/epcis-examples/", import.meta.url));
    for (const file of readdirSync(dir)) {
      const valid = validateEpcis(JSON.parse(readFileSync(dir + file, "utf8")));
      expect(valid ? [] : [file, validateEpcis.errors]).toEqual([]);
    }
  });

  it("fixtures are valid canonical records", () => {
    for (const m of movements) expect(parseMaterialMovement(m).isOk()).toBe(true);
    expect(parseBatch(batch).isOk()).toBe(true);
    expect(parseQualityHold(placedHold).isOk()).toBe(true);
    expect(parseQualityHold(releasedHold).isOk()).toBe(true);
    expect(parseProductionConfirmation(confirmation).isOk()).toBe(true);
  });

  it("emits one event per record and the document validates against GS1's schema", () => {
    const doc = toEpcisDocument(records, config)._unsafeUnwrap();
    expect(doc.epcisBody.eventList).toHaveLength(records.length);
    const valid = validateEpcis(doc);
    expect(valid ? [] : validateEpcis.errors).toEqual([]);
  });

  it.each(records.map((r, i) => ({ name: `${r.entity} ${i}`, record: r })))("a document of $name alone validates", ({ record }) => {
    const doc = toEpcisDocument([record], config)._unsafeUnwrap();
    expect(validateEpcis(doc) ? [] : validateEpcis.errors).toEqual([]);
  });

  it("each eventID is the event's EPCIS hash", () => {
    const doc = toEpcisDocument(records, config)._unsafeUnwrap();
    for (const event of doc.epcisBody.eventList) {
      expect(event["eventID"]).toBe(toEpcisEventHash(event, epcisHashOptions(doc))._unsafeUnwrap());
      expect(event["eventID"]).toMatch(/^ni:\/\/\/sha-256;[0-9a-f]{64}\?ver=CBV2\.0$/);
    }
  });

  it("is deterministic", () => {
    expect(JSON.stringify(toEpcisDocument(records, config))).toBe(JSON.stringify(toEpcisDocument(structuredClone(records), config)));
  });

  it("reports records without an EPCIS counterpart", () => {
    const cancelled = { ...placedHold, status: "cancelled" as const };
    const { outputBatch: _dropped, ...noBatch } = confirmation;
    expect(toEpcisDocument([{ entity: "QualityHold", value: cancelled }, { entity: "ProductionConfirmation", value: noBatch }], config)._unsafeUnwrapErr())
      .toMatchInlineSnapshot(`
        [
          {
            "code": "no_epcis_meaning",
            "index": 0,
            "message": "/0/value/status: a hold withdrawn without a decision has no EPCIS event",
            "path": "/0/value/status",
            "value": "cancelled",
          },
          {
            "code": "no_epcis_meaning",
            "index": 1,
            "message": "/1/value/outputBatch: a confirmation without an output batch names no EPCIS class",
            "path": "/1/value/outputBatch",
          },
        ]
      `);
  });
});

describe("EPCIS round trip: out → in", () => {
  const doc = toEpcisDocument(records, config)._unsafeUnwrap();
  // The material table maps GTINs back to material numbers.
  const report = mapEpcisDocument(JSON.stringify(doc), { system: "EPCIS", materials: { "04012345123456": { id: "FG-4711", gtin: "04012345123456" } } })._unsafeUnwrap();
  // EPCIS quantities are JSON numbers: the value survives, the scale ("20.000") does not.
  const strip = <T extends { sourceRefs: unknown; quantity?: { value: string; unit: string } }>(r: T): Omit<T, "sourceRefs"> => {
    const { sourceRefs: _s, ...rest } = r;
    return rest.quantity === undefined ? rest : { ...rest, quantity: { ...rest.quantity, value: String(Number(rest.quantity.value)) } };
  };

  it("maps every emitted event", () => {
    expect(report.outcomes.filter((o) => o.status === "unmapped")).toEqual([]);
  });

  it.each(movements.map((m, i) => ({ id: m.movementId, i })))("movement $id comes back equal (but for sourceRefs)", ({ i }) => {
    const original = movements[i];
    const outcome = report.outcomes[i];
    if (original === undefined || outcome?.status !== "mapped") throw new Error("fixture");
    const back = outcome.records.find((r) => r.entity === "MaterialMovement");
    expect(back && strip(back.value)).toEqual(strip(original));
    expect(back?.value.sourceRefs).toEqual([{ system: "EPCIS", kind: expect.any(String) as string, key: doc.epcisBody.eventList[i]?.["eventID"] }]);
  });

  it("the batch comes back with its genealogy, order and expiry", () => {
    const outcome = report.outcomes[movements.length];
    const back = outcome?.status === "mapped" ? outcome.records.find((r) => r.entity === "Batch") : undefined;
    expect(back?.value).toMatchObject({ batchId: batch.batchId, material: { gtin: batch.material.gtin }, disposition: "in_process", expiresOn: "2028-03-01", originOrder: { orderId: "1000123" }, inputs: [{ batch: { material: { id: "RM-CAST-22" }, batchId: "C-88123" }, quantity: { value: "505.5", unit: "KGM" } }] });
  });

  it("holds come back placed and released with their id", () => {
    const holds = report.records.filter((r) => r.entity === "QualityHold").map((r) => r.value);
    const placed = holds.find((h) => h.holdId === placedHold.holdId && h.status === "placed");
    const released = holds.find((h) => h.holdId === placedHold.holdId && h.status === "released");
    expect(placed && strip(placed)).toMatchObject({ status: "placed", heldStockType: "quality_inspection", placedAt: placedHold.placedAt, quantity: placedHold.quantity });
    expect(released).toMatchObject({ status: "released", placedAt: placedHold.placedAt, disposition: { decision: "use", decidedAt: releasedHold.disposition?.decidedAt, targetStockType: "unrestricted" } });
  });
});

describe("EPCIS round trip: property", () => {
  const id = fc.stringMatching(/^[A-Z0-9][A-Z0-9 /:%.-]{0,8}[A-Z0-9]$/);
  const decimal = fc.tuple(fc.integer({ min: 1, max: 10_000_000 }), fc.integer({ min: 0, max: 999 })).map(([i, f]) => (f === 0 ? String(i) : `${i}.${String(f).padStart(3, "0").replace(/0+$/, "")}`));
  const place = fc.record({ site: fc.record({ id }), storageLocation: id });
  const movement = fc
    .record({ material: id, gtin: fc.option(fc.constant("04012345123456"), { nil: undefined }), batchId: fc.option(id, { nil: undefined }), value: decimal, unit: fc.constantFrom("KGM", "H87", "MTR"), from: place, to: place })
    .filter((m) => m.from.site.id !== m.to.site.id || m.from.storageLocation !== m.to.storageLocation)
    .map(
      (m): MaterialMovement => ({
        movementId: `M/${m.material}`,
        kind: "transferred",
        postingDate: "2026-03-03",
        occurredAt: "2026-03-03T09:41:05.5-05:00",
        material: m.gtin === undefined ? { id: m.material } : { id: m.gtin, gtin: m.gtin },
        ...(m.batchId !== undefined ? { batchId: m.batchId } : {}),
        quantity: { value: m.value, unit: m.unit },
        from: { ...m.from, stockType: "unrestricted" },
        to: { ...m.to, stockType: "unrestricted" },
        revision: "0",
        sourceRefs: [{ system: "S", kind: "K", key: "1" }],
      }),
    );

  it("any valid transfer survives out → in and its document validates", () => {
    fc.assert(
      fc.property(movement, (m) => {
        expect(parseMaterialMovement(m).isOk()).toBe(true);
        const doc = toEpcisDocument([{ entity: "MaterialMovement", value: m }], config)._unsafeUnwrap();
        expect(validateEpcis(doc) ? [] : validateEpcis.errors).toEqual([]);
        const outcome = mapEpcisDocument(doc, { system: "EPCIS" })._unsafeUnwrap().outcomes[0];
        if (outcome?.status !== "mapped") throw new Error(JSON.stringify(outcome));
        const { sourceRefs: _a, ...back } = outcome.records[0]?.value as MaterialMovement;
        const { sourceRefs: _b, ...original } = m;
        expect(back).toEqual(original);
      }),
      { numRuns: 150 },
    );
  });
});
