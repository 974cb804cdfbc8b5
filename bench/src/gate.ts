/**
 * The benchmark gate of the test command, and the noise measurement behind its margins.
 *
 *   node --expose-gc --import tsx bench/src/gate.ts            run each quick bench once, then gate
 *   node --expose-gc --import tsx bench/src/gate.ts --noise N  run each quick bench N times in turn and
 *                                                             record the spread in bench/results/noise.json
 *                                                             (`--note TEXT` records why the machine was loaded;
 *                                                             `--only a,b` runs those benches and keeps the others' entries)
 *
 * Every ratio is gated in one attempt. A met target (its recorded median meets it) fails the gate
 * only when the quick run misses the target by more than the noise margin measured for that ratio:
 * the largest relative distance of a run from the median over repeated runs on a loaded machine,
 * and never below 25 %. A missed target is printed as missed on every run until it is met, and is
 * still gated against regression: the quick run may not be worse than the recorded median by more
 * than the margin.
 *
 * A ratio that one quick run puts beyond its bound is judged on the median of three: its bench runs
 * twice more, and the verdict (and the printed figure) is the median of the three runs. One run on a
 * shared machine lands outside a 25 % margin now and then (a fresh-clone CI read the Redis inbox at
 * 0.29 against a median of 0.37, then 0.39 on the next run); a real regression moves all three.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { BENCHES, NODE_FLAGS, RESULTS, type Bench } from "./benches.js";

const NOISE_FILE = join(RESULTS, "noise.json");
// Five quiet runs under-estimate a ratio's spread: in the fresh-clone CI run of 2026-12-07, right
// after the test suite, single quick runs lay 14-17 % from their recorded medians (ingest vs the SDK,
// SAP) where the five runs had spread 10 %. A 25 % floor keeps the gate to one attempt; a
// regression larger than that still fails it.
const MIN_MARGIN = 0.25;

/** One gated ratio of a benchmark's output. */
interface Target {
  readonly id: string;
  readonly bench: string;
  readonly label: string;
  /** Reads the ratio from the bench's JSON output. */
  readonly read: (result: Record<string, unknown>) => number;
  readonly op: "<=" | ">=";
  readonly target: number;
  /** Printed on every run but never fails the gate: its quick run is too noisy to detect a regression. */
  readonly reportOnly?: true;
}

const num = (value: unknown, what: string): number => {
  if (typeof value !== "number" || !Number.isFinite(value)) throw new Error(`bench gate: ${what} is not a finite number in the bench output`);
  return value;
};
const field = (name: string) => (r: Record<string, unknown>) => num(r[name], name);

const TARGETS: readonly Target[] = [
  { id: "model.parseVsAjv", bench: "model", label: "parseWorkOrder / bare ajv validate", read: field("parseVsAjv"), op: "<=", target: 1.3 },
  { id: "model.zodVsParse", bench: "model", label: "zod safeParse / parseWorkOrder", read: field("zodVsParse"), op: ">=", target: 2.5 },
  { id: "events.ingestVsBare", bench: "events", label: "ingest / bare JSON.parse + stringify", read: field("ingestVsBare"), op: "<=", target: 1.4 },
  { id: "events.ingestThroughputVsSdk", bench: "events", label: "ingest throughput / cloudevents SDK", read: field("ingestThroughputVsSdk"), op: ">=", target: 1.5 },
  { id: "events.parseEventVsBare", bench: "events", label: "parseEvent / JSON.parse + data validator", read: field("parseEventVsBare"), op: "<=", target: 1.3 },
  {
    id: "events.heap",
    bench: "events",
    label: "heap: 100k events / 100k payloads",
    read: (r) => num((r["heap"] as Record<string, unknown> | undefined)?.["ratio"], "heap.ratio"),
    op: "<=",
    target: 1.25,
  },
  { id: "inbox.sqlite", bench: "inbox", label: "inbox / bare insert: SQLite", read: field("sqlite"), op: ">=", target: 0.33 },
  { id: "inbox.postgres", bench: "inbox", label: "inbox / bare insert: PostgreSQL ×4", read: field("postgres"), op: ">=", target: 0.33 },
  { id: "inbox.redis", bench: "inbox", label: "inbox / bare SET NX: Redis ×4", read: field("redis"), op: ">=", target: 0.5 },
  // The same rows with the deliveries handed over in batches of 32 (inbox.processBatch); the bare side is the same per-delivery insert.
  { id: "inbox.sqliteBatch", bench: "inbox", label: "inbox batches of 32 / bare insert: SQLite", read: field("sqliteBatch"), op: ">=", target: 0.33 },
  { id: "inbox.redisBatch", bench: "inbox", label: "inbox batches of 32 / bare SET NX: Redis ×4", read: field("redisBatch"), op: ">=", target: 0.5 },
  { id: "transports.mqtt", bench: "transports", label: "transport / bare client: MQTT", read: field("mqtt"), op: ">=", target: 0.7 },
  { id: "transports.nats", bench: "transports", label: "transport / bare client: NATS", read: field("nats"), op: ">=", target: 0.7 },
  { id: "transports.amqp", bench: "transports", label: "transport / bare client: AMQP", read: field("amqp"), op: ">=", target: 0.7 },
  { id: "validate.ratio", bench: "validate", label: "millwright validate / bare JSON.parse", read: field("ratio"), op: "<=", target: 2 },
  { id: "validate.peakRssMB", bench: "validate", label: "millwright validate: peak RSS (MB)", read: field("peakRssMB"), op: "<=", target: 200 },
  { id: "sap.ratio", bench: "sap", label: "SAP text → WorkOrders / JSON.parse", read: field("ratioToJsonParse"), op: "<=", target: 2 },
  { id: "alignment.ratio", bench: "alignment", label: "alignment, 9 rules / bare JSON.parse", read: field("ratio"), op: "<=", target: 2 },
  { id: "opcua.ratio", bench: "opcua", label: "OPC UA adapter CPU / bare subscription", read: field("adapterVsBareSubscription"), op: "<=", target: 3 },
  { id: "arbitraries.ratio", bench: "arbitraries", label: "generate 100 events / validate them", read: field("worstCpuRatio"), op: "<=", target: 10 },
  { id: "sparkplug.ratio", bench: "sparkplug", label: "Sparkplug DDATA decode + map + createEvent / bare protobuf decode", read: field("decodeMapCreateVsDecode"), op: "<=", target: 3 },
  { id: "workflows.sqlite", bench: "workflows", label: "workflow engine on SQLite / bare loop, one row per step", read: field("sqliteOverheadVsBare"), op: "<=", target: 3 },
];

