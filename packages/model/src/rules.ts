import { preview, type ModelIssue } from "./errors.js";
import { compareTimestamps } from "./timestamp.js";
import type {
  Batch,
  MachineState,
  MaterialMovement,
  ProductionConfirmation,
  ProductionCount,
  Quantity,
  QualityHold,
  Schedule,
  StockLocation,
  WorkOrder,
} from "./generated/types.js";

/*
 * Semantic rules: what JSON Schema cannot say. They run only on schema-valid input, so they may
 * rely on the generated types. Each pushes issues; none allocates when all is well.
 */

type Issues = ModelIssue[];

function isNegative(value: string): boolean {
  if (value.charCodeAt(0) !== 45 /* - */) return false;
  for (let i = 1; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c >= 49 && c <= 57) return true;
  }
  return false;
}

function isZero(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c >= 49 && c <= 57) return false;
  }
  return true;
}

function quantity(q: Quantity | undefined, path: string, issues: Issues): void {
  if (q !== undefined && isNegative(q.value)) {
    issues.push({
      code: "negative_quantity",
      path: `${path}/value`,
      value: q.value,
      rule: "quantities are not negative",
      message: `${path}/value: ${preview(q.value)} is negative; canonical quantities are not negative (the direction is said by the entity)`,
    });
  }
}

function sameUnit(q: Quantity | undefined, ref: Quantity, path: string, refPath: string, issues: Issues): void {
  if (q !== undefined && q.unit !== ref.unit) {
    issues.push({
      code: "unit_mismatch",
      path: `${path}/unit`,
      value: q.unit,
      rule: `same unit as ${refPath}`,
      message: `${path}/unit: ${preview(q.unit)} differs from ${refPath}/unit ${preview(ref.unit)}; both must be in one unit`,
    });
  }
}

function notBefore(start: string | undefined, end: string | undefined, path: string, startPath: string, issues: Issues): void {
  if (start !== undefined && end !== undefined && compareTimestamps(end, start) < 0) {
    issues.push({
      code: "end_before_start",
      path,
      value: end,
      rule: `${path} >= ${startPath}`,
      message: `${path}: ${preview(end)} is before ${startPath} ${preview(start)}`,
    });
  }
}

function sameMaterial(id: string, expected: string, path: string, refPath: string, issues: Issues): void {
  if (id !== expected) {
    issues.push({
      code: "material_mismatch",
      path,
      value: id,
      rule: `a batch belongs to the material it is given for (${refPath})`,
      message: `${path}: batch of material ${preview(id)} given for material ${preview(expected)} at ${refPath}`,
    });
  }
}

function schedule(s: Schedule | undefined, path: string, issues: Issues): void {
  if (s === undefined) return;
  notBefore(s.plannedStart, s.plannedEnd, `${path}/plannedEnd`, `${path}/plannedStart`, issues);
  notBefore(s.scheduledStart, s.scheduledEnd, `${path}/scheduledEnd`, `${path}/scheduledStart`, issues);
  notBefore(s.actualStart, s.actualEnd, `${path}/actualEnd`, `${path}/actualStart`, issues);
}

