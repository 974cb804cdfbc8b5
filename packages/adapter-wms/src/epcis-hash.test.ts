import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { readEpcisDocument } from "./epcis-document.js";
import { epcisHashOptions, hashPreHash, toEpcisEventHash, toEpcisPreHash } from "./epcis-hash.js";

const dir = fileURLToPath(new URL("../test/fixtures/hash-vectors/", import.meta.url));
const lines = (file: string): string[] => readFileSync(dir + file, "utf8").split("\n").filter((l) => l !== "");

// Some upstream .prehashes files are not the pre-images of their .hashes (see test/fixtures/README.md):
// a `.corrected.prehashes` beside them holds the pre-images, and the tests check both claims.
const files = readdirSync(dir);
const corrected = files.filter((f) => f.endsWith(".corrected.prehashes")).map((f) => f.replace(/\.corrected\.prehashes$/, ""));

const vectors = files
  .filter((f) => f.endsWith(".jsonld"))
  .flatMap((file) => {
    const base = file.replace(/\.jsonld$/, "");
    // Documents are read the way every entry path reads them, so query documents and the
    // document-level hash options are part of what the vectors check.
    const { events, hashOptions } = readEpcisDocument(readFileSync(dir + file, "utf8"))._unsafeUnwrap();
    const preFile = corrected.includes(base) ? `${base}.corrected.prehashes` : `${base}.prehashes`;
    const pre = files.includes(preFile) ? lines(preFile) : [];
    const hashes = lines(`${base}.hashes`);
    expect(events, file).toHaveLength(hashes.length);
    return events.map(({ event }, i) => ({ name: `${file} #${i}`, event, options: hashOptions, preHash: pre[i], hash: hashes[i] }));
  });

