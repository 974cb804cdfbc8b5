import { compareTimestamps, entityCatalog, eventCatalog, isDateTime, isEventType, parseEventData, type EventDataMap, type EventType } from "@millwright/model";
import { err, ok, type Result } from "neverthrow";
import { createEvent, deriveEventId, type CreatedEvent } from "./create-event.js";
import { checkAttributes, deriveAttributes, memberPath, naturalKeyOf } from "./envelope.js";
import { attributeError, dataError, type EventError } from "./errors.js";
import { forbiddenCharacterAt, isTimestamp } from "./syntax.js";
import { MILLWRIGHT_NAMESPACE, uuidV5 } from "./uuid.js";

/** What {@link createEventFactory} fixes for every event it makes. */
export interface EventFactoryOptions {
  /** A URI-reference naming the producer, such as `urn:millwright:opcua:line1`; checked once. */
  readonly source: string;
}

/** Makes the events of one type and source; see {@link createEventFactory}. */
export interface EventFactory<TType extends EventType> {
  /** The catalog type of every event made. */
  readonly type: TType;
  /** The source of every event made. */
  readonly source: string;
  /**
   * Makes the event of one fact, exactly as `createEvent({ type, source, data, time })` would:
   * the data is checked with the catalog, the id derived from the fact, the time checked.
   *
   * @param data - the entity as it stands after the fact
   * @param time - when the fact happened, RFC 3339 with an offset
   * @returns the frozen event, or the first rule broken (the same error `createEvent` gives)
   */
  readonly create: (data: EventDataMap[TType], time: string) => Result<CreatedEvent<TType>, EventError>;
}

const topLevel = memberPath("");

/** A String attribute a catalog event may carry: non-empty, without forbidden characters. */
const isPlainString = (value: string): boolean => value.length > 0 && forbiddenCharacterAt(value) === -1;

/**
 * Prepares the making of many events of one type from one source, such as an adapter's
 * production counts: the type and the source are checked once, here, with the rules `createEvent`
 * applies to them; each `create(data, time)` then checks only what differs per event (the data
 * with the catalog, the time, and the subject and partition key the data gives), and derives the
 * id and the other attributes as `createEvent` does. The events are identical to those of
 * `createEvent({ type, source, data, time })`, and so are the errors. Nothing is skipped that
 * could be wrong: the factory only avoids re-checking attributes it has built itself and, for
 * count events (`dev.millwright.productioncount.counted.v1`), an equipment or sourceRefs object
 * it has checked before and that cannot have changed since (deep-frozen plain data); anything its
 * count path does not take as certainly valid goes through the full validator.
 *
 * @param type - a catalog type, such as `dev.millwright.productioncount.counted.v1`
 * @param options - the source of every event
 * @returns the factory, or the rule the type or the source breaks
 * @example
 * ```ts
 * const counts = createEventFactory("dev.millwright.productioncount.counted.v1", { source: "urn:millwright:opcua:line1" });
 * if (counts.isOk()) {
 *   const event = counts.value.create(count, count.windowEnd);
 * }
 * ```
 */
