// The EPCIS event hash (CBV 2.0 §8.9 "event hash"; GS1's reference: RalphTro/epcis-event-hash-generator):
// a canonical pre-hash string built from the event's content in a fixed property order, with
// canonical values (UTC millisecond timestamps, web vocabulary URIs, GS1 Digital Link keys,
// normalised numbers), then SHA-256 as an `ni:` URI.
import { createHash } from "node:crypto";
import { err, ok, type Result } from "neverthrow";
import { toCanonicalDigitalLink } from "./gs1-keys.js";

/** Why no hash could be computed for an event. */
export interface EpcisHashError {
  readonly code: "invalid_event";
  /** JSON Pointer of the offending value inside the event. */
  readonly path: string;
  readonly message: string;
  readonly value?: unknown;
}

/** What the hash needs from the document around an event. */
export interface EpcisHashOptions {
  /** Namespace prefixes of the JSON-LD `@context` (prefix → IRI), used to expand extension names. */
  readonly namespaces?: Readonly<Record<string, string>>;
  /** Extension fields that do not take part in the hash (as written, e.g. `example:captureID`). */
  readonly ignoreFields?: readonly string[];
}

interface Node {
  readonly name: string;
  readonly value: string;
  readonly children: readonly Node[];
}

type Order = readonly (readonly [string, Order | null])[];

const QUANTITY: Order = [["quantityElement", [["epcClass", null], ["quantity", null], ["uom", null]]]];
const EPCS: Order = [["epc", null]];

// The canonical property order of CBV 2.0 §8.9.3.
const EVENT_ORDER: Order = [
  ["eventTime", null],
  ["eventTimeZoneOffset", null],
  ["certificationInfo", null],
  ["parentID", null],
  ["epcList", EPCS],
  ["inputEPCList", EPCS],
  ["childEPCs", EPCS],
  ["quantityList", QUANTITY],
  ["childQuantityList", QUANTITY],
  ["inputQuantityList", QUANTITY],
  ["outputEPCList", EPCS],
  ["outputQuantityList", QUANTITY],
  ["action", null],
  ["transformationID", null],
  ["bizStep", null],
  ["disposition", null],
  ["persistentDisposition", [["set", null], ["unset", null]]],
  ["readPoint", [["id", null]]],
  ["bizLocation", [["id", null]]],
  [
    "sensorElementList",
    [
      [
        "sensorElement",
        [
          [
            "sensorMetadata",
            ["time", "startTime", "endTime", "deviceID", "deviceMetadata", "rawData", "dataProcessingMethod", "bizRules"].map(
              (n) => [n, null] as const,
            ),
          ],
          [
            "sensorReport",
            [
              "type", "exception", "deviceID", "deviceMetadata", "rawData", "dataProcessingMethod", "time",
              "microorganism", "chemicalSubstance", "value", "component", "stringValue", "booleanValue",
              "hexBinaryValue", "uriValue", "minValue", "maxValue", "meanValue", "sDev", "percRank", "percValue",
              "uom", "coordinateReferenceSystem",
            ].map((n) => [n, null] as const),
          ],
        ],
      ],
    ],
  ],
];
const ORDERED = new Set(EVENT_ORDER.map(([name]) => name));

// Never hashed at event level: the hash itself (eventID), when the event was stored, and the
// correction data of an error declaration, as GS1's reference algorithm. Two members it does not
// name are left out too: `id`, which the EPCIS JSON-LD context maps to the same `@id` as eventID
// (hashing it would make an event that carries its own hash as `id` hash differently), and an
// event's own `@context`, which is JSON-LD syntax with no XML counterpart.
const NOT_HASHED = new Set(["type", "eventID", "id", "recordTime", "errorDeclaration", "@context"]);

// Comments are annotations, not content: GS1's reference algorithm leaves these members out at
// every depth, matched as written (an extension's own `ex:comment` is content and is hashed).
function isComment(key: string): boolean {
  return key === "rdfs:comment" || key === "comment";
}

// Lists whose JSON elements are anonymous: the XML element name of one entry.
const LIST_ENTRY: Readonly<Record<string, string>> = {
  epcList: "epc",
  inputEPCList: "epc",
  outputEPCList: "epc",
  childEPCs: "epc",
  quantityList: "quantityElement",
  childQuantityList: "quantityElement",
  inputQuantityList: "quantityElement",
  outputQuantityList: "quantityElement",
  sensorElementList: "sensorElement",
};

