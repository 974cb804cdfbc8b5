import { INT32_COUNTER, UINT32_COUNTER, type CounterWidth, type CustomStateTarget, type LineConfig, type LineSignal, type SignalRole, type StateMapping } from "@millwright/adapter-kit";
import type { EquipmentRef } from "@millwright/model";
import { err, ok, type Result } from "neverthrow";
import type { ConfigError, ConfigIssue } from "./errors.js";
import { SPARKPLUG_ID, SPARKPLUG_NAMESPACE } from "./topic.js";

/** One metric of an edge node or device that the host maps, by its birth name. */
export type SparkplugSignal =
  | { readonly role: "machine_state"; readonly metric: string; readonly mapping: StateMapping }
  | { readonly role: "good_count" | "defective_count" | "processed_count"; readonly metric: string; readonly width: CounterWidth }
  | { readonly role: "order_number"; readonly metric: string }
  | { readonly role: "process_value"; readonly metric: string; readonly name: string };

/** One line: the metrics of one edge node, or of one device of an edge node, and the equipment they describe. */
export interface SparkplugLine {
  readonly edgeNodeId: string;
  readonly deviceId?: string;
  /** The CloudEvents source and `sourceRefs[].system`; default `spBv1.0/<group>/<edge node>[/<device>]`. */
  readonly sourceSystem: string;
  readonly equipment: EquipmentRef;
  /** Unit of counted parts, UN/CEFACT Rec. 20 (default `H87`). */
  readonly unit: string;
  readonly signals: readonly SparkplugSignal[];
}

/** The validated host application configuration. */
export interface SparkplugHostConfig {
  /** MQTT broker URL, `mqtt://host:port` or `mqtts://…`. */
  readonly brokerUrl: string;
  /** The Sparkplug group the host follows (`spBv1.0/<group>/#`). */
  readonly groupId: string;
  /** The primary host id of the `spBv1.0/STATE/<host id>` message. */
  readonly hostId: string;
  /** A rebirth request not answered by an NBIRTH within this many ms is sent again (default 5000). */
  readonly rebirthRetryMs: number;
  readonly lines: readonly SparkplugLine[];
}

const ROLES: readonly SignalRole[] = ["machine_state", "good_count", "defective_count", "processed_count", "order_number", "process_value"];
const AVAILABILITIES = ["not_available", "out_of_service", "not_executing", "executing"] as const;
const IDENTIFIER = /^[^\u0000-\u001f\u007f-\u009f\s](?:[^\u0000-\u001f\u007f-\u009f]*[^\u0000-\u001f\u007f-\u009f\s])?$/;
const LEVELS: readonly EquipmentRef["level"][] = [
  "area",
  "process_cell",
  "unit",
  "production_line",
  "work_cell",
  "production_unit",
  "storage_zone",
  "storage_unit",
  "work_center",
  "work_unit",
  "equipment_module",
  "control_module",
];

type Obj = Readonly<Record<string, unknown>>;
const isObject = (value: unknown): value is Obj => typeof value === "object" && value !== null && !Array.isArray(value);

class Collector {
  readonly issues: ConfigIssue[] = [];
  add(code: ConfigIssue["code"], path: string, rule: string, value?: unknown): undefined {
    this.issues.push(value === undefined ? { code, path, rule } : { code, path, rule, value });
    return undefined;
  }
  string(obj: Obj, key: string, path: string, required: boolean, pattern: RegExp, rule: string): string | undefined {
    const value = obj[key];
    if (value === undefined) return required ? this.add("missing_field", `${path}/${key}`, `${key} is required`) : undefined;
    if (typeof value !== "string") return this.add("invalid_type", `${path}/${key}`, `${key} is a string`, value);
    if (!pattern.test(value)) return this.add("invalid_value", `${path}/${key}`, rule, value);
    return value;
  }
  integer(obj: Obj, key: string, path: string, fallback: number, min: number, max: number): number {
    const value = obj[key];
    if (value === undefined) return fallback;
    if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
      this.add("invalid_value", `${path}/${key}`, `${key} is an integer from ${min} to ${max}`, value);
      return fallback;
    }
    return value;
  }
}

