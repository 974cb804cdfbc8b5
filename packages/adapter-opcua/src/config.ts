import { INT32_COUNTER, UINT32_COUNTER, type CounterWidth, type CustomStateTarget, type SignalRole, type StateMapping } from "@millwright/adapter-kit";
import type { EquipmentRef } from "@millwright/model";
import { err, ok, type Result } from "neverthrow";
import type { ConfigError, ConfigIssue } from "./errors.js";

/** OPC UA message security mode. */
export type SecurityMode = "None" | "Sign" | "SignAndEncrypt";

/** OPC UA security policies the adapter accepts (the names node-opcua uses). */
export const SECURITY_POLICIES = ["None", "Basic256Sha256", "Aes128_Sha256_RsaOaep", "Aes256_Sha256_RsaPss"] as const;

/** An OPC UA security policy name. */
export type SecurityPolicy = (typeof SECURITY_POLICIES)[number];

/** How the session authenticates. */
export type UserIdentity =
  | { readonly type: "anonymous" }
  | { readonly type: "username"; readonly userName: string; readonly password: string };

/** Monitoring parameters of one signal. */
export interface Monitoring {
  /** Sampling interval in ms. */
  readonly samplingInterval: number;
  /** Server-side queue size. */
  readonly queueSize: number;
  /** Absolute deadband; 0 means every change. Only for process values. */
  readonly deadband: number;
}

/** One OPC UA variable the adapter monitors. */
export type Signal =
  | ({ readonly role: "machine_state"; readonly nodeId: string; readonly mapping: StateMapping } & Monitoring)
  | ({ readonly role: "good_count" | "defective_count" | "processed_count"; readonly nodeId: string; readonly width: CounterWidth } & Monitoring)
  | ({ readonly role: "order_number"; readonly nodeId: string } & Monitoring)
  | ({ readonly role: "process_value"; readonly nodeId: string; readonly name: string } & Monitoring);

/** The validated adapter configuration. */
export interface AdapterConfig {
  readonly endpointUrl: string;
  readonly securityMode: SecurityMode;
  readonly securityPolicy: SecurityPolicy;
  /** Client certificate and private key (PEM paths); required unless the security mode is None. */
  readonly certificateFile?: string;
  readonly privateKeyFile?: string;
  readonly identity: UserIdentity;
  /** The server's application URI, used as `sourceRefs[].system` and the CloudEvents source. */
  readonly sourceSystem: string;
  /** The equipment (line or cell) the server represents. */
  readonly equipment: EquipmentRef;
  /** Unit of counted parts, UN/CEFACT Rec. 20 (default `H87`, piece). */
  readonly unit: string;
  /**
   * Node id of the PackML Admin (or Machinery) object, used as the count's sourceRefs key. Absent
   * when the counters are plain variables: each counter variable is then a sourceRef of kind
   * `CounterVariable`.
   */
  readonly countObjectNodeId?: string;
  /** Type of the count object, used as the count's sourceRefs kind (default `PackMLAdminObjectType`); present with `countObjectNodeId`. */
  readonly countObjectKind?: string;
  /** Subscription publishing interval in ms. */
  readonly publishingInterval: number;
  readonly signals: readonly Signal[];
}

/** Defaults applied to signals and the subscription. */
export const CONFIG_DEFAULTS = {
  samplingInterval: 250,
  queueSize: 1000,
  deadband: 0,
  publishingInterval: 250,
  unit: "H87",
} as const;

const ROLES: readonly SignalRole[] = ["machine_state", "good_count", "defective_count", "processed_count", "order_number", "process_value"];
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
const AVAILABILITIES = ["not_available", "out_of_service", "not_executing", "executing"] as const;
const NODE_ID = /^(ns=\d+;)?(i=\d+|s=.+|g=[0-9a-fA-F-]{36}|b=[A-Za-z0-9+/=]+)$|^nsu=[^;]+;(i=\d+|s=.+|g=[0-9a-fA-F-]{36}|b=[A-Za-z0-9+/=]+)$/;
const IDENTIFIER = /^[^\u0000-\u001f\u007f-\u009f\s](?:[^\u0000-\u001f\u007f-\u009f]*[^\u0000-\u001f\u007f-\u009f\s])?$/;