// Bare-string vocabulary values and the web vocabulary they expand to (the EPCIS JSON-LD context).
const CBV = "https://ref.gs1.org/cbv/";
const GS1_VOC = "https://gs1.org/voc/";
const VOCABULARY: Readonly<Record<string, string>> = {
  bizStep: `${CBV}BizStep-`,
  disposition: `${CBV}Disp-`,
  set: `${CBV}Disp-`,
  unset: `${CBV}Disp-`,
  exception: GS1_VOC,
  component: `${CBV}Comp-`,
};

const OLD_VOCABULARY: readonly (readonly [string, string])[] = [
  ["urn:epcglobal:cbv:bizstep:", `${CBV}BizStep-`],
  ["urn:epcglobal:cbv:disp:", `${CBV}Disp-`],
  ["urn:epcglobal:cbv:btt:", `${CBV}BTT-`],
  ["urn:epcglobal:cbv:sdt:", `${CBV}SDT-`],
  ["urn:epcglobal:cbv:er:", `${CBV}ER-`],
];

class HashInputError extends Error {
  constructor(
    readonly path: string,
    readonly detail: string,
    readonly value: unknown,
  ) {
    super(detail);
  }
}

function scalar(value: unknown, path: string): string {
  if (typeof value === "string") return value;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new HashInputError(path, "a number must be finite", value);
    return String(value);
  }
  // GS1's reference renders JSON booleans as Python does; keep that so hashes agree.
  if (typeof value === "boolean") return value ? "True" : "False";
  if (value === null) return "None";
  throw new HashInputError(path, "expected a string, number, boolean, null, object or array", value);
}

class Converter {
  constructor(private readonly namespaces: Readonly<Record<string, string>>) {}

  expandKey(key: string): string {
    const colon = key.indexOf(":");
    if (colon > 0) {
      const iri = this.namespaces[key.slice(0, colon)];
      if (iri !== undefined && Object.hasOwn(this.namespaces, key.slice(0, colon))) return `{${iri}}${key.slice(colon + 1)}`;
    }
    return key;
  }

  expandValue(value: string): string {
    const colon = value.indexOf(":");
    if (colon > 0) {
      const prefix = value.slice(0, colon);
      if (Object.hasOwn(this.namespaces, prefix)) return `${this.namespaces[prefix] ?? ""}${value.slice(colon + 1)}`;
    }
    return value;
  }

  // One JSON member → the nodes it stands for: a JSON array repeats its name per element.
  nodes(name: string, value: unknown, path: string, vocabulary?: string): Node[] {
    if (Array.isArray(value)) return value.flatMap((v, i) => this.nodes(name, v, `${path}/${i}`, vocabulary));
    return [this.node(name, value, path, vocabulary)];
  }

  node(name: string, value: unknown, path: string, vocabulary?: string): Node {
    if (value !== null && typeof value === "object") {
      const children: Node[] = [];
      for (const [k, v] of Object.entries(value)) {
        if (!isComment(k)) children.push(...this.member(name, k, v, `${path}/${k}`));
      }
      return { name, value: "", children };
    }
    let text = this.expandValue(scalar(value, path));
    if (vocabulary !== undefined && text !== "" && !text.includes(":")) text = vocabulary + text;
    return { name, value: text, children: [] };
  }

  member(parent: string, key: string, value: unknown, path: string): Node[] {
    const entry = LIST_ENTRY[key];
    if (entry !== undefined && Array.isArray(value)) {
      return [{ name: key, value: "", children: value.flatMap((v, i) => this.nodes(entry, v, `${path}/${i}`)) }];
    }
    if ((key === "bizTransactionList" || key === "sourceList" || key === "destinationList") && Array.isArray(value)) {
      return [{ name: key, value: "", children: value.map((v, i) => this.typedEntry(key, v, `${path}/${i}`)) }];
    }
    let vocabulary = VOCABULARY[key];
    if (key === "type" && parent === "sensorReport") vocabulary = GS1_VOC;
    return this.nodes(this.expandKey(key), value, path, vocabulary);
  }

  // bizTransaction, source and destination entries keep CBV's order: type, then the value.
  typedEntry(list: string, value: unknown, path: string): Node {
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      throw new HashInputError(path, `an entry of ${list} must be an object`, value);
    }
    const record = value as Record<string, unknown>;
    const valueKey = list.slice(0, -4);
    const prefix = list === "bizTransactionList" ? `${CBV}BTT-` : `${CBV}SDT-`;
    const children: Node[] = [];
    if (record["type"] !== undefined) children.push(this.node("type", record["type"], `${path}/type`, prefix));
    if (record[valueKey] !== undefined) children.push(this.node(valueKey, record[valueKey], `${path}/${valueKey}`));
    for (const [k, v] of Object.entries(record)) {
      if (k !== "type" && k !== valueKey && !isComment(k)) children.push(...this.member(list, k, v, `${path}/${k}`));
    }
    return { name: "", value: "", children };
  }
}