/** WorkOrder: quantities, units, schedules, unique operation and component keys, references. */
export function workOrderRules(w: WorkOrder, issues: Issues): void {
  quantity(w.plannedQuantity, "/plannedQuantity", issues);
  for (const key of ["plannedScrapQuantity", "confirmedYieldQuantity", "confirmedScrapQuantity"] as const) {
    quantity(w[key], `/${key}`, issues);
    sameUnit(w[key], w.plannedQuantity, `/${key}`, "/plannedQuantity", issues);
  }
  schedule(w.schedule, "/schedule", issues);
  if (w.outputBatch !== undefined) sameMaterial(w.outputBatch.material.id, w.material.id, "/outputBatch/material/id", "/material/id", issues);
  const operationIds = new Set<string>();
  for (let i = 0; i < w.operations.length; i++) {
    const op = w.operations[i]!;
    const at = `/operations/${i}`;
    if (operationIds.has(op.operationId)) {
      issues.push({
        code: "duplicate_key",
        path: `${at}/operationId`,
        value: op.operationId,
        rule: "operationId is unique within the order",
        message: `${at}/operationId: ${preview(op.operationId)} is used by an earlier operation`,
      });
    }
    operationIds.add(op.operationId);
    quantity(op.plannedQuantity, `${at}/plannedQuantity`, issues);
    for (const key of ["confirmedYieldQuantity", "confirmedScrapQuantity"] as const) {
      quantity(op[key], `${at}/${key}`, issues);
      if (op.plannedQuantity !== undefined) sameUnit(op[key], op.plannedQuantity, `${at}/${key}`, `${at}/plannedQuantity`, issues);
    }
    schedule(op.schedule, `${at}/schedule`, issues);
  }
  const itemIds = new Set<string>();
  for (let i = 0; i < w.components.length; i++) {
    const c = w.components[i]!;
    const at = `/components/${i}`;
    if (itemIds.has(c.itemId)) {
      issues.push({
        code: "duplicate_key",
        path: `${at}/itemId`,
        value: c.itemId,
        rule: "itemId is unique within the order",
        message: `${at}/itemId: ${preview(c.itemId)} is used by an earlier component`,
      });
    }
    itemIds.add(c.itemId);
    if (c.operationId !== undefined && !operationIds.has(c.operationId)) {
      issues.push({
        code: "dangling_reference",
        path: `${at}/operationId`,
        value: c.operationId,
        rule: "a component's operationId names one of the order's operations",
        message: `${at}/operationId: ${preview(c.operationId)} is not an operation of this order`,
      });
    }
    if (c.batch !== undefined) sameMaterial(c.batch.material.id, c.material.id, `${at}/batch/material/id`, `${at}/material/id`, issues);
    quantity(c.requiredQuantity, `${at}/requiredQuantity`, issues);
    quantity(c.withdrawnQuantity, `${at}/withdrawnQuantity`, issues);
    sameUnit(c.withdrawnQuantity, c.requiredQuantity, `${at}/withdrawnQuantity`, `${at}/requiredQuantity`, issues);
  }
}

/** Batch: dates in order, quantities, no lot made from itself. */
export function batchRules(b: Batch, issues: Issues): void {
  if (b.manufacturedOn !== undefined && b.expiresOn !== undefined && b.expiresOn < b.manufacturedOn) {
    issues.push({
      code: "end_before_start",
      path: "/expiresOn",
      value: b.expiresOn,
      rule: "/expiresOn >= /manufacturedOn",
      message: `/expiresOn: ${preview(b.expiresOn)} is before /manufacturedOn ${preview(b.manufacturedOn)}`,
    });
  }
  quantity(b.quantity, "/quantity", issues);
  const inputs = b.inputs ?? [];
  for (let i = 0; i < inputs.length; i++) {
    const input = inputs[i]!;
    quantity(input.quantity, `/inputs/${i}/quantity`, issues);
    if (input.batch.batchId === b.batchId && input.batch.material.id === b.material.id) {
      issues.push({
        code: "self_reference",
        path: `/inputs/${i}/batch`,
        value: input.batch,
        rule: "a batch is not its own input",
        message: `/inputs/${i}/batch: batch ${preview(b.batchId)} of material ${preview(b.material.id)} is listed as its own input`,
      });
    }
  }
}

type Place = "from" | "to";
const KIND_PLACES: Readonly<Record<Exclude<MaterialMovement["kind"], "adjusted">, readonly Place[]>> = {
  produced: ["to"],
  consumed: ["from"],
  transferred: ["from", "to"],
  status_changed: ["from", "to"],
  scrapped: ["from"],
};

function samePlace(a: StockLocation, b: StockLocation): boolean {
  return (
    a.site.id === b.site.id &&
    a.storageLocation === b.storageLocation &&
    a.warehouse === b.warehouse &&
    a.bin === b.bin
  );
}

