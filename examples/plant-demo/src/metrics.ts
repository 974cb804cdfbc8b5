/**
 * The demo owns the OpenTelemetry metrics SDK too: a meter provider with a reader the demo pulls
 * from at the end. Registered before the story runs, it receives what the libraries record through
 * `@opentelemetry/api`: the MES's inbox and outbox relay (`millwright.inbox.*`,
 * `millwright.outbox.*`), the workflows (`millwright.workflow.*`) and the alignment engine
 * (`millwright.alignment.*`). docs/metrics.md lists every metric.
 */
import { createEngine, instrumentEngine, type AlignmentRule } from "@millwright/alignment";
import type { CanonicalEvent } from "@millwright/events";
import { metrics } from "@opentelemetry/api";
import { DataPointType, MeterProvider, MetricReader, type DataPoint, type Histogram } from "@opentelemetry/sdk-metrics";

/** A reader the demo pulls from once, at the end. */
class DumpReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** One data point as the dump prints it. */
export interface MetricPoint {
  readonly name: string;
  readonly attributes: Readonly<Record<string, string | number | boolean>>;
  /** A counter's or gauge's value; a histogram's count. */
  readonly value: number;
}

/** The demo's metrics: collect them at the end, then put the SDK away. */
export interface DemoMetrics {
  /**
   * Judges `events` with an instrumented alignment engine as of `at`, then collects every metric.
   *
   * @returns every data point, sorted by name
   */
  readonly collect: (events: readonly CanonicalEvent[], rules: readonly AlignmentRule[], at: number) => Promise<MetricPoint[]>;
  readonly shutdown: () => Promise<void>;
}

/** Registers the metrics SDK globally; call once, before the story runs. */
export function startMetrics(): DemoMetrics {
  const reader = new DumpReader();
  const provider = new MeterProvider({ readers: [reader] });
  metrics.setGlobalMeterProvider(provider);
  return {
    collect: async (events, rules, at) => {
      const engine = instrumentEngine(createEngine({ rules: [...rules] }));
      for (const event of events) engine.ingest(event);
      engine.evaluate(at);
      const { resourceMetrics, errors } = await reader.collect();
      if (errors.length > 0) throw new Error(`metric collection failed: ${errors.map(String).join("; ")}`);
      const points: MetricPoint[] = [];
      for (const metric of resourceMetrics.scopeMetrics.flatMap((s) => s.metrics)) {
        for (const point of metric.dataPoints as DataPoint<unknown>[]) {
          const value = metric.dataPointType === DataPointType.HISTOGRAM ? (point.value as Histogram).count : (point.value as number);
          points.push({ name: metric.descriptor.name, attributes: point.attributes as MetricPoint["attributes"], value });
        }
      }
      return points.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    },
    shutdown: async () => {
      await provider.shutdown();
      metrics.disable();
    },
  };
}

/** `name{k=v,…} value`, one line per point. */
export function renderMetrics(points: readonly MetricPoint[]): string[] {
  return points.map((p) => `${p.name}{${Object.entries(p.attributes).map(([k, v]) => `${k}=${String(v)}`).join(",")}} ${p.value}`);
}
