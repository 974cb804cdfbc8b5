import { createEvent, createEventFactory, deriveEventId, type CanonicalEvent } from "@millwright/events";
import {
  entityCatalog,
  eventCatalog,
  revisionToSequence,
  type Alignment,
  type Batch,
  type EntityName,
  type EntityTypeMap,
  type EquipmentRef,
  type EventType,
  type MachineState,
  type MaterialMovement,
  type ProductionConfirmation,
  type ProductionCount,
  type QualityHold,
  type Quantity,
  type StockLocation,
  type WorkOrder,
} from "@millwright/model";
import fc from "fast-check";
// The entity → arbitrary table is generated from schemas/; it calls the arbitraries below by name
// (`workOrder` for WorkOrder) when first used, so the import cycle is harmless.
import { entityArbitraries } from "./generated/arbitraries.js";

/*
 * fast-check arbitraries of valid canonical entities and events, for users' property tests. Every
 * value satisfies the schema and the semantic rules by construction (units agree, ends follow
 * starts, keys are unique, from/to follow the movement kind …); the package's own tests prove it,
 * and prove that `event(type)` builds exactly the envelope `createEvent` would.
 *
 * Speed: a consumer's property runs 100 events under a 5 s test timeout, so nothing here filters
 * and retries, no arbitrary is built per generated value (`chain`), the building blocks are built
 * once and shared (an arbitrary holds no state), and generation calls no validator. An entity is
 * one flat `fc.tuple` of integers and constants, read into the entity by one `map` (see
 * {@link Part}): fast-check makes a value and a shrink context for every arbitrary in the tree, so
 * a key drawn as three integers of one tuple costs a fraction of nested records, options and maps,
 * and shrinking each integer towards 0 still shrinks the entity towards its simplest form. No
 * `fc.record` (which adds a Boolean per record and makes half its objects null-prototype, unlike
 * the JSON a consumer receives), no `fc.bigInt` (decimals and revisions are read from integer
 * pairs). `fc.stringMatching` is avoided: each one prepares its string slices by tokenising
 * fast-check's list of dangerous strings with unmappers that throw for every character they
 * reject, which costs milliseconds per arbitrary.
 */

const MS_2000 = Date.UTC(2000, 0, 1);
const MS_2099 = Date.UTC(2099, 11, 31);
const OFFSETS = [0, 60, 120, -300, -480, 330, 545] as const;
const INT31 = 2 ** 31 - 1;
const BILLION = 1_000_000_000;

/** Builds an arbitrary on first use and shares it afterwards. */
function shared<T>(build: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= build());
}

/**
 * One field of a flat arbitrary: the arbitraries it draws (integers and constants, mostly) and how
 * to read the field from the drawn values, starting at its offset in the flat tuple.
 */
interface Part<T> {
  readonly arbs: readonly fc.Arbitrary<unknown>[];
  readonly read: (drawn: readonly unknown[], at: number) => T;
}

type Parts = Readonly<Record<string, Part<unknown>>>;
type ReadParts<P extends Parts> = { [K in keyof P]: P[K] extends Part<infer T> ? T : never };

/** A part made of named parts, read into an object and passed to `build`. */
function group<P extends Parts, T>(parts: P, build: (values: ReadParts<P>) => T): Part<T> {
  const names = Object.keys(parts);
  const members = names.map((name) => parts[name]!);
  const offsets: number[] = [];
  const arbs: fc.Arbitrary<unknown>[] = [];
  for (const member of members) {
    offsets.push(arbs.length);
    arbs.push(...member.arbs);
  }
  return {
    arbs,
    read: (drawn, at) => {
      const values: Record<string, unknown> = {};
      for (let i = 0; i < names.length; i++) values[names[i]!] = members[i]!.read(drawn, at + offsets[i]!);
      return build(values as ReadParts<P>);
    },
  };
}

/** The arbitrary of a part: one flat tuple, one map. */
function flat<T>(part: Part<T>): fc.Arbitrary<T> {
  return fc.tuple(...part.arbs).map((drawn) => part.read(drawn, 0));
}

/** A part drawn by one arbitrary, taken as it is. */
const whole = <T>(arb: fc.Arbitrary<T>): Part<T> => ({ arbs: [arb], read: (drawn, at) => drawn[at] as T });
/** One of the given values; shrinks towards the first. */
const pick = <const T extends readonly unknown[]>(values: T): Part<T[number]> => whole(fc.constantFrom(...values));
/** An integer in [min, max]. */
const int = (min: number, max: number): Part<number> => whole(fc.integer({ min, max }));