/** MaterialMovement: a positive quantity, from/to as the kind requires, no self-reversal. */
export function materialMovementRules(m: MaterialMovement, issues: Issues): void {
  quantity(m.quantity, "/quantity", issues);
  if (isZero(m.quantity.value)) {
    issues.push({
      code: "zero_quantity",
      path: "/quantity/value",
      value: m.quantity.value,
      rule: "a movement moves a positive quantity",
      message: `/quantity/value: ${preview(m.quantity.value)} is zero; a movement moves a positive quantity`,
    });
  }
  let places: readonly Place[];
  if (m.kind === "adjusted") {
    if (m.direction === undefined) {
      issues.push({
        code: "missing_direction",
        path: "/direction",
        rule: "an adjusted movement says its direction",
        message: `/direction is required when kind is "adjusted" (increase or decrease)`,
      });
      places = m.to !== undefined && m.from === undefined ? ["to"] : m.from !== undefined && m.to === undefined ? ["from"] : ["to"];
    } else {
      places = m.direction === "increase" ? ["to"] : ["from"];
    }
  } else {
    if (m.direction !== undefined) {
      issues.push({
        code: "unexpected_direction",
        path: "/direction",
        value: m.direction,
        rule: "only adjusted movements have a direction",
        message: `/direction: ${preview(m.direction)} is only allowed when kind is "adjusted", not ${preview(m.kind)}`,
      });
    }
    places = KIND_PLACES[m.kind];
  }
  const why = m.kind === "adjusted" ? `an adjusted movement with direction ${preview(m.direction ?? "increase")}` : `kind ${preview(m.kind)}`;
  for (const place of ["from", "to"] as const) {
    const wanted = places.includes(place);
    const present = m[place] !== undefined;
    if (wanted && !present) {
      issues.push({
        code: "missing_location",
        path: `/${place}`,
        rule: `${why} has ${places.join(" and ")}`,
        message: `/${place} is required for ${why}`,
      });
    } else if (!wanted && present) {
      issues.push({
        code: "unexpected_location",
        path: `/${place}`,
        value: m[place],
        rule: `${why} has only ${places.join(" and ")}`,
        message: `/${place} must be absent for ${why}`,
      });
    }
  }
  if (m.from !== undefined && m.to !== undefined) {
    if (m.kind === "transferred" && samePlace(m.from, m.to)) {
      issues.push({
        code: "same_location",
        path: "/to",
        value: m.to,
        rule: "a transfer moves stock to another place",
        message: "/to: a transferred movement must end at another place than /from (site, storage location, warehouse or bin)",
      });
    }
    if (m.kind === "status_changed") {
      if (!samePlace(m.from, m.to)) {
        issues.push({
          code: "location_changed",
          path: "/to",
          value: m.to,
          rule: "a status change keeps the stock in place",
          message: "/to: a status_changed movement keeps the place of /from; use kind transferred to move stock",
        });
      }
      if (m.from.stockType === m.to.stockType) {
        issues.push({
          code: "stock_type_unchanged",
          path: "/to/stockType",
          value: m.to.stockType,
          rule: "a status change changes the stock type",
          message: `/to/stockType: ${preview(m.to.stockType)} equals /from/stockType; a status change changes it`,
        });
      }
    }
  }
  if (m.reverses !== undefined && m.isReversal === false) {
    issues.push({
      code: "inconsistent_reversal",
      path: "/isReversal",
      value: false,
      rule: "a movement that names what it reverses is a reversal",
      message: `/isReversal: false contradicts /reverses ${preview(m.reverses)}; a movement that reverses another is a reversal`,
    });
  }
  if (m.reverses !== undefined && m.reverses === m.movementId) {
    issues.push({
      code: "self_reversal",
      path: "/reverses",
      value: m.reverses,
      rule: "a movement does not reverse itself",
      message: `/reverses: ${preview(m.reverses)} is this movement's own id`,
    });
  }
}

const RELEASE_DECISIONS = new Set(["use", "downgrade", "rework"]);
const REJECT_DECISIONS = new Set(["scrap", "return_to_supplier", "rework"]);

