import {
  eventCatalog,
  eventTypes,
  isEventType,
  parseEventData,
  revisionToSequence,
  type EventDataMap,
  type EventType,
} from "@millwright/model";
import { isAscii } from "node:buffer";
import { err, ok, type Result } from "neverthrow";
import { attributeError, dataError, type EventError } from "./errors.js";
import { findRepeatUnproven, provablyCanonical, scanError } from "./json-scan.js";
import {
  forbiddenCharacterAt,
  isAbsoluteUri,
  isBase64,
  isJsonMediaType,
  isMediaType,
  isTimestamp,
  isUriReference,
  readTraceparent,
  tracestateProblem,
} from "./syntax.js";

/** The value of an extension attribute other than Millwright's own: a CloudEvents Boolean, Integer or String. */
export type ExtensionValue = string | number | boolean;

/**
 * A CloudEvent of one catalog type, as plain readonly data. The core attributes and the
 * extensions Millwright uses (partitionkey, sequence, traceparent, tracestate) are typed
 * properties; any other extension is kept in `extensions`.
 */
export interface EventEnvelope<TType extends EventType> {
  readonly specversion: "1.0";
  /** Unique per `source`; for events made by {@link createEvent}, derived from the fact. */
  readonly id: string;
  /** A URI-reference naming the producer, such as `urn:millwright:sap:S4PCLNT100`. */
  readonly source: string;
  readonly type: TType;
  /** The business key of the data (catalog `subject` pointer). */
  readonly subject?: string;
  /** When the fact happened, RFC 3339, exactly as given or received. */
  readonly time?: string;
  readonly datacontenttype?: string;
  /** The `$id` of the type's data schema. */
  readonly dataschema?: string;
  /** CloudEvents partitioning extension: the catalog's partition key values joined with `/`. */
  readonly partitionkey?: string;
  /** CloudEvents sequence extension: the revision, zero-padded to 20 digits. */
  readonly sequence?: string;
  /** W3C Trace Context (CloudEvents distributed tracing extension). */
  readonly traceparent?: string;
  readonly tracestate?: string;
  /** Other extension attributes, by name; absent when there are none. */
  readonly extensions?: Readonly<Record<string, ExtensionValue>>;
  /** The entity as it stands after the fact, valid for the type. */
  readonly data: EventDataMap[TType];
}

/**
 * A canonical event. Without a type argument it is the union over all catalog types, so
 * checking `event.type` narrows `event.data`.
 */
export type CanonicalEvent<TType extends EventType = EventType> = TType extends EventType ? EventEnvelope<TType> : never;

/** The attributes of an envelope after checking, before the data is checked. */
export interface CheckedAttributes {
  readonly id: string;
  readonly source: string;
  readonly type: EventType;
  readonly subject: string | undefined;
  readonly time: string | undefined;
  readonly datacontenttype: string | undefined;
  readonly dataschema: string | undefined;
  readonly partitionkey: string | undefined;
  readonly sequence: string | undefined;
  readonly traceparent: string | undefined;
  readonly tracestate: string | undefined;
  readonly extensions: Record<string, ExtensionValue> | undefined;
}

/** How the attributes arrived, which decides how `data` members and paths are read. */
export interface CheckOptions {
  /** Maps an attribute name to the JSON Pointer reported in errors. */
  readonly pathOf: (name: string) => string;
  /**
   * In binary mode the data is the message body and every member of the attribute record came
   * from a header, so a member named `data` is an attribute (and reserved).
   */
  readonly binary: boolean;
}

const ATTRIBUTE_NAME = /^[a-z0-9]+$/;
const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
const KNOWN_PREFIXES = new Set(eventTypes.map((t) => t.slice(0, t.lastIndexOf(".v"))));
const VERSIONED_TYPE = /^(.+)\.v(0|[1-9][0-9]*)$/;

