/**
 * Issue 8's numbers: map a 10,000-event EPCIS document to canonical records, and compute the EPCIS
 * event hash of every event, each as events/s and as a ratio to bare JSON.parse of the same text.
 * Medians of several rounds in one process. Run: `pnpm --filter @millwright/adapter-wms bench`
 * (node --import tsx bench/epcis.bench.ts). Writes bench/results.json.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { epcisHashOptions, mapEpcisDocument, toEpcisEventHash } from "../src/index.js";

const EVENTS = 10_000;
const ROUNDS = 7;

// A realistic mix: receipts and transfers of lots (LGTIN URN and Digital Link), holds, releases,
// and transformations with genealogy; every event carries its eventID as a capture would.
function makeEvent(i: number): Record<string, unknown> {
  const lot = `L${String(i % 500).padStart(5, "0")}`;
  const gln = (ext: string) => `urn:epc:id:sgln:4012345.00011.${ext}`;
  const time = new Date(Date.UTC(2026, 2, 1) + i * 1000).toISOString();
  const base = { eventID: `urn:uuid:00000000-0000-4000-8000-${String(i).padStart(12, "0")}`, eventTime: time, eventTimeZoneOffset: "+01:00" };
  switch (i % 4) {
    case 0:
      return { type: "ObjectEvent", ...base, action: "OBSERVE", bizStep: "receiving", disposition: "in_progress", readPoint: { id: gln("DOCK") }, bizLocation: { id: gln("A1") }, quantityList: [{ epcClass: `urn:epc:class:lgtin:4012345.012345.${lot}`, quantity: 10 + (i % 7), uom: "KGM" }], bizTransactionList: [{ type: "po", bizTransaction: "urn:epcglobal:cbv:bt:4012345000009:4711" }] };
    case 1:
      return { type: "ObjectEvent", ...base, action: "OBSERVE", bizStep: "storing", readPoint: { id: gln("A1") }, bizLocation: { id: gln("B7") }, quantityList: [{ epcClass: `https://id.gs1.org/01/04012345123456/10/${lot}`, quantity: 5, uom: "KGM" }] };
    case 2:
      return { type: "ObjectEvent", ...base, action: "OBSERVE", bizStep: "holding", disposition: "non_conformant", bizLocation: { id: gln("B7") }, quantityList: [{ epcClass: `urn:epc:class:lgtin:4012345.012345.${lot}`, quantity: 2.5, uom: "KGM" }], persistentDisposition: { set: ["non_conformant"] } };
    default:
      return {
        type: "TransformationEvent",
        ...base,
        bizStep: "commissioning",
        disposition: "in_progress",
        readPoint: { id: gln("LINE1") },
        inputQuantityList: [{ epcClass: `urn:epc:class:lgtin:4012345.012345.${lot}`, quantity: 12, uom: "KGM" }],
        outputQuantityList: [{ epcClass: `urn:epc:class:lgtin:4012345.077889.P${lot}`, quantity: 40 }],
        bizTransactionList: [{ type: "prodorder", bizTransaction: "urn:millwright:order:1000123" }],
        ilmd: { "cbvmda:itemExpirationDate": "2027-03-01" },
      };
  }
}

const document = {
  "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld", { cbvmda: "urn:epcglobal:cbv:mda:" }],
  type: "EPCISDocument",
  schemaVersion: "2.0",
  creationDate: "2026-03-01T00:00:00Z",
  epcisBody: { eventList: Array.from({ length: EVENTS }, (_, i) => makeEvent(i)) },
};
const text = JSON.stringify(document);
const config = { system: "BENCH" };

let sink = 0;
function time(fn: () => void): number {
  const start = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}
function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

const parse = (): void => {
  sink += (JSON.parse(text) as { epcisBody: { eventList: unknown[] } }).epcisBody.eventList.length;
};
const map = (): void => {
  const report = mapEpcisDocument(text, config)._unsafeUnwrap();
  if (report.outcomes.some((o) => o.status === "unmapped")) throw new Error("bench document must map completely");
  sink += report.records.length;
};
const hash = (): void => {
  const doc = JSON.parse(text) as { epcisBody: { eventList: unknown[] } };
  const options = epcisHashOptions(doc);
  for (const event of doc.epcisBody.eventList) sink += toEpcisEventHash(event, options)._unsafeUnwrap().length;
};

for (let i = 0; i < 2; i++) {
  parse();
  map();
  hash();
}
const parseMs = median(Array.from({ length: ROUNDS }, () => time(parse)));
const mapMs = median(Array.from({ length: ROUNDS }, () => time(map)));
const hashMs = median(Array.from({ length: ROUNDS }, () => time(hash)));

const results = {
  events: EVENTS,
  documentBytes: text.length,
  jsonParse: { ms: +parseMs.toFixed(2), eventsPerSecond: Math.round((EVENTS / parseMs) * 1000) },
  map: { ms: +mapMs.toFixed(2), eventsPerSecond: Math.round((EVENTS / mapMs) * 1000), ratioToJsonParse: +(mapMs / parseMs).toFixed(1), target: 20_000 },
  hash: { ms: +hashMs.toFixed(2), eventsPerSecond: Math.round((EVENTS / hashMs) * 1000), ratioToJsonParse: +(hashMs / parseMs).toFixed(1), target: 20_000 },
  node: process.version,
};
console.log(JSON.stringify(results, null, 2));
writeFileSync(join(import.meta.dirname, "results.json"), `${JSON.stringify(results, null, 2)}\n`);
if (sink < 0) console.log(sink);