function parseMapping(c: Collector, value: unknown, path: string): StateMapping {
  if (value === undefined) return { kind: "packml" };
  if (!isObject(value)) return c.add("invalid_type", path, "mapping is an object", value) ?? { kind: "packml" };
  const kind = value["kind"];
  if (kind === "packml" || kind === "machinery") return { kind };
  if (kind !== "custom") return c.add("invalid_value", `${path}/kind`, "kind is one of packml, machinery, custom", kind) ?? { kind: "packml" };
  const values = value["values"];
  if (!isObject(values) || Object.keys(values).length === 0) return c.add("invalid_value", `${path}/values`, "a custom mapping maps at least one raw value", values) ?? { kind: "custom", values: {} };
  const out: Record<string, CustomStateTarget> = {};
  for (const [raw, target] of Object.entries(values)) {
    const at = `${path}/values/${raw}`;
    const availability = isObject(target) ? target["availability"] : undefined;
    if (!isObject(target) || typeof availability !== "string" || !(AVAILABILITIES as readonly string[]).includes(availability)) {
      c.add("invalid_value", at, `a custom state target is { availability: ${AVAILABILITIES.join(" | ")}, text? }`, target);
      continue;
    }
    const text = target["text"];
    if (text !== undefined && typeof text !== "string") c.add("invalid_type", `${at}/text`, "text is a string", text);
    const a = availability as CustomStateTarget["availability"];
    out[raw] = typeof text === "string" ? { availability: a, text } : { availability: a };
  }
  return { kind: "custom", values: out };
}

function parseWidth(c: Collector, value: unknown, path: string): CounterWidth {
  if (value === undefined || value === "uint32") return UINT32_COUNTER;
  if (value === "int32") return INT32_COUNTER;
  if (!isObject(value)) return c.add("invalid_value", path, 'width is "int32", "uint32" or { max, wrapValue, margin }', value) ?? UINT32_COUNTER;
  const max = c.integer(value, "max", path, UINT32_COUNTER.max, 1, Number.MAX_SAFE_INTEGER);
  const wrapValue = c.integer(value, "wrapValue", path, 0, -Number.MAX_SAFE_INTEGER, 0);
  const range = max - wrapValue + 1;
  const margin = c.integer(value, "margin", path, Math.min(UINT32_COUNTER.margin, Math.floor(range / 4)), 1, Number.MAX_SAFE_INTEGER);
  if (margin * 2 >= range) c.add("invalid_value", `${path}/margin`, `margin is less than half the counter's range (${range}), so that a rise, a rollover and a reset can be told apart`, margin);
  return { max, wrapValue, margin };
}

function parseSignal(c: Collector, value: unknown, path: string): SparkplugSignal | undefined {
  if (!isObject(value)) return c.add("invalid_type", path, "a signal is an object { role, metric }", value);
  const role = value["role"];
  if (typeof role !== "string" || !(ROLES as readonly string[]).includes(role)) return c.add("invalid_value", `${path}/role`, `role is one of ${ROLES.join(", ")}`, role);
  const metric = c.string(value, "metric", path, true, /^[^\u0000]{1,512}$/, "metric is the metric's name in the birth certificate (1 to 512 characters)");
  if (metric === undefined) return undefined;
  switch (role as SignalRole) {
    case "machine_state":
      return { role: "machine_state", metric, mapping: parseMapping(c, value["mapping"], `${path}/mapping`) };
    case "good_count":
    case "defective_count":
    case "processed_count":
      return { role: role as "good_count", metric, width: parseWidth(c, value["width"], `${path}/width`) };
    case "order_number":
      return { role: "order_number", metric };
    case "process_value": {
      const name = c.string(value, "name", path, false, /^[A-Za-z_][A-Za-z0-9_]{0,63}$/, "name is a letter or _ followed by up to 63 letters, digits or _");
      return { role: "process_value", metric, name: name ?? metric };
    }
  }
}

