// Real in-process peers and clocks for the runtime tests: no mocks, only small systems that count.
import { DataPointType, MeterProvider, MetricReader, type MetricData } from "@opentelemetry/sdk-metrics";
import type { WorkflowLogger } from "../src/define.js";

/** A clock the test moves by hand. */
export function manualClock(start = Date.UTC(2026, 11, 7, 6, 0, 0)): { now(): number; advance(ms: number): void; set(ms: number): void } {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms), set: (ms) => void (t = ms) };
}

/**
 * A peer system (an ERP, a WMS) that applies each effect once per idempotency key, as SAP's
 * ExternalSystemConfirmation or a WMS request id does, and counts every call it gets.
 */
export class CountingPeer {
  /** Every call, in order: what was asked and with which key. */
  readonly calls: { readonly action: string; readonly key: string }[] = [];
  /** Effects applied, in order (a repeated key is not applied again). */
  readonly effects: { readonly action: string; readonly key: string }[] = [];
  private readonly seen = new Set<string>();

  apply(action: string, key: string): { readonly applied: boolean; readonly effect: number } {
    this.calls.push({ action, key });
    const identity = `${action}\u0000${key}`;
    if (this.seen.has(identity)) return { applied: false, effect: this.effects.findIndex((e) => e.action === action && e.key === key) };
    this.seen.add(identity);
    this.effects.push({ action, key });
    return { applied: true, effect: this.effects.length - 1 };
  }

  /** The actions applied, in order. */
  actions(): string[] {
    return this.effects.map((e) => e.action);
  }

  count(action: string): number {
    return this.effects.filter((e) => e.action === action).length;
  }
}

/** A logger that keeps what it is told. */
export function captureLogger(): WorkflowLogger & { readonly lines: { level: string; message: string; fields: Readonly<Record<string, unknown>> | undefined }[] } {
  const lines: { level: string; message: string; fields: Readonly<Record<string, unknown>> | undefined }[] = [];
  return {
    lines,
    info: (message, fields) => void lines.push({ level: "info", message, fields }),
    warn: (message, fields) => void lines.push({ level: "warn", message, fields }),
    error: (message, fields) => void lines.push({ level: "error", message, fields }),
  };
}

/** A reader the test pulls from. */
class PullReader extends MetricReader {
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

/** A meter of a real metrics SDK, and how to read what it recorded. */
export function metricsSdk(): { readonly provider: MeterProvider; collect(): Promise<Map<string, MetricData>> } {
  const reader = new PullReader();
  const provider = new MeterProvider({ readers: [reader] });
  return {
    provider,
    async collect() {
      const { resourceMetrics } = await reader.collect();
      const out = new Map<string, MetricData>();
      for (const scope of resourceMetrics.scopeMetrics) for (const metric of scope.metrics) out.set(metric.descriptor.name, metric);
      return out;
    },
  };
}

/** The sum of a counter's points whose attributes include `match`. */
export function sumOf(metric: MetricData | undefined, match: Readonly<Record<string, string>> = {}): number {
  if (metric === undefined) return 0;
  let total = 0;
  for (const point of metric.dataPoints) {
    if (Object.entries(match).every(([k, v]) => point.attributes[k] === v)) {
      total += metric.dataPointType === DataPointType.HISTOGRAM ? (point.value as { count: number }).count : (point.value as number);
    }
  }
  return total;
}
