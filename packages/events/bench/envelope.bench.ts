/**
 * The ratios of issue 3 (medians of interleaved rounds). The heap ratio is measured in a child
 * process of its own; see README.md for why the timings must not share a heap with it.
 * Run: `node --import tsx --expose-gc bench/envelope.bench.ts` (or `npx tsx --expose-gc …`);
 * `--quick` for the shorter run the test command's gate reads (bench/src/gate.ts); `--out FILE` writes
 * the result there instead of bench/results/.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseEventData, type WorkOrder } from "@millwright/model";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import { CloudEvent } from "cloudevents";
import { createEvent, ingestEvent, parseEvent, serializeEvent } from "../src/index.js";

const ROOT = join(import.meta.dirname, "..", "..", "..");
const SCHEMAS = join(ROOT, "schemas");
const TYPE = "dev.millwright.workorder.started.v1";
const SOURCE = "urn:millwright:sap:S4PCLNT100";
const TIME = "2026-02-25T20:05:12+01:00";

// The same ~2 KB work order (5 operations, 5 components) the model bench uses.
const order = JSON.parse(readFileSync(join(ROOT, "bench", "fixtures", "work-order-2kb.json"), "utf8")) as WorkOrder;
const text = JSON.stringify(order);

// The cloudevents-SDK path validates with ajv compiled at run time from our schemas.
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;
const ajv = addFormats(new Ajv2020({ strict: false, allErrors: false }));
for (const dir of ["common", "entities"]) {
  for (const file of readdirSync(join(SCHEMAS, dir))) ajv.addSchema(JSON.parse(readFileSync(join(SCHEMAS, dir, file), "utf8")) as object);
}
const validateWorkOrder = ajv.getSchema("https://schemas.millwright.dev/v1/entities/work-order.schema.json");
if (validateWorkOrder === undefined) throw new Error("WorkOrder schema not found");

let sink = 0;
const quick = process.argv.includes("--quick");
/** Calls per round of the timing loops. */
const N = quick ? 8_000 : 20_000;

function bare(): void {
  sink += JSON.stringify(JSON.parse(text)).length;
}

/** Fact text to validated event text: parse, repeat check, data validation, envelope, text. */
function ours(): void {
  sink += ingestEvent({ type: TYPE, source: SOURCE, data: text, time: TIME })._unsafeUnwrap().text.length;
}

function sdk(): void {
  const data = JSON.parse(text) as unknown;
  if (!validateWorkOrder?.(data)) throw new Error("invalid");
  const event = new CloudEvent({ type: TYPE, source: SOURCE, data, time: TIME, datacontenttype: "application/json" });
  sink += JSON.stringify(event).length;
}

// Decoded from bytes, as a body arrives from a transport: a flat string. serializeEvent returns a
// concatenation (a cons string), which every character access would have to unwrap.
const structured = new TextDecoder().decode(
  new TextEncoder().encode(serializeEvent(createEvent({ type: TYPE, source: SOURCE, data: order, time: TIME })._unsafeUnwrap())),
);

function parseOurs(): void {
  const event = parseEvent(structured)._unsafeUnwrap();
  sink += event.id.length;
}

function parseBare(): void {
  const value = JSON.parse(structured) as { data: unknown };
  sink += parseEventData(TYPE, value.data)._unsafeUnwrap().orderId.length;
}

/** Interleaves the measured functions round by round so drift hits all of them alike. */
function compare(fns: Record<string, () => void>, n = N, rounds = 9): Record<string, number> {
  for (const fn of Object.values(fns)) for (let i = 0; i < n; i++) fn();
  const samples: Record<string, number[]> = {};
  for (let r = 0; r < rounds; r++) {
    for (const [name, fn] of Object.entries(fns)) {
      const start = process.hrtime.bigint();
      for (let i = 0; i < n; i++) fn();
      (samples[name] ??= []).push(Number(process.hrtime.bigint() - start) / n);
    }
  }
  const out: Record<string, number> = {};
  for (const [name, list] of Object.entries(samples)) {
    list.sort((a, b) => a - b);
    out[name] = list[Math.floor(list.length / 2)] ?? Number.NaN;
  }
  return out;
}

