import { err, ok, type Result } from "neverthrow";
import { DECODE_TYPE, PAYLOAD_TYPE } from "./proto.js";

/** The Sparkplug B metric data types (Sparkplug 3.0, section 6.4.16), by wire number. */
export const SPARKPLUG_DATA_TYPES = [
  "Unknown",
  "Int8",
  "Int16",
  "Int32",
  "Int64",
  "UInt8",
  "UInt16",
  "UInt32",
  "UInt64",
  "Float",
  "Double",
  "Boolean",
  "String",
  "DateTime",
  "Text",
  "UUID",
  "DataSet",
  "Bytes",
  "File",
  "Template",
  "PropertySet",
  "PropertySetList",
  "Int8Array",
  "Int16Array",
  "Int32Array",
  "Int64Array",
  "UInt8Array",
  "UInt16Array",
  "UInt32Array",
  "UInt64Array",
  "FloatArray",
  "DoubleArray",
  "BooleanArray",
  "StringArray",
  "DateTimeArray",
] as const;

/** A Sparkplug B data type name. */
export type SparkplugDataType = (typeof SPARKPLUG_DATA_TYPES)[number];

/** A decoded DataSet: columns with their types, and rows of values. */
export interface DataSetValue {
  readonly kind: "dataset";
  readonly columns: readonly string[];
  readonly types: readonly SparkplugDataType[];
  readonly rows: readonly (readonly ScalarValue[])[];
}

/** A decoded Template instance or definition with its member metrics and parameters. */
export interface TemplateValue {
  readonly kind: "template";
  readonly version?: string;
  readonly templateRef?: string;
  readonly isDefinition: boolean;
  readonly metrics: readonly SparkplugMetric[];
  readonly parameters: readonly { readonly name: string; readonly type: SparkplugDataType; readonly value: ScalarValue }[];
}

/** A decoded PropertySet (metric properties such as `Quality`). */
export interface PropertySetValue {
  readonly kind: "propertyset";
  readonly properties: Readonly<Record<string, { readonly type: SparkplugDataType; readonly value: ScalarValue | PropertySetValue | readonly PropertySetValue[] }>>;
}

/**
 * A scalar value: Int8–Int32, UInt8–UInt32, Float, Double and DateTime (ms since the Unix epoch)
 * as numbers; Int64 and UInt64 as exact bigints; strings, booleans, bytes; null for a null value.
 */
export type ScalarValue = number | bigint | boolean | string | Uint8Array | null;

/** Any decoded metric value. Arrays hold numbers, bigints (Int64/UInt64), booleans or strings. */
export type MetricValue = ScalarValue | DataSetValue | TemplateValue | PropertySetValue | readonly PropertySetValue[] | readonly (number | bigint | boolean | string)[];

/** One decoded metric. */
export interface SparkplugMetric {
  readonly name?: string;
  readonly alias?: bigint;
  /** ms since the Unix epoch. */
  readonly timestamp?: number;
  readonly datatype: SparkplugDataType;
  readonly isHistorical: boolean;
  readonly isTransient: boolean;
  readonly isNull: boolean;
  readonly value: MetricValue;
  readonly properties?: PropertySetValue;
}

/** One decoded Sparkplug B payload. */
export interface SparkplugPayload {
  /** ms since the Unix epoch. */
  readonly timestamp?: number;
  readonly seq?: number;
  readonly uuid?: string;
  readonly body?: Uint8Array;
  readonly metrics: readonly SparkplugMetric[];
}

/** A payload that could not be decoded or encoded: which field, which value, which rule. */
export interface PayloadError {
  readonly code: "invalid_protobuf" | "invalid_field" | "unsupported_value";
  readonly path: string;
  readonly value?: unknown;
  readonly message: string;
}

type Wire = Record<string, unknown>;
interface LongLike {
  readonly low: number;
  readonly high: number;
}

class PayloadFault extends Error {
  constructor(readonly detail: PayloadError) {
    super(detail.message);
  }
}

function fault(code: PayloadError["code"], path: string, value: unknown, message: string): never {
  throw new PayloadFault({ code, path, value, message });
}

function has(obj: Wire, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(obj, key);
}

