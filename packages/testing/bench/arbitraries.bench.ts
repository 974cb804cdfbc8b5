/**
 * Issue 16's row for the arbitraries: the time to generate 100 valid events of a type with
 * `event(type)` against the time `parseEvent` takes to validate those same 100 (target ≤ 10×).
 * Medians of interleaved rounds in one process, so drift and load hit both sides alike; the
 * arbitrary is created anew in every round, as each property test of a consumer does. Both clocks
 * are reported: wall time, and CPU time (`process.cpuUsage`), which a machine shared with other
 * jobs disturbs far less; the exit code follows the CPU-time ratio of the worst type.
 * Run: `node --conditions=@millwright/source --import tsx bench/arbitraries.bench.ts [--rounds N] [--only workorder]`
 * (add `--cpu-prof` before `--import` for a profile). Writes bench/results/arbitraries.json at the root.
 * --quick [--out FILE]: the short run of the test command's gate (bench/src/gate.ts): 5 rounds, the
 * worst type's CPU-time ratio written to FILE as { worstCpuRatio }; the exit code is left to the gate.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseEvent } from "@millwright/events";
import { eventTypes, type EventType } from "@millwright/model";
import fc from "fast-check";
import { event } from "../src/arbitraries.js";

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? undefined : args[i + 1];
};
const quick = args.includes("--quick");
const OUT = option("out");
const ROUNDS = Number(option("rounds") ?? (quick ? 5 : 21));
const TYPES = eventTypes.filter((t) => t.includes(option("only") ?? ""));
const COUNT = 100;
const TARGET = 10;
let sink = 0;

interface Sample {
  readonly wall: number;
  readonly cpu: number;
}

function measure(fn: () => void): Sample {
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  fn();
  const wall = Number(process.hrtime.bigint() - start) / 1e6;
  const used = process.cpuUsage(cpu);
  return { wall, cpu: (used.user + used.system) / 1000 };
}

function generate(type: EventType, seed: number): { sample: Sample; events: unknown[] } {
  let events: unknown[] = [];
  const sample = measure(() => {
    events = fc.sample(event(type), { numRuns: COUNT, seed });
  });
  return { sample, events };
}

function validate(events: readonly unknown[]): Sample {
  return measure(() => {
    for (const e of events) {
      const r = parseEvent(e);
      if (r.isErr()) throw new Error(`generated an invalid event: ${r.error.message}`);
      sink += r.value.id.length;
    }
  });
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

// One warm-up round, then interleaved rounds: generate then validate, type by type.
for (const type of TYPES) validate(generate(type, 0).events);
const samples = new Map<EventType, { gen: Sample[]; val: Sample[] }>(TYPES.map((t) => [t, { gen: [], val: [] }]));
for (let r = 1; r <= ROUNDS; r++) {
  for (const type of TYPES) {
    const g = generate(type, r);
    const s = samples.get(type)!;
    s.gen.push(g.sample);
    s.val.push(validate(g.events));
  }
}

const rows = TYPES.map((type) => {
  const s = samples.get(type)!;
  const of = (list: Sample[], clock: keyof Sample) => median(list.map((x) => x[clock]));
  return { type, genWall: of(s.gen, "wall"), valWall: of(s.val, "wall"), genCpu: of(s.gen, "cpu"), valCpu: of(s.val, "cpu") };
}).map((r) => ({ ...r, wall: r.genWall / r.valWall, cpu: r.genCpu / r.valCpu }));
rows.sort((a, b) => b.cpu - a.cpu);

const sum = (key: "genWall" | "valWall" | "genCpu" | "valCpu") => rows.reduce((n, r) => n + r[key], 0);
const pad = Math.max(10, ...rows.map((r) => r.type.length));
const line = (name: string, genWall: number, valWall: number, genCpu: number, valCpu: number) =>
  `${name.padEnd(pad)}  ${genWall.toFixed(1).padStart(8)} ms ${valWall.toFixed(2).padStart(7)} ms ${(genWall / valWall).toFixed(1).padStart(7)}×` +
  `  ${genCpu.toFixed(1).padStart(8)} ms ${valCpu.toFixed(2).padStart(7)} ms ${(genCpu / valCpu).toFixed(1).padStart(7)}×\n`;
process.stdout.write(`${"".padEnd(pad)}  ---------- wall time ----------  ----------- CPU time ----------\n`);
process.stdout.write(`${"event type".padEnd(pad)}  generate 100  validate 100   ratio  generate 100  validate 100   ratio\n`);
for (const r of rows) process.stdout.write(line(r.type, r.genWall, r.valWall, r.genCpu, r.valCpu));
process.stdout.write(line("all types", sum("genWall"), sum("valWall"), sum("genCpu"), sum("valCpu")));
const worst = rows[0]!;
process.stdout.write(`worst CPU-time ratio ${worst.cpu.toFixed(1)}× (${worst.type}); target ≤ ${TARGET}×; medians of ${ROUNDS} rounds\n`);
if (sink === 0) throw new Error("nothing was validated");
const record = {
  node: process.version,
  date: new Date().toISOString(),
  quick,
  rounds: ROUNDS,
  count: COUNT,
  worstType: worst.type,
  worstCpuRatio: Number(worst.cpu.toFixed(3)),
  worstWallRatio: Number(worst.wall.toFixed(3)),
  allTypesCpuRatio: Number((sum("genCpu") / sum("valCpu")).toFixed(3)),
  rows,
};
if (OUT !== undefined) writeFileSync(OUT, `${JSON.stringify(record, null, 2)}\n`);
if (!quick && option("only") === undefined) writeFileSync(join(import.meta.dirname, "..", "..", "..", "bench", "results", "arbitraries.json"), `${JSON.stringify(record, null, 2)}\n`);
process.exitCode = quick || worst.cpu <= TARGET ? 0 : 1;
