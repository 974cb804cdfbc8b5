import { preview, type ModelIssue } from "./errors.js";
import { compareTimestamps } from "./timestamp.js";
import type {
  Alignment,
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

/**
 * A JSON Pointer, built only when an issue is reported: `base` (like "/operations"), an optional
 * array index (-1 for none) and a key. Valid input, the hot path, builds no strings.
 */
function at(base: string, index: number, key: string): string {
  return index < 0 ? `${base}/${key}` : `${base}/${index}/${key}`;
}

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

function quantity(q: Quantity | undefined, issues: Issues, base: string, index: number, key: string): void {
  if (q !== undefined && isNegative(q.value)) {
    const path = at(base, index, key);
    issues.push({
      code: "negative_quantity",
      path: `${path}/value`,
      value: q.value,
      rule: "quantities are not negative",
      message: `${path}/value: ${preview(q.value)} is negative; canonical quantities are not negative (the direction is said by the entity)`,
    });
  }
}

function sameUnit(q: Quantity | undefined, ref: Quantity, issues: Issues, base: string, index: number, key: string, refKey: string): void {
  if (q !== undefined && q.unit !== ref.unit) {
    const path = at(base, index, key);
    const refPath = at(base, index, refKey);
    issues.push({
      code: "unit_mismatch",
      path: `${path}/unit`,
      value: q.unit,
      rule: `same unit as ${refPath}`,
      message: `${path}/unit: ${preview(q.unit)} differs from ${refPath}/unit ${preview(ref.unit)}; both must be in one unit`,
    });
  }
}

function notBefore(start: string | undefined, end: string | undefined, issues: Issues, base: string, endKey: string, startKey: string): void {
  if (start !== undefined && end !== undefined && compareTimestamps(end, start) < 0) {
    const path = `${base}/${endKey}`;
    const startPath = `${base}/${startKey}`;
    issues.push({
      code: "end_before_start",
      path,
      value: end,
      rule: `${path} >= ${startPath}`,
      message: `${path}: ${preview(end)} is before ${startPath} ${preview(start)}`,
    });
  }
}

function sameMaterial(id: string, expected: string, issues: Issues, path: () => string, refPath: string): void {
  if (id !== expected) {
    issues.push({
      code: "material_mismatch",
      path: path(),
      value: id,
      rule: `a batch belongs to the material it is given for (${refPath})`,
      message: `${path()}: batch of material ${preview(id)} given for material ${preview(expected)} at ${refPath}`,
    });
  }
}

function schedule(s: Schedule | undefined, issues: Issues, base: string, index: number): void {
  if (s === undefined) return;
  if (s.plannedEnd === undefined && s.scheduledEnd === undefined && s.actualEnd === undefined) return;
  const path = at(base, index, "schedule");
  notBefore(s.plannedStart, s.plannedEnd, issues, path, "plannedEnd", "plannedStart");
  notBefore(s.scheduledStart, s.scheduledEnd, issues, path, "scheduledEnd", "scheduledStart");
  notBefore(s.actualStart, s.actualEnd, issues, path, "actualEnd", "actualStart");
}

/** Whether an earlier operation has the same id; no allocation, for short lists. */
function earlierOperation(ops: WorkOrder["operations"], i: number): boolean {
  const id = ops[i]!.operationId;
  for (let j = 0; j < i; j++) if (ops[j]!.operationId === id) return true;
  return false;
}

/** Whether an earlier component has the same item id; no allocation, for short lists. */
function earlierComponent(components: WorkOrder["components"], i: number): boolean {
  const id = components[i]!.itemId;
  for (let j = 0; j < i; j++) if (components[j]!.itemId === id) return true;
  return false;
}

const ORDER_QUANTITIES = ["plannedScrapQuantity", "confirmedYieldQuantity", "confirmedScrapQuantity"] as const;
const OPERATION_QUANTITIES = ["confirmedYieldQuantity", "confirmedScrapQuantity"] as const;
const CONFIRMATION_QUANTITIES = ["scrapQuantity", "reworkQuantity"] as const;

function hasOperation(ops: WorkOrder["operations"], id: string): boolean {
  for (let j = 0; j < ops.length; j++) if (ops[j]!.operationId === id) return true;
  return false;
}

/** WorkOrder: quantities, units, schedules, unique operation and component keys, references. */
export function workOrderRules(w: WorkOrder, issues: Issues): void {
  quantity(w.plannedQuantity, issues, "", -1, "plannedQuantity");
  for (const key of ORDER_QUANTITIES) {
    quantity(w[key], issues, "", -1, key);
    sameUnit(w[key], w.plannedQuantity, issues, "", -1, key, "plannedQuantity");
  }
  schedule(w.schedule, issues, "", -1);
  if (w.outputBatch !== undefined) {
    sameMaterial(w.outputBatch.material.id, w.material.id, issues, () => "/outputBatch/material/id", "/material/id");
  }
  const ops = w.operations;
  const manyOps = ops.length > 32 ? new Set<string>() : undefined;
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    const duplicate = manyOps === undefined ? earlierOperation(ops, i) : manyOps.has(op.operationId);
    manyOps?.add(op.operationId);
    if (duplicate) {
      issues.push({
        code: "duplicate_key",
        path: at("/operations", i, "operationId"),
        value: op.operationId,
        rule: "operationId is unique within the order",
        message: `${at("/operations", i, "operationId")}: ${preview(op.operationId)} is used by an earlier operation`,
      });
    }
    quantity(op.plannedQuantity, issues, "/operations", i, "plannedQuantity");
    for (const key of OPERATION_QUANTITIES) {
      quantity(op[key], issues, "/operations", i, key);
      if (op.plannedQuantity !== undefined) sameUnit(op[key], op.plannedQuantity, issues, "/operations", i, key, "plannedQuantity");
    }
    schedule(op.schedule, issues, "/operations", i);
  }
  const components = w.components;
  const operationIds = ops.length > 32 ? new Set(ops.map((o) => o.operationId)) : undefined;
  const manyItems = components.length > 32 ? new Set<string>() : undefined;
  for (let i = 0; i < components.length; i++) {
    const c = components[i]!;
    const duplicate = manyItems === undefined ? earlierComponent(components, i) : manyItems.has(c.itemId);
    manyItems?.add(c.itemId);
    if (duplicate) {
      issues.push({
        code: "duplicate_key",
        path: at("/components", i, "itemId"),
        value: c.itemId,
        rule: "itemId is unique within the order",
        message: `${at("/components", i, "itemId")}: ${preview(c.itemId)} is used by an earlier component`,
      });
    }
    if (c.operationId !== undefined && !(operationIds?.has(c.operationId) ?? hasOperation(ops, c.operationId))) {
      issues.push({
        code: "dangling_reference",
        path: at("/components", i, "operationId"),
        value: c.operationId,
        rule: "a component's operationId names one of the order's operations",
        message: `${at("/components", i, "operationId")}: ${preview(c.operationId)} is not an operation of this order`,
      });
    }
    if (c.batch !== undefined) {
      sameMaterial(c.batch.material.id, c.material.id, issues, () => at("/components", i, "batch/material/id"), at("/components", i, "material/id"));
    }
    quantity(c.requiredQuantity, issues, "/components", i, "requiredQuantity");
    quantity(c.withdrawnQuantity, issues, "/components", i, "withdrawnQuantity");
    sameUnit(c.withdrawnQuantity, c.requiredQuantity, issues, "/components", i, "withdrawnQuantity", "requiredQuantity");
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
  quantity(b.quantity, issues, "", -1, "quantity");
  const inputs = b.inputs ?? [];
  for (let i = 0; i < inputs.length; i++) {
    const input = inputs[i]!;
    quantity(input.quantity, issues, "/inputs", i, "quantity");
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
  quantity(m.quantity, issues, "", -1, "quantity");
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
  quantity(h.quantity, issues, "", -1, "quantity");
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
  if (compareTimestamps(d.decidedAt, h.placedAt) < 0) {
    issues.push({
      code: "end_before_start",
      path: "/disposition/decidedAt",
      value: d.decidedAt,
      rule: "/disposition/decidedAt >= /placedAt",
      message: `/disposition/decidedAt: ${preview(d.decidedAt)} is before /placedAt ${preview(h.placedAt)}`,
    });
  }
}

/** ProductionConfirmation: quantities in one unit, times in order, no self-reversal. */
export function productionConfirmationRules(c: ProductionConfirmation, issues: Issues): void {
  quantity(c.yieldQuantity, issues, "", -1, "yieldQuantity");
  for (const key of CONFIRMATION_QUANTITIES) {
    quantity(c[key], issues, "", -1, key);
    sameUnit(c[key], c.yieldQuantity, issues, "", -1, key, "yieldQuantity");
  }
  notBefore(c.executionStart, c.executionEnd, issues, "", "executionEnd", "executionStart");
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
  quantity(c.goodQuantity, issues, "", -1, "goodQuantity");
  quantity(c.defectiveQuantity, issues, "", -1, "defectiveQuantity");
  sameUnit(c.defectiveQuantity, c.goodQuantity, issues, "", -1, "defectiveQuantity", "goodQuantity");
  notBefore(c.windowStart, c.windowEnd, issues, "", "windowEnd", "windowStart");
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

function finding(issues: Issues, path: string, value: unknown, rule: string, message: string): void {
  issues.push(value === undefined ? { code: "inconsistent_finding", path, rule, message } : { code: "inconsistent_finding", path, value, rule, message });
}

/**
 * Alignment: a breach has reasons and no resolution, a resolution has a resolution and no
 * reasons; a quantity difference has its unit; detail explains only an unverifiable quantity.
 */
export function alignmentRules(a: Alignment, issues: Issues): void {
  if (a.kind === "breached") {
    if (a.reasons === undefined) finding(issues, "/reasons", undefined, "a breached finding says why", "/reasons is required when kind is \"breached\"");
    const reasons: readonly string[] = a.reasons ?? [];
    for (let i = 1; i < reasons.length; i++) {
      if (reasons.indexOf(reasons[i]!) < i) finding(issues, `/reasons/${i}`, reasons[i], "each reason is given once", `/reasons/${i}: ${preview(reasons[i])} is given twice`);
    }
    if (a.resolution !== undefined) finding(issues, "/resolution", a.resolution, "only a resolved finding has a resolution", `/resolution must be absent when kind is "breached"`);
  } else {
    if (a.resolution === undefined) finding(issues, "/resolution", undefined, "a resolved finding says how it ended", "/resolution is required when kind is \"resolved\"");
    if (a.reasons !== undefined) finding(issues, "/reasons", a.reasons, "only a breached finding has reasons", `/reasons must be absent when kind is "resolved"`);
  }
  if ((a.quantityDifference === undefined) !== (a.unit === undefined)) {
    const missing = a.unit === undefined ? "/unit" : "/quantityDifference";
    finding(issues, missing, undefined, "a quantity difference has its unit", `${missing} is required with ${missing === "/unit" ? "/quantityDifference" : "/unit"}`);
  }
  if (a.detail !== undefined && a.reasons?.includes("quantity_unverifiable") !== true) {
    finding(issues, "/detail", a.detail, "detail explains an unverifiable quantity", `/detail must be absent unless /reasons holds "quantity_unverifiable"`);
  }
}