// Producers send the same few sources and schemas over and over; remember their verdicts.
// Sources and schemas repeat: remember each verdict (bounded), without building a key string.
const absoluteVerdicts = new Map<string, boolean>();
const referenceVerdicts = new Map<string, boolean>();

function cachedUri(value: string, absolute: boolean): boolean {
  const verdicts = absolute ? absoluteVerdicts : referenceVerdicts;
  let verdict = verdicts.get(value);
  if (verdict === undefined) {
    verdict = absolute ? isAbsoluteUri(value) : isUriReference(value);
    if (verdicts.size >= 256) verdicts.clear();
    verdicts.set(value, verdict);
  }
  return verdict;
}

/** Pointer for an attribute in a structured event, optionally inside a batch. */
export function memberPath(prefix: string): (name: string) => string {
  let pathOf = memberPaths.get(prefix);
  if (pathOf === undefined) {
    // Attribute names repeat on every event: build each pointer once (bounded, since names come from input).
    const cache = new Map<string, string>();
    pathOf = (name) => {
      let path = cache.get(name);
      if (path === undefined) {
        path = `${prefix}/${name.replace(/~/g, "~0").replace(/\//g, "~1")}`;
        if (cache.size < 64) cache.set(name, path);
      }
      return path;
    };
    if (memberPaths.size < 256) memberPaths.set(prefix, pathOf);
  }
  return pathOf;
}

const memberPaths = new Map<string, (name: string) => string>();

const JSON_MEDIA_TYPE = "application/json";

// Sources and schemas that passed every check of their attribute (String, non-empty, no forbidden
// character, URI syntax): a producer sends the same few on every event. Bounded, as they come from input.
const sourceVerdicts = new Set<string>();
const schemaVerdicts = new Set<string>();

/** Whether a string is a valid `source` (as checkAttributes judges it). */
function isSource(value: string): boolean {
  if (knownGood(value, sourceVerdicts)) return true;
  if (!isString(value, true) || !cachedUri(value, false)) return false;
  remember(value, sourceVerdicts);
  return true;
}

function knownGood(value: string, verdicts: Set<string>): boolean {
  return verdicts.has(value);
}

function remember(value: string, verdicts: Set<string>): void {
  if (verdicts.size >= 256) verdicts.clear();
  verdicts.add(value);
}

/** Checks that a value is a CloudEvents String; `nonEmpty` for the attributes that must not be "". */
function checkString(value: unknown, name: string, pathOf: (name: string) => string, nonEmpty: boolean): EventError | undefined {
  if (typeof value !== "string") return attributeError("invalid_attribute_type", pathOf(name), "is a String", value);
  if (nonEmpty && value.length === 0) return attributeError("invalid_attribute_value", pathOf(name), "is a non-empty String", value);
  const at = forbiddenCharacterAt(value);
  if (at !== -1) {
    const unit = value.charCodeAt(at).toString(16).toUpperCase().padStart(4, "0");
    return attributeError(
      "invalid_character",
      pathOf(name),
      `contains U+${unit} at index ${at}; a String has no control characters, noncharacters or unpaired surrogates`,
      value,
    );
  }
  return undefined;
}

/** Whether a value passes {@link checkString}, when only the verdict is needed. */
function isString(value: unknown, nonEmpty: boolean): boolean {
  return typeof value === "string" && (!nonEmpty || value.length > 0) && forbiddenCharacterAt(value) === -1;
}

function checkExtension(value: unknown, name: string, pathOf: (name: string) => string): EventError | undefined {
  if (typeof value === "boolean") return undefined;
  if (typeof value === "number") {
    if (!Number.isInteger(value)) return attributeError("invalid_attribute_type", pathOf(name), "is a Boolean, an Integer or a String", value);
    if (value < INT32_MIN || value > INT32_MAX || Object.is(value, -0)) {
      return attributeError("out_of_range", pathOf(name), "is an Integer from -2147483648 to 2147483647", value);
    }
    return undefined;
  }
  if (typeof value === "string") return checkString(value, name, pathOf, false);
  return attributeError("invalid_attribute_type", pathOf(name), "is a Boolean, an Integer or a String", value);
}

