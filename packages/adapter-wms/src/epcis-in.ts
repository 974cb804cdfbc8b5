// EPCIS 2.0 events → canonical MaterialMovement, Batch and QualityHold (docs/adapters/epcis.md).
import { issue, ReaderFailure, runMapper, type Issue } from "@millwright/adapter-kit";
import {
  parseBatch,
  parseMaterialMovement,
  parseQualityHold,
  type Batch,
  type BatchInput,
  type MaterialMovement,
  type MaterialRef,
  type ModelError,
  type QualityHold,
  type Quantity,
  type SourceRef,
  type StockLocation,
  type StockType,
} from "@millwright/model";
import { type Result, ok } from "neverthrow";
import { readEpcisDocument, type EpcisDocumentError } from "./epcis-document.js";
import { toEpcisEventHash, type EpcisHashOptions } from "./epcis-hash.js";
import { formatInstant, instantDigits, readInstant } from "./epcis-time.js";
import {
  MILLWRIGHT_EPCIS_NAMESPACE,
  fromOrderTransaction,
  fromPrivateClass,
  fromPrivateLocation,
  toBareCbv,
  type Place,
} from "./epcis-vocabulary.js";
import { parseGs1Class, toCanonicalDigitalLink } from "./gs1-keys.js";

/** How EPCIS identifiers become canonical references. */
export interface EpcisInConfig {
  /** The source system name written into every `sourceRefs[].system` (an EPCIS repository, a WMS tenant). */
  readonly system: string;
  /** Materials by GTIN-14; a GTIN not listed becomes `{ id: <gtin>, gtin: <gtin> }`. */
  readonly materials?: Readonly<Record<string, MaterialRef>>;
  /**
   * Places by location identifier (canonical Digital Link `https://id.gs1.org/414/…`, or as written).
   * A GLN not listed becomes site = GLN, storageLocation = its extension (AI 254).
   */
  readonly locations?: Readonly<Record<string, Place>>;
}

/** A canonical record produced from an EPCIS event, validated by its @millwright/model parser. */
export type CanonicalRecord =
  | { readonly entity: "MaterialMovement"; readonly value: MaterialMovement }
  | { readonly entity: "Batch"; readonly value: Batch }
  | { readonly entity: "QualityHold"; readonly value: QualityHold };

/** Why an event was not mapped. */
export type EpcisEventErrorCode =
  /** The event breaks EPCIS rules the mapping relies on (no eventTime, a malformed quantity …). */
  | "invalid_event"
  /** TransactionEvent, AssociationEvent or an extension event type: no canonical counterpart. */
  | "unsupported_event_type"
  /** A valid event whose business step says nothing the canonical model records (shipping, an observation). */
  | "no_canonical_meaning"
  /** An EPC or class that names no material (an SSCC in an epcList, an unknown URI scheme). */
  | "unknown_identifier"
  /** A location that is neither a GLN, a configured location nor a Millwright location. */
  | "unknown_location"
  /** The mapped record was rejected by its @millwright/model parser. */
  | "invalid_entity";

/**
 * One event that could not be mapped: the adapter kit's issue (code, JSON Pointer into the document
 * — or into the event when mapped alone —, message, rule, value), plus the model's error for `invalid_entity`.
 */
export interface EpcisEventError extends Issue<EpcisEventErrorCode> {
  /** The model's error, for `invalid_entity`. */
  readonly cause?: ModelError;
}

/** What happened to one event: mapped to records, or not mapped with the reason. Never dropped. */
export type EpcisEventOutcome =
  | {
      readonly status: "mapped";
      readonly path: string;
      readonly eventId: string;
      readonly eventType: string;
      readonly records: readonly CanonicalRecord[];
    }
  | {
      readonly status: "unmapped";
      readonly path: string;
      readonly eventId?: string;
      readonly eventType?: string;
      readonly error: EpcisEventError;
    };

/** The result of mapping a document: one outcome per event, in document order. */
export interface EpcisMappingReport {
  readonly outcomes: readonly EpcisEventOutcome[];
  /** Every record of every mapped event, in order. */
  readonly records: readonly CanonicalRecord[];
}

type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

interface Item {
  readonly material: MaterialRef;
  readonly batchId?: string;
  readonly quantity: Quantity;
}