describe("EPCIS event hash: GS1 reference vectors", () => {
  it("covers every vector file and event", () => {
    expect(new Set(vectors.map((v) => v.name.split(" ")[0])).size).toBe(22);
    expect(vectors).toHaveLength(43);
    // Only the comment vector comes without pre-hash strings upstream.
    expect(vectors.filter((v) => v.preHash === undefined).map((v) => v.name)).toEqual(["epcisDocHavingEventWithComment.jsonld #0"]);
  });

  it.each(vectors.filter((v) => v.preHash !== undefined))("pre-hash string of $name", ({ event, options, preHash }) => {
    expect(toEpcisPreHash(event, options)._unsafeUnwrap()).toBe(preHash);
  });

  it.each(vectors)("hash of $name", ({ event, options, hash }) => {
    expect(toEpcisEventHash(event, options)._unsafeUnwrap()).toBe(hash);
  });

  it.each(corrected)("the upstream pre-hash file of %s is not the pre-image of its hashes, the corrected one is", (base) => {
    const upstream = lines(`${base}.prehashes`);
    const fixed = lines(`${base}.corrected.prehashes`);
    const expected = lines(`${base}.hashes`);
    expect(upstream.map(hashPreHash)).not.toEqual(expected);
    expect(fixed.map(hashPreHash)).toEqual(expected);
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

  it("leaves out rdfs:comment and comment members at every depth, but hashes an extension's own comment", () => {
    const event = {
      ...base,
      eventTime: "2020-03-04T11:00:30+01:00",
      readPoint: { id: "urn:epc:id:sgln:4012345.00011.0" },
      bizTransactionList: [{ type: "po", bizTransaction: "urn:example:po:1" }],
      sensorElementList: [{ sensorReport: [{ type: "Temperature", value: 20 }] }],
      ilmd: { "ex:batch": { "ex:lot": "L1" } },
    };
    const commented = {
      ...event,
      "rdfs:comment": "a note",
      comment: "another",
      readPoint: { ...event.readPoint, comment: "at the gate" },
      bizTransactionList: [{ ...event.bizTransactionList[0], "rdfs:comment": "order" }],
      sensorElementList: [{ sensorReport: [{ type: "Temperature", value: 20, comment: "calibrated" }] }],
      ilmd: { "ex:batch": { "ex:lot": "L1", "rdfs:comment": "lot" } },
    };
    const options = { namespaces: { ex: "https://ex.example/", rdfs: "http://www.w3.org/2000/01/rdf-schema#" } };
    expect(toEpcisPreHash(commented, options)._unsafeUnwrap()).toBe(toEpcisPreHash(event, options)._unsafeUnwrap());
    expect(toEpcisPreHash({ ...event, "ex:comment": "mine" }, options)._unsafeUnwrap()).toContain("{https://ex.example/}comment=mine");
  });

  it("reads ignoreFields from a query document's queryResults as well as from the document", () => {
    const query = {
      type: "EPCISQueryDocument",
      "@context": [{ "repository-x": "https://repository-x.example.com/" }],
      epcisBody: { queryResults: { "repository-x:ignoreFields": ["repository-x:hash"], resultsBody: { eventList: [] } } },
    };
    expect(epcisHashOptions(query).ignoreFields).toEqual(["repository-x:hash"]);
    const both = { ...query, "repository-x:ignoreFields": ["example:captureID"] };
    expect(epcisHashOptions(both).ignoreFields).toEqual(["example:captureID", "repository-x:hash"]);
  });

  it("never throws on any JSON", () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (extra, list) => {
        const event = { type: "ObjectEvent", eventTime: "2020-01-01T00:00:00Z", "ex:a": extra, epcList: list };
        const result = toEpcisEventHash(event, { namespaces: { ex: "https://ex.example/" } });
        expect(result.isOk() || result.error.code === "invalid_event").toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it("gives the same hash whatever the member order at every depth and the order of every list", () => {
    fc.assert(
      fc.property(arbitraryEvent, fc.integer(), (event, seed) => {
        const shuffled = shuffleDeep(event, mulberry32(seed));
        expect(toEpcisPreHash(shuffled, HASH_OPTIONS)._unsafeUnwrap()).toBe(toEpcisPreHash(event, HASH_OPTIONS)._unsafeUnwrap());
      }),
      { numRuns: 300 },
    );
  });

  it("changes the hash when any hashed value changes, and only then", () => {
    fc.assert(
      fc.property(arbitraryEvent, fc.nat(), (event, pick) => {
        const hash = toEpcisEventHash(event, HASH_OPTIONS)._unsafeUnwrap();
        const hashed = leaves(event).filter((path) => !isUnhashed(path));
        const path = hashed[pick % hashed.length];
        if (path === undefined) throw new Error("every generated event has hashed values");
        expect(toEpcisEventHash(mutateAt(event, path), HASH_OPTIONS)._unsafeUnwrap()).not.toBe(hash);
        for (const noise of leaves(event).filter(isUnhashed)) {
          expect(toEpcisEventHash(mutateAt(event, noise), HASH_OPTIONS)._unsafeUnwrap()).toBe(hash);
        }
      }),
      { numRuns: 300 },
    );
  });
});

// Random EPCIS events over every standard field, CBV values in all their forms, ILMD and user
// extensions, plus members the hash leaves out.
type Json = string | number | boolean | Json[] | { [key: string]: Json };
const HASH_OPTIONS = { namespaces: { ex: "https://ex.example/", rdfs: "http://www.w3.org/2000/01/rdf-schema#" }, ignoreFields: ["ex:captureID"] };
const token = fc.stringMatching(/^[A-Za-z0-9]{1,8}$/);
const instant = fc
  .tuple(fc.date({ min: new Date("2000-01-01T00:00:00Z"), max: new Date("2099-12-31T00:00:00Z"), noInvalidDate: true }), fc.constantFrom("Z", "+01:00", "-05:30"), fc.constantFrom("", ".1", ".123", ".1235"))
  .map(([d, zone, frac]) => `${d.toISOString().slice(0, 19)}${frac}${zone}`);
const epc = fc.oneof(
  fc.tuple(fc.integer({ min: 0, max: 99_999 }), token).map(([item, s]) => `urn:epc:id:sgtin:4012345.0${String(item).padStart(5, "0")}.${s}`),
  token.map((s) => `https://example.com/01/04012345000017/21/${s}`),
  token.map((s) => `urn:example:epc:${s}`),
);
const epcClass = fc.oneof(
  token.map((lot) => `urn:epc:class:lgtin:4012345.012345.${lot}`),
  token.map((s) => `urn:example:class:${s}`),
);
const cbv = (prefix: string, values: string[]): fc.Arbitrary<string> =>
  fc.constantFrom(...values).chain((v) => fc.constantFrom(v, `https://ref.gs1.org/cbv/${prefix}-${v}`));
const quantityList = fc.array(
  fc.record({ epcClass, quantity: fc.integer({ min: 0, max: 1000 }), uom: fc.constantFrom("KGM", "EA", "LTR") }, { requiredKeys: ["epcClass"] }),
  { maxLength: 3 },
);
const typed = (member: string, types: fc.Arbitrary<string>) =>
  fc.array(fc.record({ type: types, [member]: token.map((s) => `urn:example:${member}:${s}`) }, { requiredKeys: [member] }), { maxLength: 3 });
const extensionValue: fc.Arbitrary<Json> = fc.letrec<{ value: Json }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    token,
    fc.integer({ min: -1000, max: 1000 }),
    fc.boolean(),
    fc.array(tie("value"), { minLength: 1, maxLength: 3 }),
    fc.dictionary(fc.constantFrom("ex:a", "ex:b", "ex:c"), tie("value"), { minKeys: 1, maxKeys: 3 }),
  ),
})).value;
const place = fc.record({ id: token.map((s) => `urn:epc:id:sgln:4012345.00011.${s}`), "ex:room": token }, { requiredKeys: ["id"] });
const sensorElement = fc.record({
  sensorMetadata: fc.record({ time: instant, deviceID: token.map((s) => `urn:example:device:${s}`) }, { requiredKeys: [] }),
  sensorReport: fc.array(
    fc.record({ type: fc.constantFrom("Temperature", "gs1:RelativeHumidity"), value: fc.integer({ min: -50, max: 50 }), uom: fc.constantFrom("CEL", "A93"), "ex:probe": token }, { requiredKeys: ["type"] }),
    { minLength: 1, maxLength: 3 },
  ),
});
const arbitraryEvent: fc.Arbitrary<Record<string, Json>> = fc
  .record(
    {
      type: fc.constantFrom("ObjectEvent", "AggregationEvent", "TransformationEvent", "TransactionEvent", "AssociationEvent"),
      eventTime: instant,
      eventTimeZoneOffset: fc.constantFrom("+01:00", "-05:30", "+00:00"),
      certificationInfo: token.map((s) => `https://example.com/cert/${s}`),
      parentID: epc,
      epcList: fc.array(epc, { maxLength: 4 }),
      inputEPCList: fc.array(epc, { maxLength: 3 }),
      outputEPCList: fc.array(epc, { maxLength: 3 }),
      childEPCs: fc.array(epc, { maxLength: 3 }),
      quantityList,
      childQuantityList: quantityList,
      inputQuantityList: quantityList,
      outputQuantityList: quantityList,
      action: fc.constantFrom("ADD", "OBSERVE", "DELETE"),
      transformationID: token.map((s) => `urn:example:tx:${s}`),
      bizStep: cbv("BizStep", ["receiving", "shipping", "holding"]),
      disposition: cbv("Disp", ["in_progress", "damaged", "active"]),
      persistentDisposition: fc.record({ set: fc.array(cbv("Disp", ["completeness_verified", "recalled"]), { minLength: 1, maxLength: 2 }), unset: fc.array(cbv("Disp", ["active"]), { minLength: 1, maxLength: 1 }) }, { requiredKeys: [] }),
      readPoint: place,
      bizLocation: place,
      bizTransactionList: typed("bizTransaction", cbv("BTT", ["po", "inv", "desadv"])),
      sourceList: typed("source", cbv("SDT", ["owning_party", "location"])),
      destinationList: typed("destination", cbv("SDT", ["owning_party", "location"])),
      sensorElementList: fc.array(sensorElement, { maxLength: 2 }),
      ilmd: fc.dictionary(fc.constantFrom("ex:lot", "ex:expiry", "ex:origin"), extensionValue, { minKeys: 1, maxKeys: 3 }),
      "ex:note": extensionValue,
      "ex:tags": fc.array(extensionValue, { minLength: 1, maxLength: 3 }),
      // Left out of the hash:
      eventID: token.map((s) => `ni:///sha-256;${s}?ver=CBV2.0`),
      recordTime: instant,
      errorDeclaration: fc.record({ declarationTime: instant, reason: fc.constantFrom("incorrect_data", "did_not_occur") }),
      "rdfs:comment": token,
      "ex:captureID": token,
    },
    { requiredKeys: ["type", "eventTime", "action"] },
  )
  .map((event) => event as Record<string, Json>);