function u64(value: unknown, path: string): bigint {
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
  if (typeof value === "object" && value !== null && "low" in value && "high" in value) {
    const long = value as LongLike;
    return (BigInt(long.high >>> 0) << 32n) | BigInt(long.low >>> 0);
  }
  return fault("invalid_field", path, value, "a uint64 field holds an integer");
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * `safeNumber(u64(value, path + field), path + field)`, with the common case (protobufjs gave a
 * safe non-negative number) taken without a bigint or building the path.
 */
function u64Number(value: unknown, path: string, field: string): number {
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) return value;
  if (typeof value === "object" && value !== null && "low" in value && "high" in value) {
    // A Long below 2^53 (high word below 2^21) is a safe number as it is.
    const long = value as LongLike;
    const high = long.high >>> 0;
    if (high < 0x200000) return high * 0x100000000 + (long.low >>> 0);
  }
  const at = `${path}${field}`;
  return safeNumber(u64(value, at), at);
}

/** `u64(value, path + field)`, building the path only when the value is not a safe number. */
function u64At(value: unknown, path: string, field: string): bigint {
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
  return u64(value, `${path}${field}`);
}

function safeNumber(value: bigint, path: string): number {
  if (value > MAX_SAFE) fault("invalid_field", path, value.toString(), `${path} is at most ${Number.MAX_SAFE_INTEGER}`);
  return Number(value);
}

function typeName(n: unknown, path: string): SparkplugDataType {
  const name = typeof n === "number" ? SPARKPLUG_DATA_TYPES[n] : undefined;
  if (name === undefined) return fault("invalid_field", path, n, `a datatype is one of the ${SPARKPLUG_DATA_TYPES.length} Sparkplug B types (0–${SPARKPLUG_DATA_TYPES.length - 1})`);
  return name;
}

/** The integer in `int_value` or `long_value`, whichever the sender used, as 64 unsigned bits. */
function integerBits(obj: Wire, path: string): bigint {
  if (has(obj, "intValue")) return BigInt((obj["intValue"] as number) >>> 0);
  if (has(obj, "longValue")) return u64(obj["longValue"], `${path}/long_value`);
  return fault("invalid_field", path, undefined, "an integer metric has int_value or long_value");
}

function scalar(type: SparkplugDataType, obj: Wire, path: string): ScalarValue {
  switch (type) {
    case "Int8":
      return Number(BigInt.asIntN(8, integerBits(obj, path)));
    case "Int16":
      return Number(BigInt.asIntN(16, integerBits(obj, path)));
    case "Int32":
      return Number(BigInt.asIntN(32, integerBits(obj, path)));
    case "UInt8":
      return Number(BigInt.asUintN(8, integerBits(obj, path)));
    case "UInt16":
      return Number(BigInt.asUintN(16, integerBits(obj, path)));
    case "UInt32":
      return Number(BigInt.asUintN(32, integerBits(obj, path)));
    case "Int64":
      return BigInt.asIntN(64, integerBits(obj, path));
    case "UInt64":
      return integerBits(obj, path);
    case "DateTime":
      return safeNumber(integerBits(obj, path), `${path}/long_value`);
    case "Float":
      return has(obj, "floatValue") ? (obj["floatValue"] as number) : fault("invalid_field", path, undefined, "a Float has float_value");
    case "Double":
      return has(obj, "doubleValue") ? (obj["doubleValue"] as number) : fault("invalid_field", path, undefined, "a Double has double_value");
    case "Boolean":
      return has(obj, "booleanValue") ? (obj["booleanValue"] as boolean) : fault("invalid_field", path, undefined, "a Boolean has boolean_value");
    case "String":
    case "Text":
    case "UUID":
      return has(obj, "stringValue") ? (obj["stringValue"] as string) : fault("invalid_field", path, undefined, `a ${type} has string_value`);
    case "Bytes":
    case "File":
      return has(obj, "bytesValue") ? new Uint8Array(obj["bytesValue"] as Uint8Array) : fault("invalid_field", path, undefined, `a ${type} has bytes_value`);
    default:
      return fault("unsupported_value", path, type, `${type} is not a scalar type`);
  }
}

const ARRAY_WIDTH: Partial<Record<SparkplugDataType, number>> = {
  Int8Array: 1,
  Int16Array: 2,
  Int32Array: 4,
  Int64Array: 8,
  UInt8Array: 1,
  UInt16Array: 2,
  UInt32Array: 4,
  UInt64Array: 8,
  FloatArray: 4,
  DoubleArray: 8,
  DateTimeArray: 8,
};

