/**
 * `pnpm bench`: every benchmark, each a ratio against a bare baseline measured in the same process
 * run (medians of interleaved rounds), printed as a table and written to bench/results/.
 * With --quick, a shorter run written to model.quick.tmp.json, which the gate (gate.ts) reads.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { benchModel } from "./model.bench.js";

const quick = process.argv.includes("--quick");
const results = join(import.meta.dirname, "..", "results");

const model = benchModel({ rounds: quick ? 9 : 21, iterations: quick ? 5_000 : 20_000, heapCount: 100_000 });

const rows: [string, string, string, boolean][] = [
  ["parseWorkOrder / bare ajv validate", model.parseVsAjv.toFixed(2) + "x", "<= 1.30x", model.parseVsAjv <= 1.3],
  ["zod safeParse / parseWorkOrder", model.zodVsParse.toFixed(2) + "x", ">= 2.50x", model.zodVsParse >= 2.5],
  ["heap 100k parsed / unparsed", model.heap.ratio.toFixed(3) + "x", "report", true],
];
console.log(`\nmodel: ~${model.payloadBytes} B work order (5 operations, 5 components); ns per call (median):`);
for (const [name, ns] of Object.entries(model.nsPerCall)) console.log(`  ${name.padEnd(24)} ${ns.toFixed(0).padStart(8)} ns`);
console.log(
  `  heap: ${model.heap.count} orders unparsed ${(model.heap.unparsedBytes / 1e6).toFixed(1)} MB, parsed and kept ${(model.heap.parsedBytes / 1e6).toFixed(1)} MB`,
);
console.log("\n  ratio                                 measured   target");
for (const [name, value, target, ok] of rows) console.log(`  ${name.padEnd(38)}${value.padStart(8)}   ${target}${ok ? "" : "   MISSED"}`);

mkdirSync(results, { recursive: true });
writeFileSync(join(results, quick ? "model.quick.tmp.json" : "model.json"), `${JSON.stringify({ node: process.version, ...model }, null, 2)}\n`);