export function createEventFactory<TType extends EventType>(type: TType, options: EventFactoryOptions): Result<EventFactory<TType>, EventError> {
  if (typeof type !== "string" || !isEventType(type)) {
    return err(attributeError("unknown_event_type", "/type", "names a type in the Millwright event catalog", type));
  }
  const source: unknown = options.source;
  // The source with the envelope validator's own rules (and errors); the other three are constants.
  const checked = checkAttributes({ specversion: "1.0", id: "-", source, type }, { pathOf: topLevel, binary: true });
  if (checked.isErr()) return err(checked.error);
  const naturalKey = entityCatalog[eventCatalog[type].entity].naturalKey;
  const fixedSource = source as string;
  /** The last time accepted: the events of one batch mostly share it. */
  let acceptedTime: string | undefined;
  /** Anything the fast path does not accept goes through `createEvent`, which names the rule broken. */
  const full = (data: EventDataMap[TType], time: string): Result<CreatedEvent<TType>, EventError> => createEvent({ type, source: fixedSource, data, time });
  const counts = type === COUNT_TYPE ? countPath(fixedSource) : undefined;
  const create = (data: EventDataMap[TType], time: string): Result<CreatedEvent<TType>, EventError> => {
    try {
      if (time !== acceptedTime) {
        if (typeof time !== "string" || !isPlainString(time) || !isTimestamp(time)) return full(data, time);
        acceptedTime = time;
      }
      if (counts !== undefined) {
        const made = counts(data, time);
        if (made !== undefined) return ok(made as unknown as CreatedEvent<TType>);
      }
      const parsed = parseEventData(type, data);
      if (parsed.isErr()) return err(dataError(type, parsed.error));
      const derived = deriveAttributes(type, data);
      if (!isPlainString(derived.subject) || !isPlainString(derived.partitionkey) || derived.sequence.length === 0) return full(data, time);
      const id = deriveEventId(type, fixedSource, naturalKeyOf(data, naturalKey), derived.revision);
      // The members in the canonical order, as buildEvent writes them.
      const event = {
        specversion: "1.0",
        id,
        source: fixedSource,
        type,
        subject: derived.subject,
        time,
        datacontenttype: "application/json",
        dataschema: derived.dataschema,
        partitionkey: derived.partitionkey,
        sequence: derived.sequence,
        data,
      };
      return ok(Object.freeze(event) as unknown as CreatedEvent<TType>);
    } catch {
      // A data object that throws when read: createEvent reports it as unreadable_input.
      return full(data, time);
    }
  };
  return ok(Object.freeze({ type, source: fixedSource, create }));
}

const COUNT_TYPE = "dev.millwright.productioncount.counted.v1";
type CountType = typeof COUNT_TYPE;
type CountData = EventDataMap[CountType];

/** What a count event takes from its equipment, derived once per (deep-frozen) equipment object. */
interface CheckedEquipment {
  /** The id's name up to the window end: type, source, site id and equipment id, each followed by U+0000. */
  readonly namePrefix: string;
  readonly subject: string;
  readonly partitionkey: string;
}

/** The members a ProductionCount may have without leaving the fast path (no material, no extensions). */
const COUNT_MEMBERS: ReadonlySet<string> = new Set(["equipment", "order", "goodQuantity", "defectiveQuantity", "windowStart", "windowEnd", "counters", "revision", "sourceRefs"]);
const COUNTER_ROLES: ReadonlySet<unknown> = new Set(["good", "defective", "processed"]);
/** The schemas' patterns, or narrower ones: a value they refuse goes to the full validator. */
const TIMESTAMP_PATTERN = /^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$/;
/** A Decimal without the minus sign: never negative. */
const NON_NEGATIVE_DECIMAL = /^(0|[1-9][0-9]{0,30})(\.[0-9]{1,15})?$/;
const UNIT_CODE = /^[A-Z0-9]{2,3}$/;
const REVISION = /^(0|[1-9][0-9]{0,19})$/;
/** An Identifier in printable ASCII: no control character, no white space at either end. */
const ASCII_IDENTIFIER = /^[\x21-\x7e](?:[\x20-\x7e]{0,126}[\x21-\x7e])?$/;
const MAX_SIGNALS = 4096;

/**
 * The fast path of count events (`dev.millwright.productioncount.counted.v1`): an adapter makes one
 * per line and window, from parts that never change (the equipment and the sourceRefs, shared
 * deep-frozen objects) and parts that do (quantities, window, counters, revision, order).
 *
 * The equipment and sourceRefs objects are checked once each, with the catalog's validator, and
 * remembered by identity only when they are deep-frozen plain data (so they cannot change
 * afterwards); everything else is checked per event with the schema's rules or narrower ones
 * (ASCII identifiers, no negative or signed quantities, no material or extensions). Returns
 * undefined for anything it does not accept, which then goes through the full validator: every
 * event made here is one `createEvent` makes from the same input, and every refusal is
 * `createEvent`'s own error.
 */