/** Sparkplug 3.0 arrays travel in `bytes_value`, little-endian (section 6.4.17). */
function decodeArray(type: SparkplugDataType, bytes: Uint8Array, path: string): readonly (number | bigint | boolean | string)[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (type === "StringArray") {
    const text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    const parts = text.split("\u0000");
    if (parts[parts.length - 1] !== "") fault("invalid_field", path, text, "each string of a StringArray ends with a NUL byte");
    return parts.slice(0, -1);
  }
  if (type === "BooleanArray") {
    if (bytes.length < 4) fault("invalid_field", path, bytes.length, "a BooleanArray starts with its 4-byte element count");
    const count = view.getUint32(0, true);
    if (bytes.length < 4 + Math.ceil(count / 8)) fault("invalid_field", path, count, `a BooleanArray of ${count} elements has ${Math.ceil(count / 8)} bytes of bits`);
    return Array.from({ length: count }, (_, i) => ((bytes[4 + (i >> 3)] ?? 0) & (0x80 >> (i & 7))) !== 0);
  }
  const width = ARRAY_WIDTH[type] ?? fault("unsupported_value", path, type, `${type} is not an array type`);
  if (bytes.length % width !== 0) fault("invalid_field", path, bytes.length, `a ${type} is a multiple of ${width} bytes`);
  return Array.from({ length: bytes.length / width }, (_, i) => {
    const at = i * width;
    switch (type) {
      case "Int8Array":
        return view.getInt8(at);
      case "Int16Array":
        return view.getInt16(at, true);
      case "Int32Array":
        return view.getInt32(at, true);
      case "Int64Array":
        return view.getBigInt64(at, true);
      case "UInt8Array":
        return view.getUint8(at);
      case "UInt16Array":
        return view.getUint16(at, true);
      case "UInt32Array":
        return view.getUint32(at, true);
      case "UInt64Array":
        return view.getBigUint64(at, true);
      case "FloatArray":
        return view.getFloat32(at, true);
      case "DoubleArray":
        return view.getFloat64(at, true);
      default:
        return safeNumber(view.getBigUint64(at, true), `${path}/${i}`);
    }
  });
}

function decodeDataSet(ds: Wire, path: string): DataSetValue {
  const columns = (ds["columns"] as string[] | undefined) ?? [];
  const types = ((ds["types"] as number[] | undefined) ?? []).map((t, i) => typeName(t, `${path}/types/${i}`));
  if (types.length !== columns.length) fault("invalid_field", `${path}/types`, types.length, `a DataSet has one type per column (${columns.length})`);
  const rows = ((ds["rows"] as Wire[] | undefined) ?? []).map((row, r) => {
    const elements = (row["elements"] as Wire[] | undefined) ?? [];
    if (elements.length !== columns.length) fault("invalid_field", `${path}/rows/${r}`, elements.length, `a DataSet row has one element per column (${columns.length})`);
    return elements.map((element, c) => {
      oneValue(element, SCALAR_ONEOF, `${path}/rows/${r}/${c}`);
      return scalar(types[c] ?? "Unknown", element, `${path}/rows/${r}/${c}`);
    });
  });
  return { kind: "dataset", columns, types, rows };
}

function decodeTemplate(t: Wire, path: string): TemplateValue {
  const metrics = ((t["metrics"] as Wire[] | undefined) ?? []).map((m, i) => decodeMetric(m, `${path}/metrics/${i}`));
  const parameters = ((t["parameters"] as Wire[] | undefined) ?? []).map((p, i) => {
    const type = typeName(p["type"], `${path}/parameters/${i}/type`);
    oneValue(p, SCALAR_ONEOF, `${path}/parameters/${i}`);
    const hasValue = ["intValue", "longValue", "floatValue", "doubleValue", "booleanValue", "stringValue"].some((k) => has(p, k));
    return { name: (p["name"] as string | undefined) ?? "", type, value: hasValue ? scalar(type, p, `${path}/parameters/${i}`) : null };
  });
  return {
    kind: "template",
    ...(has(t, "version") ? { version: t["version"] as string } : {}),
    ...(has(t, "templateRef") ? { templateRef: t["templateRef"] as string } : {}),
    isDefinition: t["isDefinition"] === true,
    metrics,
    parameters,
  };
}

