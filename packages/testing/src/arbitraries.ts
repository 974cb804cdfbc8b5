import { createEvent, type CanonicalEvent } from "@millwright/events";
import {
  eventCatalog,
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
 * starts, keys are unique, from/to follow the movement kind …); the package's own tests prove it.
 *
 * Speed: a consumer's property runs 100 events under a 5 s test timeout, so nothing here filters
 * and retries, no arbitrary is built per generated value (`chain`), and the building blocks are
 * built once and shared (an arbitrary holds no state). `fc.stringMatching` is avoided: each one
 * prepares its string slices by tokenising fast-check's list of dangerous strings with unmappers
 * that throw for every character they reject, which costs milliseconds per arbitrary.
 */

const MS_2000 = Date.UTC(2000, 0, 1);
const MS_2099 = Date.UTC(2099, 11, 31);
const OFFSETS = [0, 60, 120, -300, -480, 330, 545] as const;

/** Builds an arbitrary on first use and shares it afterwards. */
function shared<T>(build: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= build());
}

const KEY_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const INNER_CHARS = `${KEY_CHARS}-`;
const INT31 = 2 ** 31 - 1;

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

/** A business key: upper-case letters, digits and dashes, 1 to 12 characters, no dash at either end. */
export const identifier: () => fc.Arbitrary<string> = shared(() =>
  fc
    .tuple(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 0, max: INT31 }), fc.integer({ min: 0, max: INT31 }))
    .map(([length, high, low]) => spellKey(length, high, low)),
);

const decimalOf = (min: bigint): fc.Arbitrary<string> =>
  fc.tuple(fc.bigInt({ min, max: 10n ** 12n }), fc.integer({ min: 0, max: 3 })).map(([n, scale]) => {
    const digits = n.toString().padStart(scale + 1, "0");
    return scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  });
const anyDecimal = shared(() => decimalOf(0n));
const positiveDecimal = shared(() => decimalOf(1n));

/** A non-negative exact decimal string with up to 3 fraction digits. */
export const decimal = (options: { positive?: boolean } = {}): fc.Arbitrary<string> => (options.positive === true ? positiveDecimal() : anyDecimal());

const UNITS = ["H87", "KGM", "MTR", "LTR", "MIN", "GRM"] as const;
/** A UN/CEFACT Rec 20 unit code of the kind plants use. */
export const unit: () => fc.Arbitrary<string> = shared(() => fc.constantFrom(...UNITS));