/**
 * The one envelope validator: checks every attribute of a record (a parsed JSON object, or the
 * headers of a binary message) against the CloudEvents 1.0 rules and the catalog's types.
 * Members `data` and `data_base64` are left to the caller in structured mode.
 */
export function checkAttributes(raw: Readonly<Record<string, unknown>>, options: CheckOptions): Result<CheckedAttributes, EventError> {
  const { pathOf, binary } = options;
  let specversion: unknown;
  let id: string | undefined;
  let source: string | undefined;
  let type: string | undefined;
  let subject: string | undefined;
  let time: string | undefined;
  let datacontenttype: string | undefined;
  let dataschema: string | undefined;
  let partitionkey: string | undefined;
  let sequence: string | undefined;
  let traceparent: string | undefined;
  let tracestate: string | undefined;
  let extensions: Record<string, ExtensionValue> | undefined;

  for (const name of Object.keys(raw)) {
    if (!binary && (name === "data" || name === "data_base64")) continue;
    if (name === "data") return err(attributeError("reserved_attribute_name", pathOf(name), "no attribute is named data"));
    const value = raw[name];
    let problem: EventError | undefined;
    // Pointers are built only for an error: a valid envelope needs none. A known name matches
    // ATTRIBUTE_NAME, so only the others are tested (before their value, as always).
    switch (name) {
      case "specversion":
        if (value === null || value === undefined) continue; // JSON format §2.2: null means the attribute is unset.
        if (value !== "1.0") problem = checkString(value, name, pathOf, true);
        specversion = value;
        break;
      case "id":
        if (value === null || value === undefined) continue;
        problem = checkString(value, name, pathOf, true);
        id = value as string;
        break;
      case "source":
        if (value === null || value === undefined) continue;
        if (typeof value !== "string" || !knownGood(value, sourceVerdicts)) {
          problem = checkString(value, name, pathOf, true);
          if (problem === undefined && !cachedUri(value as string, false)) {
            problem = attributeError("invalid_attribute_value", pathOf(name), "is a URI-reference (RFC 3986 §4.1)", value);
          }
          if (problem === undefined) remember(value as string, sourceVerdicts);
        }
        source = value as string;
        break;
      case "type":
        if (value === null || value === undefined) continue;
        // A catalog type is a non-empty printable ASCII String.
        if (typeof value !== "string" || !isEventType(value)) problem = checkString(value, name, pathOf, true);
        type = value as string;
        break;
      case "subject":
        if (value === null || value === undefined) continue;
        problem = checkString(value, name, pathOf, true);
        subject = value as string;
        break;
      case "time":
        if (value === null || value === undefined) continue;
        // A value the timestamp pattern accepts is non-empty printable ASCII: checkString could not refuse it.
        if (typeof value !== "string" || !isTimestamp(value)) {
          problem = checkString(value, name, pathOf, true);
          if (problem === undefined) problem = attributeError("invalid_attribute_value", pathOf(name), "is an RFC 3339 date-time with an offset", value);
        }
        time = value as string;
        break;
      case "datacontenttype":
        if (value === null || value === undefined) continue;
        if (value !== JSON_MEDIA_TYPE) {
          problem = checkString(value, name, pathOf, true);
          if (problem === undefined && !isMediaType(value as string)) {
            problem = attributeError("invalid_attribute_value", pathOf(name), "is a media type in RFC 2046 syntax (type/subtype;name=value)", value);
          }
        }
        datacontenttype = value as string;
        break;
      case "dataschema":
        if (value === null || value === undefined) continue;
        if (typeof value !== "string" || !knownGood(value, schemaVerdicts)) {
          problem = checkString(value, name, pathOf, true);
          if (problem === undefined && !cachedUri(value as string, true)) {
            problem = attributeError("invalid_attribute_value", pathOf(name), "is an absolute URI (RFC 3986 §4.3)", value);
          }
          if (problem === undefined) remember(value as string, schemaVerdicts);
        }
        dataschema = value as string;
        break;
      case "partitionkey":
        if (value === null || value === undefined) continue;
        problem = checkString(value, name, pathOf, true);
        partitionkey = value as string;
        break;
      case "sequence":
        if (value === null || value === undefined) continue;
        problem = checkString(value, name, pathOf, true);
        sequence = value as string;
        break;
      case "traceparent": {
        if (value === null || value === undefined) continue;
        problem = checkString(value, name, pathOf, true);
        const read = problem === undefined ? readTraceparent(value as string) : undefined;
        if (read !== undefined && "problem" in read) problem = attributeError("invalid_attribute_value", pathOf(name), read.problem, value);
        traceparent = value as string;
        break;
      }
      case "tracestate": {
        if (value === null || value === undefined) continue;
        problem = checkString(value, name, pathOf, false);
        const rule = problem === undefined ? tracestateProblem(value as string) : undefined;
        if (rule !== undefined) problem = attributeError("invalid_attribute_value", pathOf(name), rule, value);
        tracestate = value as string;
        break;
      }
      default:
        if (!ATTRIBUTE_NAME.test(name)) {
          return err(attributeError("invalid_attribute_name", pathOf(name), "attribute names are 1 or more of a-z and 0-9", name));
        }
        if (value === null || value === undefined) continue;
        problem = checkExtension(value, name, pathOf);
        (extensions ??= {})[name] = value as ExtensionValue;
    }
    if (problem !== undefined) return err(problem);
  }

  if (specversion === undefined) return err(attributeError("missing_attribute", pathOf("specversion"), "specversion is required"));
  if (specversion !== "1.0") return err(attributeError("unsupported_specversion", pathOf("specversion"), 'is exactly "1.0"', specversion));
  if (id === undefined) return err(attributeError("missing_attribute", pathOf("id"), "id is required"));
  if (source === undefined) return err(attributeError("missing_attribute", pathOf("source"), "source is required"));
  if (type === undefined) return err(attributeError("missing_attribute", pathOf("type"), "type is required"));
  if (!isEventType(type)) {
    const m = VERSIONED_TYPE.exec(type);
    if (m !== null && KNOWN_PREFIXES.has(m[1] ?? "")) {
      return err(attributeError("unknown_event_version", pathOf("type"), "the catalog has this type, but not in this major version", type));
    }
    return err(attributeError("unknown_event_type", pathOf("type"), "names a type in the Millwright event catalog", type));
  }
  // Distributed tracing extension: traceparent is required whenever the extension is used.
  if (tracestate !== undefined && traceparent === undefined) {
    return err(attributeError("missing_attribute", pathOf("traceparent"), "traceparent is required with tracestate (CloudEvents distributed tracing extension)"));
  }
  if (datacontenttype !== undefined && datacontenttype !== JSON_MEDIA_TYPE && !isJsonMediaType(datacontenttype)) {
    return err(
      attributeError("unsupported_content_type", pathOf("datacontenttype"), "catalog events carry JSON data (application/json or */*+json)", datacontenttype),
    );
  }
  return ok({ id, source, type, subject, time, datacontenttype, dataschema, partitionkey, sequence, traceparent, tracestate, extensions });
}

