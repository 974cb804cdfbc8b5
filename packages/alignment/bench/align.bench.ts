/**
 * Alignment engine throughput vs a bare JSON.parse loop over the same NDJSON lines.
 * Run: `node --conditions=@millwright/source --import tsx --expose-gc bench/align.bench.ts [events] [metrics]`,
 * where metrics is `none` (default), `noop` (instrumentEngine with no SDK registered: the API's
 * no-op meter) or `sdk` (instrumentEngine on an @opentelemetry/sdk-metrics MeterProvider, collected
 * after every evaluation). Times are CPU time of the process (user + system): a machine shared with
 * other jobs disturbs it far less than wall time. Writes bench/results/alignment.json at the root.
 * --quick [--out FILE]: the short run of the test command's gate (bench/src/gate.ts): 50,000
 * events, 3 interleaved rounds, the ratio written to FILE as { ratio }. In both modes one untimed
 * round of each side runs first (warm-up, the same for both).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { CanonicalEvent } from "@millwright/events";
import { MeterProvider, MetricReader } from "@opentelemetry/sdk-metrics";
import { builtInRules, createEngine, instrumentEngine, type AlignmentEngine } from "../src/index.js";
import {
  batchHoldPlaced,
  batchHoldReleased,
  batchProduced,
  completed,
  confirmed,
  consumed,
  counted,
  goodsReceipt,
  MINUTE,
  released,
  started,
  stockStatus,
  T0,
} from "../test/fixtures.js";

const argv = process.argv.slice(2);
const quick = argv.includes("--quick");
const outAt = argv.indexOf("--out");
const OUT = outAt >= 0 ? argv[outAt + 1] : undefined;
const positional = argv.filter((a, i) => !a.startsWith("--") && argv[i - 1] !== "--out");
const TOTAL = Number(positional[0] ?? (quick ? 50_000 : 1_000_000));
const METRICS = positional[1] ?? "none";
if (!["none", "noop", "sdk"].includes(METRICS)) throw new Error(`metrics is none, noop or sdk, got ${METRICS}`);

class PullReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}
const reader = new PullReader();
const meterProvider = new MeterProvider({ readers: [reader] });
let collections: Promise<unknown>[] = [];
/** The engine as the chosen metrics mode wraps it. */
function withMetrics(engine: AlignmentEngine): AlignmentEngine {
  if (METRICS === "none") return engine;
  if (METRICS === "noop") return instrumentEngine(engine);
  return instrumentEngine(engine, { meter: meterProvider.getMeter("bench") });
}
const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
const mb = (bytes: number): string => `${(bytes / 1_048_576).toFixed(1)} MB`;

// Templates made once with createEvent; the log varies ids, keys and times by plain object edits.
const tpl = {
  released: released("T", 0),
  started: started("T", 0),
  completed: completed("T", 0),
  counted: counted("T", "10", 0),
  partial: confirmed({ orderId: "T", n: 1, yieldValue: "20", isFinal: false, minutes: 0 }),
  final: confirmed({ orderId: "T", n: 2, yieldValue: "30", isFinal: true, minutes: 0 }),
  wrong: confirmed({ orderId: "T", n: 2, yieldValue: "31", isFinal: true, minutes: 0 }),
  consumedFloor: consumed({ orderId: "T", value: "25", minutes: 0, by: "floor" }),
  issued: consumed({ orderId: "T", value: "25", minutes: 0, by: "erp" }),
  produced: batchProduced("BATCHT", "30", 0),
  received: goodsReceipt("BATCHT", "30", 0),
  placed: batchHoldPlaced("HOLDT", "BATCHT", 0),
  ended: batchHoldReleased("HOLDT", "BATCHT", 0),
  blockedErp: stockStatus("BATCHT", "quality_inspection", 0, "erp"),
  blockedWms: stockStatus("BATCHT", "blocked", 0, "wms"),
  unblockedErp: stockStatus("BATCHT", "unrestricted", 0, "erp"),
  unblockedWms: stockStatus("BATCHT", "unrestricted", 0, "wms"),
};
type Data = Record<string, unknown>;
const withOrder = (e: CanonicalEvent, id: string, order: string, minutes: number, nested: boolean): string => {
  const data = e.data as unknown as Data;
  return JSON.stringify({
    ...e,
    id,
    time: new Date(T0 + minutes * MINUTE).toISOString(),
    data: nested ? { ...data, order: { ...(data["order"] as Data), orderId: order } } : { ...data, orderId: order },
  });
};