function parseEquipment(c: Collector, value: unknown, path: string): EquipmentRef {
  const fallback: EquipmentRef = { id: "", level: "production_line", site: { id: "" } };
  if (!isObject(value)) return c.add(value === undefined ? "missing_field" : "invalid_type", path, "equipment is an object { id, level, site: { id } }", value) ?? fallback;
  const id = c.string(value, "id", path, true, IDENTIFIER, "id is an identifier without control characters or surrounding spaces");
  const level = value["level"] ?? "production_line";
  if (typeof level !== "string" || !(LEVELS as readonly string[]).includes(level)) c.add("invalid_value", `${path}/level`, `level is one of ${LEVELS.join(", ")}`, level);
  const site = value["site"];
  const siteId = isObject(site) ? c.string(site, "id", `${path}/site`, true, IDENTIFIER, "id is an identifier") : c.add("missing_field", `${path}/site`, "site is an object { id }", site);
  return { id: id ?? "", level: (LEVELS as readonly string[]).includes(level as string) ? (level as EquipmentRef["level"]) : "production_line", site: { id: siteId ?? "" } };
}

function parseLine(c: Collector, value: unknown, path: string, groupId: string): SparkplugLine | undefined {
  if (!isObject(value)) return c.add("invalid_type", path, "a line is an object { edgeNodeId, deviceId?, equipment, signals }", value);
  const edgeNodeId = c.string(value, "edgeNodeId", path, true, SPARKPLUG_ID, "edgeNodeId is a Sparkplug id (1 to 128 characters, no / + #)");
  const deviceId = c.string(value, "deviceId", path, false, SPARKPLUG_ID, "deviceId is a Sparkplug id (1 to 128 characters, no / + #)");
  const sourceSystem = c.string(value, "sourceSystem", path, false, IDENTIFIER, "sourceSystem is an identifier");
  const unit = c.string(value, "unit", path, false, /^[A-Z0-9]{2,3}$/, "unit is a UN/CEFACT Rec. 20 code") ?? "H87";
  const equipment = parseEquipment(c, value["equipment"], `${path}/equipment`);
  const raw = value["signals"];
  const signals: SparkplugSignal[] = [];
  if (!Array.isArray(raw) || raw.length === 0) c.add("invalid_value", `${path}/signals`, "signals is a non-empty array", raw);
  else {
    const seen = new Set<string>();
    raw.forEach((s: unknown, i) => {
      const signal = parseSignal(c, s, `${path}/signals/${i}`);
      if (signal === undefined) return;
      if (seen.has(signal.metric)) c.add("duplicate_signal", `${path}/signals/${i}/metric`, "each metric is mapped once", signal.metric);
      seen.add(signal.metric);
      signals.push(signal);
    });
    for (const role of ROLES.filter((r) => r !== "process_value")) {
      if (signals.filter((s) => s.role === role).length > 1) c.add("duplicate_signal", `${path}/signals`, `at most one ${role} signal`, role);
    }
    const roles = new Set(signals.map((s) => s.role));
    if (roles.has("processed_count") && roles.has("good_count")) c.add("invalid_value", `${path}/signals`, "a good counter and a processed counter exclude each other", "processed_count");
  }
  if (edgeNodeId === undefined) return undefined;
  const line: SparkplugLine = {
    edgeNodeId,
    sourceSystem: sourceSystem ?? [SPARKPLUG_NAMESPACE, groupId, edgeNodeId, ...(deviceId === undefined ? [] : [deviceId])].join("/"),
    equipment,
    unit,
    signals,
  };
  return deviceId === undefined ? line : { ...line, deviceId };
}