/** A part present five times in six (as `fc.option`), absent when its flag is 0 (towards which it shrinks). */
function optional<T>(part: Part<T>): Part<T | undefined> {
  return { arbs: [fc.integer({ min: 0, max: 5 }), ...part.arbs], read: (drawn, at) => (drawn[at] === 0 ? undefined : part.read(drawn, at + 1)) };
}

const KEY_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const INNER_CHARS = `${KEY_CHARS}-`;

/**
 * Spells a key of `length` characters from two 31-bit numbers, used as base-36/37 digits: a
 * letter or digit at either end, a dash allowed inside. Three integers per key instead of one
 * arbitrary per character keeps a key at a few fast-check values; shrinking the numbers towards 0
 * still shrinks the key towards "A…A".
 */
function spellKey(length: number, high: number, low: number): string {
  let out = "";
  let digits = high;
  for (let i = 0; i < length; i++) {
    if (i === 6) digits = low;
    const alphabet = i === 0 || i === length - 1 ? KEY_CHARS : INNER_CHARS;
    out += alphabet.charAt(digits % alphabet.length);
    digits = Math.floor(digits / alphabet.length);
  }
  return out;
}

const keyLength = fc.integer({ min: 1, max: 12 });
const keyDigits = fc.integer({ min: 0, max: INT31 });
/** A business key: three integers (length and two sets of digits). */
const keyPart: Part<string> = { arbs: [keyLength, keyDigits, keyDigits], read: (d, at) => spellKey(d[at] as number, d[at + 1] as number, d[at + 2] as number) };
/** `{ id }` of a site, material … */
const refPart: Part<{ id: string }> = { arbs: keyPart.arbs, read: (d, at) => ({ id: keyPart.read(d, at) }) };

/** A business key: upper-case letters, digits and dashes, 1 to 12 characters, no dash at either end. */
export const identifier: () => fc.Arbitrary<string> = shared(() => flat(keyPart));

/** Writes n / 10^scale with exactly `scale` fraction digits. */
function spellDecimal(n: number, scale: number): string {
  const digits = String(n).padStart(scale + 1, "0");
  return scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
}

/**
 * An exact decimal n / 10^scale, scale 0 to 3, n read from two integers as high × 10^9 + low:
 * 0 ≤ n < 10^12, or 1 ≤ n ≤ 10^12 when positive (low from 1 to 10^9). Both shrink towards 0 ("0", "1").
 */
const decimalPart = (positive: boolean): Part<string> => ({
  arbs: [fc.integer({ min: 0, max: 999 }), positive ? fc.integer({ min: 1, max: BILLION }) : fc.integer({ min: 0, max: BILLION - 1 }), fc.integer({ min: 0, max: 3 })],
  read: (d, at) => spellDecimal((d[at] as number) * BILLION + (d[at + 1] as number), d[at + 2] as number),
});
const anyDecimalPart = decimalPart(false);
const positiveDecimalPart = decimalPart(true);
const anyDecimal = shared(() => flat(anyDecimalPart));
const positiveDecimal = shared(() => flat(positiveDecimalPart));

/** A non-negative exact decimal string with up to 3 fraction digits. */
export const decimal = (options: { positive?: boolean } = {}): fc.Arbitrary<string> => (options.positive === true ? positiveDecimal() : anyDecimal());

const UNITS = ["H87", "KGM", "MTR", "LTR", "MIN", "GRM"] as const;
const unitPart = pick(UNITS);
/** A UN/CEFACT Rec 20 unit code of the kind plants use. */
export const unit: () => fc.Arbitrary<string> = shared(() => fc.constantFrom(...UNITS));