function pythonFloatRepr(n: number): string {
  const [mantissa = "", exponent = "0"] = n.toExponential().split("e");
  const exp = Number(exponent);
  if (exp < -4) {
    const digits = Math.abs(exp).toString().padStart(2, "0");
    return `${mantissa}e-${digits}`;
  }
  return String(n);
}

function canonicalNumber(text: string): string {
  if (!/^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(text)) return text;
  const n = Number(text);
  if (!Number.isFinite(n)) return text;
  if (Number.isInteger(n)) return BigInt(n).toString();
  return pythonFloatRepr(n);
}

function canonicalValue(text: string): string {
  let value = text;
  for (const [from, to] of OLD_VOCABULARY) if (value.includes(from)) value = value.replaceAll(from, to);
  value = canonicalNumber(value);
  return toCanonicalDigitalLink(value) ?? value;
}

const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(Z|z|[+-]\d{2}:?\d{2})$/;

/** Rounds an ISO 8601 date-time to milliseconds (half to even, as GS1's reference) in UTC. */
function canonicalTime(text: string): string {
  const m = TIMESTAMP.exec(text);
  if (m === null) return text;
  const [, y, mo, d, h, mi, s = "0", frac = "", zone = "Z"] = m;
  let offsetMinutes = 0;
  if (zone !== "Z" && zone !== "z") {
    const sign = zone.startsWith("-") ? -1 : 1;
    const digits = zone.slice(1).replace(":", "");
    offsetMinutes = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2)));
  }
  const micros = Number(frac.slice(0, 6).padEnd(6, "0"));
  let millis = Math.floor(micros / 1000);
  const remainder = micros % 1000;
  if (remainder > 500 || (remainder === 500 && millis % 2 === 1)) millis += 1;
  const epoch =
    Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)) - offsetMinutes * 60_000 + millis;
  if (!Number.isFinite(epoch)) return text;
  return new Date(epoch).toISOString();
}

function renderOrderedChild(node: Node, order: Order | null): string {
  const grand = order === null ? "" : renderOrdered(node.children, order, false);
  let text = node.value.trim();
  if (text !== "") {
    const lower = node.name.toLowerCase();
    text = lower.includes("time") && !lower.includes("offset") ? canonicalTime(text) : canonicalValue(text);
    text = `=${text}`;
  }
  return text !== "" || grand !== "" ? node.name + text + grand : "";
}

function renderOrdered(children: readonly Node[], order: Order, eventLevel: boolean): string {
  let out = "";
  for (const [name, sub] of order) {
    const values: string[] = [];
    for (const child of children) {
      if (child.name !== name) continue;
      const text = renderOrderedChild(child, sub);
      if (text !== "") values.push(text);
    }
    values.sort(compareCodeUnits);
    out += values.join("");
  }
  if (!eventLevel) {
    // Extensions inside a standard structure follow its standard fields.
    const known = new Set(order.map(([n]) => n));
    out += renderGeneric(children.filter((c) => !known.has(c.name)));
  }
  return out;
}

function renderGenericNode(node: Node): string {
  const text = node.value.trim();
  return node.name + (text === "" ? "" : `=${canonicalValue(text)}`) + renderGeneric(node.children, node.name === "");
}

function renderGeneric(children: readonly Node[], keepOrder = false): string {
  const parts = children.map(renderGenericNode);
  if (!keepOrder && parts.length > 1) parts.sort(compareCodeUnits);
  return parts.join("");
}

// Python compares strings by code point; for the BMP that is UTF-16 code unit order.
function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function toPreHash(event: unknown, options: EpcisHashOptions): string {
  if (event === null || typeof event !== "object" || Array.isArray(event)) {
    throw new HashInputError("", "an EPCIS event must be a JSON object", event);
  }
  const record = event as Record<string, unknown>;
  const type = record["type"];
  if (typeof type !== "string" || type === "") throw new HashInputError("/type", "an event needs its type", type);
  const converter = new Converter(options.namespaces ?? {});
  const ignored = new Set(options.ignoreFields ?? []);
  const ordered: Node[] = [];
  const rest: Node[] = [];
  for (const [key, value] of Object.entries(record)) {
    if (NOT_HASHED.has(key) || isComment(key) || ignored.has(key) || ignored.has(converter.expandKey(key))) continue;
    const nodes = converter.member("", key, value, `/${key}`);
    (ORDERED.has(key) ? ordered : rest).push(...nodes);
  }
  return `eventType=${type}${renderOrdered(ordered, EVENT_ORDER, true)}${renderGeneric(rest)}`;
}