function decodePropertySet(ps: Wire, path: string): PropertySetValue {
  const keys = (ps["keys"] as string[] | undefined) ?? [];
  const values = (ps["values"] as Wire[] | undefined) ?? [];
  if (keys.length !== values.length) fault("invalid_field", `${path}/values`, values.length, `a PropertySet has one value per key (${keys.length})`);
  const properties: Record<string, PropertySetValue["properties"][string]> = {};
  keys.forEach((key, i) => {
    const v = values[i] ?? {};
    const at = `${path}/values/${i}`;
    const type = typeName(v["type"], `${at}/type`);
    oneValue(v, PROPERTY_ONEOF, at);
    if (v["isNull"] === true) properties[key] = { type, value: null };
    else if (type === "PropertySet") properties[key] = { type, value: decodePropertySet((v["propertysetValue"] as Wire | undefined) ?? {}, `${at}/propertyset_value`) };
    else if (type === "PropertySetList") {
      const list = (((v["propertysetsValue"] as Wire | undefined)?.["propertyset"] as Wire[] | undefined) ?? []).map((p, j) => decodePropertySet(p, `${at}/propertysets_value/${j}`));
      properties[key] = { type, value: list };
    } else properties[key] = { type, value: scalar(type, v, at) };
  });
  return { kind: "propertyset", properties };
}

const VALUE_KEYS = ["intValue", "longValue", "floatValue", "doubleValue", "booleanValue", "stringValue", "bytesValue", "datasetValue", "templateValue"] as const;
/** The members of each `oneof value` (DECODE_TYPE reads them as plain fields: at most one may be present). */
const METRIC_ONEOF = [...VALUE_KEYS, "extensionValue"] as const;
const SCALAR_ONEOF = ["intValue", "longValue", "floatValue", "doubleValue", "booleanValue", "stringValue", "extensionValue"] as const;
const PROPERTY_ONEOF = [...SCALAR_ONEOF, "propertysetValue", "propertysetsValue"] as const;

/** Refuses a message with more than one member of its `value` oneof (protobuf would keep the last; we cannot tell which that was). */
function oneValue(obj: Wire, keys: readonly string[], path: string): void {
  let present = 0;
  for (const key of keys) if (has(obj, key)) present++;
  if (present > 1) fault("invalid_field", path, keys.filter((key) => has(obj, key)), "a value oneof has at most one member set");
}

/** Which members a decoded metric has: one pass over its own keys instead of a lookup per member. */
interface MetricMembers {
  datatype: boolean;
  name: boolean;
  alias: boolean;
  timestamp: boolean;
  properties: boolean;
  /** A member of the value oneof other than `extension_value` is present. */
  value: boolean;
}

function membersOf(m: Wire, path: string): MetricMembers {
  const members: MetricMembers = { datatype: false, name: false, alias: false, timestamp: false, properties: false, value: false };
  let oneof = 0;
  for (const key of Object.keys(m)) {
    switch (key) {
      case "datatype":
      case "name":
      case "alias":
      case "timestamp":
      case "properties":
        members[key] = true;
        break;
      case "extensionValue":
        oneof++;
        break;
      default:
        if ((VALUE_KEYS as readonly string[]).includes(key)) {
          members.value = true;
          oneof++;
        }
    }
  }
  if (oneof > 1) oneValue(m, METRIC_ONEOF, path);
  return members;
}

/** Finds the datatype of a metric that arrived without one (NDATA and DDATA may omit it): the birth's. */
export type DatatypeResolver = (name: string | undefined, alias: bigint | undefined) => SparkplugDataType | undefined;

