import { createNoopMeter, metrics } from "@opentelemetry/api";
import { DataPointType, MeterProvider, MetricReader, type DataPoint, type Histogram, type MetricData } from "@opentelemetry/sdk-metrics";
import { afterEach, describe, expect, it } from "vitest";
import { completed, confirmed, counted, MINUTE, released, started, T0 } from "../test/fixtures.js";
import { builtInRules } from "./built-in-rules.js";
import { createEngine } from "./engine.js";
import { createMemoryStore, type AlignmentStore } from "./store.js";
import { ALIGNMENT_METRICS, instrumentEngine } from "./telemetry.js";

/** A reader the test pulls from: every `collect()` gives what the SDK holds at that moment. */
class PullReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

const providers: MeterProvider[] = [];
afterEach(async () => {
  for (const p of providers.splice(0)) await p.shutdown();
  metrics.disable();
});

function sdk(): { readonly reader: PullReader; readonly provider: MeterProvider } {
  const reader = new PullReader();
  const provider = new MeterProvider({ readers: [reader] });
  providers.push(provider);
  return { reader, provider };
}

async function collect(reader: PullReader): Promise<Map<string, MetricData>> {
  const { resourceMetrics, errors } = await reader.collect();
  expect(errors).toEqual([]);
  const out = new Map<string, MetricData>();
  for (const scope of resourceMetrics.scopeMetrics) for (const metric of scope.metrics) out.set(metric.descriptor.name, metric);
  return out;
}

/** The data points of a metric as attributes → value (sorted, so the expectations read plainly). */
function points(metric: MetricData | undefined): { attributes: Record<string, unknown>; value: unknown }[] {
  if (metric === undefined) return [];
  const list = (metric.dataPoints as DataPoint<unknown>[]).map((p) => ({
    attributes: { ...p.attributes },
    value: metric.dataPointType === DataPointType.HISTOGRAM ? { count: (p.value as Histogram).count, sum: (p.value as Histogram).sum } : p.value,
  }));
  return list.sort((a, b) => (JSON.stringify(a.attributes) < JSON.stringify(b.attributes) ? -1 : 1));
}

const h = 60; // minutes per hour

