import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { mapEpcisDocument, mapEpcisEvent, type EpcisEventOutcome } from "./epcis-in.js";

const dir = fileURLToPath(new URL("../test/fixtures/epcis-examples/", import.meta.url));
const config = { system: "GS1-EXAMPLES" };

function summary(o: EpcisEventOutcome): string {
  if (o.status === "unmapped") return `${o.error.code} at ${o.error.path}`;
  return o.records.map((r) => (r.entity === "MaterialMovement" ? `${r.value.kind}${r.value.isReversal === true ? "(reversal)" : ""}` : r.entity === "Batch" ? `Batch:${r.value.disposition}` : `Hold:${r.value.status}`)).join(",");
}

describe("EPCIS in: GS1's example documents", () => {
  const files = readdirSync(dir).filter((f) => f.endsWith(".jsonld")).sort();

  // Each event either maps or is reported with the reason it has no canonical meaning; none vanishes.
  it("maps every example or reports precisely why an event has no canonical meaning", () => {
    const outcomes = Object.fromEntries(
      files.map((f) => [f, mapEpcisDocument(readFileSync(dir + f, "utf8"), config)._unsafeUnwrap().outcomes.map(summary)]),
    );
    expect(outcomes).toMatchInlineSnapshot(`
      {
        "ErrorDeclarationAndCorrectiveEvent.jsonld": [
          "consumed(reversal),consumed(reversal),produced(reversal),produced(reversal)",
          "consumed,consumed,produced,produced",
        ],
        "Example_9.6.1-ObjectEvent.jsonld": [
          "no_canonical_meaning at /epcisBody/eventList/0/bizLocation",
          "transferred",
        ],
        "Example_9.6.2-ObjectEvent.jsonld": [
          "transferred",
        ],
        "Example_9.6.3-AggregationEvent.jsonld": [
          "transferred,transferred,transferred",
        ],
        "Example_9.6.4-TransformationEvent.jsonld": [
          "consumed,consumed,consumed,consumed,consumed,produced",
        ],
        "Example_9.6.4-TransformationEventWithDigitalLink.jsonld": [
          "consumed,consumed,consumed,consumed,consumed,produced",
        ],
        "PersistentDisposition-example.jsonld": [
          "no_canonical_meaning at /epcisBody/eventList/0/readPoint",
          "no_canonical_meaning at /epcisBody/eventList/1/disposition",
        ],
        "SensorDataExample1.jsonld": [
          "no_canonical_meaning at /epcisBody/eventList/0/disposition",
        ],
        "object_event_all_possible_fields.jsonld": [
          "no_canonical_meaning at /epcisBody/eventList/0/action",
        ],
        "transformation_event_all_possible_fields.jsonld": [
          "consumed(reversal),consumed(reversal),consumed(reversal),consumed(reversal),consumed(reversal),produced(reversal),produced(reversal),produced(reversal),produced(reversal)",
        ],
      }
    `);
  });

  it("says why the unmapped examples have no canonical meaning", () => {
    const messages = files.flatMap((f) =>
      mapEpcisDocument(readFileSync(dir + f, "utf8"), config)
        ._unsafeUnwrap()
        .outcomes.flatMap((o) => (o.status === "unmapped" ? [`${f}: ${o.error.message}`] : [])),
    );
    expect(messages).toMatchInlineSnapshot(`
      [
        "Example_9.6.1-ObjectEvent.jsonld: /epcisBody/eventList/0/bizLocation is missing: bizStep shipping without bizLocation: the objects left the site (in transit), which no canonical movement records",
        "PersistentDisposition-example.jsonld: /epcisBody/eventList/0/readPoint is missing: bizStep receiving at 9529999999993: no origin (neither a sourceList location nor a readPoint other than the bizLocation), so no place changed",
        "PersistentDisposition-example.jsonld: /epcisBody/eventList/1/disposition has value "in_progress": an inspection changes stock only with an outcome: conformant or available (release), non_conformant or unavailable (reject)",
        "SensorDataExample1.jsonld: /epcisBody/eventList/0/disposition is missing: an inspection changes stock only with an outcome: conformant or available (release), non_conformant or unavailable (reject)",
        "object_event_all_possible_fields.jsonld: /epcisBody/eventList/0/action has value "ADD": action ADD with bizStep receiving has no canonical movement",
      ]
    `);
  });

  it("an error declaration turns the event's movements into reversals naming them", () => {
    const report = mapEpcisDocument(readFileSync(dir + "ErrorDeclarationAndCorrectiveEvent.jsonld", "utf8"), config)._unsafeUnwrap();
    const first = report.outcomes[0];
    const reversal = first?.status === "mapped" ? first.records[0]?.value : undefined;
    expect(reversal).toMatchObject({
      movementId: "reversal:urn:uuid:374d95fc-9457-4a51-bd6a-0bba133845a8#1",
      reverses: "urn:uuid:374d95fc-9457-4a51-bd6a-0bba133845a8#1",
      isReversal: true,
      kind: "consumed",
      occurredAt: "2020-01-15T00:00:00+01:00",
      postingDate: "2020-01-15",
      extensions: { epcis: { errorReason: "incorrect_data", correctiveEventIDs: "urn:uuid:404d95fc-9457-4a51-bd6a-0bba133845a8" } },
    });
  });

  it("maps 9.6.2: LGTIN → material and batch, KGM, eventTime in the event's offset, sourceList → from", () => {
    const report = mapEpcisDocument(readFileSync(dir + "Example_9.6.2-ObjectEvent.jsonld", "utf8"), config)._unsafeUnwrap();
    expect(report.records[0]?.value).toMatchInlineSnapshot(`
      {
        "batchId": "998877",
        "from": {
          "site": {
            "id": "4012345002256",
          },
          "stockType": "unrestricted",
        },
        "kind": "transferred",
        "material": {
          "gtin": "04012345123456",
          "id": "04012345123456",
        },
        "movementId": "ni:///sha-256;a98f08ae6ac4de3482054314d637c07010b448d3802dccb028a06aafcc6a4b10?ver=CBV2.0",
        "occurredAt": "2013-06-08T16:58:56.591+02:00",
        "postingDate": "2013-06-08",
        "quantity": {
          "unit": "KGM",
          "value": "200",
        },
        "revision": "0",
        "sourceRefs": [
          {
            "key": "ni:///sha-256;a98f08ae6ac4de3482054314d637c07010b448d3802dccb028a06aafcc6a4b10?ver=CBV2.0",
            "kind": "ObjectEvent",
            "system": "GS1-EXAMPLES",
          },
        ],
        "to": {
          "site": {
            "id": "0614141008889",
          },
          "stockType": "unrestricted",
        },
      }
    `);
  });
});