function decodeMetric(m: Wire, path: string, resolve?: DatatypeResolver): SparkplugMetric {
  const has = membersOf(m, path);
  const datatype = has.datatype
    ? typeName(m["datatype"], `${path}/datatype`)
    : (resolve?.(has.name ? (m["name"] as string) : undefined, has.alias ? u64At(m["alias"], path, "/alias") : undefined) ?? "Unknown");
  const isNull = m["isNull"] === true;
  let value: MetricValue = null;
  if (has.value && !isNull) {
    if (datatype === "DataSet") value = decodeDataSet(m["datasetValue"] as Wire, `${path}/dataset_value`);
    else if (datatype === "Template") value = decodeTemplate(m["templateValue"] as Wire, `${path}/template_value`);
    else if (datatype in ARRAY_WIDTH || datatype === "BooleanArray" || datatype === "StringArray") value = decodeArray(datatype, (m["bytesValue"] as Uint8Array | undefined) ?? new Uint8Array(), `${path}/bytes_value`);
    else if (datatype === "PropertySet" || datatype === "PropertySetList" || datatype === "Unknown") value = fault("unsupported_value", path, datatype, `a metric value of type ${datatype} cannot be read`);
    else value = scalar(datatype, m, path);
  }
  // Assignments rather than conditional spreads: V8 (Node 20) takes a slow path for the latter, 10 µs an object.
  const metric: Writable<SparkplugMetric> = { datatype, isHistorical: m["isHistorical"] === true, isTransient: m["isTransient"] === true, isNull, value };
  if (has.name) metric.name = m["name"] as string;
  if (has.alias) metric.alias = u64At(m["alias"], path, "/alias");
  if (has.timestamp) metric.timestamp = u64Number(m["timestamp"], path, "/timestamp");
  if (has.properties) metric.properties = decodePropertySet(m["properties"] as Wire, `${path}/properties`);
  return metric;
}

type Writable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * Decodes a Sparkplug B payload from its protobuf bytes, with every data type: Int64 and UInt64
 * as exact bigints (never rounded to a JS number), DateTime as ms, arrays from their little-endian
 * bytes, DataSet, Template and PropertySet as plain data. Pure; never throws.
 *
 * @param bytes - the MQTT message payload
 * @returns the payload, or where and why it is not a Sparkplug B payload
 * @example
 * ```ts
 * const payload = decodeSparkplugPayload(message);
 * if (payload.isOk()) for (const metric of payload.value.metrics) console.log(metric.name, metric.value);
 * ```
 */
export function decodeSparkplugPayload(bytes: Uint8Array): Result<SparkplugPayload, PayloadError> {
  return decodeWith(bytes, undefined);
}

/** `/metrics/<i>`, kept once made: every payload's metrics have the same paths. */
function metricPath(i: number): string {
  let path = METRIC_PATHS[i];
  if (path === undefined) {
    path = `/metrics/${i}`;
    if (i < 1024) METRIC_PATHS[i] = path;
  }
  return path;
}

const METRIC_PATHS: string[] = [];

/**
 * Decodes a payload whose metrics may omit their datatype, taking it from `resolve` (the host's
 * alias table from the births). Internal: the host's session table calls it.
 *
 * @param bytes - the MQTT message payload
 * @param resolve - the datatype of a metric by name or alias
 * @returns the payload, or where and why it could not be decoded
 */
export function decodeWith(bytes: Uint8Array, resolve: DatatypeResolver | undefined): Result<SparkplugPayload, PayloadError> {
  let wire: Wire;
  try {
    wire = DECODE_TYPE.decode(bytes) as unknown as Wire;
  } catch (cause) {
    return err({ code: "invalid_protobuf", path: "", value: bytes.length, message: `not a Sparkplug B protobuf payload: ${cause instanceof Error ? cause.message : String(cause)}` });
  }
  try {
    const metrics = ((wire["metrics"] as Wire[] | undefined) ?? []).map((m, i) => decodeMetric(m, metricPath(i), resolve));
    const payload: Writable<SparkplugPayload> = { metrics };
    if (has(wire, "timestamp")) payload.timestamp = u64Number(wire["timestamp"], "", "/timestamp");
    if (has(wire, "seq")) payload.seq = u64Number(wire["seq"], "", "/seq");
    if (has(wire, "uuid")) payload.uuid = wire["uuid"] as string;
    if (has(wire, "body")) payload.body = new Uint8Array(wire["body"] as Uint8Array);
    return ok(payload);
  } catch (cause) {
    if (cause instanceof PayloadFault) return err(cause.detail);
    throw cause;
  }
}

/** A metric to encode: a scalar value of a scalar type, or null. */
export interface OutgoingMetric {
  readonly name?: string;
  readonly alias?: bigint;
  readonly timestamp?: number;
  readonly datatype: Exclude<SparkplugDataType, "Unknown" | "DataSet" | "Template" | "PropertySet" | "PropertySetList" | `${string}Array`>;
  readonly value: ScalarValue;
}