/** A stock event of one batch (and hold): the template's placeholders replaced, a time and an id. */
const withBatch = (e: CanonicalEvent, id: string, batch: string, minutes: number): string =>
  JSON.stringify({ ...e, id, time: new Date(T0 + minutes * MINUTE).toISOString() }).replaceAll("BATCHT", batch).replaceAll("HOLDT", `H${batch}`);

// One order: released, started, completed, 5 counts, a partial and a final confirmation, the line's
// consumption and SAP's goods issue, the batch and SAP's goods receipt (14 events); every 10th
// order's batch is also held, blocked in SAP and the WMS, released and unblocked (6 events). Every
// 20th order is started late, every 50th is never confirmed, every 7th confirms a wrong yield,
// every 9th issue is short, every 30th hold is never unblocked in the WMS. Orders begin one minute apart.
const lines: string[] = [];
for (let i = 0; lines.length < TOTAL; i++) {
  const order = `9${String(i).padStart(7, "0")}`;
  const t = i;
  lines.push(withOrder(tpl.released, `r${i}`, order, t, false));
  lines.push(withOrder(tpl.started, `s${i}`, order, t + (i % 20 === 0 ? 300 : 30), false));
  for (let k = 0; k < 5; k++) lines.push(withOrder(tpl.counted, `c${i}-${k}`, order, t + 40 + k * 10, true));
  lines.push(withOrder(tpl.completed, `d${i}`, order, t + 100, false));
  lines.push(withOrder(tpl.partial, `p${i}`, order, t + 110, true));
  if (i % 50 !== 0) lines.push(withOrder(i % 7 === 0 ? tpl.wrong : tpl.final, `f${i}`, order, t + 120, true));
  const batch = `B${i}`;
  const stock = (e: CanonicalEvent, id: string, minutes: number): string => withBatch(e, id, batch, minutes);
  lines.push(withOrder(tpl.consumedFloor, `m${i}`, order, t + 90, true));
  lines.push(withOrder(tpl.issued, `g${i}`, order, t + 105, true).replace('"value":"25"', i % 9 === 0 ? '"value":"24"' : '"value":"25"'));
  lines.push(stock(tpl.produced, `b${i}`, t + 100));
  lines.push(stock(tpl.received, `v${i}`, t + 115));
  if (i % 10 === 0) {
    lines.push(stock(tpl.placed, `h${i}`, t + 130));
    lines.push(stock(tpl.blockedErp, `x${i}`, t + 135));
    lines.push(stock(tpl.blockedWms, `y${i}`, t + 140));
    lines.push(stock(tpl.ended, `e${i}`, t + 600));
    lines.push(stock(tpl.unblockedErp, `u${i}`, t + 605));
    if (i % 30 !== 0) lines.push(stock(tpl.unblockedWms, `w${i}`, t + 610));
  }
}
lines.length = TOTAL;
// Shuffle within windows of 64 lines: a realistic, slightly out-of-order stream (deterministic).
let seed = 42;
const rand = (): number => ((seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648);
for (let w = 0; w < lines.length; w += 64) {
  for (let j = Math.min(w + 63, lines.length - 1); j > w; j--) {
    const k = w + Math.floor(rand() * (j - w + 1));
    [lines[j], lines[k]] = [lines[k] as string, lines[j] as string];
  }
}
const bytes = lines.reduce((n, l) => n + l.length, 0);

// The clock of each evaluation (the latest event time seen by then), worked out before timing: it
// stands for the wall clock a deployment reads, and the engine parses each event's time itself.
const clockAt: number[] = [];
let lastClock = 0;
for (let i = 0; i < lines.length; i++) {
  const ms = Date.parse((JSON.parse(lines[i] as string) as { time: string }).time);
  if (ms > lastClock) lastClock = ms;
  if (i % 10_000 === 9_999) clockAt[i] = lastClock;
}

function bare(): number {
  let sink = 0;
  for (const line of lines) sink += (JSON.parse(line) as { id: string }).id.length;
  return sink;
}

function aligned(): { breached: number; resolved: number; peakOpen: number; peakHeap: number; evaluateMs: number; collectMs: number; engine: AlignmentEngine } {
  const engine = withMetrics(createEngine({ rules: builtInRules(), retentionMs: 60 * MINUTE }));
  let breached = 0;
  let resolved = 0;
  let peakOpen = 0;
  let peakHeap = 0;
  let evaluateMs = 0;
  let collectMs = 0;
  for (let i = 0; i < lines.length; i++) {
    engine.ingest(JSON.parse(lines[i] as string) as CanonicalEvent);
    // The injected clock: evaluate every 10,000 events at the latest event time seen.
    if (i % 10_000 === 9_999) {
      const t0 = performance.now();
      const findings = engine.evaluate(clockAt[i] as number);
      const t1 = performance.now();
      // With an SDK, a collection (the gauges' walk over the open keys runs synchronously in it) after every evaluation.
      if (METRICS === "sdk") collections.push(reader.collect());
      collectMs += performance.now() - t1;
      evaluateMs += t1 - t0;
      for (const f of findings) f.kind === "breached" ? breached++ : resolved++;
      peakOpen = Math.max(peakOpen, engine.store.size().open);
      peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
    }
  }
  for (const f of engine.evaluate(lastClock + 24 * 60 * MINUTE)) f.kind === "breached" ? breached++ : resolved++;
  return { breached, resolved, peakOpen, peakHeap, evaluateMs, collectMs, engine };
}

const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
function time<T>(fn: () => T): { ms: number; value: T } {
  const start = cpuMs();
  const value = fn();
  return { ms: cpuMs() - start, value };
}

// One untimed round of each side first, the same for both: without it the first timed round
// pays for compiling the engine (tsx-loaded modules start in the interpreter) while the bare side
// is JSON.parse, native code with nothing to compile, so the quick mode's three rounds of 50,000
// events measured warm-up the full mode's 1,000,000 amortize. Neither side's timed work changes.
bare();
aligned();
gc();
const baseHeap = process.memoryUsage().heapUsed;
const bareRuns: number[] = [];
const ourRuns: number[] = [];
const evaluateRuns: number[] = [];
const collectRuns: number[] = [];
let last: ReturnType<typeof aligned> | undefined;
let retained = 0;
for (let round = 0; round < 3; round++) {
  last = undefined;
  gc();
  bareRuns.push(time(bare).ms);
  gc();
  const r = time(aligned);
  ourRuns.push(r.ms);
  evaluateRuns.push(r.value.evaluateMs);
  collectRuns.push(r.value.collectMs);
  last = r.value;
}
// What the engine itself keeps, in one more (untimed) round: heap after a full collection with
// the engine alive, minus the heap before it was created.
gc();
const before = process.memoryUsage().heapUsed;
const kept = aligned();
gc();
retained = process.memoryUsage().heapUsed - before;
const openAtEnd = kept.engine.store.size().open;
const summary = last;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const b = median(bareRuns);
const o = median(ourRuns);
await Promise.all(collections);
collections = [];
console.log(`metrics: ${METRICS}`);
console.log(`log: ${TOTAL} events, ${mb(bytes)} of NDJSON held in memory (heap with the log: ${mb(baseHeap)})`);
console.log(`bare JSON.parse loop: ${b.toFixed(0)} ms, ${Math.round(TOTAL / (b / 1000)).toLocaleString("en")} events/s`);
console.log(`JSON.parse + alignment: ${o.toFixed(0)} ms, ${Math.round(TOTAL / (o / 1000)).toLocaleString("en")} events/s, ratio ${(o / b).toFixed(2)}×`);
console.log(`evaluate: ${median(evaluateRuns).toFixed(1)} ms in ${Math.ceil(TOTAL / 10_000)} calls${METRICS === "sdk" ? `; metric collection after each: ${median(collectRuns).toFixed(1)} ms` : ""}`);
console.log(`findings: ${summary?.breached} breached, ${summary?.resolved} resolved; peak open keys ${summary?.peakOpen}; peak heap above the log ${mb((summary?.peakHeap ?? 0) - baseHeap)} (garbage included)`);
console.log(`at the end: ${openAtEnd} open keys (the never-confirmed orders), retained by the engine ${(retained / 1024).toFixed(0)} KB`);
const record = {
  node: process.version,
  date: new Date().toISOString(),
  quick,
  events: TOTAL,
  metrics: METRICS,
  clock: "CPU time of the process (user + system)",
  bareMs: Number(b.toFixed(1)),
  alignedMs: Number(o.toFixed(1)),
  ratio: Number((o / b).toFixed(3)),
  ratios: bareRuns.map((x, i) => Number(((ourRuns[i] as number) / x).toFixed(3))),
  evaluateMs: Number(median(evaluateRuns).toFixed(1)),
  breached: summary?.breached,
  resolved: summary?.resolved,
  retainedKB: Math.round(retained / 1024),
};
if (OUT !== undefined) writeFileSync(OUT, `${JSON.stringify(record, null, 2)}\n`);
if (!quick && METRICS === "none") writeFileSync(join(import.meta.dirname, "..", "..", "..", "bench", "results", "alignment.json"), `${JSON.stringify(record, null, 2)}\n`);