type Obj = Readonly<Record<string, unknown>>;

function isObject(value: unknown): value is Obj {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

class Collector {
  readonly issues: ConfigIssue[] = [];
  add(code: ConfigIssue["code"], path: string, rule: string, value?: unknown): undefined {
    this.issues.push(value === undefined ? { code, path, rule } : { code, path, rule, value });
    return undefined;
  }
  string(obj: Obj, key: string, path: string, options: { readonly required: boolean; readonly pattern?: RegExp; readonly rule?: string }): string | undefined {
    const value = obj[key];
    if (value === undefined) return options.required ? this.add("missing_field", `${path}/${key}`, `${key} is required`) : undefined;
    if (typeof value !== "string") return this.add("invalid_type", `${path}/${key}`, `${key} is a string`, value);
    if (value.length === 0) return this.add("invalid_value", `${path}/${key}`, `${key} is not empty`, value);
    if (options.pattern !== undefined && !options.pattern.test(value)) return this.add("invalid_value", `${path}/${key}`, options.rule ?? `${key} matches ${String(options.pattern)}`, value);
    return value;
  }
  number(obj: Obj, key: string, path: string, fallback: number, options: { readonly min: number; readonly max: number; readonly integer: boolean }): number {
    const value = obj[key];
    if (value === undefined) return fallback;
    if (typeof value !== "number" || !Number.isFinite(value)) {
      this.add("invalid_type", `${path}/${key}`, `${key} is a finite number`, value);
      return fallback;
    }
    if ((options.integer && !Number.isInteger(value)) || value < options.min || value > options.max) {
      this.add("invalid_value", `${path}/${key}`, `${key} is ${options.integer ? "an integer" : "a number"} from ${options.min} to ${options.max}`, value);
      return fallback;
    }
    return value;
  }
  oneOf<T extends string>(obj: Obj, key: string, path: string, allowed: readonly T[], fallback: T | undefined): T | undefined {
    const value = obj[key];
    if (value === undefined) return fallback === undefined ? this.add("missing_field", `${path}/${key}`, `${key} is required`) : fallback;
    if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) {
      return this.add("invalid_value", `${path}/${key}`, `${key} is one of ${allowed.join(", ")}`, value);
    }
    return value as T;
  }
}

function parseIdentity(c: Collector, value: unknown): UserIdentity {
  if (value === undefined) return { type: "anonymous" };
  if (!isObject(value)) {
    c.add("invalid_type", "/identity", "identity is an object", value);
    return { type: "anonymous" };
  }
  const type = c.oneOf(value, "type", "/identity", ["anonymous", "username"] as const, undefined);
  if (type !== "username") return { type: "anonymous" };
  const userName = c.string(value, "userName", "/identity", { required: true });
  const password = value["password"];
  if (typeof password !== "string") c.add(password === undefined ? "missing_field" : "invalid_type", "/identity/password", "password is a string");
  return { type: "username", userName: userName ?? "", password: typeof password === "string" ? password : "" };
}

function parseMapping(c: Collector, value: unknown, path: string): StateMapping {
  if (value === undefined) return { kind: "packml" };
  if (!isObject(value)) {
    c.add("invalid_type", path, "mapping is an object", value);
    return { kind: "packml" };
  }
  const kind = c.oneOf(value, "kind", path, ["packml", "machinery", "custom"] as const, undefined);
  if (kind !== "custom") return { kind: kind ?? "packml" };
  const values = value["values"];
  if (!isObject(values) || Object.keys(values).length === 0) {
    c.add(values === undefined ? "missing_field" : "invalid_value", `${path}/values`, "a custom mapping maps at least one raw value", values);
    return { kind: "custom", values: {} };
  }
  const out: Record<string, CustomStateTarget> = {};
  for (const [raw, target] of Object.entries(values)) {
    const at = `${path}/values/${raw}`;
    if (!isObject(target)) {
      c.add("invalid_type", at, "a custom state target is an object", target);
      continue;
    }
    const availability = c.oneOf(target, "availability", at, AVAILABILITIES, undefined);
    const text = c.string(target, "text", at, { required: false });
    if (availability !== undefined) out[raw] = text === undefined ? { availability } : { availability, text };
  }
  return { kind: "custom", values: out };
}