function render(ms: number, offsetMinutes: number, fraction: boolean): string {
  const local = new Date(ms + offsetMinutes * 60_000).toISOString();
  const body = fraction ? local.slice(0, 23) : local.slice(0, 19);
  if (offsetMinutes === 0) return `${body}Z`;
  const abs = Math.abs(offsetMinutes);
  return `${body}${offsetMinutes < 0 ? "-" : "+"}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
}

const offset = fc.constantFrom(...OFFSETS);
const timestampPart: Part<string> = {
  arbs: [fc.integer({ min: MS_2000, max: MS_2099 }), offset, fc.boolean()],
  read: (d, at) => render(d[at] as number, d[at + 1] as number, d[at + 2] as boolean),
};
/** An RFC 3339 timestamp with an offset, between 2000 and 2099. */
export const timestamp: () => fc.Arbitrary<string> = shared(() => flat(timestampPart));

const intervalPart: Part<readonly [string, string]> = {
  arbs: [fc.integer({ min: MS_2000, max: MS_2099 - 90 * 86_400_000 }), fc.integer({ min: 0, max: 60 * 86_400_000 }), offset, offset],
  read: (d, at) => {
    const start = d[at] as number;
    return [render(start, d[at + 2] as number, false), render(start + (d[at + 1] as number), d[at + 3] as number, false)] as const;
  },
};
/** Two timestamps, the second not before the first (possibly in another offset). */
export const interval: () => fc.Arbitrary<readonly [string, string]> = shared(() => flat(intervalPart));

const calendarDatePart: Part<string> = { arbs: [fc.integer({ min: MS_2000, max: MS_2099 })], read: (d, at) => new Date(d[at] as number).toISOString().slice(0, 10) };
/** A revision of up to 20 digits, 0 to 10^19 + …: high × 10^18 + middle × 10^9 + low, no leading zeros. */
const revisionPart: Part<string> = {
  arbs: [fc.integer({ min: 0, max: 10 }), fc.integer({ min: 0, max: BILLION - 1 }), fc.integer({ min: 0, max: BILLION - 1 })],
  read: (d, at) => {
    const [high, middle, low] = [d[at] as number, d[at + 1] as number, d[at + 2] as number];
    if (high > 0) return `${high}${String(middle).padStart(9, "0")}${String(low).padStart(9, "0")}`;
    return middle > 0 ? `${middle}${String(low).padStart(9, "0")}` : String(low);
  },
};
const sourceRefsPart = (kind: string): Part<[{ system: string; kind: string; key: string }]> => ({
  arbs: keyPart.arbs,
  read: (d, at) => [{ system: "S4PCLNT100", kind, key: keyPart.read(d, at) }],
});
const LEVELS = ["production_line", "work_center", "work_cell", "unit"] as const;
const equipmentPart: Part<EquipmentRef> = group({ id: keyPart, level: pick(LEVELS), site: refPart }, (e) => ({ id: e.id, level: e.level, site: e.site }));
const STOCK_TYPES = ["unrestricted", "quality_inspection", "blocked"] as const satisfies readonly StockLocation["stockType"][];
const stockTypePart = pick(STOCK_TYPES);
const locationPart: Part<StockLocation> = group({ site: refPart, storageLocation: keyPart, stockType: stockTypePart }, (l) => ({ site: l.site, storageLocation: l.storageLocation, stockType: l.stockType }));
const STATUSES = ["planned", "released", "in_progress", "on_hold", "completed", "closed", "cancelled"] as const satisfies readonly WorkOrder["status"][];
const quantity = (value: string, u: string): Quantity => ({ value, unit: u });

/** An operation (number 1–999, written ×10 on four digits) and its status, unique by number. */
const operations = shared(() =>
  fc.uniqueArray(fc.tuple(fc.integer({ min: 1, max: 999 }), fc.constantFrom(...STATUSES)), { selector: (o) => o[0], maxLength: 8 }),
);
/**
 * A component, unique by item id. `operation` below 8 (one in six, and where it shrinks to) names
 * no operation; otherwise it picks one of the order's operations, if it has any.
 */
const components = shared(() =>
  fc.uniqueArray(flat(group({ itemId: keyPart, material: refPart, operation: int(0, 47), required: anyDecimalPart }, (c) => c)), { selector: (c) => c.itemId, maxLength: 8 }),
);

/** A valid WorkOrder: unique operation and component keys, components on existing operations, one unit for the order's quantities. */
export const workOrder: () => fc.Arbitrary<WorkOrder> = shared(() =>
  flat(
    group(
      {
        orderId: keyPart,
        site: refPart,
        material: refPart,
        status: pick(STATUSES),
        u: unitPart,
        planned: anyDecimalPart,
        confirmed: optional(anyDecimalPart),
        schedule: optional(intervalPart),
        operations: whole(operations()),
        components: whole(components()),
        revision: revisionPart,
        sourceRefs: sourceRefsPart("A_ProductionOrder_2"),
      },
      ({ orderId, site, material, status, u, planned, confirmed, schedule, operations: ops, components: parts, revision, sourceRefs }): WorkOrder => {
        const operationList = ops.map(([n, s]) => ({ operationId: String(n * 10).padStart(4, "0"), status: s }));
        const order: WorkOrder = {
          orderId,
          site,
          material,
          status,
          operations: operationList,
          revision,
          sourceRefs,
          plannedQuantity: quantity(planned, u),
          // A component names one of the order's operations, or none.
          components: parts.map(({ itemId, material: m, operation, required }) => {
            const op = operation < 8 || operationList.length === 0 ? undefined : operationList[operation % operationList.length];
            return op === undefined ? { itemId, material: m, requiredQuantity: quantity(required, u) } : { itemId, material: m, operationId: op.operationId, requiredQuantity: quantity(required, u) };
          }),
        };
        if (confirmed !== undefined) order.confirmedYieldQuantity = quantity(confirmed, u);
        if (schedule !== undefined) order.schedule = { plannedStart: schedule[0], plannedEnd: schedule[1] };
        return order;
      },
    ),
  ),
);

const batchRefPart = group({ material: refPart, batchId: keyPart }, (b) => ({ material: b.material, batchId: b.batchId }));
const DISPOSITIONS = ["planned", "in_process", "restricted", "unrestricted", "closed"] as const satisfies readonly Batch["disposition"][];
const batchInputs = shared(() => fc.array(flat(group({ batch: batchRefPart }, (i) => ({ batch: i.batch }))), { maxLength: 3 }));

/** A valid Batch: expiry not before manufacture, never its own input. */
export const batch: () => fc.Arbitrary<Batch> = shared(() =>
  flat(
    group(
      {
        batchId: keyPart,
        material: refPart,
        disposition: pick(DISPOSITIONS),
        first: calendarDatePart,
        second: calendarDatePart,
        inputs: whole(batchInputs()),
        revision: revisionPart,
        sourceRefs: sourceRefsPart("Batch"),
      },
      ({ batchId, material, disposition, first, second, inputs, revision, sourceRefs }): Batch => ({
        batchId,
        material,
        disposition,
        revision,
        sourceRefs,
        manufacturedOn: first <= second ? first : second,
        expiresOn: first <= second ? second : first,
        inputs: inputs.filter((i) => !(i.batch.batchId === batchId && i.batch.material.id === material.id)),
      }),
    ),
  ),
);

const MOVEMENT_KINDS = ["produced", "consumed", "transferred", "status_changed", "scrapped", "adjusted"] as const satisfies readonly MaterialMovement["kind"][];

/** A valid MaterialMovement of any kind, with from and to as the kind requires. */
export const materialMovement: () => fc.Arbitrary<MaterialMovement> = shared(() =>
  flat(
    group(
      {
        movementId: keyPart,
        kind: pick(MOVEMENT_KINDS),
        direction: pick(["increase", "decrease"] as const),
        postingDate: calendarDatePart,
        material: refPart,
        u: unitPart,
        amount: positiveDecimalPart,
        from: locationPart,
        toStorage: keyPart,
        toType: stockTypePart,
        revision: revisionPart,
        sourceRefs: sourceRefsPart("A_MaterialDocumentItem"),
      },
      ({ movementId, kind, direction, postingDate, material, u, amount, from, toStorage, toType, revision, sourceRefs }): MaterialMovement => {
        const base = { movementId, postingDate, material, revision, sourceRefs, quantity: quantity(amount, u), kind };
        switch (kind) {
          case "produced":
            return { ...base, to: from };
          case "consumed":
          case "scrapped":
            return { ...base, from };
          case "transferred":
            return { ...base, from, to: { ...from, storageLocation: toStorage === from.storageLocation ? `${toStorage}X` : toStorage, stockType: toType } };
          case "status_changed": {
            const other = STOCK_TYPES.find((t) => t !== from.stockType) ?? "blocked";
            return { ...base, from, to: { ...from, stockType: toType === from.stockType ? other : toType } };
          }
          case "adjusted":
            return direction === "increase" ? { ...base, direction, to: from } : { ...base, direction, from };
        }
      },
    ),
  ),
);

const HOLD_STATUSES = ["placed", "released", "rejected", "cancelled"] as const satisfies readonly QualityHold["status"][];
const HOLD_REASONS = ["Porosity at final inspection", "Supplier certificate missing", "Out of tolerance"] as const;
/** What a hold covers: a batch, a material at a site, or an order (in that order of shrinking). */
const holdScopePart = group({ kind: int(0, 2), a: keyPart, b: keyPart }, ({ kind, a, b }): QualityHold["scope"] => {
  if (kind === 0) return { kind: "batch", batch: { material: { id: a }, batchId: b } };
  if (kind === 1) return { kind: "material", material: { id: a }, site: { id: b } };
  return { kind: "order", order: { orderId: a } };
});

/** A valid QualityHold in any status, with a decision exactly when it has ended. */
export const qualityHold: () => fc.Arbitrary<QualityHold> = shared(() =>
  flat(
    group(
      {
        holdId: keyPart,
        status: pick(HOLD_STATUSES),
        scope: holdScopePart,
        heldStockType: stockTypePart,
        reason: pick(HOLD_REASONS),
        times: intervalPart,
        release: pick(["use", "downgrade", "rework"] as const),
        reject: pick(["scrap", "return_to_supplier", "rework"] as const),
        revision: revisionPart,
        sourceRefs: sourceRefsPart("A_InspectionLot"),
      },
      ({ holdId, status, scope, heldStockType, reason, times, release, reject, revision, sourceRefs }): QualityHold => {
        const base = { holdId, status, scope, heldStockType, reason: { text: reason }, revision, sourceRefs, placedAt: times[0] };
        if (status === "released") return { ...base, disposition: { decision: release, decidedAt: times[1] } };
        if (status === "rejected") return { ...base, disposition: { decision: reject, decidedAt: times[1] } };
        return base;
      },
    ),
  ),
);

/** A valid ProductionConfirmation: yield, scrap and rework in one unit, end not before start. */
export const productionConfirmation: () => fc.Arbitrary<ProductionConfirmation> = shared(() =>
  flat(
    group(
      {
        confirmationId: keyPart,
        orderId: keyPart,
        operationId: pick(["0010", "0020", "0030"] as const),
        site: refPart,
        u: unitPart,
        good: anyDecimalPart,
        scrap: anyDecimalPart,
        rework: anyDecimalPart,
        isFinal: whole(fc.boolean()),
        postingDate: calendarDatePart,
        times: intervalPart,
        revision: revisionPart,
        sourceRefs: sourceRefsPart("ProdnOrdConf2"),
      },
      ({ confirmationId, orderId, operationId, site, u, good, scrap, rework, isFinal, postingDate, times, revision, sourceRefs }): ProductionConfirmation => ({
        confirmationId,
        order: { orderId, operationId },
        site,
        isFinal,
        postingDate,
        revision,
        sourceRefs,
        yieldQuantity: quantity(good, u),
        scrapQuantity: quantity(scrap, u),
        reworkQuantity: quantity(rework, u),
        executionStart: times[0],
        executionEnd: times[1],
      }),
    ),
  ),
);

const PACKML = ["clearing", "stopped", "starting", "idle", "suspended", "execute", "stopping", "aborting", "aborted", "holding", "held", "unholding", "suspending", "unsuspending", "resetting", "completing", "complete"] as const;
const NOT_EXECUTING = new Set(["stopped", "idle", "held", "suspended", "aborted", "complete"]);
const AVAILABILITIES = ["not_available", "out_of_service", "not_executing", "executing"] as const satisfies readonly MachineState["availability"][];

/** A valid MachineState whose PackML state and availability agree. */
export const machineState: () => fc.Arbitrary<MachineState> = shared(() =>
  flat(
    group(
      { equipment: equipmentPart, packmlState: pick(PACKML), availability: pick(AVAILABILITIES), since: timestampPart, revision: revisionPart, sourceRefs: sourceRefsPart("Variable") },
      ({ equipment, packmlState, availability, since, revision, sourceRefs }): MachineState => ({
        equipment,
        packmlState,
        availability: packmlState === "execute" ? "executing" : NOT_EXECUTING.has(packmlState) && availability === "executing" ? "not_executing" : availability,
        since,
        revision,
        sourceRefs,
      }),
    ),
  ),
);

/** A valid ProductionCount: one unit, window in order, counters that fall only on a reset or rollover. */
export const productionCount: () => fc.Arbitrary<ProductionCount> = shared(() =>
  flat(
    group(
      {
        equipment: equipmentPart,
        u: unitPart,
        good: anyDecimalPart,
        defective: anyDecimalPart,
        window: intervalPart,
        from: int(0, INT31),
        to: int(0, INT31),
        rollover: whole(fc.boolean()),
        revision: revisionPart,
        sourceRefs: sourceRefsPart("Variable"),
      },
      ({ equipment, u, good, defective, window, from, to, rollover, revision, sourceRefs }): ProductionCount => ({
        equipment,
        revision,
        sourceRefs,
        goodQuantity: quantity(good, u),
        defectiveQuantity: quantity(defective, u),
        windowStart: window[0],
        windowEnd: window[1],
        counters: [{ signal: "ns=3;s=Line.Admin.ProdProcessedCount", role: "processed" as const, from, to, rollover, reset: to < from && !rollover }],
      }),
    ),
  ),
);

const evidence = shared(() =>
  flat(
    group(
      {
        id: whole(fc.uuid()),
        type: pick(["dev.millwright.workorder.released.v1", "dev.millwright.workorder.started.v1", "dev.millwright.materialmovement.posted.v1"] as const),
        source: pick(["urn:millwright:sap:S4PCLNT100", "urn:millwright:mes:line-fab", "urn:millwright:wms:dc-1"] as const),
        time: timestampPart,
        role: pick(["trigger", "fulfilment", "partial", "measure"] as const),
      },
      (e) => ({ id: e.id, type: e.type, source: e.source, time: e.time, role: e.role }),
    ),
  ),
);

/** A valid Alignment finding: a breach with reasons, or a resolution that says how it ended. */
export const alignment: () => fc.Arbitrary<Alignment> = shared(() =>
  flat(
    group(
      {
        rule: pick(["workorder-started", "goodsissue-posted", "qualityhold-blocked-wms"] as const),
        key: keyPart,
        dueMs: int(MS_2000, MS_2099),
        latenessMs: int(0, 30 * 86_400_000),
        evidence: whole(fc.array(evidence(), { minLength: 1, maxLength: 4 })),
        breached: whole(fc.boolean()),
        reasons: whole(fc.subarray(["missing", "late", "quantity_mismatch", "quantity_unverifiable"] as const, { minLength: 1 })),
        resolution: pick(["fulfilled", "abandoned"] as const),
        quantity: optional(group({ difference: anyDecimalPart, u: unitPart, within: whole(fc.boolean()) }, (q) => q)),
      },
      ({ rule, key, dueMs, latenessMs, evidence: [first, ...rest], breached, reasons, resolution, quantity: q }) =>
        ({
          kind: breached ? ("breached" as const) : ("resolved" as const),
          rule,
          key,
          ...(breached ? { reasons: [...reasons] } : { resolution }),
          dueAt: new Date(dueMs).toISOString(),
          latenessMs,
          ...(q === undefined ? {} : { quantityDifference: q.difference, unit: q.u, withinTolerance: q.within }),
          evidence: [first!, ...rest],
          at: new Date(dueMs + latenessMs).toISOString(),
          revision: String(dueMs),
        }) as unknown as Alignment,
    ),
  ),
);

/**
 * An arbitrary of valid entities of the named kind.
 *
 * @param name - the entity name
 * @returns the arbitrary
 * @example
 * fc.assert(fc.property(entity("WorkOrder"), (order) => myMapper(order).isOk()));
 */
export function entity<K extends EntityName>(name: K): fc.Arbitrary<EntityTypeMap[K]> {
  return entityArbitraries[name]() as fc.Arbitrary<EntityTypeMap[K]>;
}

const DEFAULT_SOURCE = "urn:millwright:test";
/** The event arbitraries made so far, by type and source (bounded: a source is the caller's string). */
const eventArbitraries = new Map<string, fc.Arbitrary<unknown>>();

/**
 * An arbitrary of valid canonical events of a catalog type: an entity that fits the type (its
 * required values applied) in the envelope `createEvent` would give it (same id, subject,
 * partition key, sequence, member order, frozen), built without validating the data again.
 *
 * @param type - the event type
 * @param options - the source to put on the events
 * @returns the arbitrary
 * @example
 * fc.assert(fc.property(event("dev.millwright.workorder.released.v1"), (e) => myConsumer(e).isOk()));
 */
export function event<TType extends EventType>(type: TType, options: { readonly source?: string } = {}): fc.Arbitrary<CanonicalEvent<TType>> {
  const source = options.source ?? DEFAULT_SOURCE;
  const key = `${type}\u0000${source}`;
  let arbitrary = eventArbitraries.get(key);
  if (arbitrary === undefined) {
    arbitrary = eventArbitrary(type, source);
    if (eventArbitraries.size < 256) eventArbitraries.set(key, arbitrary);
  }
  return arbitrary as fc.Arbitrary<CanonicalEvent<TType>>;
}

function eventArbitrary(type: EventType, source: string): fc.Arbitrary<unknown> {
  const entry = eventCatalog[type];
  const requires = Object.entries(entry.dataRequires) as [string, readonly unknown[]][];
  const names = requires.map(([pointer]) => pointer.slice(1));
  // A source createEvent refuses: every event goes through createEvent, which names the rule broken.
  const wrap = createEventFactory(type, { source }).isOk() ? envelope(type, source) : viaCreateEvent(type, source);
  return fc.tuple(entity(entry.entity), ...requires.map(([, values]) => fc.constantFrom(...values)), ...timestampPart.arbs).map((drawn) => {
    const fitted: Record<string, unknown> = { ...(drawn[0] as object) };
    for (let i = 0; i < names.length; i++) fitted[names[i]!] = drawn[i + 1];
    if (entry.entity === "QualityHold") fitHold(fitted);
    if (entry.entity === "Alignment") fitAlignment(fitted);
    return wrap(timestampPart.read(drawn, names.length + 1), fitted);
  });
}

/** Reads a JSON Pointer's segments once. */
const segmentsOf = (pointer: string): readonly string[] =>
  pointer
    .split("/")
    .slice(1)
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));

function valueAt(data: unknown, segments: readonly string[]): string {
  let node = data;
  for (const key of segments) {
    if (typeof node !== "object" || node === null) return "";
    node = (node as Record<string, unknown>)[key];
  }
  return node === undefined ? "" : String(node);
}

/**
 * The envelope `createEvent` derives for valid data (its id, subject, partition key, sequence and
 * schema, members in canonical order, frozen), without checking the data again: the data here is
 * valid by construction, and the package's tests compare every type's events with createEvent's.
 */
function envelope(type: EventType, source: string): (time: string, data: Record<string, unknown>) => unknown {
  const entry = eventCatalog[type];
  const naturalKey = entityCatalog[entry.entity].naturalKey.map(segmentsOf);
  const subject = segmentsOf(entry.subject);
  const partitionKey = entry.partitionKey.map(segmentsOf);
  return (time, data) => {
    const revision = String(data["revision"]);
    return Object.freeze({
      specversion: "1.0",
      id: deriveEventId(type, source, naturalKey.map((p) => valueAt(data, p)), revision),
      source,
      type,
      subject: valueAt(data, subject),
      time,
      datacontenttype: "application/json",
      dataschema: entry.dataSchema,
      partitionkey: partitionKey.map((p) => valueAt(data, p)).join("/"),
      sequence: revisionToSequence(revision),
      data,
    });
  };
}

function viaCreateEvent(type: EventType, source: string): (time: string, data: Record<string, unknown>) => unknown {
  return (time, data) => {
    const created = createEvent({ type, source, time, data: data as never });
    if (created.isErr()) throw new Error(`event(${type}): ${created.error.message}`);
    return created.value;
  };
}

/** A hold whose status was set afterwards: give it the disposition its status needs, or none. */
function fitHold(hold: Record<string, unknown>): void {
  const status = hold["status"];
  const disposition = hold["disposition"] as { decision: string } | undefined;
  if (status === "placed" || status === "cancelled") {
    delete hold["disposition"];
    return;
  }
  const allowed = status === "released" ? ["use", "downgrade", "rework"] : ["scrap", "return_to_supplier", "rework"];
  if (disposition === undefined || !allowed.includes(disposition.decision)) {
    hold["disposition"] = { decision: "rework", decidedAt: hold["placedAt"] };
  }
}

/** A finding whose kind was set afterwards: a breach says why, a resolution says how it ended. */
function fitAlignment(finding: Record<string, unknown>): void {
  if (finding["kind"] === "breached") {
    delete finding["resolution"];
    finding["reasons"] ??= ["missing"];
  } else {
    delete finding["reasons"];
    delete finding["detail"];
    finding["resolution"] ??= "fulfilled";
  }
}
