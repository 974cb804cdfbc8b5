// Bench of the host's pure path, in one process, no broker:
// 1. per DDATA message with 20 metrics: decode + session (seq, aliases) + mapping + counter core
//    with its event factory, against a bare protobuf decode of the same bytes;
// 2. a host following 100 edge nodes × 50 metrics at 1 Hz: CPU time for 60 simulated seconds.
// Usage: node --conditions=@millwright/source --expose-gc --import tsx bench/run.ts [--quick] [--out <file.json>]
//   --quick: fewer and shorter rounds (the bench gate's run); --out: write the figures as JSON there.
import { writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { applyReadings, EMPTY_LINE_STATE, type LineConfig, type LineState } from "@millwright/adapter-kit";
import { lineKey, parseSparkplugHostConfig, toLineConfig, type SparkplugHostConfig } from "../src/config.js";
import { toLineReadings } from "../src/mapping.js";
import { encodeSparkplugPayload, type OutgoingMetric } from "../src/payload.js";
import { DECODE_TYPE, PAYLOAD_TYPE } from "../src/proto.js";
import { SessionTable } from "../src/session.js";
import { parseSparkplugTopic } from "../src/topic.js";

const T0 = 1_772_431_960_000;
const argv = process.argv.slice(2);
const quick = argv.includes("--quick");
const outIndex = argv.indexOf("--out");
const out = outIndex >= 0 ? argv[outIndex + 1] : undefined;
if (outIndex >= 0 && out === undefined) throw new Error("--out needs a file name");
const loadBefore = loadavg()[0] ?? 0;

function config(nodes: number, processValues: number): SparkplugHostConfig {
  return parseSparkplugHostConfig({
    brokerUrl: "mqtt://127.0.0.1:1883",
    groupId: "bench",
    hostId: "bench",
    lines: Array.from({ length: nodes }, (_, n) => ({
      edgeNodeId: `E${n}`,
      equipment: { id: `M${n}`, level: "work_cell", site: { id: "1710" } },
      signals: [
        { role: "machine_state", metric: "State", mapping: { kind: "packml" } },
        { role: "good_count", metric: "Good" },
        { role: "defective_count", metric: "Defective" },
        { role: "order_number", metric: "Order" },
        ...Array.from({ length: processValues }, (_, i) => ({ role: "process_value", metric: `PV${i}`, name: `pv${i}` })),
      ],
    })),
  })._unsafeUnwrap();
}

function metrics(count: number, good: number, ts: number, birth: boolean): OutgoingMetric[] {
  const all: OutgoingMetric[] = [
    { name: "State", alias: 1n, datatype: "Int32", value: 6, timestamp: ts },
    { name: "Good", alias: 2n, datatype: "UInt32", value: good, timestamp: ts },
    { name: "Defective", alias: 3n, datatype: "UInt32", value: Math.floor(good / 50), timestamp: ts },
    { name: "Order", alias: 4n, datatype: "String", value: "1000123", timestamp: ts },
  ];
  for (let i = 0; all.length < count; i++) all.push({ name: `PV${i}`, alias: BigInt(5 + i), datatype: "Double", value: 20 + Math.sin(good + i), timestamp: ts });
  // Data carries aliases only; State and Order are unchanged after the birth.
  return birth ? all : all.filter((m) => m.name !== "State" && m.name !== "Order").map(({ name: _name, ...m }) => m);
}

interface Host {
  readonly sessions: SessionTable;
  readonly states: Map<string, LineState>;
  events: number;
}

/** The host's per-line view, built once at start as `startSparkplugHost` does. */
interface BenchLine {
  readonly core: LineConfig;
}

function linesOf(cfg: SparkplugHostConfig): Map<string, BenchLine> {
  return new Map(cfg.lines.map((line) => [lineKey(line), { core: toLineConfig(line) }]));
}

/** What the host's `process` does with one message, without the store and the handler. */
function receive(cfg: SparkplugHostConfig, lines: ReadonlyMap<string, BenchLine>, host: Host, topic: string, bytes: Uint8Array, at: number): void {
  const parsed = parseSparkplugTopic(topic);
  if (parsed?.kind !== "message") throw new TypeError(topic);
  const outcome = host.sessions.apply(parsed, bytes, at);
  if (outcome.rebirth !== undefined) throw new Error(`unexpected rebirth: ${outcome.issues[0]?.message ?? ""}`);
  for (const [key, readings] of toLineReadings(cfg.lines, outcome, topic).readings) {
    const line = lines.get(key);
    if (line === undefined) continue;
    const step = applyReadings(line.core, host.states.get(key) ?? EMPTY_LINE_STATE, readings);
    if (step.issues.length > 0) throw new Error(`unexpected issue: ${step.issues[0]?.message ?? ""}`);
    host.states.set(key, step.state);
    host.events += step.events.length;
  }
}

function birthOf(node: number, count: number): Uint8Array {
  return encodeSparkplugPayload({ timestamp: T0, seq: 0, metrics: [{ name: "bdSeq", datatype: "Int64", value: 0n }, ...metrics(count, 0, T0, true)] })._unsafeUnwrap();
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] ?? Number.NaN) : ((sorted[mid - 1] ?? Number.NaN) + (sorted[mid] ?? Number.NaN)) / 2;
}

