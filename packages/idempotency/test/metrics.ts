// Reading metrics through the OpenTelemetry SDK in tests: a reader the test pulls from, and the
// data points of one metric as attributes → value.
import { DataPointType, MeterProvider, MetricReader, type DataPoint, type Histogram, type MetricData } from "@opentelemetry/sdk-metrics";

/** A reader the test pulls from: every `collect()` gives what the SDK holds at that moment. */
class PullReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** One data point: its attributes, and its value (a histogram as its count and sum). */
interface Point {
  readonly attributes: Record<string, unknown>;
  readonly value: number | { readonly count: number; readonly sum: number };
}

/** An SDK of its own for one test: a meter provider with a pull reader. */
export interface TestSdk {
  readonly provider: MeterProvider;
  /** Collects now: metric name → its points, sorted by attributes. */
  collect(): Promise<Map<string, Point[]>>;
  /** The points of one metric whose attributes include `match`, summed (histograms: counts and sums). */
  total(metrics: Map<string, Point[]>, name: string, match?: Record<string, unknown>): number;
  shutdown(): Promise<void>;
}

function pointsOf(metric: MetricData): Point[] {
  const list = (metric.dataPoints as DataPoint<unknown>[]).map(
    (p): Point => ({
      attributes: { ...p.attributes },
      value: metric.dataPointType === DataPointType.HISTOGRAM ? { count: (p.value as Histogram).count, sum: (p.value as Histogram).sum ?? 0 } : (p.value as number),
    }),
  );
  return list.sort((a, b) => (JSON.stringify(a.attributes) < JSON.stringify(b.attributes) ? -1 : 1));
}

/**
 * Creates an SDK for one test.
 *
 * @returns the provider and its reader's helpers
 */
export function createTestSdk(): TestSdk {
  const reader = new PullReader();
  const provider = new MeterProvider({ readers: [reader] });
  return {
    provider,
    collect: async () => {
      const { resourceMetrics, errors } = await reader.collect();
      if (errors.length > 0) throw new Error(`metric collection failed: ${errors.map(String).join("; ")}`);
      const out = new Map<string, Point[]>();
      for (const scope of resourceMetrics.scopeMetrics) for (const metric of scope.metrics) out.set(metric.descriptor.name, [...(out.get(metric.descriptor.name) ?? []), ...pointsOf(metric)]);
      return out;
    },
    total: (metrics, name, match = {}) =>
      (metrics.get(name) ?? [])
        .filter((p) => Object.entries(match).every(([k, v]) => p.attributes[k] === v))
        .reduce((sum, p) => sum + (typeof p.value === "number" ? p.value : p.value.count), 0),
    shutdown: () => provider.shutdown(),
  };
}