describe("EPCIS in: holds, identifiers and ids", () => {
  const holding = {
    type: "ObjectEvent",
    id: "urn:uuid:6ef1b8b2-0000-4000-8000-000000000001",
    eventTime: "2026-03-02T13:30:00Z",
    eventTimeZoneOffset: "+01:00",
    action: "OBSERVE",
    bizStep: "https://ref.gs1.org/cbv/BizStep-holding",
    disposition: "urn:epcglobal:cbv:disp:non_conformant",
    bizLocation: { id: "https://id.gs1.org/414/4012345000115/254/QI" },
    quantityList: [{ epcClass: "https://example.com/shop/01/4012345123456/10/B1?x=1", quantity: "5.5", uom: "KGM" }],
  };

  it("does not report a programming error in the mapping as an unmapped event", () => {
    // A configuration whose material table throws when read stands for a bug: the event is plain
    // JSON data, so the error surfaces instead of becoming an `unmapped` outcome.
    const broken = { system: "GS1-EXAMPLES", get materials(): never { throw new TypeError("materials is not readable"); } };
    expect(mapEpcisEvent(holding, config).status).toBe("mapped");
    expect(() => mapEpcisEvent(holding, broken)).toThrow(TypeError);
  });

  it("holding → blocked status change, a placed QualityHold and a restricted Batch; the older id is the eventID", () => {
    const outcome = mapEpcisEvent(holding, config);
    expect(outcome.status).toBe("mapped");
    if (outcome.status !== "mapped") return;
    expect(outcome.eventId).toBe(holding.id);
    expect(outcome.records.map((r) => r.entity)).toEqual(["MaterialMovement", "QualityHold", "Batch"]);
    expect(outcome.records[0]?.value).toMatchObject({ kind: "status_changed", batchId: "B1", material: { gtin: "04012345123456" }, from: { stockType: "unrestricted", storageLocation: "QI" }, to: { stockType: "blocked" }, occurredAt: "2026-03-02T14:30:00+01:00" });
    expect(outcome.records[1]?.value).toMatchObject({ holdId: holding.id, status: "placed", heldStockType: "blocked", placedAt: "2026-03-02T14:30:00+01:00" });
    expect(outcome.records[2]?.value).toMatchObject({ batchId: "B1", disposition: "restricted", revision: "20260302133000000" });
  });

  it("an event without eventID gets its EPCIS hash as id", () => {
    const { id: _id, ...anonymous } = holding;
    const outcome = mapEpcisEvent(anonymous, config);
    expect(outcome.status === "mapped" && outcome.eventId).toMatch(/^ni:\/\/\/sha-256;[0-9a-f]{64}\?ver=CBV2\.0$/);
  });

  it("reports identifiers that name no material", () => {
    const outcome = mapEpcisEvent({ ...holding, quantityList: undefined, epcList: ["urn:epc:id:sscc:4012345.0000000333"] }, config, { path: "/epcisBody/eventList/7" });
    expect(outcome.status === "unmapped" && outcome.error).toMatchInlineSnapshot(`
      {
        "code": "unknown_identifier",
        "message": "/epcisBody/eventList/7/epcList/0 has value "urn:epc:id:sscc:4012345.0000000333": an EPC or epcClass names a trade item (GTIN, LGTIN, SGTIN or its Digital Link)",
        "path": "/epcisBody/eventList/7/epcList/0",
        "rule": "an EPC or epcClass names a trade item (GTIN, LGTIN, SGTIN or its Digital Link)",
        "value": "urn:epc:id:sscc:4012345.0000000333",
      }
    `);
  });

  it("reports unsupported event types and model violations", () => {
    expect(summary(mapEpcisEvent({ ...holding, type: "AssociationEvent" }, config))).toBe("unsupported_event_type at /type");
    const zero = mapEpcisEvent({ ...holding, quantityList: [{ epcClass: "urn:epc:class:lgtin:4012345.012345.B1", quantity: 0 }] }, config);
    expect(zero.status === "unmapped" && zero.error.code).toBe("invalid_entity");
    expect(zero.status === "unmapped" && zero.error.cause?.issues[0]?.code).toBe("zero_quantity");
  });

  it("rejects non-documents with a reason", () => {
    expect(mapEpcisDocument("{", config)._unsafeUnwrapErr().code).toBe("unreadable_document");
    expect(mapEpcisDocument({ type: "EPCISDocument", epcisBody: {} }, config)._unsafeUnwrapErr().message).toMatchInlineSnapshot(`"/epcisBody has no eventList, queryResults or event"`);
  });

  it("maps EPCs whose serial is percent-escaped, the length limit counting the unescaped serial", () => {
    // 14 characters unescaped, 26 as written: within SGTIN's 20.
    const outcome = mapEpcisEvent({ ...holding, quantityList: undefined, epcList: ["urn:epc:id:sgtin:0614141.812345.6789%2F%26%25%22!%3F()"] }, config);
    expect(outcome.status).toBe("mapped");
    expect(outcome.status === "mapped" && outcome.records[0]?.value).toMatchObject({ material: { gtin: "80614141123458" } });
  });

  it("accepts a document that starts with a UTF-8 byte order mark, as text or as bytes", () => {
    const text = readFileSync(`${dir}Example_9.6.2-ObjectEvent.jsonld`, "utf8");
    const plain = mapEpcisDocument(text, config)._unsafeUnwrap();
    expect(mapEpcisDocument(`\uFEFF${text}`, config)._unsafeUnwrap()).toEqual(plain);
    const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode(text)]);
    expect(mapEpcisDocument(bytes, config)._unsafeUnwrap()).toEqual(plain);
    // Only a leading mark is an encoding signature; anywhere else it is a character JSON does not allow.
    expect(mapEpcisDocument(` \uFEFF${text}`, config)._unsafeUnwrapErr().code).toBe("unreadable_document");
  });

  it("never throws, on any JSON as an event", () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (a, b) => {
        mapEpcisEvent(a, config);
        mapEpcisEvent({ ...holding, quantityList: a, bizLocation: b }, config);
      }),
      { numRuns: 300 },
    );
  });
});