/**
 * Validates a raw host application configuration (for example parsed JSON) and applies defaults.
 *
 * @param input - the raw configuration
 * @returns the validated configuration, or every issue found with its path, value and rule
 * @example
 * ```ts
 * const config = parseSparkplugHostConfig({
 *   brokerUrl: "mqtt://127.0.0.1:1883",
 *   groupId: "plant1",
 *   hostId: "millwright",
 *   lines: [{
 *     edgeNodeId: "line1",
 *     equipment: { id: "LINE1", level: "production_line", site: { id: "1710" } },
 *     signals: [
 *       { role: "machine_state", metric: "Line/State", mapping: { kind: "packml" } },
 *       { role: "good_count", metric: "Line/Good" },
 *     ],
 *   }],
 * });
 * ```
 */
export function parseSparkplugHostConfig(input: unknown): Result<SparkplugHostConfig, ConfigError> {
  const c = new Collector();
  if (!isObject(input)) {
    c.add("not_an_object", "", "the configuration is an object", input);
    return err(toConfigError(c.issues));
  }
  const brokerUrl = c.string(input, "brokerUrl", "", true, /^(mqtts?|wss?|tcp):\/\/\S+$/, "brokerUrl is mqtt://host[:port] (or mqtts, ws, wss)");
  const groupId = c.string(input, "groupId", "", true, SPARKPLUG_ID, "groupId is a Sparkplug id (1 to 128 characters, no / + #)");
  const hostId = c.string(input, "hostId", "", true, SPARKPLUG_ID, "hostId is a Sparkplug id (1 to 128 characters, no / + #)");
  const rebirthRetryMs = c.integer(input, "rebirthRetryMs", "", 5000, 100, 3_600_000);
  const raw = input["lines"];
  const lines: SparkplugLine[] = [];
  if (!Array.isArray(raw) || raw.length === 0) c.add("invalid_value", "/lines", "lines is a non-empty array", raw);
  else {
    const seen = new Set<string>();
    raw.forEach((l: unknown, i) => {
      const line = parseLine(c, l, `/lines/${i}`, groupId ?? "");
      if (line === undefined) return;
      const key = lineKey(line);
      if (seen.has(key)) c.add("duplicate_signal", `/lines/${i}`, "each edge node or device is one line", key);
      seen.add(key);
      lines.push(line);
    });
  }
  if (c.issues.length > 0 || brokerUrl === undefined || groupId === undefined || hostId === undefined) return err(toConfigError(c.issues));
  return ok({ brokerUrl, groupId, hostId, rebirthRetryMs, lines });
}

/** The key of a line: `<edge node>` or `<edge node>/<device>`. */
export function lineKey(line: { readonly edgeNodeId: string; readonly deviceId?: string }): string {
  return line.deviceId === undefined ? line.edgeNodeId : `${line.edgeNodeId}/${line.deviceId}`;
}

/** The counter core's view of a line: signals keyed by metric name, sourceRefs of kind `SparkplugMetric`. */
export function toLineConfig(line: SparkplugLine): LineConfig {
  const signals = line.signals.map((s): LineSignal => {
    switch (s.role) {
      case "machine_state":
        return { role: s.role, nodeId: s.metric, mapping: s.mapping };
      case "order_number":
        return { role: s.role, nodeId: s.metric };
      case "process_value":
        return { role: s.role, nodeId: s.metric, name: s.name };
      default:
        return { role: s.role, nodeId: s.metric, width: s.width };
    }
  });
  return { sourceSystem: line.sourceSystem, equipment: line.equipment, unit: line.unit, signalKind: "SparkplugMetric", signals };
}

function toConfigError(issues: readonly ConfigIssue[]): ConfigError {
  const first = issues[0];
  const head = first === undefined ? "invalid configuration" : `${first.path || "/"}: ${first.rule}${first.value === undefined ? "" : ` (got ${JSON.stringify(first.value)})`}`;
  const more = issues.length > 1 ? ` and ${issues.length - 1} more issue${issues.length > 2 ? "s" : ""}` : "";
  return { code: "invalid_config", message: `invalid Sparkplug host configuration: ${head}${more}`, issues };
}