/** What {@link createEvent} puts into an envelope: the caller's values and those derived from valid data. */
export interface CreatedValues {
  /** The caller's id, or undefined when the id is derived (a UUID, valid by construction). */
  readonly id: unknown;
  readonly derivedId: string;
  readonly source: unknown;
  readonly type: EventType;
  readonly subject: unknown;
  readonly time: unknown;
  readonly derived: DerivedAttributes;
  readonly traceparent: unknown;
  readonly tracestate: unknown;
}

const isPresent = (value: unknown): boolean => value !== undefined && value !== null;

/**
 * The attributes of an event {@link createEvent} builds without extensions, when every one of
 * them is valid; undefined when any one may not be, and then {@link checkAttributes} must judge
 * (and name the rule broken). It skips what `createEvent` makes itself and cannot be wrong:
 * `specversion`, a derived `id` (a UUID), the catalog `type` and `dataschema`, the
 * `datacontenttype` and the `sequence` of a valid revision. What comes from the caller or from
 * the data (`source`, `time`, `subject`, `partitionkey`, an explicit `id`, trace context) gets
 * the same checks as in `checkAttributes`.
 */
export function checkCreatedAttributes(v: CreatedValues): CheckedAttributes | undefined {
  const { source, subject, time, traceparent, tracestate, derived } = v;
  const id = v.id === undefined ? v.derivedId : v.id;
  if (typeof id !== "string" || (v.id !== undefined && !isString(id, true))) return undefined;
  if (typeof source !== "string" || !isSource(source)) return undefined;
  if (typeof subject !== "string" || !isString(subject, true)) return undefined;
  // What the timestamp pattern accepts is a non-empty printable ASCII String.
  if (typeof time !== "string" || !isTimestamp(time)) return undefined;
  if (!isString(derived.partitionkey, true)) return undefined;
  if (derived.sequence.length === 0 || !cachedUri(derived.dataschema, true)) return undefined;
  if (isPresent(traceparent)) {
    if (typeof traceparent !== "string" || !isString(traceparent, true) || "problem" in readTraceparent(traceparent)) return undefined;
  }
  if (isPresent(tracestate)) {
    if (!isPresent(traceparent) || typeof tracestate !== "string" || !isString(tracestate, false)) return undefined;
    if (tracestateProblem(tracestate) !== undefined) return undefined;
  }
  return {
    id,
    source,
    type: v.type,
    subject,
    time,
    datacontenttype: "application/json",
    dataschema: derived.dataschema,
    partitionkey: derived.partitionkey,
    sequence: derived.sequence,
    traceparent: isPresent(traceparent) ? (traceparent as string) : undefined,
    tracestate: isPresent(tracestate) ? (tracestate as string) : undefined,
    extensions: undefined,
  };
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Decodes UTF-8 bytes, rejecting invalid sequences. */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  // ASCII is its own UTF-8 and has no byte-order mark (which the decoder would drop): a Latin-1 copy is the same text, made faster.
  if (isAscii(bytes)) return latin1(bytes);
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * Reads JSON data from text or bytes (a binary-mode body, decoded `data_base64`), rejecting
 * member names repeated in any object: `path` is where the text sits in the message.
 */
export function readJsonData(body: string | Uint8Array, path: string): Result<unknown, EventError> {
  const read = readDataText(body, path);
  return read.isOk() ? ok(read.value.value) : err(read.error);
}

/** JSON data read from a message body: the value, its text, and whether the text is provably `JSON.stringify(value)`. */
export interface DataText {
  readonly value: unknown;
  readonly text: string;
  /** True when {@link provablyCanonical} proved the text to be exactly `JSON.stringify(value)`. */
  readonly stringified: boolean;
  /** The body's bytes when it came as bytes, all ASCII (so each byte is one character of `text`). */
  readonly bytes?: Uint8Array;
}

/**
 * {@link readJsonData} that also hands back the text and what the repeat check proved of it, so a
 * caller can take the data's canonical text from the body without reading it again. Same verdicts
 * and errors as `readJsonData` for every body.
 */
export function readDataText(body: string | Uint8Array, path: string): Result<DataText, EventError> {
  const ascii = typeof body !== "string" && isAscii(body);
  const text = typeof body === "string" ? body : ascii ? latin1(body) : decodeUtf8(body);
  if (text === undefined) return err(attributeError("unreadable_input", path, "is UTF-8 text"));
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (cause) {
    return err(attributeError("unreadable_input", path, `is JSON text (${cause instanceof Error ? cause.message : String(cause)})`));
  }
  // Plain data (depth 0) has no attributes, so findRepeat would start with this very proof.
  const stringified = provablyCanonical(text, value);
  const finding = stringified ? undefined : findRepeatUnproven(text, value, 0);
  if (finding !== undefined) return err(scanError(finding, path));
  return ok(ascii ? { value, text, stringified, bytes: body as Uint8Array } : { value, text, stringified });
}

/** ASCII bytes as text (ASCII is its own UTF-8). */
function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
}