/** A payload to encode. */
export interface OutgoingPayload {
  readonly timestamp: number;
  readonly seq?: number;
  readonly metrics: readonly OutgoingMetric[];
}

function bits(value: bigint): { low: number; high: number; unsigned: true } {
  const u = BigInt.asUintN(64, value);
  return { low: Number(u & 0xffffffffn) | 0, high: Number(u >> 32n) | 0, unsigned: true };
}

const INT_RANGES: Partial<Record<SparkplugDataType, readonly [number, number]>> = {
  Int8: [-128, 127],
  Int16: [-32768, 32767],
  Int32: [-2147483648, 2147483647],
  UInt8: [0, 255],
  UInt16: [0, 65535],
  UInt32: [0, 4294967295],
};

function encodeValue(metric: OutgoingMetric, path: string): Wire {
  const { datatype, value } = metric;
  if (value === null) return { isNull: true };
  const range = INT_RANGES[datatype];
  if (range !== undefined) {
    if (typeof value !== "number" || !Number.isInteger(value) || value < range[0] || value > range[1]) fault("unsupported_value", path, value, `a ${datatype} is an integer from ${range[0]} to ${range[1]}`);
    // Sparkplug 3.0: UInt32 travels in long_value, the narrower integers in int_value (two's complement).
    return datatype === "UInt32" ? { longValue: bits(BigInt(value)) } : { intValue: value >>> 0 };
  }
  switch (datatype) {
    case "Int64":
      if (typeof value !== "bigint" || value !== BigInt.asIntN(64, value)) fault("unsupported_value", path, String(value), "an Int64 is a bigint from −2^63 to 2^63 − 1");
      return { longValue: bits(value) };
    case "UInt64":
      if (typeof value !== "bigint" || value !== BigInt.asUintN(64, value)) fault("unsupported_value", path, String(value), "a UInt64 is a bigint from 0 to 2^64 − 1");
      return { longValue: bits(value) };
    case "DateTime":
      if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) fault("unsupported_value", path, value, "a DateTime is ms since the Unix epoch, a non-negative integer");
      return { longValue: bits(BigInt(value)) };
    case "Float":
    case "Double":
      if (typeof value !== "number") fault("unsupported_value", path, value, `a ${datatype} is a number`);
      return datatype === "Float" ? { floatValue: value } : { doubleValue: value };
    case "Boolean":
      if (typeof value !== "boolean") fault("unsupported_value", path, value, "a Boolean is a boolean");
      return { booleanValue: value };
    case "String":
    case "Text":
    case "UUID":
      if (typeof value !== "string") fault("unsupported_value", path, value, `a ${datatype} is a string`);
      return { stringValue: value };
    default:
      if (!(value instanceof Uint8Array)) fault("unsupported_value", path, value, `a ${datatype} is a Uint8Array`);
      return { bytesValue: value };
  }
}

/**
 * Encodes a Sparkplug B payload of scalar metrics to protobuf bytes; Int64 and UInt64 from
 * bigints, exactly. Pure; never throws.
 *
 * @param payload - the timestamp, sequence number and metrics
 * @returns the bytes, or the metric whose value does not fit its datatype
 * @example
 * ```ts
 * const bytes = encodeSparkplugPayload({ timestamp: 1772431960125, seq: 0, metrics: [{ name: "bdSeq", datatype: "Int64", value: 0n }] });
 * ```
 */
export function encodeSparkplugPayload(payload: OutgoingPayload): Result<Uint8Array, PayloadError> {
  try {
    const metrics = payload.metrics.map((metric, i) => {
      const wire: Wire = encodeValue(metric, `/metrics/${i}`);
      if (metric.name !== undefined) wire["name"] = metric.name;
      if (metric.alias !== undefined) wire["alias"] = bits(metric.alias);
      if (metric.timestamp !== undefined) wire["timestamp"] = bits(BigInt(metric.timestamp));
      wire["datatype"] = SPARKPLUG_DATA_TYPES.indexOf(metric.datatype);
      return wire;
    });
    const message: Wire = { timestamp: bits(BigInt(payload.timestamp)), metrics };
    if (payload.seq !== undefined) message["seq"] = bits(BigInt(payload.seq));
    return ok(PAYLOAD_TYPE.encode(message).finish());
  } catch (cause) {
    if (cause instanceof PayloadFault) return err(cause.detail);
    throw cause;
  }
}