interface Noise {
  readonly runs: number;
  readonly median: number;
  readonly min: number;
  readonly max: number;
  /** The largest relative distance of a run from the median. */
  readonly spread: number;
}

function runBench(bench: Bench): Record<string, unknown> {
  const started = performance.now();
  execFileSync(process.execPath, [...(bench.node ?? NODE_FLAGS), ...bench.args], { cwd: bench.cwd, stdio: ["ignore", "ignore", "inherit"] });
  console.log(`  ${bench.name}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return JSON.parse(readFileSync(join(RESULTS, bench.output), "utf8")) as Record<string, unknown>;
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

function measureNoise(runs: number, note: string | undefined, only: readonly string[] | undefined): void {
  const loadBefore = loadavg()[0];
  const benches = only === undefined ? BENCHES : BENCHES.filter((b) => only.includes(b.name));
  const targets = TARGETS.filter((t) => benches.some((b) => b.name === t.bench));
  const samples = new Map<string, number[]>(targets.map((t) => [t.id, []]));
  // With --only, the other benches' entries are kept as they were recorded.
  const kept = only !== undefined && existsSync(NOISE_FILE) ? (JSON.parse(readFileSync(NOISE_FILE, "utf8")) as { ratios: Record<string, Noise> }).ratios : {};
  const failures: string[] = [];
  for (let i = 1; i <= runs; i++) {
    for (const bench of benches) {
      // A run that fails (a service or a build gone for a moment on a shared machine) is retried once,
      // then left out of this round's samples and named in the record.
      let result: Record<string, unknown> | undefined;
      for (let attempt = 1; attempt <= 2 && result === undefined; attempt++) {
        try {
          result = runBench(bench);
        } catch (error) {
          const message = `${bench.name}, run ${i}, attempt ${attempt}: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`;
          failures.push(message);
          console.error(`noise: ${message}`);
        }
      }
      if (result === undefined) continue;
      for (const t of TARGETS.filter((x) => x.bench === bench.name)) samples.get(t.id)?.push(t.read(result));
    }
    console.log(`noise: run ${i}/${runs} done`);
    // Written after every round from the third on, so a stopped recording keeps what it measured.
    if (i >= 3) writeNoise(i, samples, kept, benches.map((b) => b.name), { before: loadBefore, after: loadavg()[0], note }, failures);
  }
  console.log(`noise: wrote ${NOISE_FILE}`);
  for (const [id, values] of samples) {
    const m = median(values);
    console.log(`  ${id.padEnd(32)} median ${m.toFixed(3)}  min ${Math.min(...values).toFixed(3)}  max ${Math.max(...values).toFixed(3)}  (${values.length} runs)`);
  }
}

function writeNoise(
  runs: number,
  samples: ReadonlyMap<string, readonly number[]>,
  kept: Readonly<Record<string, Noise>>,
  benches: readonly string[],
  load: { readonly before: number | undefined; readonly after: number | undefined; readonly note: string | undefined },
  failures: readonly string[],
): void {
  const ratios: Record<string, Noise> = { ...kept };
  for (const [id, values] of samples) {
    if (values.length === 0) continue;
    const m = median(values);
    const min = Math.min(...values);
    const max = Math.max(...values);
    ratios[id] = { runs: values.length, median: m, min, max, spread: Math.max(max / m - 1, m / min - 1) };
  }
  // The machine's load (1-minute average) before and after: margins recorded under load are wider.
  const record = { date: new Date().toISOString(), node: process.version, cpus: `${cpus().length} × ${cpus()[0]?.model ?? "unknown"}`, runs, benches, load, failures, ratios };
  writeFileSync(NOISE_FILE, `${JSON.stringify(record, null, 2)}\n`);
}

function gate(): boolean {
  if (!existsSync(NOISE_FILE)) throw new Error(`bench gate: ${NOISE_FILE} is missing; record it with --noise 5`);
  const started = performance.now();
  let passed = true;
  const outputs = new Map<string, Record<string, unknown>>();
  for (const b of BENCHES) {
    // A bench that fails fails the gate; the others still run, so one run shows every ratio.
    try {
      outputs.set(b.name, runBench(b));
    } catch (error) {
      console.error(`bench gate: FAILED: the ${b.name} bench did not finish: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`);
      passed = false;
    }
  }
  const noise = (JSON.parse(readFileSync(NOISE_FILE, "utf8")) as { ratios: Record<string, Noise> }).ratios;
  const verdicts = TARGETS.flatMap((t) => {
    const output = outputs.get(t.bench);
    if (output === undefined) return [];
    const recorded = noise[t.id];
    if (recorded === undefined) throw new Error(`bench gate: no noise recorded for ${t.id}; record it with --noise 5`);
    return [{ t, recorded, bound: boundOf(t, recorded), values: [t.read(output)] }];
  });
  // A ratio beyond its bound after one run is judged on the median of three runs of its bench.
  const outside = (v: (typeof verdicts)[number]) => v.t.reportOnly !== true && !within(v.t, median(v.values), v.bound.bound);
  const rerun = [...new Set(verdicts.filter(outside).map((v) => v.t.bench))];
  for (const name of rerun) {
    const bench = BENCHES.find((b) => b.name === name) as Bench;
    console.log(`bench gate: ${name} is beyond a bound after one run; running it twice more to judge on the median of three`);
    for (let i = 0; i < 2; i++) {
      try {
        const output = runBench(bench);
        for (const v of verdicts) if (v.t.bench === name) v.values.push(v.t.read(output));
      } catch (error) {
        console.error(`bench gate: FAILED: the ${name} bench did not finish on its re-run: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`);
        passed = false;
      }
    }
  }
  console.log(`\nbench gate: one quick run of each bench${rerun.length > 0 ? `, three of ${rerun.join(", ")}` : ""} (${((performance.now() - started) / 1000).toFixed(0)} s); margins from bench/results/noise.json`);
  console.log(`  ${"ratio".padEnd(42)} ${"now".padStart(7)} ${"target".padStart(9)} ${"median".padStart(7)} ${"margin".padStart(7)}  verdict`);
  for (const { t, recorded, bound: { bound, margin, met }, values } of verdicts) {
    const value = median(values);
    const ok = within(t, value, bound) || t.reportOnly === true;
    const runs = values.length > 1 ? ` (median of ${values.map((x) => x.toFixed(2)).join(", ")})` : "";
    const verdict = !ok
      ? `FAILED: ${value.toFixed(2)} is beyond ${bound.toFixed(2)} (${met ? "the target" : "the recorded median"} with the ${(margin * 100).toFixed(0)} % margin)`
      : met
        ? within(t, value, t.target) ? "met" : "met within the noise margin"
        : `MISSED: target ${t.op} ${t.target} not met yet (${t.reportOnly === true ? "reported only: its quick run is too noisy to gate" : "gated against regression only"})`;
    console.log(`  ${t.label.padEnd(42)} ${value.toFixed(2).padStart(7)} ${`${t.op} ${t.target.toFixed(2)}`.padStart(9)} ${recorded.median.toFixed(2).padStart(7)} ${`${(margin * 100).toFixed(0)} %`.padStart(7)}  ${verdict}${runs}`);
    if (!ok) passed = false;
  }
  return passed;
}

const within = (t: Target, value: number, bound: number): boolean => (t.op === "<=" ? value <= bound : value >= bound);

/** A met target is gated at the target; a missed one against regression from its recorded median. */
function boundOf(t: Target, recorded: Noise): { readonly bound: number; readonly margin: number; readonly met: boolean } {
  const margin = Math.max(MIN_MARGIN, recorded.spread);
  const met = within(t, recorded.median, t.target);
  const base = met ? t.target : recorded.median;
  return { bound: t.op === "<=" ? base * (1 + margin) : base / (1 + margin), margin, met };
}

const noiseAt = process.argv.indexOf("--noise");
if (noiseAt >= 0) {
  const runs = Number(process.argv[noiseAt + 1] ?? "8");
  if (!Number.isInteger(runs) || runs < 3) throw new Error("bench gate: --noise takes a whole number of runs, at least 3");
  const noteAt = process.argv.indexOf("--note");
  const onlyAt = process.argv.indexOf("--only");
  measureNoise(runs, noteAt >= 0 ? process.argv[noteAt + 1] : undefined, onlyAt >= 0 ? process.argv[onlyAt + 1]?.split(",") : undefined);
} else if (!gate()) {
  console.error("bench gate: a ratio is beyond its target or its recorded median by more than the measured noise");
  process.exit(1);
}