describe("instrumentEngine", () => {
  it("records breaches, resolutions, lateness and the open gaps of a scenario", async () => {
    const { reader, provider } = sdk();
    const engine = instrumentEngine(createEngine({ rules: builtInRules() }), { meter: provider.getMeter("test") });
    // 1000123 started on time; 1000124 never started (missing, then started late); 1000125 started
    // 1 h late; 1000126 released after the first evaluation; 1000127 confirmed short of its count.
    for (const event of [
      released("1000123", 0),
      started("1000123", 30),
      released("1000124", 0),
      released("1000125", 0),
      started("1000125", 5 * h),
      released("1000126", 7 * h),
      completed("1000127", 10),
      counted("1000127", "10", 5, "FAB"),
      confirmed({ orderId: "1000127", n: 1, yieldValue: "9", isFinal: true, minutes: 20 }),
    ]) {
      engine.ingest(event)._unsafeUnwrap();
    }

    const first = engine.evaluate(T0 + 6 * h * MINUTE);
    expect(first.map((f) => [f.kind, f.key])).toEqual([
      ["breached", "1000124"],
      ["breached", "1000125"],
      ["breached", "1000127"],
    ]);
    let m = await collect(reader);
    expect(m.get(ALIGNMENT_METRICS.breaches)?.descriptor).toMatchObject({ unit: "{breach}", type: "COUNTER" });
    expect(points(m.get(ALIGNMENT_METRICS.breaches))).toEqual([
      { attributes: { rule: "productionconfirmation-posted", site: "1710", line: "FAB", reason: "quantity_mismatch" }, value: 1 },
      { attributes: { rule: "workorder-started", site: "1710", reason: "late" }, value: 1 },
      { attributes: { rule: "workorder-started", site: "1710", reason: "missing" }, value: 1 },
    ]);
    expect(m.get(ALIGNMENT_METRICS.lateness)?.descriptor).toMatchObject({ unit: "s", type: "HISTOGRAM" });
    // 1000125 came 1 h late; 1000127's confirmation was on time (0 s) but short. The missing breach is no fulfilment.
    expect(points(m.get(ALIGNMENT_METRICS.lateness))).toEqual([
      { attributes: { rule: "productionconfirmation-posted", site: "1710", line: "FAB" }, value: { count: 1, sum: 0 } },
      { attributes: { rule: "workorder-started", site: "1710" }, value: { count: 1, sum: 3600 } },
    ]);
    // Open at 6 h: 1000124, reported missing, triggered at 0 (6 h old). 1000126 is released at 7 h, after `now`.
    expect(m.get(ALIGNMENT_METRICS.open)?.descriptor).toMatchObject({ unit: "{gap}", type: "OBSERVABLE_GAUGE" });
    expect(points(m.get(ALIGNMENT_METRICS.open))).toEqual([{ attributes: { rule: "workorder-started", site: "1710", status: "breached" }, value: 1 }]);
    expect(points(m.get(ALIGNMENT_METRICS.openMaxAge))).toEqual([{ attributes: { rule: "workorder-started", site: "1710" }, value: 6 * 3600 }]);
    expect(m.get(ALIGNMENT_METRICS.resolutions)).toBeUndefined();

    engine.ingest(started("1000124", 7 * h))._unsafeUnwrap();
    const second = engine.evaluate(T0 + 8 * h * MINUTE);
    expect(second.map((f) => [f.kind, f.key])).toEqual([["resolved", "1000124"]]);
    m = await collect(reader);
    expect(points(m.get(ALIGNMENT_METRICS.resolutions))).toEqual([{ attributes: { rule: "workorder-started", site: "1710", resolution: "fulfilled" }, value: 1 }]);
    // Started 3 h after its due time (4 h after release).
    expect(points(m.get(ALIGNMENT_METRICS.lateness))).toContainEqual({ attributes: { rule: "workorder-started", site: "1710" }, value: { count: 2, sum: 3600 + 3 * 3600 } });
    // Open at 8 h: 1000126, waiting, 1 h old. No breached gap is left: that series reads 0.
    expect(points(m.get(ALIGNMENT_METRICS.open))).toEqual([
      { attributes: { rule: "workorder-started", site: "1710", status: "breached" }, value: 0 },
      { attributes: { rule: "workorder-started", site: "1710", status: "waiting" }, value: 1 },
    ]);
    expect(points(m.get(ALIGNMENT_METRICS.openMaxAge))).toEqual([{ attributes: { rule: "workorder-started", site: "1710" }, value: 3600 }]);
  });

  it("counts an abandoned gap as a breach and a resolution, and takes an injected clock for the gauges", async () => {
    const { reader, provider } = sdk();
    let clock = T0;
    const engine = instrumentEngine(createEngine({ rules: builtInRules(), giveUpAfterMs: 60 * MINUTE }), { meter: provider.getMeter("test"), now: () => clock });
    engine.ingest(released("1000200", 0))._unsafeUnwrap();
    engine.ingest(released("1000201", 30))._unsafeUnwrap();
    clock = T0 + 2 * h * MINUTE;
    let m = await collect(reader);
    // No evaluation yet: the gauges still see the open keys, aged at the injected clock.
    expect(points(m.get(ALIGNMENT_METRICS.open))).toEqual([{ attributes: { rule: "workorder-started", site: "1710", status: "waiting" }, value: 2 }]);
    expect(points(m.get(ALIGNMENT_METRICS.openMaxAge))).toEqual([{ attributes: { rule: "workorder-started", site: "1710" }, value: 7200 }]);
    engine.evaluate(T0 + 10 * h * MINUTE);
    m = await collect(reader);
    expect(points(m.get(ALIGNMENT_METRICS.breaches))).toEqual([{ attributes: { rule: "workorder-started", site: "1710", reason: "missing" }, value: 2 }]);
    expect(points(m.get(ALIGNMENT_METRICS.resolutions))).toEqual([{ attributes: { rule: "workorder-started", site: "1710", resolution: "abandoned" }, value: 2 }]);
    expect(m.get(ALIGNMENT_METRICS.lateness)).toBeUndefined();
    expect(points(m.get(ALIGNMENT_METRICS.open))).toEqual([{ attributes: { rule: "workorder-started", site: "1710", status: "waiting" }, value: 0 }]);
    expect(points(m.get(ALIGNMENT_METRICS.openMaxAge))).toEqual([{ attributes: { rule: "workorder-started", site: "1710" }, value: 0 }]);
  });

  it("uses the global meter by default, and returns the same findings and store", async () => {
    const { reader, provider } = sdk();
    metrics.setGlobalMeterProvider(provider);
    const plain = createEngine({ rules: builtInRules() });
    const engine = instrumentEngine(plain);
    expect(engine.store).toBe(plain.store);
    expect(engine.ingest).toBe(plain.ingest);
    engine.ingest(released("1000300", 0))._unsafeUnwrap();
    const findings = engine.evaluate(T0 + 5 * h * MINUTE);
    expect(findings).toHaveLength(1);
    const { resourceMetrics } = await reader.collect();
    expect(resourceMetrics.scopeMetrics.map((s) => s.scope.name)).toEqual(["@millwright/alignment"]);
  });

  it("costs nothing with no SDK: the engine itself is returned, and the gauge never runs", () => {
    const reference = createEngine({ rules: builtInRules() });
    const store = createMemoryStore();
    let reads = 0;
    const counted: AlignmentStore = {
      ...store,
      open: () => {
        reads += 1;
        return store.open();
      },
    };
    const engine = instrumentEngine(createEngine({ rules: builtInRules(), store: counted }), { meter: createNoopMeter() });
    const noGlobal = instrumentEngine(createEngine({ rules: builtInRules() }));
    for (const e of [released("1000400", 0), started("1000401", 10), released("1000402", 0)]) {
      reference.ingest(e);
      engine.ingest(e);
      noGlobal.ingest(e);
    }
    const at = T0 + 5 * h * MINUTE;
    expect(engine.evaluate(at)).toEqual(reference.evaluate(at));
    expect(noGlobal.evaluate(at)).toHaveLength(2);
    const plain = createEngine({ rules: builtInRules() });
    expect(instrumentEngine(plain)).toBe(plain);
    expect(instrumentEngine(plain, { meter: createNoopMeter() })).toBe(plain);
    // Only the engine's own evaluation read the open keys.
    expect(reads).toBe(1);
  });
});