/** One heap round in its own frame, so nothing of it stays reachable after it returns. */
function heapRound(count: number, gc: () => void): { payloads: number; events: number } {
  gc();
  gc();
  const base = process.memoryUsage().heapUsed;
  const payloads: WorkOrder[] = [];
  for (let i = 0; i < count; i++) {
    const data = JSON.parse(text) as WorkOrder & { orderId: string };
    data.orderId = String(2000000 + i); // distinct facts, distinct ids
    payloads.push(data);
  }
  gc();
  gc();
  const withPayloads = process.memoryUsage().heapUsed;
  const events = payloads.map((data) => createEvent({ type: TYPE, source: SOURCE, data, time: TIME })._unsafeUnwrap());
  gc();
  gc();
  const withEvents = process.memoryUsage().heapUsed;
  sink += events.length + payloads.length;
  return { payloads: withPayloads - base, events: withEvents - base };
}

function heapRatio(count: number, rounds = 3): { payloads: number; events: number } {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error("run with --expose-gc");
  const ratios: { payloads: number; events: number }[] = [];
  for (let r = 0; r < rounds; r++) ratios.push(heapRound(count, gc));
  ratios.sort((a, b) => a.events / a.payloads - b.events / b.payloads);
  return ratios[Math.floor(ratios.length / 2)] as { payloads: number; events: number };
}

if (process.argv.includes("--heap-only")) {
  process.stdout.write(`\n${JSON.stringify(heapRatio(100_000, quick ? 1 : 3))}\n`);
  process.exit(0);
}

// The heap round keeps 100,000 events alive, which teaches V8 to pretenure the envelope's
// allocation sites and leaves hundreds of MiB for the old generation to collect. In the same
// process, the timings below would pay for that in some runs and not in others, and only on the
// side that builds envelopes. So the heap round gets a fresh process of its own.
function heapInChild(): { payloads: number; events: number } {
  const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), "--heap-only", ...(quick ? ["--quick"] : [])], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    maxBuffer: 64 << 20,
  });
  if (child.status !== 0) throw new Error(`heap round failed (exit ${String(child.status)})`);
  // The last line: V8 tracing flags passed to this process print to the child's stdout too.
  return JSON.parse(child.stdout.trim().split("\n").pop() ?? "") as { payloads: number; events: number };
}

const heap = heapInChild();
const ingest = compare({ bare, ours, sdk });
const parse = compare({ parseBare, parseOurs });

const rows: [string, string, string, string][] = [
  ["ingest: ours / bare JSON.parse+stringify", `${(ingest["ours"]! / 1000).toFixed(2)} µs / ${(ingest["bare"]! / 1000).toFixed(2)} µs`, (ingest["ours"]! / ingest["bare"]!).toFixed(2) + "×", "≤ 1.40×"],
  ["ingest: throughput ours / cloudevents SDK", `${(ingest["sdk"]! / 1000).toFixed(2)} µs (sdk)`, (ingest["sdk"]! / ingest["ours"]!).toFixed(2) + "×", "≥ 1.50×"],
  ["parseEvent / JSON.parse + data validator", `${(parse["parseOurs"]! / 1000).toFixed(2)} µs / ${(parse["parseBare"]! / 1000).toFixed(2)} µs`, (parse["parseOurs"]! / parse["parseBare"]!).toFixed(2) + "×", "≤ 1.30×"],
  ["heap: 100k events / 100k payloads", `${(heap.events / 2 ** 20).toFixed(1)} MiB / ${(heap.payloads / 2 ** 20).toFixed(1)} MiB`, (heap.events / heap.payloads).toFixed(2) + "×", "≤ 1.25×"],
];
console.log(`payload: ${text.length} bytes of JSON (WorkOrder); Node ${process.version}`);
console.log("| measure | values | ratio | target |\n|---|---|---|---|");
for (const row of rows) console.log(`| ${row.join(" | ")} |`);
if (sink === 0) console.log("");

const result = {
  node: process.version,
  payloadBytes: text.length,
  nsPerCall: { ...ingest, ...parse },
  ingestVsBare: ingest["ours"]! / ingest["bare"]!,
  ingestThroughputVsSdk: ingest["sdk"]! / ingest["ours"]!,
  parseEventVsBare: parse["parseOurs"]! / parse["parseBare"]!,
  heap: { payloadBytes: heap.payloads, eventBytes: heap.events, ratio: heap.events / heap.payloads, count: 100_000 },
};
const outAt = process.argv.indexOf("--out");
const out = outAt > 0 && process.argv[outAt + 1] !== undefined ? process.argv[outAt + 1]! : join(ROOT, "bench", "results", quick ? "events.quick.tmp.json" : "events.json");
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