// 1. Ratio per message. Every stage reads the same bytes; rounds interleave the stages so that
// load from other jobs on the machine falls on all of them alike. Each stage is timed in CPU time
// of this process (process.cpuUsage: time the process is not scheduled is not counted, time its
// GC threads work is) and in wall time (hrtime). The ratio is the median of the rounds' own
// ratios; the best-of ratio is the fastest full round over the fastest bare round.
const part1 = (() => {
  const cfg = config(1, 16);
  const lines = linesOf(cfg);
  const n = quick ? 2_000 : 5_000;
  const rounds = quick ? 9 : 21;
  const messages = Array.from({ length: n }, (_, i) => encodeSparkplugPayload({ timestamp: T0 + i + 1, seq: (i + 1) % 256, metrics: metrics(20, i + 1, T0 + i + 1, true) })._unsafeUnwrap());
  const topic = "spBv1.0/bench/NDATA/E0";
  interface Timing {
    readonly cpu: number;
    readonly wall: number;
  }
  const time = (body: () => void): Timing => {
    const cpu = process.cpuUsage();
    const start = process.hrtime.bigint();
    body();
    const wall = Number(process.hrtime.bigint() - start) / 1e3 / n;
    const used = process.cpuUsage(cpu);
    return { cpu: (used.user + used.system) / n, wall };
  };
  type Depth = "bare" | "bareFlat" | "session" | "mapped" | "full";
  // A fresh session after the birth, untimed; then all messages through one stage: bare decode
  // with the official schema (what a hand-written consumer runs), bare decode with the oneof-free
  // schema the host decodes with, + session (Sparkplug decode with aliases, seq), + mapping to
  // readings, + counter core with the event factory (the host's `process` without store and handler).
  const stage = (depth: Depth): { t: Timing; events: number } => {
    const host: Host = { sessions: new SessionTable(5000), states: new Map(), events: 0 };
    receive(cfg, lines, host, "spBv1.0/bench/NBIRTH/E0", birthOf(0, 20), T0);
    const parsed = parseSparkplugTopic(topic);
    if (parsed?.kind !== "message") throw new TypeError(topic);
    let sink = 0;
    (globalThis as { gc?: () => void }).gc?.();
    const t = time(() => {
      for (let i = 0; i < n; i++) {
        const bytes = messages[i] as Uint8Array;
        if (depth === "bare") sink += (PAYLOAD_TYPE.decode(bytes) as unknown as { metrics: unknown[] }).metrics.length;
        else if (depth === "bareFlat") sink += (DECODE_TYPE.decode(bytes) as unknown as { metrics: unknown[] }).metrics.length;
        else if (depth === "session") sink += host.sessions.apply(parsed, bytes, T0 + i + 1).metrics.length;
        else if (depth === "mapped") sink += toLineReadings(cfg.lines, host.sessions.apply(parsed, bytes, T0 + i + 1), topic).readings.size;
        else receive(cfg, lines, host, topic, bytes, T0 + i + 1);
      }
    });
    if (depth !== "full" && sink === 0) throw new Error("nothing decoded");
    return { t, events: host.events };
  };
  const depths: readonly Depth[] = ["bare", "bareFlat", "session", "mapped", "full"];
  const results = new Map<Depth, Timing[]>(depths.map((d) => [d, []]));
  const ratios = { cpu: [] as number[], wall: [] as number[], cpuFlat: [] as number[] };
  let events = 0;
  for (let r = -3; r < rounds; r++) {
    // Warm-up rounds (r < 0) are not recorded. The stage order alternates between rounds.
    const order = r % 2 === 0 ? depths : [...depths].reverse();
    const round = new Map<Depth, Timing>();
    for (const depth of order) {
      const { t, events: e } = stage(depth);
      round.set(depth, t);
      if (depth === "full") events = e;
    }
    if (r < 0) continue;
    for (const depth of depths) results.get(depth)?.push(round.get(depth) as Timing);
    const full = round.get("full") as Timing;
    const bare = round.get("bare") as Timing;
    ratios.cpu.push(full.cpu / bare.cpu);
    ratios.wall.push(full.wall / bare.wall);
    ratios.cpuFlat.push(full.cpu / (round.get("bareFlat") as Timing).cpu);
  }
  const med = (depth: Depth, k: keyof Timing): number => median((results.get(depth) ?? []).map((t) => t[k]));
  const best = (depth: Depth, k: keyof Timing): number => Math.min(...(results.get(depth) ?? []).map((t) => t[k]));
  const range = (values: readonly number[]): [number, number] => [Math.min(...values), Math.max(...values)];
  const fmt = (values: readonly number[]): string => `${median(values).toFixed(2)}× (${range(values).map((v) => v.toFixed(2)).join("–")})`;
  const bestCpu = best("full", "cpu") / best("bare", "cpu");
  console.log(`per DDATA of 20 metrics (${rounds} interleaved rounds of ${n}, ${events} events a round):`);
  console.log(`  CPU time: bare decode ${med("bare", "cpu").toFixed(1)} µs, decode+session+map+counter core+events ${med("full", "cpu").toFixed(1)} µs; ratio ${fmt(ratios.cpu)}, best-of ${bestCpu.toFixed(2)}×`);
  console.log(`  wall time: bare ${med("bare", "wall").toFixed(1)} µs, full ${med("full", "wall").toFixed(1)} µs; ratio ${fmt(ratios.wall)}, best-of ${(best("full", "wall") / best("bare", "wall")).toFixed(2)}×`);
  console.log(`  against a bare decode with the host's oneof-free schema (${med("bareFlat", "cpu").toFixed(1)} µs CPU): ${fmt(ratios.cpuFlat)}`);
  const [b, f, s, m, x] = depths.map((d) => med(d, "cpu")) as [number, number, number, number, number];
  console.log(`  stages (CPU medians): protobuf decode, official schema ${b.toFixed(1)} µs / oneof-free ${f.toFixed(1)} µs; + Sparkplug decode and session ${(s - f).toFixed(1)} µs; + mapping ${(m - s).toFixed(1)} µs; + counter core and events ${(x - m).toFixed(1)} µs`);
  return {
    decodeMapCreateVsDecode: median(ratios.cpu),
    decodeMapCreateVsDecodeRange: range(ratios.cpu),
    decodeMapCreateVsDecodeBest: bestCpu,
    decodeMapCreateVsDecodeWall: median(ratios.wall),
    decodeMapCreateVsDecodeWallRange: range(ratios.wall),
    decodeMapCreateVsFlatDecode: median(ratios.cpuFlat),
    usPerMessage: { bare: b, bareFlat: f, session: s, mapped: m, full: x },
    rounds,
    messagesPerRound: n,
  };
})();

