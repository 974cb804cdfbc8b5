/**
 * The cost of instrumentEngine where it acts: one `evaluate` that reports a breach for every one of
 * 20,000 open keys, and one metric collection (the gauges walk the open keys), for a bare engine,
 * an engine instrumented with no SDK registered (the API's no-op meter) and one on an
 * @opentelemetry/sdk-metrics MeterProvider. Medians of 18 rounds, the modes rotated per round.
 * Run: `node --conditions=@millwright/source --import tsx --expose-gc bench/telemetry.bench.ts`.
 */
import { MeterProvider, MetricReader } from "@opentelemetry/sdk-metrics";
import { builtInRules, createEngine, instrumentEngine, type AlignmentEngine } from "../src/index.js";
import { MINUTE, released, T0 } from "../test/fixtures.js";

class PullReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

const KEYS = 20_000;
const reader = new PullReader();
const provider = new MeterProvider({ readers: [reader] });
const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
const template = released("T", 0);
const events = Array.from({ length: KEYS }, (_, i) => ({ ...template, id: `r${i}`, data: { ...template.data, orderId: String(2_000_000 + i) } }) as typeof template);

function run(wrap: (engine: AlignmentEngine) => AlignmentEngine): { readonly evaluate: number; readonly collect: number } {
  const engine = wrap(createEngine({ rules: builtInRules() }));
  for (const e of events) engine.ingest(e);
  const t0 = performance.now();
  // 5 h after release every key is missing: one breach finding each.
  const findings = engine.evaluate(T0 + 5 * 60 * MINUTE);
  const t1 = performance.now();
  if (findings.length !== KEYS) throw new Error(`expected ${KEYS} findings, got ${findings.length}`);
  // The gauges' callback runs synchronously inside collect(); the rest is the SDK's export path.
  void reader.collect();
  return { evaluate: t1 - t0, collect: performance.now() - t1 };
}

const modes: [string, (engine: AlignmentEngine) => AlignmentEngine][] = [
  ["bare engine", (e) => e],
  ["instrumented, no SDK (no-op meter)", (e) => instrumentEngine(e)],
  ["instrumented, sdk-metrics", (e) => instrumentEngine(e, { meter: provider.getMeter("bench") })],
];
const samples = new Map<string, { evaluate: number[]; collect: number[] }>(modes.map(([name]) => [name, { evaluate: [], collect: [] }]));
for (let round = 0; round < 21; round++) {
  const order = [...modes.slice(round % 3), ...modes.slice(0, round % 3)];
  for (const [name, wrap] of order) {
    gc();
    const t = run(wrap);
    if (round < 3) continue; // warm-up
    samples.get(name)?.evaluate.push(t.evaluate);
    samples.get(name)?.collect.push(t.collect);
  }
}
const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
console.log(`${KEYS} open keys, every one breached in one evaluate; Node ${process.version}`);
console.log("| engine | evaluate | per finding | collection (gauges) |\n|---|---|---|---|");
for (const [name, s] of samples) {
  const evaluate = median(s.evaluate);
  const collect = name.endsWith("sdk-metrics") ? `${median(s.collect).toFixed(1)} ms` : "—";
  console.log(`| ${name} | ${evaluate.toFixed(1)} ms | ${((evaluate * 1e6) / KEYS).toFixed(0)} ns | ${collect} |`);
}
await provider.shutdown();