/** QualityHold: a decision exactly when the hold has ended, consistent with how it ended. */
export function qualityHoldRules(h: QualityHold, issues: Issues): void {
  quantity(h.quantity, "/quantity", issues);
  const d = h.disposition;
  if (h.status === "placed" || h.status === "cancelled") {
    if (d !== undefined) {
      issues.push({
        code: "unexpected_disposition",
        path: "/disposition",
        value: d,
        rule: "only a released or rejected hold has a disposition",
        message: `/disposition must be absent while status is ${preview(h.status)}`,
      });
    }
    return;
  }
  if (d === undefined) {
    issues.push({
      code: "missing_disposition",
      path: "/disposition",
      rule: "a released or rejected hold has a disposition",
      message: `/disposition is required when status is ${preview(h.status)}`,
    });
    return;
  }
  const allowed = h.status === "released" ? RELEASE_DECISIONS : REJECT_DECISIONS;
  if (!allowed.has(d.decision)) {
    issues.push({
      code: "inconsistent_disposition",
      path: "/disposition/decision",
      value: d.decision,
      rule: `a ${h.status} hold's decision is one of ${[...allowed].join(", ")}`,
      message: `/disposition/decision: ${preview(d.decision)} contradicts status ${preview(h.status)} (allowed: ${[...allowed].join(", ")})`,
    });
  }
  notBefore(h.placedAt, d.decidedAt, "/disposition/decidedAt", "/placedAt", issues);
}

/** ProductionConfirmation: quantities in one unit, times in order, no self-reversal. */
export function productionConfirmationRules(c: ProductionConfirmation, issues: Issues): void {
  quantity(c.yieldQuantity, "/yieldQuantity", issues);
  for (const key of ["scrapQuantity", "reworkQuantity"] as const) {
    quantity(c[key], `/${key}`, issues);
    sameUnit(c[key], c.yieldQuantity, `/${key}`, "/yieldQuantity", issues);
  }
  notBefore(c.executionStart, c.executionEnd, "/executionEnd", "/executionStart", issues);
  if (c.reverses !== undefined && c.reverses === c.confirmationId) {
    issues.push({
      code: "self_reversal",
      path: "/reverses",
      value: c.reverses,
      rule: "a confirmation does not cancel itself",
      message: `/reverses: ${preview(c.reverses)} is this confirmation's own id`,
    });
  }
}

const NOT_EXECUTING_PACKML = new Set(["stopped", "idle", "held", "suspended", "aborted", "complete"]);

/** MachineState: the PackML state and the Machinery availability do not contradict each other. */
export function machineStateRules(s: MachineState, issues: Issues): void {
  if (s.packmlState === undefined) return;
  const executing = s.availability === "executing";
  if (s.packmlState === "execute" && !executing) {
    issues.push({
      code: "inconsistent_state",
      path: "/availability",
      value: s.availability,
      rule: "PackML execute means availability executing",
      message: `/availability: ${preview(s.availability)} contradicts packmlState "execute", which is executing`,
    });
  } else if (NOT_EXECUTING_PACKML.has(s.packmlState) && executing) {
    issues.push({
      code: "inconsistent_state",
      path: "/availability",
      value: s.availability,
      rule: `PackML ${s.packmlState} is not executing`,
      message: `/availability: "executing" contradicts packmlState ${preview(s.packmlState)}, in which the machine does not produce`,
    });
  }
}

/** ProductionCount: one unit, a window in order, counters that only fall on a reset or rollover. */
export function productionCountRules(c: ProductionCount, issues: Issues): void {
  quantity(c.goodQuantity, "/goodQuantity", issues);
  quantity(c.defectiveQuantity, "/defectiveQuantity", issues);
  sameUnit(c.defectiveQuantity, c.goodQuantity, "/defectiveQuantity", "/goodQuantity", issues);
  notBefore(c.windowStart, c.windowEnd, "/windowEnd", "/windowStart", issues);
  const counters = c.counters ?? [];
  for (let i = 0; i < counters.length; i++) {
    const r = counters[i]!;
    if (r.to < r.from && !r.reset && !r.rollover) {
      issues.push({
        code: "counter_decreased",
        path: `/counters/${i}/to`,
        value: r.to,
        rule: "a cumulative counter only decreases on a reset or a rollover",
        message: `/counters/${i}/to: ${r.to} is below from ${r.from} but neither reset nor rollover is set`,
      });
    }
  }
}