function asHashError(cause: unknown): EpcisHashError {
  if (cause instanceof HashInputError) {
    return { code: "invalid_event", path: cause.path, message: `${cause.path || "the event"}: ${cause.detail}`, value: cause.value };
  }
  if (cause instanceof RangeError) {
    // Only pathological nesting gets here (a stack overflow).
    return { code: "invalid_event", path: "", message: `the event could not be read: ${cause.message}` };
  }
  throw cause;
}

/**
 * Builds the canonical pre-hash string of an EPCIS 2.0 event (JSON / JSON-LD form), the input of
 * the EPCIS event hash.
 *
 * @param event - one event of an EPCIS document's `eventList`
 * @param options - the document's namespace prefixes and fields to leave out
 * @returns the pre-hash string, or an error naming the value that could not be canonicalised
 * @example
 * toEpcisPreHash({ type: "ObjectEvent", eventTime: "2020-03-04T11:00:30+01:00", eventTimeZoneOffset: "+01:00", action: "OBSERVE" });
 * // ok("eventType=ObjectEventeventTime=2020-03-04T10:00:30.000ZeventTimeZoneOffset=+01:00action=OBSERVE")
 */
export function toEpcisPreHash(event: unknown, options: EpcisHashOptions = {}): Result<string, EpcisHashError> {
  try {
    return ok(toPreHash(event, options));
  } catch (cause) {
    return err(asHashError(cause));
  }
}

/**
 * Computes the EPCIS event hash `ni:///sha-256;<hex>?ver=CBV2.0` of an EPCIS 2.0 event: the
 * content-derived event ID that is the same for the same fact, whoever captured it.
 *
 * @param event - one event of an EPCIS document's `eventList`
 * @param options - the document's namespace prefixes and fields to leave out
 * @returns the `ni:` URI, or an error naming the value that could not be canonicalised
 * @example
 * const id = toEpcisEventHash(event, epcisHashOptions(document))._unsafeUnwrap();
 */
export function toEpcisEventHash(event: unknown, options: EpcisHashOptions = {}): Result<string, EpcisHashError> {
  return toEpcisPreHash(event, options).map(hashPreHash);
}

/**
 * Hashes a pre-hash string into the `ni:` event hash URI.
 *
 * @param preHash - a string from {@link toEpcisPreHash}
 * @returns `ni:///sha-256;<hex>?ver=CBV2.0`
 * @example
 * hashPreHash("eventType=ObjectEvent"); // "ni:///sha-256;…?ver=CBV2.0"
 */
export function hashPreHash(preHash: string): string {
  return `ni:///sha-256;${createHash("sha256").update(preHash, "utf8").digest("hex")}?ver=CBV2.0`;
}

/**
 * Reads the hash options from an EPCIS document: the namespace prefixes of its `@context` and
 * the fields named by a `…:ignoreFields` member of the document or, in a query document, of its
 * `epcisBody.queryResults` (both are read, as GS1's reference algorithm reads the one that applies
 * to the document's form).
 *
 * @param document - a parsed EPCIS document
 * @returns the options for {@link toEpcisEventHash} on the document's events
 * @example
 * const options = epcisHashOptions(JSON.parse(text));
 */
export function epcisHashOptions(document: unknown): EpcisHashOptions {
  if (!isRecord(document)) return {};
  const namespaces: Record<string, string> = {};
  const context = document["@context"];
  for (const entry of Array.isArray(context) ? context : [context]) {
    if (isRecord(entry)) {
      for (const [prefix, iri] of Object.entries(entry)) {
        if (typeof iri === "string" && prefix !== "__proto__") namespaces[prefix] = iri;
      }
    }
  }
  const body = document["epcisBody"];
  const results = isRecord(body) ? body["queryResults"] : undefined;
  const declared = [...ignoreFieldsOf(document), ...(isRecord(results) ? ignoreFieldsOf(results) : [])];
  return declared.length === 0 ? { namespaces } : { namespaces, ignoreFields: [...new Set(declared)] };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

// The names listed by a `<prefix>:ignoreFields` member (the prefix names the repository that
// added the fields).
function ignoreFieldsOf(record: Record<string, unknown>): string[] {
  const names: string[] = [];
  for (const [key, value] of Object.entries(record)) {
    if (key.endsWith(":ignoreFields") && Array.isArray(value)) {
      names.push(...value.filter((v): v is string => typeof v === "string"));
    }
  }
  return names;
}