function countPath(source: string): (data: unknown, time: string) => CreatedEvent<CountType> | undefined {
  const checkedEquipment = new WeakMap<object, CheckedEquipment | null>();
  const checkedSourceRefs = new WeakMap<object, boolean>();
  const dataschema = eventCatalog[COUNT_TYPE].dataSchema;
  /** Signals accepted as Identifiers (the same few per line), bounded. */
  const signals = new Set<string>();
  let unit = "";
  // The last two timestamps accepted: a window starts where the previous one ended.
  let stampA = "";
  let stampB = "";
  const isStamp = (value: unknown): value is string => {
    if (value === stampA || value === stampB) return true;
    if (typeof value !== "string" || value.length > 64 || !TIMESTAMP_PATTERN.test(value) || !isDateTime(value)) return false;
    stampB = stampA;
    stampA = value;
    return true;
  };
  const isUnit = (value: unknown): boolean => {
    if (value === unit) return true;
    if (typeof value !== "string" || !UNIT_CODE.test(value)) return false;
    unit = value;
    return true;
  };
  const isQuantity = (q: unknown): q is { readonly value: string; readonly unit: string } => {
    if (typeof q !== "object" || q === null || Array.isArray(q)) return false;
    let members = 0;
    for (const key in q) {
      if (key !== "value" && key !== "unit") return false;
      members++;
    }
    const { value, unit: u } = q as { value?: unknown; unit?: unknown };
    return members === 2 && typeof value === "string" && NON_NEGATIVE_DECIMAL.test(value) && isUnit(u);
  };
  const isSignal = (value: unknown): boolean => {
    if (typeof value !== "string") return false;
    if (signals.has(value)) return true;
    if (!ASCII_IDENTIFIER.test(value)) return false;
    if (signals.size >= MAX_SIGNALS) signals.clear();
    signals.add(value);
    return true;
  };
  const isCounter = (value: unknown): value is number => typeof value === "number" && Number.isInteger(value) && value >= -2147483648 && value <= 4294967295;
  const areCounters = (counters: unknown): boolean => {
    if (counters === undefined) return true;
    if (!Array.isArray(counters) || counters.length > 16) return false;
    for (let i = 0; i < counters.length; i++) {
      const r: unknown = counters[i];
      if (typeof r !== "object" || r === null || Array.isArray(r)) return false;
      let members = 0;
      for (const key in r) {
        if (key !== "signal" && key !== "role" && key !== "from" && key !== "to" && key !== "reset" && key !== "rollover") return false;
        members++;
      }
      const { signal, role, from, to, reset, rollover } = r as Record<string, unknown>;
      if (members !== 6 || !isSignal(signal) || !COUNTER_ROLES.has(role) || !isCounter(from) || !isCounter(to) || typeof reset !== "boolean" || typeof rollover !== "boolean") return false;
      // The semantic rule: a counter only falls on a reset or a rollover.
      if (to < from && !reset && !rollover) return false;
    }
    return true;
  };
  const equipmentOf = (equipment: unknown): CheckedEquipment | undefined => {
    if (typeof equipment !== "object" || equipment === null) return undefined;
    const known = checkedEquipment.get(equipment);
    if (known !== undefined) return known ?? undefined;
    const checked = checkEquipment(equipment, source);
    checkedEquipment.set(equipment, checked);
    return checked ?? undefined;
  };
  const areSourceRefs = (refs: unknown): boolean => {
    if (typeof refs !== "object" || refs === null) return false;
    let known = checkedSourceRefs.get(refs);
    if (known === undefined) {
      known = isFrozenData(refs) && parseEventData(COUNT_TYPE, { ...SAMPLE_COUNT, sourceRefs: refs }).isOk();
      checkedSourceRefs.set(refs, known);
    }
    return known;
  };

  return (input, time) => {
    if (typeof input !== "object" || input === null) return undefined;
    // Plain data on a clean Object.prototype: what `for…in` shows below is all the validator would see.
    const proto: unknown = Object.getPrototypeOf(input);
    if ((proto !== Object.prototype && proto !== null) || !cleanPrototype()) return undefined;
    for (const key in input) if (!COUNT_MEMBERS.has(key)) return undefined;
    const data = input as CountData;
    const equipment = equipmentOf(data.equipment);
    if (equipment === undefined || !areSourceRefs(data.sourceRefs)) return undefined;
    const order: unknown = data.order;
    if (order !== undefined && !isOrder(order)) return undefined;
    const good = data.goodQuantity;
    const defective = data.defectiveQuantity;
    if (!isQuantity(good) || !isQuantity(defective) || defective.unit !== good.unit) return undefined;
    const { windowStart, windowEnd, revision } = data;
    if (!isStamp(windowStart) || !isStamp(windowEnd) || (windowStart !== windowEnd && compareTimestamps(windowEnd, windowStart) < 0)) return undefined;
    if (typeof revision !== "string" || !REVISION.test(revision) || !areCounters(data.counters)) return undefined;
    const id = uuidV5(MILLWRIGHT_NAMESPACE, `${equipment.namePrefix}${windowEnd}\u0000${revision}`);
    // The members in the canonical order, as buildEvent writes them.
    const event = {
      specversion: "1.0",
      id,
      source,
      type: COUNT_TYPE,
      subject: equipment.subject,
      time,
      datacontenttype: "application/json",
      dataschema,
      partitionkey: equipment.partitionkey,
      sequence: revision.padStart(20, "0"),
      data,
    };
    return Object.freeze(event) as unknown as CreatedEvent<CountType>;
  };
}

