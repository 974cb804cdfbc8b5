import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { epcisHashOptions, hashPreHash, toEpcisEventHash, toEpcisPreHash } from "./epcis-hash.js";

const dir = fileURLToPath(new URL("../test/fixtures/hash-vectors/", import.meta.url));
const lines = (file: string): string[] => readFileSync(dir + file, "utf8").split("\n").filter((l) => l !== "");

// The upstream .prehashes of this vector is corrupted (see test/fixtures/README.md); its .hashes is right.
const CORRUPTED_PREHASHES = "epcisDocWithAllGS1Keys.prehashes";

const vectors = readdirSync(dir)
  .filter((f) => f.endsWith(".jsonld"))
  .flatMap((file) => {
    const doc = JSON.parse(readFileSync(dir + file, "utf8")) as { epcisBody: { eventList: unknown[] } };
    const base = file.replace(/\.jsonld$/, "");
    const preFile = `${base}.prehashes` === CORRUPTED_PREHASHES ? `${base}.corrected.prehashes` : `${base}.prehashes`;
    const pre = lines(preFile);
    const hashes = lines(`${base}.hashes`);
    expect(doc.epcisBody.eventList).toHaveLength(hashes.length);
    return doc.epcisBody.eventList.map((event, i) => ({
      name: `${file} #${i}`,
      event,
      options: epcisHashOptions(doc),
      preHash: pre[i],
      hash: hashes[i],
    }));
  });

describe("EPCIS event hash: GS1 reference vectors", () => {
  it("covers every vector file and event", () => {
    expect(vectors).toHaveLength(9);
    expect(new Set(vectors.map((v) => v.name.split(" ")[0])).size).toBe(6);
  });

  it.each(vectors)("pre-hash string of $name", ({ event, options, preHash }) => {
    expect(toEpcisPreHash(event, options)._unsafeUnwrap()).toBe(preHash);
  });

  it.each(vectors)("hash of $name", ({ event, options, hash }) => {
    expect(toEpcisEventHash(event, options)._unsafeUnwrap()).toBe(hash);
  });

  it("the upstream pre-hash file of epcisDocWithAllGS1Keys is not the pre-image of its hash", () => {
    const [upstream] = lines(CORRUPTED_PREHASHES);
    const [expected] = lines("epcisDocWithAllGS1Keys.hashes");
    const [corrected] = lines("epcisDocWithAllGS1Keys.corrected.prehashes");
    expect(hashPreHash(upstream ?? "")).not.toBe(expected);
    expect(hashPreHash(corrected ?? "")).toBe(expected);
  });
});

describe("EPCIS event hash: canonicalisation", () => {
  const base = { type: "ObjectEvent", eventTimeZoneOffset: "+01:00", action: "OBSERVE" };

  it("is independent of time zone notation, member order, list order and vocabulary form", () => {
    const a = {
      ...base,
      eventTime: "2020-03-04T11:00:30+01:00",
      epcList: ["urn:epc:id:sgtin:4012345.011111.1", "https://example.com/01/04012345111118/21/2?x=1"],
      bizStep: "receiving",
      quantityList: [{ epcClass: "urn:epc:class:lgtin:4012345.011111.L1", quantity: 10.0, uom: "KGM" }],
    };
    const b = {
      bizStep: "urn:epcglobal:cbv:bizstep:receiving",
      quantityList: [{ uom: "KGM", quantity: 10, epcClass: "https://id.gs1.org/01/04012345111118/10/L1" }],
      epcList: ["https://id.gs1.org/01/04012345111118/21/2", "https://id.gs1.org/01/04012345111118/21/1"],
      eventTime: "2020-03-04T10:00:30.0000Z",
      ...base,
    };
    expect(toEpcisEventHash(a)._unsafeUnwrap()).toBe(toEpcisEventHash(b)._unsafeUnwrap());
  });

  it("ignores eventID, id, recordTime and errorDeclaration", () => {
    const event = { ...base, eventTime: "2020-03-04T11:00:30+01:00" };
    const noisy = { ...event, eventID: "ni:///x", id: "urn:uuid:1", recordTime: "2021-01-01T00:00:00Z", errorDeclaration: { declarationTime: "2021-01-01T00:00:00Z" } };
    expect(toEpcisEventHash(noisy)._unsafeUnwrap()).toBe(toEpcisEventHash(event)._unsafeUnwrap());
  });

  it("rounds to milliseconds half to even", () => {
    const pre = (t: string) => toEpcisPreHash({ type: "ObjectEvent", eventTime: t })._unsafeUnwrap();
    expect(pre("2023-02-02T11:04:03.1415Z")).toBe("eventType=ObjectEventeventTime=2023-02-02T11:04:03.142Z");
    expect(pre("2023-02-02T11:04:03.1425Z")).toBe("eventType=ObjectEventeventTime=2023-02-02T11:04:03.142Z");
    expect(pre("2023-02-02T23:59:59.9996-01:00")).toBe("eventType=ObjectEventeventTime=2023-02-03T01:00:00.000Z");
  });

  it("reports what cannot be canonicalised", () => {
    expect(toEpcisPreHash({ type: "ObjectEvent", eventTime: "2020-01-01T00:00:00Z", bizStep: () => 1 })._unsafeUnwrapErr()).toMatchInlineSnapshot(`
      {
        "code": "invalid_event",
        "message": "/bizStep: expected a string, number, boolean, null, object or array",
        "path": "/bizStep",
        "value": [Function],
      }
    `);
    expect(toEpcisPreHash([])._unsafeUnwrapErr().message).toMatchInlineSnapshot(`"the event: an EPCIS event must be a JSON object"`);
  });

  it("never throws and is deterministic on any JSON", () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (extra, list) => {
        const event = { type: "ObjectEvent", eventTime: "2020-01-01T00:00:00Z", "ex:a": extra, epcList: list };
        const options = { namespaces: { ex: "https://ex.example/" } };
        const first = toEpcisEventHash(event, options);
        expect(toEpcisEventHash(structuredClone(event), options)).toEqual(first);
      }),
      { numRuns: 200 },
    );
  });
});
