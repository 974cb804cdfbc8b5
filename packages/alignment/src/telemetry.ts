// OpenTelemetry metrics of the alignment engine through @opentelemetry/api only: without a
// registered SDK the default meter is the API's no-op meter, its instruments do nothing and the
// gauge callback is never called.
import { createNoopMeter, metrics, ValueType, type Attributes, type BatchObservableResult, type Meter } from "@opentelemetry/api";
import packageJson from "../package.json" with { type: "json" };
import type { AlignmentEngine } from "./engine.js";
import type { Finding } from "./finding.js";
import type { KeyState } from "./judge.js";

/** The names of the metrics {@link instrumentEngine} records. */
export const ALIGNMENT_METRICS = {
  /** Counter: breaches reported, one per reason of each breached finding. */
  breaches: "millwright.alignment.breaches",
  /** Counter: breaches that ended (resolved findings). */
  resolutions: "millwright.alignment.resolutions",
  /** Histogram, seconds: how late each fulfilment reported in a finding came. */
  lateness: "millwright.alignment.lateness",
  /** Gauge: open gaps (keys with a trigger and no fulfilment yet). */
  open: "millwright.alignment.open",
  /** Gauge, seconds: the age of the oldest open gap (now − its earliest trigger). */
  openMaxAge: "millwright.alignment.open.max_age",
} as const;

/**
 * The prototype of the API's no-op meter: what `metrics.getMeter` gives while no SDK is registered.
 * The metrics API has no proxy meter, so such a meter stays a no-op for good.
 */
const NOOP_METER_PROTOTYPE: unknown = Object.getPrototypeOf(createNoopMeter());

/** Bucket boundaries of the lateness histogram, in seconds: 1 min to 7 days. */
const LATENESS_BUCKETS = [60, 300, 900, 1800, 3600, 7200, 14_400, 28_800, 86_400, 259_200, 604_800];

/** Options of {@link instrumentEngine}. */
export interface InstrumentOptions {
  /**
   * Where the metrics go; `metrics.getMeter("@millwright/alignment", version)` by default. The
   * OpenTelemetry metrics API hands out a meter of the SDK registered at that moment: register the
   * SDK's MeterProvider before instrumenting.
   */
  readonly meter?: Meter;
  /**
   * The time, in ms since the epoch, at which the gauges measure the age of open gaps. By default
   * the time of the last `evaluate` of the instrumented engine (the engine's injected clock), and
   * `Date.now()` before the first one.
   */
  readonly now?: () => number;
}

/** Where a finding or a key is: its rule, and its site and line when known. */
interface Place {
  readonly rule: string;
  readonly site?: string;
  readonly line?: string;
}

/** The place of a finding or a key, without its other fields. */
function placeOf(item: Place): Place {
  const { rule, site, line } = item;
  return { rule, ...(site === undefined ? {} : { site }), ...(line === undefined ? {} : { line }) };
}

/** The attributes a finding or a key is counted under: `rule`, and `site` and `line` when known. */
function attributesOf(place: Place): Attributes {
  const out: Attributes = { rule: place.rule };
  if (place.site !== undefined) out["site"] = place.site;
  if (place.line !== undefined) out["line"] = place.line;
  return out;
}

/** One gauge series: the open gaps of one rule, site, line and status, and the oldest one's trigger. */
interface OpenSeries {
  readonly rule: string;
  readonly site?: string;
  readonly line?: string;
  readonly status: "waiting" | "breached";
  count: number;
  oldestMs: number;
}

/** An identity of a series: the parts joined with U+0000, an absent part as U+0001 (names never hold either). */
function seriesId(rule: string, site: string | undefined, line: string | undefined, status?: string): string {
  return `${rule}\u0000${site ?? "\u0001"}\u0000${line ?? "\u0001"}\u0000${status ?? ""}`;
}

/** The time of the earliest trigger of a key; undefined for an orphan (no trigger yet). */
function triggeredAt(state: KeyState): number | undefined {
  // Events are kept in canonical (time) order: the first trigger is the earliest.
  for (const e of state.events) if (e.role === "trigger") return e.timeMs;
  return undefined;
}

/**
 * Adds OpenTelemetry metrics to an alignment engine, through `@opentelemetry/api` only. Each
 * `evaluate` records:
 * - `millwright.alignment.breaches` (counter, `{breach}`): one per reason of each breached finding,
 *   with attributes `rule`, `reason`, and `site` and `line` when the key names them;
 * - `millwright.alignment.resolutions` (counter, `{resolution}`): one per resolved finding, with
 *   `rule`, `resolution` (`fulfilled` or `abandoned`), `site`, `line`;
 * - `millwright.alignment.lateness` (histogram, `s`): how late each fulfilment came, for the
 *   fulfilments reported in a finding (a late or quantity breach, or a fulfilled resolution), with
 *   `rule`, `site`, `line`. A `missing` breach is not a fulfilment: its age shows in the gauges.
 *
 * and two gauges are observed at each collection, from `engine.store.open()`:
 * - `millwright.alignment.open` (`{gap}`): open gaps (keys with a trigger and no fulfilment yet), by
 *   `rule`, `site`, `line` and `status` (`waiting`, or `breached` once reported missing);
 * - `millwright.alignment.open.max_age` (`s`): the age of the oldest of them (now − its earliest
 *   trigger), by `rule`, `site`, `line`.
 *
 * With no OpenTelemetry SDK registered the default meter is the API's no-op meter, and the engine
 * is returned as it is: instrumenting costs nothing. Findings are never changed.
 *
 * @param engine - an engine made by `createEngine`
 * @param options - the meter (the global one by default) and the gauges' clock
 * @returns an engine with the same interface, whose `evaluate` records the metrics
 * @example
 * const engine = instrumentEngine(createEngine({ rules: builtInRules() }));
 * setInterval(() => engine.evaluate(Date.now()), 60_000);
 */
