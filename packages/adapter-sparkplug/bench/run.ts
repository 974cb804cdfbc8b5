// Bench of the host's pure path, in one process, no broker:
// 1. per DDATA message with 20 metrics: decode + session (seq, aliases) + mapping + counter core
//    with createEvent, against a bare protobuf decode of the same bytes;
// 2. a host following 100 edge nodes × 50 metrics at 1 Hz: CPU time for 60 simulated seconds.
// Usage: node --conditions=@millwright/source --import tsx bench/run.ts
import { applyReadings, EMPTY_LINE_STATE, type LineConfig, type LineState } from "@millwright/adapter-kit";
import { lineKey, parseSparkplugHostConfig, toLineConfig, type SparkplugHostConfig } from "../src/config.js";
import { toLineReadings } from "../src/mapping.js";
import { encodeSparkplugPayload, type OutgoingMetric } from "../src/payload.js";
import { PAYLOAD_TYPE } from "../src/proto.js";
import { SessionTable } from "../src/session.js";
import { parseSparkplugTopic } from "../src/topic.js";

const T0 = 1_772_431_960_000;

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

// 1. Ratio per message. Both sides read the same bytes; rounds interleave the stages so that
// load from other jobs on the machine falls on all of them alike; medians of the rounds.
{
  const cfg = config(1, 16);
  const lines = linesOf(cfg);
  const n = 5_000;
  const rounds = 15;
  const messages = Array.from({ length: n }, (_, i) => encodeSparkplugPayload({ timestamp: T0 + i + 1, seq: (i + 1) % 256, metrics: metrics(20, i + 1, T0 + i + 1, true) })._unsafeUnwrap());
  const topic = "spBv1.0/bench/NDATA/E0";
  const time = (body: () => void): number => {
    const start = process.hrtime.bigint();
    body();
    return Number(process.hrtime.bigint() - start) / 1e3 / n;
  };
  // A fresh session after the birth, untimed; then all messages through stage 1 (bare decode),
  // 2 (+ session: decode with aliases, seq), 3 (+ mapping to readings) or 4 (+ counter core).
  const stage = (depth: 1 | 2 | 3 | 4): { us: number; events: number } => {
    const host: Host = { sessions: new SessionTable(5000), states: new Map(), events: 0 };
    receive(cfg, lines, host, "spBv1.0/bench/NBIRTH/E0", birthOf(0, 20), T0);
    const parsed = parseSparkplugTopic(topic);
    if (parsed?.kind !== "message") throw new TypeError(topic);
    let sink = 0;
    const us = time(() => {
      for (let i = 0; i < n; i++) {
        const bytes = messages[i] as Uint8Array;
        if (depth === 1) sink += (PAYLOAD_TYPE.decode(bytes) as unknown as { metrics: unknown[] }).metrics.length;
        else if (depth === 2) sink += host.sessions.apply(parsed, bytes, T0 + i + 1).metrics.length;
        else if (depth === 3) sink += toLineReadings(cfg.lines, host.sessions.apply(parsed, bytes, T0 + i + 1), topic).readings.size;
        else receive(cfg, lines, host, topic, bytes, T0 + i + 1);
      }
    });
    if (depth < 4 && sink === 0) throw new Error("nothing decoded");
    return { us, events: host.events };
  };
  const results: Record<1 | 2 | 3 | 4, number[]> = { 1: [], 2: [], 3: [], 4: [] };
  const ratios: number[] = [];
  let events = 0;
  for (let r = -3; r < rounds; r++) {
    // Warm-up rounds (r < 0) are not recorded.
    const bare = stage(1).us;
    const session = stage(2).us;
    const mapped = stage(3).us;
    const full = stage(4);
    if (r < 0) continue;
    results[1].push(bare);
    results[2].push(session);
    results[3].push(mapped);
    results[4].push(full.us);
    ratios.push(full.us / bare);
    events = full.events;
  }
  const [b, s, m, f] = [median(results[1]), median(results[2]), median(results[3]), median(results[4])];
  console.log(`per DDATA of 20 metrics (median of ${rounds} interleaved rounds of ${n}): bare decode ${b.toFixed(1)} µs, decode+session+map+createEvent ${f.toFixed(1)} µs (${events} events a round), ratio ${median(ratios).toFixed(2)}× (median of the rounds' ratios; ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})`);
  console.log(`  stages: protobuf decode ${b.toFixed(1)} µs, + Sparkplug decode and session ${(s - b).toFixed(1)} µs, + mapping ${(m - s).toFixed(1)} µs, + counter core and createEvent ${(f - m).toFixed(1)} µs`);
}

// 2. 100 edge nodes × 50 metrics at 1 Hz for 60 simulated seconds.
{
  const nodes = 100;
  const seconds = 60;
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
}