const TRANSFER_STEPS = new Set([
  "receiving", "accepting", "arriving", "unloading", "storing", "stocking", "picking", "staging_outbound",
  "loading", "collecting", "transporting", "departing", "shipping", "entering_exiting", "dispensing",
]);
const RELEASED = new Set(["conformant", "available", "active", "sellable_accessible"]);
const REJECTED = new Set(["non_conformant", "unavailable", "damaged", "expired", "recalled", "non_sellable_other", "stolen"]);

function toDecimal(value: unknown): string | undefined {
  if (typeof value === "string") return /^(0|[1-9]\d{0,30})(\.\d{1,15})?$/.test(value) ? value : undefined;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) return undefined;
  let text = String(value);
  if (text.includes("e")) text = value.toFixed(15).replace(/\.?0+$/, "");
  return /^(0|[1-9]\d{0,30})(\.\d{1,15})?$/.test(text) ? text : undefined;
}

interface ClassRef {
  readonly material: MaterialRef;
  readonly batchId?: string;
}

// Documents name the same classes and locations thousands of times. Results are plain readonly
// data, shared between records; the caches are per configuration and bounded.
const CACHE_LIMIT = 10_000;
const caches = new WeakMap<EpcisInConfig, { places: Map<string, Place>; classes: Map<string, ClassRef> }>();

function cacheOf(config: EpcisInConfig): { places: Map<string, Place>; classes: Map<string, ClassRef> } {
  let cache = caches.get(config);
  if (cache === undefined) {
    cache = { places: new Map(), classes: new Map() };
    caches.set(config, cache);
  }
  return cache;
}