function isUnhashed(path: readonly (string | number)[]): boolean {
  const [top] = path;
  return (
    top === "eventID" || top === "recordTime" || top === "errorDeclaration" || top === "ex:captureID" ||
    path.some((key) => key === "comment" || key === "rdfs:comment")
  );
}

function leaves(value: Json, path: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(value)) return value.flatMap((v, i) => leaves(v, [...path, i]));
  if (typeof value === "object") return Object.entries(value).flatMap(([k, v]) => leaves(v, [...path, k]));
  return [path];
}

// A different value that no canonicalisation maps back onto the old one.
function mutateAt(event: Record<string, Json>, path: readonly (string | number)[]): Record<string, Json> {
  const copy = structuredClone(event);
  let parent: Json = copy;
  for (const key of path.slice(0, -1)) parent = (parent as Record<string | number, Json>)[key] as Json;
  const last = path.at(-1) as string | number;
  const target = parent as Record<string | number, Json>;
  const old = target[last];
  target[last] = typeof old === "number" ? old + 1 : typeof old === "boolean" ? !old : `${String(old)}9`;
  return copy;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function shuffle<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

// Every object's members and every list in a random order: the hash sorts all lists (the
// reference algorithm's rule for repeated elements), so none of them is ordered.
function shuffleDeep(value: Json, random: () => number): Json {
  if (Array.isArray(value)) return shuffle(value.map((v) => shuffleDeep(v, random)), random);
  if (typeof value === "object") return Object.fromEntries(shuffle(Object.entries(value), random).map(([k, v]) => [k, shuffleDeep(v, random)]));
  return value;
}