function render(ms: number, offsetMinutes: number, fraction: boolean): string {
  const local = new Date(ms + offsetMinutes * 60_000).toISOString();
  const body = fraction ? local.slice(0, 23) : local.slice(0, 19);
  if (offsetMinutes === 0) return `${body}Z`;
  const abs = Math.abs(offsetMinutes);
  return `${body}${offsetMinutes < 0 ? "-" : "+"}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
}

/** An RFC 3339 timestamp with an offset, between 2000 and 2099. */
export const timestamp: () => fc.Arbitrary<string> = shared(() =>
  fc.tuple(fc.integer({ min: MS_2000, max: MS_2099 }), fc.constantFrom(...OFFSETS), fc.boolean()).map(([ms, off, frac]) => render(ms, off, frac)),
);

/** Two timestamps, the second not before the first (possibly in another offset). */
export const interval: () => fc.Arbitrary<readonly [string, string]> = shared(() =>
  fc
    .tuple(fc.integer({ min: MS_2000, max: MS_2099 - 90 * 86_400_000 }), fc.integer({ min: 0, max: 60 * 86_400_000 }), fc.constantFrom(...OFFSETS), fc.constantFrom(...OFFSETS))
    .map(([start, length, a, b]) => [render(start, a, false), render(start + length, b, false)] as const),
);

const calendarDate = shared(() => fc.integer({ min: MS_2000, max: MS_2099 }).map((ms) => new Date(ms).toISOString().slice(0, 10)));
const revision = shared(() => fc.bigInt({ min: 0n, max: 10n ** 19n }).map(String));
const site = shared(() => identifier().map((id) => ({ id })));
const sourceRefs = (kind: string) => identifier().map((key) => [{ system: "S4PCLNT100", kind, key }] as [{ system: string; kind: string; key: string }]);
const equipment = shared(
  (): fc.Arbitrary<EquipmentRef> => fc.record({ id: identifier(), level: fc.constantFrom("production_line", "work_center", "work_cell", "unit"), site: site() }),
);
const material = shared(() => identifier().map((id) => ({ id })));
const stockType = shared(() => fc.constantFrom("unrestricted", "quality_inspection", "blocked") as fc.Arbitrary<StockLocation["stockType"]>);
const location = shared((): fc.Arbitrary<StockLocation> => fc.record({ site: site(), storageLocation: identifier(), stockType: stockType() }));
const status = shared(
  () => fc.constantFrom("planned", "released", "in_progress", "on_hold", "completed", "closed", "cancelled") as fc.Arbitrary<WorkOrder["status"]>,
);
const quantity = (value: string, u: string): Quantity => ({ value, unit: u });

/** A valid WorkOrder: unique operation and component keys, components on existing operations, one unit for the order's quantities. */
export const workOrder: () => fc.Arbitrary<WorkOrder> = shared(() =>
  fc
    .record({
      orderId: identifier(),
      site: site(),
      material: material(),
      status: status(),
      u: unit(),
      planned: decimal(),
      confirmed: fc.option(decimal(), { nil: undefined }),
      schedule: fc.option(interval(), { nil: undefined }),
      operations: fc.uniqueArray(
        fc.record({ operationId: fc.integer({ min: 1, max: 999 }).map((n) => String(n * 10).padStart(4, "0")), status: status() }),
        { selector: (o) => o.operationId, maxLength: 8 },
      ),
      components: fc.uniqueArray(
        fc.record({ itemId: identifier(), material: material(), operation: fc.option(fc.nat(), { nil: undefined }), required: decimal() }),
        { selector: (c) => c.itemId, maxLength: 8 },
      ),
      revision: revision(),
      sourceRefs: sourceRefs("A_ProductionOrder_2"),
    })
    .map(({ u, planned, confirmed, schedule, components, ...o }): WorkOrder => ({
      ...o,
      plannedQuantity: quantity(planned, u),
      ...(confirmed === undefined ? {} : { confirmedYieldQuantity: quantity(confirmed, u) }),
      ...(schedule === undefined ? {} : { schedule: { plannedStart: schedule[0], plannedEnd: schedule[1] } }),
      // A component names one of the order's operations, or none.
      components: components.map(({ itemId, material: m, operation, required }) => {
        const op = operation === undefined || o.operations.length === 0 ? undefined : o.operations[operation % o.operations.length];
        return { itemId, material: m, ...(op === undefined ? {} : { operationId: op.operationId }), requiredQuantity: quantity(required, u) };
      }),
    })),
);

/** A valid Batch: expiry not before manufacture, never its own input. */
export const batch: () => fc.Arbitrary<Batch> = shared(() =>
  fc
    .record({
      batchId: identifier(),
      material: material(),
      disposition: fc.constantFrom("planned", "in_process", "restricted", "unrestricted", "closed") as fc.Arbitrary<Batch["disposition"]>,
      dates: fc.tuple(calendarDate(), calendarDate()).map(([a, b]) => (a <= b ? [a, b] : [b, a])),
      inputs: fc.array(fc.record({ batch: fc.record({ material: material(), batchId: identifier() }) }), { maxLength: 3 }),
      revision: revision(),
      sourceRefs: sourceRefs("Batch"),
    })
    .map(({ dates, inputs, ...b }) => ({
      ...b,
      manufacturedOn: dates[0] as string,
      expiresOn: dates[1] as string,
      inputs: inputs.filter((i) => !(i.batch.batchId === b.batchId && i.batch.material.id === b.material.id)),
    })),
);

/** A valid MaterialMovement of any kind, with from and to as the kind requires. */
export const materialMovement: () => fc.Arbitrary<MaterialMovement> = shared(() =>
  fc
    .record({
      movementId: identifier(),
      kind: fc.constantFrom("produced", "consumed", "transferred", "status_changed", "scrapped", "adjusted") as fc.Arbitrary<MaterialMovement["kind"]>,
      direction: fc.constantFrom("increase", "decrease") as fc.Arbitrary<"increase" | "decrease">,
      postingDate: calendarDate(),
      material: material(),
      u: unit(),
      amount: decimal({ positive: true }),
      from: location(),
      toStorage: identifier(),
      toType: stockType(),
      revision: revision(),
      sourceRefs: sourceRefs("A_MaterialDocumentItem"),
    })
    .map(({ kind, direction, from, toStorage, toType, u, amount, ...m }): MaterialMovement => {
      const base = { ...m, quantity: quantity(amount, u), kind };
      switch (kind) {
        case "produced":
          return { ...base, to: from };
        case "consumed":
        case "scrapped":
          return { ...base, from };
        case "transferred":
          return { ...base, from, to: { ...from, storageLocation: toStorage === from.storageLocation ? `${toStorage}X` : toStorage, stockType: toType } };
        case "status_changed": {
          const other = (["unrestricted", "quality_inspection", "blocked"] as const).find((t) => t !== from.stockType) ?? "blocked";
          return { ...base, from, to: { ...from, stockType: toType === from.stockType ? other : toType } };
        }
        case "adjusted":
          return direction === "increase" ? { ...base, direction, to: from } : { ...base, direction, from };
      }
    }),
);

/** A valid QualityHold in any status, with a decision exactly when it has ended. */
export const qualityHold: () => fc.Arbitrary<QualityHold> = shared(() =>
  fc
    .record({
      holdId: identifier(),
      status: fc.constantFrom("placed", "released", "rejected", "cancelled") as fc.Arbitrary<QualityHold["status"]>,
      scope: fc.oneof(
        fc.record({ kind: fc.constant("batch" as const), batch: fc.record({ material: material(), batchId: identifier() }) }),
        fc.record({ kind: fc.constant("material" as const), material: material(), site: site() }),
        fc.record({ kind: fc.constant("order" as const), order: fc.record({ orderId: identifier() }) }),
      ),
      heldStockType: stockType(),
      reason: fc.record({ text: fc.constantFrom("Porosity at final inspection", "Supplier certificate missing", "Out of tolerance") }),
      times: interval(),
      release: fc.constantFrom("use", "downgrade", "rework") as fc.Arbitrary<"use" | "downgrade" | "rework">,
      reject: fc.constantFrom("scrap", "return_to_supplier", "rework") as fc.Arbitrary<"scrap" | "return_to_supplier" | "rework">,
      revision: revision(),
      sourceRefs: sourceRefs("A_InspectionLot"),
    })
    .map(({ times, release, reject, ...h }) => {
      const base = { ...h, placedAt: times[0] };
      if (h.status === "released") return { ...base, disposition: { decision: release, decidedAt: times[1] } };
      if (h.status === "rejected") return { ...base, disposition: { decision: reject, decidedAt: times[1] } };
      return base;
    }),
);

/** A valid ProductionConfirmation: yield, scrap and rework in one unit, end not before start. */
export const productionConfirmation: () => fc.Arbitrary<ProductionConfirmation> = shared(() =>
  fc
    .record({
      confirmationId: identifier(),
      order: fc.record({ orderId: identifier(), operationId: fc.constantFrom("0010", "0020", "0030") }),
      site: site(),
      u: unit(),
      amounts: fc.tuple(decimal(), decimal(), decimal()),
      isFinal: fc.boolean(),
      postingDate: calendarDate(),
      times: interval(),
      revision: revision(),
      sourceRefs: sourceRefs("ProdnOrdConf2"),
    })
    .map(({ times, u, amounts: [good, scrap, rework], ...c }) => ({
      ...c,
      yieldQuantity: quantity(good, u),
      scrapQuantity: quantity(scrap, u),
      reworkQuantity: quantity(rework, u),
      executionStart: times[0],
      executionEnd: times[1],
    })),
);

const PACKML = ["clearing", "stopped", "starting", "idle", "suspended", "execute", "stopping", "aborting", "aborted", "holding", "held", "unholding", "suspending", "unsuspending", "resetting", "completing", "complete"] as const;
const NOT_EXECUTING = new Set(["stopped", "idle", "held", "suspended", "aborted", "complete"]);

/** A valid MachineState whose PackML state and availability agree. */
export const machineState: () => fc.Arbitrary<MachineState> = shared(() =>
  fc
    .record({
      equipment: equipment(),
      packmlState: fc.constantFrom(...PACKML),
      availability: fc.constantFrom("not_available", "out_of_service", "not_executing", "executing") as fc.Arbitrary<MachineState["availability"]>,
      since: timestamp(),
      revision: revision(),
      sourceRefs: sourceRefs("Variable"),
    })
    .map((s) => ({
      ...s,
      availability: s.packmlState === "execute" ? "executing" : NOT_EXECUTING.has(s.packmlState) && s.availability === "executing" ? "not_executing" : s.availability,
    })),
);

/** A valid ProductionCount: one unit, window in order, counters that fall only on a reset or rollover. */
export const productionCount: () => fc.Arbitrary<ProductionCount> = shared(() =>
  fc
    .record({
      equipment: equipment(),
      u: unit(),
      amounts: fc.tuple(decimal(), decimal()),
      window: interval(),
      counter: fc.record({ from: fc.integer({ min: 0, max: 2 ** 31 - 1 }), to: fc.integer({ min: 0, max: 2 ** 31 - 1 }), rollover: fc.boolean() }),
      revision: revision(),
      sourceRefs: sourceRefs("Variable"),
    })
    .map(({ window, counter, u, amounts: [good, defective], ...c }) => ({
      ...c,
      goodQuantity: quantity(good, u),
      defectiveQuantity: quantity(defective, u),
      windowStart: window[0],
      windowEnd: window[1],
      counters: [{ signal: "ns=3;s=Line.Admin.ProdProcessedCount", role: "processed" as const, ...counter, reset: counter.to < counter.from && !counter.rollover }],
    })),
);

const evidence = shared(() =>
  fc.record({
    id: fc.uuid(),
    type: fc.constantFrom("dev.millwright.workorder.released.v1", "dev.millwright.workorder.started.v1", "dev.millwright.materialmovement.posted.v1"),
    source: fc.constantFrom("urn:millwright:sap:S4PCLNT100", "urn:millwright:mes:line-fab", "urn:millwright:wms:dc-1"),
    time: timestamp(),
    role: fc.constantFrom("trigger", "fulfilment", "partial", "measure") as fc.Arbitrary<"trigger" | "fulfilment" | "partial" | "measure">,
  }),
);

/** A valid Alignment finding: a breach with reasons, or a resolution that says how it ended. */
export const alignment: () => fc.Arbitrary<Alignment> = shared(() =>
  fc
    .record({
      rule: fc.constantFrom("workorder-started", "goodsissue-posted", "qualityhold-blocked-wms"),
      key: identifier(),
      dueMs: fc.integer({ min: MS_2000, max: MS_2099 }),
      latenessMs: fc.integer({ min: 0, max: 30 * 86_400_000 }),
      evidence: fc.array(evidence(), { minLength: 1, maxLength: 4 }),
      breached: fc.boolean(),
      reasons: fc.subarray(["missing", "late", "quantity_mismatch", "quantity_unverifiable"] as const, { minLength: 1 }),
      resolution: fc.constantFrom("fulfilled", "abandoned") as fc.Arbitrary<"fulfilled" | "abandoned">,
      quantity: fc.option(fc.record({ difference: decimal(), u: unit(), within: fc.boolean() }), { nil: undefined }),
    })
    .map(({ rule, key, dueMs, latenessMs, evidence: [first, ...rest], breached, reasons, resolution, quantity: q }) => ({
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
    })) as unknown as fc.Arbitrary<Alignment>,
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

/**
 * An arbitrary of valid canonical events of a catalog type: an entity that fits the type (its
 * required values applied) wrapped by `createEvent`.
 *
 * @param type - the event type
 * @param options - the source to put on the events
 * @returns the arbitrary
 * @example
 * fc.assert(fc.property(event("dev.millwright.workorder.released.v1"), (e) => myConsumer(e).isOk()));
 */
export function event<TType extends EventType>(type: TType, options: { readonly source?: string } = {}): fc.Arbitrary<CanonicalEvent<TType>> {
  const entry = eventCatalog[type];
  const requires = Object.entries(entry.dataRequires) as [string, readonly unknown[]][];
  return fc
    .tuple(entity(entry.entity), fc.tuple(...requires.map(([, values]) => fc.constantFrom(...values))), timestamp())
    .map(([data, picks, time]) => {
      const fitted: Record<string, unknown> = { ...(data as object) };
      requires.forEach(([pointer], i) => {
        fitted[pointer.slice(1)] = picks[i];
      });
      if (entry.entity === "QualityHold") fitHold(fitted);
      if (entry.entity === "Alignment") fitAlignment(fitted);
      const created = createEvent({ type, source: options.source ?? "urn:millwright:test", time, data: fitted as never });
      if (created.isErr()) throw new Error(`event(${type}): ${created.error.message}`);
      return created.value as unknown as CanonicalEvent<TType>;
    });
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