function parseWidth(c: Collector, value: unknown, path: string): CounterWidth {
  if (value === undefined || value === "int32") return INT32_COUNTER;
  if (value === "uint32") return UINT32_COUNTER;
  if (!isObject(value)) {
    c.add("invalid_value", path, 'width is "int32", "uint32" or { max, wrapValue, margin }', value);
    return INT32_COUNTER;
  }
  const max = c.number(value, "max", path, INT32_COUNTER.max, { min: 1, max: 4294967295, integer: true });
  const wrapValue = c.number(value, "wrapValue", path, 0, { min: -2147483648, max: 0, integer: true });
  const range = max - wrapValue + 1;
  const margin = c.number(value, "margin", path, Math.min(INT32_COUNTER.margin, Math.floor(range / 4)), { min: 1, max: 4294967295, integer: true });
  // With a margin of half the range or more, the same two readings read as a rise and as a rollover.
  if (margin * 2 >= range) c.add("invalid_value", `${path}/margin`, `margin is less than half the counter's range (${range}), so that a rise, a rollover and a reset can be told apart`, margin);
  return { max, wrapValue, margin };
}

function parseSignal(c: Collector, value: unknown, index: number): Signal | undefined {
  const path = `/signals/${index}`;
  if (!isObject(value)) return c.add("invalid_type", path, "a signal is an object", value);
  const role = c.oneOf(value, "role", path, ROLES, undefined);
  const nodeId = c.string(value, "nodeId", path, { required: true, pattern: NODE_ID, rule: "nodeId is an OPC UA node id such as ns=3;s=Line1.State or nsu=<uri>;i=5" });
  const monitoring: Monitoring = {
    samplingInterval: c.number(value, "samplingInterval", path, CONFIG_DEFAULTS.samplingInterval, { min: 0, max: 3_600_000, integer: false }),
    queueSize: c.number(value, "queueSize", path, CONFIG_DEFAULTS.queueSize, { min: 1, max: 100_000, integer: true }),
    deadband: c.number(value, "deadband", path, CONFIG_DEFAULTS.deadband, { min: 0, max: Number.MAX_VALUE, integer: false }),
  };
  if (role === undefined || nodeId === undefined) return undefined;
  if (monitoring.deadband !== 0 && role !== "process_value") {
    c.add("invalid_value", `${path}/deadband`, "only process values take a deadband: states, counters and orders must report every change", monitoring.deadband);
  }
  switch (role) {
    case "machine_state":
      return { role, nodeId, mapping: parseMapping(c, value["mapping"], `${path}/mapping`), ...monitoring };
    case "good_count":
    case "defective_count":
    case "processed_count":
      return { role, nodeId, width: parseWidth(c, value["width"], `${path}/width`), ...monitoring };
    case "order_number":
      return { role, nodeId, ...monitoring };
    case "process_value": {
      const name = c.string(value, "name", path, { required: true, pattern: /^[A-Za-z_][A-Za-z0-9_]{0,63}$/, rule: "name is a letter or _ followed by up to 63 letters, digits or _" });
      return { role, nodeId, name: name ?? "", ...monitoring };
    }
  }
}