// 2. 100 edge nodes × 50 metrics at 1 Hz for 60 simulated seconds (10 in the quick mode).
const part2 = (() => {
  const nodes = 100;
  const seconds = quick ? 10 : 60;
  const cfg = config(nodes, 46);
  const lines = linesOf(cfg);
  const host: Host = { sessions: new SessionTable(5000), states: new Map(), events: 0 };
  for (let e = 0; e < nodes; e++) receive(cfg, lines, host, `spBv1.0/bench/NBIRTH/E${e}`, birthOf(e, 50), T0);
  const traffic: { topic: string; bytes: Uint8Array; at: number }[] = [];
  for (let s = 1; s <= seconds; s++) {
    for (let e = 0; e < nodes; e++) {
      const ts = T0 + s * 1000 + e;
      traffic.push({ topic: `spBv1.0/bench/NDATA/E${e}`, bytes: encodeSparkplugPayload({ timestamp: ts, seq: s % 256, metrics: metrics(50, s * 3, ts, false) })._unsafeUnwrap(), at: ts });
    }
  }
  const cpu = process.cpuUsage();
  for (const m of traffic) receive(cfg, lines, host, m.topic, m.bytes, m.at);
  const used = process.cpuUsage(cpu);
  const cpuSeconds = (used.user + used.system) / 1e6;
  console.log(`100 edge nodes × 50 metrics at 1 Hz: ${traffic.length} messages (${seconds} s of traffic) in ${cpuSeconds.toFixed(2)} s CPU = ${((cpuSeconds / seconds) * 100).toFixed(1)} % of a core; ${host.events} events`);
  return { hostPercentOfCore: (cpuSeconds / seconds) * 100, seconds, messages: traffic.length, events: host.events };
})();

const loadAfter = loadavg()[0] ?? 0;
console.log(`load average (1 min) ${loadBefore.toFixed(1)} before, ${loadAfter.toFixed(1)} after, ${cpus().length} CPUs`);
if (out !== undefined) {
  const result = {
    bench: "adapter-sparkplug",
    mode: quick ? "quick" : "full",
    date: new Date().toISOString(),
    node: process.version,
    cpus: `${cpus().length} × ${cpus()[0]?.model ?? "unknown"}`,
    load: { before: loadBefore, after: loadAfter },
    ...part1,
    ...part2,
  };
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`wrote ${out}`);
}