export function instrumentEngine(engine: AlignmentEngine, options: InstrumentOptions = {}): AlignmentEngine {
  const meter = options.meter ?? metrics.getMeter("@millwright/alignment", packageJson.version);
  if (Object.getPrototypeOf(meter) === NOOP_METER_PROTOTYPE) return engine;
  const breaches = meter.createCounter(ALIGNMENT_METRICS.breaches, {
    description: "Alignment breaches reported: one per reason of each breached finding",
    unit: "{breach}",
    valueType: ValueType.INT,
  });
  const resolutions = meter.createCounter(ALIGNMENT_METRICS.resolutions, {
    description: "Alignment breaches that ended: fulfilled late, or abandoned",
    unit: "{resolution}",
    valueType: ValueType.INT,
  });
  const lateness = meter.createHistogram(ALIGNMENT_METRICS.lateness, {
    description: "How late the expected fact came, for fulfilments reported in a finding",
    unit: "s",
    valueType: ValueType.DOUBLE,
    advice: { explicitBucketBoundaries: LATENESS_BUCKETS },
  });
  const open = meter.createObservableGauge(ALIGNMENT_METRICS.open, {
    description: "Open alignment gaps: keys with a trigger and no fulfilment yet",
    unit: "{gap}",
    valueType: ValueType.INT,
  });
  const maxAge = meter.createObservableGauge(ALIGNMENT_METRICS.openMaxAge, {
    description: "Age of the oldest open alignment gap: now minus its earliest trigger",
    unit: "s",
    valueType: ValueType.DOUBLE,
  });

  let evaluatedMs: number | undefined;
  const now = options.now ?? ((): number => evaluatedMs ?? Date.now());
  // Series observed before: a series with no gap left is observed as 0, since a cumulative
  // reader would otherwise keep reporting its last value.
  const seenOpen = new Map<string, Attributes>();
  const seenAge = new Map<string, Attributes>();

  meter.addBatchObservableCallback(
    (result: BatchObservableResult) => {
      const nowMs = now();
      const series = new Map<string, OpenSeries>();
      for (const state of engine.store.open()) {
        const triggerMs = triggeredAt(state);
        // Orphans are no gap yet, and a trigger after `now` is not yet a fact at `now`.
        if (triggerMs === undefined || triggerMs > nowMs) continue;
        const status = state.breached ? "breached" : "waiting";
        const id = seriesId(state.rule, state.site, state.line, status);
        const found = series.get(id);
        if (found === undefined) series.set(id, { ...placeOf(state), status, count: 1, oldestMs: triggerMs });
        else {
          found.count += 1;
          if (triggerMs < found.oldestMs) found.oldestMs = triggerMs;
        }
      }
      // The oldest gap per rule, site and line, whatever its status.
      const oldest = new Map<string, { readonly attributes: Attributes; oldestMs: number }>();
      for (const [id, s] of series) {
        const attributes = { ...attributesOf(s), status: s.status };
        result.observe(open, s.count, attributes);
        seenOpen.set(id, attributes);
        const placeId = seriesId(s.rule, s.site, s.line);
        const found = oldest.get(placeId);
        if (found === undefined) oldest.set(placeId, { attributes: attributesOf(s), oldestMs: s.oldestMs });
        else if (s.oldestMs < found.oldestMs) found.oldestMs = s.oldestMs;
      }
      for (const [id, o] of oldest) {
        result.observe(maxAge, (nowMs - o.oldestMs) / 1000, o.attributes);
        seenAge.set(id, o.attributes);
      }
      for (const [id, attributes] of seenOpen) if (!series.has(id)) result.observe(open, 0, attributes);
      for (const [id, attributes] of seenAge) if (!oldest.has(id)) result.observe(maxAge, 0, attributes);
    },
    [open, maxAge],
  );

  const record = (finding: Finding): void => {
    const place = attributesOf(finding);
    if (finding.kind === "breached") {
      for (const reason of finding.reasons) breaches.add(1, { ...place, reason });
      if (!finding.reasons.includes("missing")) lateness.record(finding.latenessMs / 1000, place);
      return;
    }
    resolutions.add(1, { ...place, resolution: finding.resolution });
    if (finding.resolution === "fulfilled") lateness.record(finding.latenessMs / 1000, place);
  };

  const evaluate = (at: Date | number): readonly Finding[] => {
    const findings = engine.evaluate(at);
    evaluatedMs = typeof at === "number" ? at : at.getTime();
    for (const finding of findings) record(finding);
    return findings;
  };

  return { ...engine, evaluate };
}