function remember<T>(cache: Map<string, T>, key: string, value: T): void {
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(key, value);
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

// Prefixes the document gives Millwright's namespace, per hash options object.
const ownPrefixes = new WeakMap<EpcisHashOptions, readonly string[]>();

function prefixesOf(options: EpcisHashOptions): readonly string[] {
  let prefixes = ownPrefixes.get(options);
  if (prefixes === undefined) {
    prefixes = Object.entries(options.namespaces ?? {})
      .filter(([, iri]) => iri === MILLWRIGHT_EPCIS_NAMESPACE)
      .map(([prefix]) => `${prefix}:`);
    ownPrefixes.set(options, prefixes);
  }
  return prefixes;
}

class EventReader {
  readonly eventId: string;
  readonly eventType: string;
  readonly occurredAt: string;
  readonly revision: string;
  /** The error declaration's time in the event's offset, when the event is declared erroneous. */
  readonly declaredAt?: string;
  readonly correction?: Readonly<Record<string, string>>;
  private readonly mw: Readonly<Record<string, unknown>>;

  constructor(
    readonly event: Json,
    readonly path: string,
    readonly config: EpcisInConfig,
    hashOptions: EpcisHashOptions,
  ) {
    this.eventType = event["type"] as string;
    const id = event["eventID"] ?? event["id"];
    if (id !== undefined && (typeof id !== "string" || id === "" || id.length > 128)) {
      this.fail("invalid_event", "eventID", "an eventID is a URI of 1 to 128 characters", id);
    }
    if (typeof id === "string") {
      this.eventId = id;
    } else {
      const hash = toEpcisEventHash(event, hashOptions);
      if (hash.isErr()) this.fail("invalid_event", hash.error.path.slice(1), hash.error.message, hash.error.value);
      this.eventId = hash._unsafeUnwrap();
    }
    const time = event["eventTime"];
    const offset = event["eventTimeZoneOffset"];
    const instant = typeof time === "string" ? readInstant(time) : undefined;
    if (instant === undefined) this.fail("invalid_event", "eventTime", "eventTime is an RFC 3339 date-time with offset", time);
    const local = typeof offset === "string" ? formatInstant(instant, offset) : undefined;
    if (local === undefined) this.fail("invalid_event", "eventTimeZoneOffset", "eventTimeZoneOffset is ±hh:mm", offset);
    this.occurredAt = local;
    this.revision = instantDigits(instant);
    // An error declaration retracts the event: its movements come back as reversals.
    const declaration = event["errorDeclaration"];
    if (declaration !== undefined) {
      if (!isRecord(declaration)) this.fail("invalid_event", "errorDeclaration", "errorDeclaration is an object", declaration);
      const at = declaration["declarationTime"];
      const declared = typeof at === "string" ? readInstant(at) : undefined;
      if (declared === undefined) this.fail("invalid_event", "errorDeclaration/declarationTime", "declarationTime is an RFC 3339 date-time with offset", at);
      this.declaredAt = formatInstant(declared, offset as string) ?? local;
      const correction: Record<string, string> = {};
      if (typeof declaration["reason"] === "string") correction["errorReason"] = toBareCbv(declaration["reason"], "ER");
      const corrective = declaration["correctiveEventIDs"];
      if (Array.isArray(corrective)) correction["correctiveEventIDs"] = corrective.filter((c) => typeof c === "string").join(" ");
      this.correction = correction;
    }
    // Millwright's own extension fields, under whichever prefix the document gave our namespace.
    const mw: Record<string, unknown> = {};
    const prefixes = prefixesOf(hashOptions);
    if (prefixes.length > 0) {
      for (const [key, value] of Object.entries(event)) {
        const prefix = prefixes.find((p) => key.startsWith(p));
        if (prefix !== undefined) mw[key.slice(prefix.length)] = value;
      }
    }
    this.mw = mw;
  }

  fail(code: EpcisEventErrorCode, member: string, rule: string, value?: unknown, cause?: ModelError): never {
    const found = issue(code, member === "" ? this.path : `${this.path}/${member}`, value, rule);
    throw new ReaderFailure<EpcisEventError>([cause === undefined ? found : { ...found, cause }]);
  }

  ext(name: string): string | undefined {
    const value = this.mw[name];
    return typeof value === "string" ? value : undefined;
  }

  cbv(member: string, kind: "BizStep" | "Disp"): string | undefined {
    const value = this.event[member];
    if (value === undefined) return undefined;
    if (typeof value !== "string") this.fail("invalid_event", member, `${member} is a string`, value);
    return toBareCbv(value, kind);
  }

  persistent(which: "set" | "unset"): readonly string[] {
    const pd = this.event["persistentDisposition"];
    if (!isRecord(pd)) return [];
    const list = pd[which];
    return Array.isArray(list) ? list.filter((v): v is string => typeof v === "string").map((v) => toBareCbv(v, "Disp")) : [];
  }

  material(gtin: string): MaterialRef {
    return this.config.materials?.[gtin] ?? { id: gtin, gtin };
  }

  classOf(uri: unknown, member: string): ClassRef {
    if (typeof uri !== "string") this.fail("invalid_event", member, "an EPC or epcClass is a URI string", uri);
    const cache = cacheOf(this.config).classes;
    const hit = cache.get(uri);
    if (hit !== undefined) return hit;
    const found = this.resolveClass(member, uri);
    remember(cache, uri, found);
    return found;
  }

  resolveClass(member: string, uri: string): ClassRef {
    const own = fromPrivateClass(uri);
    if (own !== undefined) {
      return { material: { id: own.materialId }, ...(own.batchId !== undefined ? { batchId: own.batchId } : {}) };
    }
    const gs1 = parseGs1Class(uri);
    if (gs1 === undefined) {
      this.fail("unknown_identifier", member, "an EPC or epcClass names a trade item (GTIN, LGTIN, SGTIN or its Digital Link)", uri);
    }
    return { material: this.material(gs1.gtin), ...(gs1.lot !== undefined ? { batchId: gs1.lot } : {}) };
  }

  items(epcMember: string, quantityMember: string): Item[] {
    const items: Item[] = [];
    const epcs = this.event[epcMember];
    if (epcs !== undefined) {
      if (!Array.isArray(epcs)) this.fail("invalid_event", epcMember, `${epcMember} is an array`, epcs);
      // Serialised instances count as pieces of their class.
      const counts = new Map<string, { cls: { material: MaterialRef; batchId?: string }; count: number }>();
      epcs.forEach((epc, i) => {
        const cls = this.classOf(epc, `${epcMember}/${i}`);
        const key = `${cls.material.id}\u0000${cls.batchId ?? ""}`;
        const entry = counts.get(key) ?? { cls, count: 0 };
        entry.count += 1;
        counts.set(key, entry);
      });
      for (const { cls, count } of counts.values()) items.push({ ...cls, quantity: { value: String(count), unit: "H87" } });
    }
    const quantities = this.event[quantityMember];
    if (quantities !== undefined) {
      if (!Array.isArray(quantities)) this.fail("invalid_event", quantityMember, `${quantityMember} is an array`, quantities);
      quantities.forEach((element: unknown, i) => {
        const at = `${quantityMember}/${i}`;
        if (!isRecord(element)) this.fail("invalid_event", at, "a quantity element is an object", element);
        const cls = this.classOf(element["epcClass"], `${at}/epcClass`);
        if (element["quantity"] === undefined) {
          this.fail("invalid_event", `${at}/quantity`, "a canonical movement needs a known quantity", element);
        }
        const value = toDecimal(element["quantity"]);
        if (value === undefined) this.fail("invalid_event", `${at}/quantity`, "quantity is a non-negative decimal", element["quantity"]);
        const uom = element["uom"];
        // Without uom the quantity counts instances (CBV): pieces.
        if (uom !== undefined && (typeof uom !== "string" || !/^[A-Z0-9]{2,3}$/.test(uom))) {
          this.fail("invalid_event", `${at}/uom`, "uom is a UN/CEFACT Rec 20 code", uom);
        }
        items.push({ ...cls, quantity: { value, unit: typeof uom === "string" ? uom : "H87" } });
      });
    }
    return items;
  }

  place(member: string, id: unknown): Place {
    if (typeof id !== "string") this.fail("invalid_event", member, "a location id is a URI string", id);
    const cache = cacheOf(this.config).places;
    const hit = cache.get(id);
    if (hit !== undefined) return hit;
    const found = this.resolvePlace(member, id);
    remember(cache, id, found);
    return found;
  }

  resolvePlace(member: string, id: string): Place {
    const configured = this.config.locations;
    const canonical = toCanonicalDigitalLink(id);
    const fromConfig = (canonical !== undefined ? configured?.[canonical] : undefined) ?? configured?.[id];
    if (fromConfig !== undefined) return fromConfig;
    const own = fromPrivateLocation(id);
    if (own !== undefined) return own;
    const gln = canonical === undefined ? null : /^https:\/\/id\.gs1\.org\/414\/(\d{13})(?:\/254\/(.+))?$/.exec(canonical);
    if (gln?.[1] === undefined) this.fail("unknown_location", member, "a location is a GLN (SGLN), a configured location or a Millwright location", id);
    return { site: { id: gln[1] }, ...(gln[2] !== undefined ? { storageLocation: safeDecode(gln[2]) } : {}) };
  }

  objectPlace(member: "readPoint" | "bizLocation"): Place | undefined {
    const value = this.event[member];
    if (value === undefined) return undefined;
    if (!isRecord(value)) this.fail("invalid_event", member, `${member} is an object with an id`, value);
    return this.place(`${member}/id`, value["id"]);
  }

  listedPlace(list: "sourceList" | "destinationList"): Place | undefined {
    const entries = this.event[list];
    if (!Array.isArray(entries)) return undefined;
    const key = list === "sourceList" ? "source" : "destination";
    const index = entries.findIndex((e) => isRecord(e) && typeof e["type"] === "string" && toBareCbv(e["type"], "SDT") === "location");
    const entry: unknown = entries[index];
    return isRecord(entry) ? this.place(`${list}/${index}/${key}`, entry[key]) : undefined;
  }

  orderId(): string | undefined {
    const list = this.event["bizTransactionList"];
    if (!Array.isArray(list)) return undefined;
    for (const entry of list) {
      if (isRecord(entry) && typeof entry["type"] === "string" && toBareCbv(entry["type"], "BTT") === "prodorder") {
        const value = entry["bizTransaction"];
        if (typeof value === "string") return fromOrderTransaction(value);
      }
    }
    return undefined;
  }

  sourceRefs(): [SourceRef, ...SourceRef[]] {
    return [{ system: this.config.system, kind: this.eventType, key: this.eventId }];
  }
}

function samePlace(a: Place, b: Place): boolean {
  return a.site.id === b.site.id && a.storageLocation === b.storageLocation && a.warehouse === b.warehouse && a.bin === b.bin;
}

function located(place: Place, stockType: StockType): StockLocation {
  return { ...place, stockType };
}

function asStockType(value: string | undefined): StockType | undefined {
  return value === "unrestricted" || value === "quality_inspection" || value === "blocked" ? value : undefined;
}

interface Draft {
  readonly kind: MaterialMovement["kind"];
  readonly item: Item;
  readonly from?: StockLocation;
  readonly to?: StockLocation;
  readonly direction?: "increase" | "decrease";
}

function movements(r: EventReader, drafts: readonly Draft[]): MaterialMovement[] {
  const orderId = r.orderId();
  const single = drafts.length === 1;
  return drafts.map((d, i) => {
    const original = single ? (r.ext("movementId") ?? r.eventId) : `${r.eventId}#${i + 1}`;
    // A retracted event's movements are undone: a reversal of each, naming it.
    const reversal = r.declaredAt === undefined ? {} : { reverses: original, isReversal: true, extensions: { epcis: { ...r.correction } } };
    const m: MaterialMovement = {
      movementId: r.declaredAt === undefined ? original : `reversal:${original}`,
      kind: d.kind,
      ...(d.direction !== undefined ? { direction: d.direction } : {}),
      ...(r.ext("sourceMovementType") !== undefined && single ? { sourceMovementType: r.ext("sourceMovementType") ?? "" } : {}),
      postingDate: r.declaredAt?.slice(0, 10) ?? r.ext("postingDate") ?? r.occurredAt.slice(0, 10),
      occurredAt: r.declaredAt ?? r.occurredAt,
      material: d.item.material,
      ...(d.item.batchId !== undefined ? { batchId: d.item.batchId } : {}),
      quantity: d.item.quantity,
      ...(d.from !== undefined ? { from: d.from } : {}),
      ...(d.to !== undefined ? { to: d.to } : {}),
      ...(orderId !== undefined ? { order: { orderId } } : {}),
      revision: "0",
      sourceRefs: r.sourceRefs(),
      ...reversal,
    };
    return m;
  });
}

function lotBatch(r: EventReader, item: Item, disposition: Batch["disposition"], extra: Partial<Batch> = {}): Batch | undefined {
  // A retracted event says nothing about the lot any more; its status is not replayed.
  if (item.batchId === undefined || r.declaredAt !== undefined) return undefined;
  return {
    batchId: item.batchId,
    material: item.material,
    disposition,
    ...extra,
    revision: r.revision,
    sourceRefs: r.sourceRefs(),
  };
}

// The disposition of a lot as it is made (docs/model/batch.md, Disposition).
function lotDisposition(disposition: string | undefined): Batch["disposition"] {
  if (disposition === "in_progress") return "in_process";
  if (disposition === "destroyed" || disposition === "disposed") return "closed";
  if (disposition === "unavailable" || disposition === "non_conformant") return "restricted";
  return "unrestricted";
}

function ilmdDates(r: EventReader): Partial<Batch> {
  const ilmd = r.event["ilmd"];
  if (!isRecord(ilmd)) return {};
  const out: { expiresOn?: string; manufacturedOn?: string; countryOfOrigin?: string } = {};
  for (const [key, value] of Object.entries(ilmd)) {
    const local = key.slice(key.indexOf(":") + 1);
    if (typeof value !== "string") continue;
    const date = /^\d{4}-\d{2}-\d{2}$/.test(value) ? value : undefined;
    if ((local === "itemExpirationDate" || local === "bestBeforeDate") && date) out.expiresOn = date;
    if ((local === "productionDate" || local === "manufacturingDate") && date) out.manufacturedOn = date;
    if (local === "countryOfOrigin" && /^[A-Z]{2}$/.test(value)) out.countryOfOrigin = value;
  }
  return out;
}

function mapObjectLike(r: EventReader, items: readonly Item[], epcMember: string): CanonicalRecord[] {
  const action = r.event["action"];
  const bizStep = r.cbv("bizStep", "BizStep");
  const disposition = r.cbv("disposition", "Disp");
  const set = r.persistent("set");
  const unset = r.persistent("unset");
  const bizLocation = r.objectPlace("bizLocation");
  const readPoint = r.objectPlace("readPoint");
  const here = bizLocation ?? readPoint;
  const fromType = asStockType(r.ext("fromStockType"));
  const toType = asStockType(r.ext("toStockType"));
  const stickyBlocked = set.includes("non_conformant") || set.includes("unavailable");
  const ordinary: StockType = stickyBlocked ? "blocked" : disposition !== undefined && REJECTED.has(disposition) ? "blocked" : "unrestricted";
  const isAggregation = r.eventType === "AggregationEvent";
  if (items.length === 0) r.fail("no_canonical_meaning", epcMember, "the event names no material (no EPCs and no quantities)");
  const need = (place: Place | undefined, member: string): Place => {
    if (place === undefined) r.fail("invalid_event", member, `bizStep ${bizStep ?? "(none)"} needs a bizLocation or readPoint`);
    return place;
  };
  const out: CanonicalRecord[] = [];
  const push = (records: readonly MaterialMovement[]): void => {
    for (const value of records) out.push({ entity: "MaterialMovement", value });
  };

  if (isAggregation && (bizStep === "packing" || bizStep === "unpacking" || action !== "OBSERVE")) {
    r.fail("no_canonical_meaning", "action", "packing into or out of a handling unit changes neither place nor usability of stock", action);
  }
  if (action === "ADD" && (bizStep === "commissioning" || bizStep === "creating_class_instance" || bizStep === undefined)) {
    const place = need(here, "bizLocation");
    const batchDisposition = lotDisposition(disposition);
    push(movements(r, items.map((item) => ({ kind: "produced", item, to: located(place, toType ?? ordinary) }))));
    for (const item of items) {
      const batch = lotBatch(r, item, batchDisposition, ilmdDates(r));
      if (batch) out.push({ entity: "Batch", value: batch });
    }
    return out;
  }
  if ((bizStep === "cycle_counting" || bizStep === "stock_taking") && (action === "ADD" || action === "DELETE")) {
    const place = need(here, "bizLocation");
    const increase = action === "ADD";
    push(
      movements(
        r,
        items.map((item) => ({
          kind: "adjusted",
          item,
          direction: increase ? "increase" : "decrease",
          ...(increase ? { to: located(place, toType ?? ordinary) } : { from: located(place, fromType ?? ordinary) }),
        })),
      ),
    );
    return out;
  }
  if (bizStep === "destroying" || disposition === "destroyed" || disposition === "disposed") {
    const place = need(here, "bizLocation");
    push(movements(r, items.map((item) => ({ kind: "scrapped", item, from: located(place, fromType ?? ordinary) }))));
    return out;
  }
  if (action !== "OBSERVE") {
    r.fail("no_canonical_meaning", "action", `action ${String(action)} with bizStep ${bizStep ?? "(none)"} has no canonical movement`, action);
  }
  if (bizStep === "holding") {
    const place = need(here, "bizLocation");
    const held: StockType = toType ?? (disposition === "non_conformant" || stickyBlocked ? "blocked" : "quality_inspection");
    const before: StockType = fromType ?? "unrestricted";
    if (held !== before) push(movements(r, items.map((item) => ({ kind: "status_changed", item, from: located(place, before), to: located(place, held) }))));
    items.forEach((item, i) => {
      const holdId = items.length === 1 ? (r.ext("holdId") ?? r.eventId) : `${r.eventId}#${i + 1}`;
      const hold: QualityHold = {
        holdId,
        // A retracted holding event withdraws the hold without a decision.
        status: r.declaredAt === undefined ? "placed" : "cancelled",
        scope:
          item.batchId !== undefined
            ? { kind: "batch", batch: { material: item.material, batchId: item.batchId }, location: located(place, held) }
            : { kind: "material", material: item.material, site: place.site, ...(place.storageLocation !== undefined ? { storageLocation: place.storageLocation } : {}) },
        quantity: item.quantity,
        heldStockType: held,
        reason: { code: "holding", catalog: "cbv:BizStep", ...(r.ext("holdReason") !== undefined ? { text: r.ext("holdReason") ?? "" } : {}) },
        placedAt: r.occurredAt,
        revision: r.revision,
        sourceRefs: r.sourceRefs(),
      };
      out.push({ entity: "QualityHold", value: hold });
      const batch = lotBatch(r, item, "restricted");
      if (batch) out.push({ entity: "Batch", value: batch });
    });
    return out;
  }
  if (bizStep === "inspecting") {
    const released = disposition !== undefined && RELEASED.has(disposition);
    const rejected = disposition !== undefined && REJECTED.has(disposition);
    if (!released && !rejected) {
      r.fail("no_canonical_meaning", "disposition", "an inspection changes stock only with an outcome: conformant or available (release), non_conformant or unavailable (reject)", disposition);
    }
    const place = need(here, "bizLocation");
    const before: StockType = fromType ?? (unset.includes("non_conformant") ? "blocked" : "quality_inspection");
    const after: StockType = toType ?? (released ? "unrestricted" : "blocked");
    if (before !== after) push(movements(r, items.map((item) => ({ kind: "status_changed", item, from: located(place, before), to: located(place, after) }))));
    const holdId = r.ext("holdId");
    const placedAt = r.ext("holdPlacedAt");
    const item = items[0];
    if (holdId !== undefined && placedAt !== undefined && item !== undefined && items.length === 1) {
      const decision = r.ext("decision") ?? (released ? "use" : "scrap");
      const hold = {
        holdId,
        status: released ? "released" : "rejected",
        scope:
          item.batchId !== undefined
            ? { kind: "batch", batch: { material: item.material, batchId: item.batchId }, location: located(place, before) }
            : { kind: "material", material: item.material, site: place.site, ...(place.storageLocation !== undefined ? { storageLocation: place.storageLocation } : {}) },
        quantity: item.quantity,
        heldStockType: before,
        reason: { code: "holding", catalog: "cbv:BizStep" },
        placedAt,
        disposition: { decision, decidedAt: r.occurredAt, targetStockType: after },
        revision: r.revision,
        sourceRefs: r.sourceRefs(),
      };
      out.push({ entity: "QualityHold", value: hold as QualityHold });
    }
    for (const i of items) {
      const batch = lotBatch(r, i, released ? "unrestricted" : "restricted");
      if (batch) out.push({ entity: "Batch", value: batch });
    }
    return out;
  }
  if (bizStep !== undefined && TRANSFER_STEPS.has(bizStep)) {
    // bizLocation is where the objects are after the event; a destination is only where they are going.
    const to = bizLocation ?? r.listedPlace("destinationList");
    if (to === undefined) {
      r.fail("no_canonical_meaning", "bizLocation", `bizStep ${bizStep} without bizLocation: the objects left the site (in transit), which no canonical movement records`);
    }
    const listed = r.listedPlace("sourceList");
    const from = listed ?? (readPoint !== undefined && !samePlace(readPoint, to) ? readPoint : undefined);
    if (from === undefined || samePlace(from, to)) {
      r.fail("no_canonical_meaning", "readPoint", `bizStep ${bizStep} at ${to.site.id}: no origin (neither a sourceList location nor a readPoint other than the bizLocation), so no place changed`);
    }
    const parentID = isAggregation && typeof r.event["parentID"] === "string" ? r.event["parentID"] : undefined;
    push(
      movements(r, items.map((item) => ({ kind: "transferred", item, from: located(from, fromType ?? ordinary), to: located(to, toType ?? ordinary) }))).map(
        (m) => (parentID === undefined ? m : { ...m, extensions: { ...m.extensions, epcis: { ...m.extensions?.["epcis"], parentID } } }),
      ),
    );
    return out;
  }
  return r.fail("no_canonical_meaning", "bizStep", `bizStep ${bizStep ?? "(none)"} has no canonical counterpart`, bizStep ?? null);
}

function mapTransformation(r: EventReader): CanonicalRecord[] {
  const inputs = r.items("inputEPCList", "inputQuantityList");
  const outputs = r.items("outputEPCList", "outputQuantityList");
  if (inputs.length === 0 && outputs.length === 0) {
    r.fail("no_canonical_meaning", "", "a TransformationEvent with neither inputs nor outputs (only a transformationID) moves no stock");
  }
  const disposition = r.cbv("disposition", "Disp");
  const place = r.objectPlace("bizLocation") ?? r.objectPlace("readPoint");
  if (place === undefined) r.fail("invalid_event", "bizLocation", "a transformation needs a bizLocation or readPoint to book stock at");
  const stockType: StockType = disposition !== undefined && REJECTED.has(disposition) ? "blocked" : "unrestricted";
  const drafts: Draft[] = [
    ...inputs.map((item): Draft => ({ kind: "consumed", item, from: located(place, "unrestricted") })),
    ...outputs.map((item): Draft => ({ kind: "produced", item, to: located(place, stockType) })),
  ];
  const out: CanonicalRecord[] = movements(r, drafts).map((value) => ({ entity: "MaterialMovement", value }));
  const orderId = r.orderId();
  for (const output of outputs) {
    const genealogy: BatchInput[] = inputs
      .filter((i) => i.batchId !== undefined && !(i.material.id === output.material.id && i.batchId === output.batchId))
      .map((i) => ({ batch: { material: i.material, batchId: i.batchId ?? "" }, quantity: i.quantity }));
    const batch = lotBatch(r, output, lotDisposition(disposition), {
      ...ilmdDates(r),
      ...(orderId !== undefined ? { originOrder: { orderId } } : {}),
      ...(genealogy.length > 0 ? { inputs: genealogy } : {}),
    });
    if (batch) out.push({ entity: "Batch", value: batch });
  }
  return out;
}

function validate(r: EventReader, records: readonly CanonicalRecord[]): CanonicalRecord[] {
  return records.map((record, i) => {
    const parsed: Result<unknown, ModelError> =
      record.entity === "MaterialMovement"
        ? parseMaterialMovement(record.value)
        : record.entity === "Batch"
          ? parseBatch(record.value)
          : parseQualityHold(record.value);
    if (parsed.isErr()) {
      r.fail("invalid_entity", "", `record ${i} (${record.entity}) breaks the model: ${parsed.error.message}`, record.value, parsed.error);
    }
    return record;
  });
}

/**
 * Maps one EPCIS 2.0 event to canonical records (MaterialMovement, Batch, QualityHold), each
 * checked by its @millwright/model parser. Pure and deterministic; never throws.
 *
 * @param event - one event, as parsed JSON
 * @param config - the source system name and the material and location tables
 * @param context - the event's JSON Pointer in its document and the document's hash options
 * @returns the records, or why the event has no canonical meaning or is invalid
 * @example
 * const outcome = mapEpcisEvent(event, { system: "EPCIS-1" });
 * if (outcome.status === "unmapped") console.error(outcome.error.message);
 */
export function mapEpcisEvent(
  event: unknown,
  config: EpcisInConfig,
  context: { readonly path?: string; readonly hashOptions?: EpcisHashOptions } = {},
): EpcisEventOutcome {
  const path = context.path ?? "";
  if (!isRecord(event)) {
    return { status: "unmapped", path, error: issue("invalid_event", path, event, "an event is a JSON object") };
  }
  const type = event["type"];
  if (typeof type !== "string") {
    return { status: "unmapped", path, error: issue("invalid_event", `${path}/type`, type, "an event has a type, a string") };
  }
  // The event id is known once the reader is built; an event refused after that still names it.
  let eventId: string | undefined;
  const mapped = runMapper<{ eventId: string; records: CanonicalRecord[] }, EpcisEventError, EpcisEventError>({ input: event, toError: (issues) => issues[0], unreadableCode: "invalid_event" }, () => {
    const reader = new EventReader(event, path, config, context.hashOptions ?? {});
    eventId = reader.eventId;
    let records: CanonicalRecord[];
    switch (type) {
      case "ObjectEvent":
        records = mapObjectLike(reader, reader.items("epcList", "quantityList"), "epcList");
        break;
      case "AggregationEvent":
        records = mapObjectLike(reader, reader.items("childEPCs", "childQuantityList"), "childEPCs");
        break;
      case "TransformationEvent":
        records = mapTransformation(reader);
        break;
      default:
        return reader.fail("unsupported_event_type", "type", "ObjectEvent, AggregationEvent and TransformationEvent have canonical counterparts", type);
    }
    return ok({ eventId: reader.eventId, records: validate(reader, records) });
  });
  if (mapped.isOk()) return { status: "mapped", path, eventId: mapped.value.eventId, eventType: type, records: mapped.value.records };
  return { status: "unmapped", path, eventType: type, ...(eventId !== undefined ? { eventId } : {}), error: mapped.error };
}

/**
 * Maps every event of an EPCIS 2.0 document (JSON text or parsed JSON) to canonical records.
 * Every event gets an outcome: mapped, or unmapped with a precise reason; none is dropped.
 *
 * @param input - the EPCIS document
 * @param config - the source system name and the material and location tables
 * @returns one outcome per event and all records, or why the input is not an EPCIS document
 * @example
 * const report = mapEpcisDocument(text, { system: "EPCIS-1" });
 * if (report.isOk()) for (const r of report.value.records) publish(r);
 */
export function mapEpcisDocument(input: unknown, config: EpcisInConfig): Result<EpcisMappingReport, EpcisDocumentError> {
  return readEpcisDocument(input).andThen(({ events, hashOptions }) => {
    const outcomes = events.map(({ event, path }) => mapEpcisEvent(event, config, { path, hashOptions }));
    const records = outcomes.flatMap((o) => (o.status === "mapped" ? o.records : []));
    return ok({ outcomes, records });
  });
}