/** Reads the data of a structured event: `data`, or `data_base64` decoded (JSON format §3.1). */
export function structuredData(raw: Readonly<Record<string, unknown>>, prefix: string): Result<unknown, EventError> {
  const data = raw["data"];
  const base64 = raw["data_base64"];
  const hasData = data !== undefined && data !== null;
  const hasBase64 = base64 !== undefined && base64 !== null;
  if (hasData && hasBase64) {
    return err(attributeError("conflicting_data", `${prefix}/data_base64`, "data and data_base64 are mutually exclusive"));
  }
  if (hasBase64) {
    const path = `${prefix}/data_base64`;
    if (typeof base64 !== "string" || !isBase64(base64)) return err(attributeError("invalid_attribute_value", path, "is Base64 (RFC 4648)", base64));
    // JSON format §3.1.2: bytes are not assumed to be JSON without a JSON datacontenttype.
    const contentType = raw["datacontenttype"];
    if (typeof contentType !== "string" || !isJsonMediaType(contentType)) {
      return err(attributeError("unsupported_content_type", `${prefix}/datacontenttype`, "data_base64 of a catalog event is JSON and says so in datacontenttype", contentType));
    }
    return readJsonData(Buffer.from(base64, "base64"), path);
  }
  if (!hasData) return err(attributeError("missing_attribute", `${prefix}/data`, "catalog events carry data"));
  return ok(data);
}