/** A valid count in which one part is replaced to check that part alone with the catalog's validator. */
const SAMPLE_COUNT = Object.freeze({
  equipment: { id: "E", level: "work_cell", site: { id: "S" } },
  goodQuantity: { value: "0", unit: "H87" },
  defectiveQuantity: { value: "0", unit: "H87" },
  windowStart: "2026-01-01T00:00:00Z",
  windowEnd: "2026-01-01T00:00:00Z",
  revision: "0",
  sourceRefs: [{ system: "S", kind: "K", key: "K" }],
});

/**
 * Checks an equipment object once for the count fast path: deep-frozen plain data that the
 * catalog's validator accepts as a count's equipment, and whose subject and partition key are
 * String attributes. Null when it is not (its counts then take the full path).
 */
function checkEquipment(equipment: object, source: string): CheckedEquipment | null {
  if (!isFrozenData(equipment) || parseEventData(COUNT_TYPE, { ...SAMPLE_COUNT, equipment }).isErr()) return null;
  const { id, site } = equipment as CountData["equipment"];
  const partitionkey = `${site.id}/${id}`;
  if (!isPlainString(id) || !isPlainString(partitionkey)) return null;
  return { namePrefix: `${COUNT_TYPE}\u0000${source}\u0000${site.id}\u0000${id}\u0000`, subject: id, partitionkey };
}

/** An OrderRef with its order number alone, in printable ASCII (anything else takes the full path). */
function isOrder(order: unknown): boolean {
  if (typeof order !== "object" || order === null || Array.isArray(order)) return false;
  for (const key in order) if (key !== "orderId") return false;
  const orderId: unknown = (order as { orderId?: unknown }).orderId;
  return typeof orderId === "string" && ASCII_IDENTIFIER.test(orderId);
}

/** Whether nothing enumerable was added to Object.prototype (which every `for…in` of the validator would see). */
function cleanPrototype(): boolean {
  for (const _ in Object.prototype) return false;
  return true;
}

/**
 * Whether a value is plain data that cannot change: primitives, and frozen arrays and plain objects
 * (prototype Array.prototype, Object.prototype or null) whose own members are data properties
 * holding such values.
 */
function isFrozenData(value: unknown, depth = 0): boolean {
  if (typeof value !== "object" || value === null) return typeof value !== "function" && typeof value !== "symbol";
  if (depth > 16 || !Object.isFrozen(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  if (Array.isArray(value) ? proto !== Array.prototype : proto !== Object.prototype && proto !== null) return false;
  for (const key of Reflect.ownKeys(value)) {
    const member = Object.getOwnPropertyDescriptor(value, key);
    if (member === undefined || !("value" in member) || !isFrozenData(member.value, depth + 1)) return false;
  }
  return true;
}