function parseEquipment(c: Collector, value: unknown): EquipmentRef {
  const fallback: EquipmentRef = { id: "", level: "production_line", site: { id: "" } };
  if (!isObject(value)) {
    c.add(value === undefined ? "missing_field" : "invalid_type", "/equipment", "equipment is an object { id, level, site: { id }, path? }", value);
    return fallback;
  }
  const id = c.string(value, "id", "/equipment", { required: true, pattern: IDENTIFIER, rule: "id is an identifier without control characters or surrounding spaces" });
  const level = c.oneOf(value, "level", "/equipment", LEVELS, "production_line");
  const site = value["site"];
  let siteId: string | undefined;
  if (!isObject(site)) c.add(site === undefined ? "missing_field" : "invalid_type", "/equipment/site", "site is an object { id }", site);
  else siteId = c.string(site, "id", "/equipment/site", { required: true, pattern: IDENTIFIER, rule: "id is an identifier" });
  const rawPath = value["path"];
  let path: string[] | undefined;
  if (rawPath !== undefined) {
    if (!Array.isArray(rawPath) || rawPath.length > 8 || !rawPath.every((p) => typeof p === "string" && IDENTIFIER.test(p))) {
      c.add("invalid_value", "/equipment/path", "path is an array of at most 8 identifiers", rawPath);
    } else path = rawPath as string[];
  }
  const equipment: EquipmentRef = { id: id ?? "", level: level ?? "production_line", site: { id: siteId ?? "" } };
  return path === undefined ? equipment : { ...equipment, path };
}

/**
 * Validates a raw adapter configuration (for example parsed JSON) and applies defaults.
 *
 * @param input - the raw configuration
 * @returns the validated configuration, or every issue found with its path, value and rule
 * @example
 * ```ts
 * const config = parseAdapterConfig({
 *   endpointUrl: "opc.tcp://127.0.0.1:4840",
 *   sourceSystem: "urn:plc-line1:opcua-server",
 *   equipment: { id: "LINE1", level: "production_line", site: { id: "1710" } },
 *   countObjectNodeId: "ns=2;s=Line1.Admin",
 *   signals: [
 *     { role: "machine_state", nodeId: "ns=2;s=Line1.StateCurrent", mapping: { kind: "packml" } },
 *     { role: "good_count", nodeId: "ns=2;s=Line1.Good" },
 *   ],
 * });
 * if (config.isErr()) console.error(config.error.message);
 * ```
 */