/** Catalog pointers are few and fixed: split and unescape each once. */
const pointerSegments = new Map<string, readonly string[]>();

function segmentsOf(pointer: string): readonly string[] {
  let segments = pointerSegments.get(pointer);
  if (segments === undefined) {
    segments = pointer
      .split("/")
      .slice(1)
      .map((key) => key.replace(/~1/g, "/").replace(/~0/g, "~"));
    if (pointerSegments.size < 1024) pointerSegments.set(pointer, segments);
  }
  return segments;
}

function valueAt(data: unknown, pointer: string): unknown {
  let node = data;
  for (const key of segmentsOf(pointer)) {
    if (typeof node !== "object" || node === null) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** The attributes a catalog type derives from valid data. */
export interface DerivedAttributes {
  readonly subject: string;
  readonly partitionkey: string;
  readonly sequence: string;
  readonly dataschema: string;
  readonly revision: string;
}

/**
 * Whether a string is a revision (`^(0|[1-9][0-9]{0,19})$`, the pattern revisionToSequence
 * checks): valid data always has one, so the common case needs no regular expression.
 */
function isRevision(value: string): boolean {
  const n = value.length;
  if (n === 0 || n > 20) return false;
  const first = value.charCodeAt(0);
  if (first === 48 /* 0 */) return n === 1;
  if (first < 49 || first > 57) return false;
  for (let i = 1; i < n; i++) {
    const c = value.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** Derives subject, partition key, sequence and data schema from valid data of a catalog type. */
export function deriveAttributes(type: EventType, data: unknown): DerivedAttributes {
  const entry = eventCatalog[type];
  const revision = String(valueAt(data, "/revision"));
  let partitionkey = "";
  for (let i = 0; i < entry.partitionKey.length; i++) {
    const value = valueAt(data, entry.partitionKey[i] as string);
    partitionkey += (i === 0 ? "" : "/") + (value === undefined ? "" : String(value));
  }
  return {
    subject: String(valueAt(data, entry.subject)),
    partitionkey,
    sequence: isRevision(revision) ? revision.padStart(20, "0") : revisionToSequence(revision),
    dataschema: entry.dataSchema,
    revision,
  };
}

/** The natural key values of the entity a type carries, in catalog order ("" when absent). */
export function naturalKeyOf(data: unknown, naturalKey: readonly string[]): string[] {
  return naturalKey.map((p) => {
    const value = valueAt(data, p);
    return value === undefined ? "" : String(value);
  });
}

/** Builds the frozen envelope in the canonical member order. */
export function buildEvent(a: CheckedAttributes, data: unknown): CanonicalEvent {
  const { subject, time, datacontenttype, dataschema, partitionkey, sequence } = a;
  if (
    subject !== undefined &&
    time !== undefined &&
    datacontenttype !== undefined &&
    dataschema !== undefined &&
    partitionkey !== undefined &&
    sequence !== undefined &&
    a.traceparent === undefined &&
    a.tracestate === undefined &&
    a.extensions === undefined
  ) {
    // The common envelope (every event createEvent makes without trace context, and most it
    // parses): one literal, so every such event shares one shape, built without a transition per member.
    return Object.freeze({ specversion: "1.0", id: a.id, source: a.source, type: a.type, subject, time, datacontenttype, dataschema, partitionkey, sequence, data }) as unknown as CanonicalEvent;
  }
  const event: Record<string, unknown> = { specversion: "1.0", id: a.id, source: a.source, type: a.type };
  if (a.subject !== undefined) event["subject"] = a.subject;
  if (a.time !== undefined) event["time"] = a.time;
  if (a.datacontenttype !== undefined) event["datacontenttype"] = a.datacontenttype;
  if (a.dataschema !== undefined) event["dataschema"] = a.dataschema;
  if (a.partitionkey !== undefined) event["partitionkey"] = a.partitionkey;
  if (a.sequence !== undefined) event["sequence"] = a.sequence;
  if (a.traceparent !== undefined) event["traceparent"] = a.traceparent;
  if (a.tracestate !== undefined) event["tracestate"] = a.tracestate;
  if (a.extensions !== undefined) event["extensions"] = Object.freeze(a.extensions);
  event["data"] = data;
  return Object.freeze(event) as unknown as CanonicalEvent;
}

/**
 * Checks data against the catalog and the attributes against the data, then builds the envelope:
 * the second half of the one validator, shared by `parseEvent` and every binding.
 */
export function finishEvent(a: CheckedAttributes, data: unknown, pathOf: (name: string) => string): Result<CanonicalEvent, EventError> {
  const parsed = parseEventData(a.type, data);
  if (parsed.isErr()) {
    const error = dataError(a.type, parsed.error);
    const path = pathOf("data");
    return err(path === error.path ? error : { ...error, path });
  }
  const derived = deriveAttributes(a.type, data);
  if (a.dataschema !== undefined && a.dataschema !== derived.dataschema) {
    return err(attributeError("inconsistent_attribute", pathOf("dataschema"), `is the data schema of ${a.type}, ${derived.dataschema}`, a.dataschema));
  }
  if (a.sequence !== undefined && a.sequence !== derived.sequence) {
    return err(attributeError("inconsistent_attribute", pathOf("sequence"), `is the data's revision as 20 digits, ${derived.sequence}`, a.sequence));
  }
  if (a.partitionkey !== undefined && a.partitionkey !== derived.partitionkey) {
    return err(attributeError("inconsistent_attribute", pathOf("partitionkey"), `is the catalog partition key of the data, ${derived.partitionkey}`, a.partitionkey));
  }
  return ok(buildEvent(a, data));
}
