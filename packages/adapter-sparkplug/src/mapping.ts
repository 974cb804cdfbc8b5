import type { SignalReading } from "@millwright/adapter-kit";
import { lineKey, type SparkplugLine } from "./config.js";
import type { HostIssue } from "./errors.js";
import type { ResolvedMetric, SessionOutcome } from "./session.js";

/** The counter core's input of one message: readings per line key, and the issues of metrics it cannot map. */
export interface LineReadings {
  readonly readings: ReadonlyMap<string, readonly SignalReading[]>;
  readonly issues: readonly HostIssue[];
}

/** A line and the names of the metrics its signals map. */
interface IndexedLine {
  readonly line: SparkplugLine;
  /** `lineKey(line)`, made once. */
  readonly key: string;
  readonly metrics: ReadonlySet<string>;
}

/** The configured lines are immutable (readonly all the way down), so their index is kept with them. */
const indexes = new WeakMap<readonly SparkplugLine[], LineIndex>();

/** Lines by edge node id, then device id (undefined: the edge node's own line). */
type LineIndex = ReadonlyMap<string, ReadonlyMap<string | undefined, IndexedLine>>;

/** Each line by its edge node and device; the first line of a pair, as a search in order finds. */
function indexOf(lines: readonly SparkplugLine[]): LineIndex {
  const known = indexes.get(lines);
  if (known !== undefined) return known;
  const index = new Map<string, Map<string | undefined, IndexedLine>>();
  for (const line of lines) {
    let devices = index.get(line.edgeNodeId);
    if (devices === undefined) index.set(line.edgeNodeId, (devices = new Map()));
    if (!devices.has(line.deviceId)) devices.set(line.deviceId, { line, key: lineKey(line), metrics: new Set(line.signals.map((s) => s.metric)) });
  }
  indexes.set(lines, index);
  return index;
}

const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** A metric value as the counter core reads it: bigints within 2^53 as numbers, exactly. */
function coreValue(value: ResolvedMetric["value"]): unknown {
  if (typeof value === "bigint" && value >= MIN_SAFE && value <= MAX_SAFE) return Number(value);
  return value;
}

function addReading(readings: Map<string, SignalReading[]>, key: string, reading: SignalReading): void {
  const list = readings.get(key);
  if (list === undefined) readings.set(key, [reading]);
  else list.push(reading);
}

/**
 * Turns a session outcome into the counter core's readings: each configured metric of a line as a
 * reading at its timestamp (µs) with its quality; each death as a Bad reading of the line's state
 * metric at the time of death, so the state becomes unknown (`not_available`). A DataSet or
 * Template metric that no signal maps is reported. Pure.
 *
 * @param lines - the configured lines
 * @param outcome - what one message did to the sessions
 * @param topic - the message's topic, for issue paths
 * @returns the readings by line key and the issues
 */
export function toLineReadings(lines: readonly SparkplugLine[], outcome: SessionOutcome, topic: string): LineReadings {
  const readings = new Map<string, SignalReading[]>();
  const issues: HostIssue[] = [];
  const index = indexOf(lines);
  // The metrics of one message share their edge node and device: one lookup while they do.
  let lastNode: string | undefined;
  let lastDevice: string | undefined;
  let found: IndexedLine | undefined;
  for (const metric of outcome.metrics) {
    if (found === undefined || metric.edgeNodeId !== lastNode || metric.deviceId !== lastDevice) {
      lastNode = metric.edgeNodeId;
      lastDevice = metric.deviceId;
      found = index.get(metric.edgeNodeId)?.get(metric.deviceId);
    }
    const mapped = found?.metrics.has(metric.name) === true;
    if (!mapped && (metric.datatype === "DataSet" || metric.datatype === "Template")) {
      issues.push({ code: "unmapped_metric", path: topic, signal: metric.name, value: metric.value, message: `${metric.datatype} metric ${metric.name} is decoded but not mapped to a canonical fact` });
    }
    if (found === undefined || !mapped) continue;
    addReading(readings, found.key, { nodeId: metric.name, value: coreValue(metric.value), sourceMicros: metric.timestampMs * 1000, severity: metric.severity, status: metric.status });
  }
  for (const death of outcome.deaths) {
    for (const line of lines) {
      if (line.edgeNodeId !== death.edgeNodeId || (death.deviceId !== undefined && line.deviceId !== death.deviceId)) continue;
      const state = line.signals.find((s) => s.role === "machine_state");
      if (state !== undefined) addReading(readings, lineKey(line), { nodeId: state.metric, value: null, sourceMicros: death.ms * 1000, severity: "bad", status: death.type });
    }
  }
  return { readings, issues };
}