export function parseAdapterConfig(input: unknown): Result<AdapterConfig, ConfigError> {
  const c = new Collector();
  if (!isObject(input)) {
    c.add("not_an_object", "", "the configuration is an object", input);
    return err(toConfigError(c.issues));
  }
  const endpointUrl = c.string(input, "endpointUrl", "", { required: true, pattern: /^opc\.tcp:\/\/[^\s/:]+(:\d{1,5})?(\/\S*)?$/, rule: "endpointUrl is opc.tcp://host[:port][/path]" });
  const securityMode = c.oneOf(input, "securityMode", "", ["None", "Sign", "SignAndEncrypt"] as const, "None") ?? "None";
  const securityPolicy = c.oneOf(input, "securityPolicy", "", SECURITY_POLICIES, securityMode === "None" ? "None" : "Basic256Sha256") ?? "None";
  const certificateFile = c.string(input, "certificateFile", "", { required: false });
  const privateKeyFile = c.string(input, "privateKeyFile", "", { required: false });
  if ((securityMode === "None") !== (securityPolicy === "None")) {
    c.add("inconsistent_security", "/securityPolicy", 'securityPolicy is "None" exactly when securityMode is "None"', securityPolicy);
  }
  if (securityMode !== "None") {
    if (certificateFile === undefined && input["certificateFile"] === undefined) c.add("missing_field", "/certificateFile", "certificateFile is required when securityMode is Sign or SignAndEncrypt");
    if (privateKeyFile === undefined && input["privateKeyFile"] === undefined) c.add("missing_field", "/privateKeyFile", "privateKeyFile is required when securityMode is Sign or SignAndEncrypt");
  }
  const identity = parseIdentity(c, input["identity"]);
  if (identity.type === "username" && securityMode === "None") {
    c.add("inconsistent_security", "/identity", "a user name and password are sent only over Sign or SignAndEncrypt", "username");
  }
  const sourceSystem = c.string(input, "sourceSystem", "", { required: true, pattern: IDENTIFIER, rule: "sourceSystem is an identifier (the server's application URI)" });
  const equipment = parseEquipment(c, input["equipment"]);
  const unit = c.string(input, "unit", "", { required: false, pattern: /^[A-Z0-9]{2,3}$/, rule: "unit is a UN/CEFACT Rec. 20 code" }) ?? CONFIG_DEFAULTS.unit;
  const countObjectNodeId = c.string(input, "countObjectNodeId", "", { required: false, pattern: IDENTIFIER, rule: "countObjectNodeId is an identifier" });
  const rawKind = c.string(input, "countObjectKind", "", { required: false, pattern: IDENTIFIER, rule: "countObjectKind is an identifier" });
  if (input["countObjectKind"] !== undefined && input["countObjectNodeId"] === undefined) {
    c.add("missing_field", "/countObjectNodeId", "countObjectKind names the kind of countObjectNodeId: give both or neither");
  }
  const countObject = countObjectNodeId === undefined ? {} : { countObjectNodeId, countObjectKind: rawKind ?? "PackMLAdminObjectType" };
  const publishingInterval = c.number(input, "publishingInterval", "", CONFIG_DEFAULTS.publishingInterval, { min: 10, max: 3_600_000, integer: false });
  const rawSignals = input["signals"];
  const signals: Signal[] = [];
  if (!Array.isArray(rawSignals) || rawSignals.length === 0) {
    c.add(rawSignals === undefined ? "missing_field" : "invalid_value", "/signals", "signals is a non-empty array", rawSignals);
  } else {
    const seen = new Map<string, number>();
    rawSignals.forEach((raw: unknown, index) => {
      const signal = parseSignal(c, raw, index);
      if (signal === undefined) return;
      const previous = seen.get(signal.nodeId);
      if (previous !== undefined) c.add("duplicate_signal", `/signals/${index}/nodeId`, `each node id is monitored once (also /signals/${previous})`, signal.nodeId);
      seen.set(signal.nodeId, index);
      signals.push(signal);
    });
    for (const role of ["machine_state", "order_number"] as const) {
      const count = signals.filter((s) => s.role === role).length;
      if (count > 1) c.add("duplicate_signal", "/signals", `at most one ${role} signal`, count);
    }
    for (const role of ["good_count", "defective_count", "processed_count"] as const) {
      if (signals.filter((s) => s.role === role).length > 1) c.add("duplicate_signal", "/signals", `at most one ${role} signal`, role);
    }
    const roles = new Set(signals.map((s) => s.role));
    if (roles.has("processed_count") && roles.has("good_count")) {
      c.add("invalid_value", "/signals", "a good counter and a processed counter exclude each other: good is either counted or processed − defective", "processed_count");
    }
  }
  if (c.issues.length > 0 || endpointUrl === undefined || sourceSystem === undefined) return err(toConfigError(c.issues));
  const config: AdapterConfig = { endpointUrl, securityMode, securityPolicy, identity, sourceSystem, equipment, unit, ...countObject, publishingInterval, signals };
  return ok({
    ...config,
    ...(certificateFile === undefined ? {} : { certificateFile }),
    ...(privateKeyFile === undefined ? {} : { privateKeyFile }),
  });
}

function toConfigError(issues: readonly ConfigIssue[]): ConfigError {
  const first = issues[0];
  const head = first === undefined ? "invalid configuration" : `${first.path || "/"}: ${first.rule}${first.value === undefined ? "" : ` (got ${JSON.stringify(first.value)})`}`;
  const more = issues.length > 1 ? ` and ${issues.length - 1} more issue${issues.length > 2 ? "s" : ""}` : "";
  return { code: "invalid_config", message: `invalid OPC UA adapter configuration: ${head}${more}`, issues };
}
