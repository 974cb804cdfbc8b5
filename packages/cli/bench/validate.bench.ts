/**
 * `millwright validate` on an N-event NDJSON file (default 1,000,000): throughput against a bare
 * `JSON.parse` loop over the same lines, and the command's peak memory (max RSS of the process).
 * Run: node --import tsx packages/cli/bench/validate.bench.ts [count]   (writes a file to the OS temp dir)
 */
import { spawnSync } from "node:child_process";
import { createReadStream, createWriteStream, mkdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createEvent, serializeEvent } from "@millwright/events";
import type { MachineState } from "@millwright/model";
import { readLines } from "../src/validate.js";

const root = join(import.meta.dirname, "..", "..", "..");
const count = Number(process.argv[2] ?? 1_000_000);
const dir = join(tmpdir(), "millwright-validate-bench");
mkdirSync(dir, { recursive: true });
const file = join(dir, `events-${count}.ndjson`);

// Distinct machine-state events (about 850 bytes each), as a line's OPC UA adapter would emit them.
const out = createWriteStream(file);
const base: MachineState = {
  equipment: { id: "PACK1", level: "production_line", site: { id: "1710" }, path: ["FIN"] },
  availability: "executing",
  packmlState: "execute",
  sourceState: { value: 6, text: "Execute" },
  since: "2026-03-06T10:02:13.482-08:00",
  order: { orderId: "1000123", operationId: "0050" },
  revision: "0",
  sourceRefs: [{ system: "urn:plc-pack1:opcua-server", kind: "Variable", key: "ns=3;s=PACK1.Status.StateCurrent" }],
};
for (let i = 0; i < count; i++) {
  const data = { ...base, revision: String(1772820133482000 + i) };
  const line = serializeEvent(createEvent({ type: "dev.millwright.machinestate.changed.v1", source: "urn:millwright:opcua:pack1", time: data.since, data })._unsafeUnwrap());
  if (!out.write(`${line}\n`)) await new Promise((resolve) => out.once("drain", resolve));
}
await new Promise<void>((resolve) => out.end(resolve));
const bytes = statSync(file).size;

// Baseline: read the same lines and JSON.parse each, in this process.
let t = process.hrtime.bigint();
let parsed = 0;
for await (const line of readLines(createReadStream(file, { highWaterMark: 1 << 20 }))) if (line !== "" && JSON.parse(line) !== null) parsed++;
const bareSeconds = Number(process.hrtime.bigint() - t) / 1e9;

// The command as users run it: the built binary, its max RSS measured by the OS.
const bin = join(root, "packages", "cli", "dist", "cli.js");
t = process.hrtime.bigint();
const run = spawnSync("/usr/bin/time", ["-f", "%M", process.execPath, bin, "validate", file], { encoding: "utf8", maxBuffer: 1 << 26 });
const cliSeconds = Number(process.hrtime.bigint() - t) / 1e9;
if (run.status !== 0) throw new Error(`validate failed: ${run.stdout.slice(0, 500)} ${run.stderr.slice(0, 500)}`);
const maxRssKb = Number(run.stderr.trim().split("\n").at(-1));

const result = {
  node: process.version,
  events: parsed,
  fileMB: bytes / 1e6,
  bareJsonParse: { seconds: bareSeconds, eventsPerSecond: parsed / bareSeconds },
  validate: { seconds: cliSeconds, eventsPerSecond: parsed / cliSeconds, peakRssMB: maxRssKb / 1024, output: run.stdout.trim() },
  ratio: cliSeconds / bareSeconds,
};
console.log(JSON.stringify(result, null, 2));
console.log(`\nvalidate ${parsed} events (${(bytes / 1e6).toFixed(0)} MB): ${result.ratio.toFixed(2)}x the bare JSON.parse loop (target <= 2x), peak ${result.validate.peakRssMB.toFixed(0)} MB (target < 200 MB)`);
writeFileSync(join(root, "bench", "results", `cli-validate-${count}.json`), `${JSON.stringify(result, null, 2)}\n`);
rmSync(file);
