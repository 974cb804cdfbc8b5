import { issue } from "@millwright/adapter-kit";
import {
  parseWorkOrder,
  type Schedule,
  type StockLocation,
  type WorkOrder,
  type WorkOrderComponent,
  type WorkOrderOperation,
  type WorkOrderStatus,
} from "@millwright/model";
import { err, ok, type Result } from "neverthrow";
import { alphaToExternal, alphaToInternal } from "./alpha.js";
import { collectExtensions, defined, expandedRows, quantity, resolveUnit, sourceRef } from "./common.js";
import type { SapAdapterConfig } from "./config.js";
import { invalidEntity, wireError, type SapMappingError, type SapWireIssue } from "./errors.js";
import { createFieldReader, readText } from "./field-reader.js";
import type { ODataRecord } from "./odata-envelope.js";
import { guard, toEntityRecord } from "./payload.js";

/** One row of `A_ProductionOrderStatus_2`: the status code (its key) and, for people, the short text. */
export interface OrderStatusRow {
  /** `StatusCode`, e.g. `I0002` (system) or `E0001` (user): the same in every logon language. */
  readonly code: string;
  /** `StatusShortName`, e.g. `REL` in English and `FREI` in German: display only, never interpreted. */
  readonly shortName?: string;
  readonly isUserStatus: boolean;
}

/** The SAP statuses an order carries: the `OrderIs…` flags and the rows of `A_ProductionOrderStatus_2`. */
export interface OrderStatusInput {
  readonly flags: Readonly<Record<string, boolean>>;
  readonly statuses: readonly OrderStatusRow[];
}

const has = (input: OrderStatusInput, flag: string) => input.flags[flag] === true;

/**
 * Derive the one canonical WorkOrder status from SAP's multi-valued order status, by the explicit
 * priority of docs/model/work-order.md (DLFL > CLSD > TECO > CNF/DLV > on hold > PCNF > REL > CRTD).
 * System statuses are read from the `OrderIs…` flags only and user statuses by their `StatusCode`:
 * the short texts depend on the logon language (REL is FREI in German), so they decide nothing.
 *
 * @param input - the order's flags and status rows
 * @param config - adapter configuration (DLV as completed, user status codes meaning on hold)
 * @returns the canonical status; `planned` when no rule applies
 * @example
 * ```ts
 * deriveOrderStatus({ flags: { OrderIsReleased: true, OrderIsPartiallyConfirmed: true }, statuses: [] }, config); // "in_progress"
 * ```
 */
export function deriveOrderStatus(input: OrderStatusInput, config: SapAdapterConfig): WorkOrderStatus {
  if (has(input, "OrderIsMarkedForDeletion") || has(input, "OrderIsDeleted")) return "cancelled";
  if (has(input, "OrderIsClosed")) return "closed";
  if (has(input, "OrderIsTechnicallyCompleted")) return "completed";
  if (has(input, "OrderIsConfirmed")) return "completed";
  if (config.deliveredIsCompleted && has(input, "OrderIsDelivered")) return "completed";
  if (has(input, "OrderIsLocked")) return "on_hold";
  if (input.statuses.some((s) => s.isUserStatus && config.onHoldUserStatuses.includes(s.code))) return "on_hold";
  if (has(input, "OrderIsPartiallyConfirmed")) return "in_progress";
  if (has(input, "OrderIsReleased") || has(input, "OrderIsPartiallyReleased")) return "released";
  return "planned";
}

/**
 * Derive an operation's canonical status from its `OperationIs…` flags.
 *
 * @param flags - flag name → set
 * @returns the canonical status
 * @example
 * ```ts
 * deriveOperationStatus({ OperationIsReleased: true }); // "released"
 * ```
 */
export function deriveOperationStatus(flags: Readonly<Record<string, boolean>>): WorkOrderStatus {
  if (flags["OperationIsDeleted"] === true) return "cancelled";
  if (flags["OperationIsClosed"] === true) return "closed";
  if (flags["OperationIsTechlyCompleted"] === true) return "completed";
  if (flags["OperationIsConfirmed"] === true) return "completed";
  if (flags["OperationIsPartiallyConfirmed"] === true) return "in_progress";
  if (flags["OperationIsReleased"] === true) return "released";
  return "planned";
}

const ORDER_FLAGS = [
  "OrderIsCreated", "OrderIsReleased", "OrderIsPartiallyReleased", "OrderIsConfirmed", "OrderIsPartiallyConfirmed",
  "OrderIsDelivered", "OrderIsDeleted", "OrderIsMarkedForDeletion", "OrderIsLocked", "OrderIsTechnicallyCompleted", "OrderIsClosed",
] as const;

const REVISION = /^\d{14}$/;

function maxRevision(values: readonly (string | undefined)[]): string {
  let best = "";
  for (const v of values) if (v !== undefined && REVISION.test(v) && v > best) best = v;
  const stripped = best.replace(/^0+/, "");
  return stripped === "" ? "0" : stripped;
}

function cleanSchedule(s: Schedule): Schedule | undefined {
  return Object.keys(s).length === 0 ? undefined : s;
}

interface Ctx {
  readonly config: SapAdapterConfig;
  readonly issues: SapWireIssue[];
}

function mapOperation(ctx: Ctx, row: ODataRecord, path: string): { op: WorkOrderOperation; revision?: string | undefined; start?: string | undefined; end?: string | undefined; finished: boolean } | undefined {
  const r = createFieldReader(row, path, ctx.config.timeZone, ctx.issues);
  const operationId = r.text("ManufacturingOrderOperation", true);
  const sequence = r.text("ManufacturingOrderSequence");
  const description = r.text("MfgOrderOperationText");
  const workCenter = r.text("WorkCenter");
  const plant = r.text("ProductionPlant");
  // Every flag is read (so a malformed one is reported); the priority is deriveOperationStatus's.
  r.flag("OperationIsCreated");
  const released = r.flag("OperationIsReleased");
  const confirmedFlag = r.flag("OperationIsConfirmed");
  const partially = r.flag("OperationIsPartiallyConfirmed");
  const deleted = r.flag("OperationIsDeleted");
  const teco = r.flag("OperationIsTechlyCompleted");
  const closed = r.flag("OperationIsClosed");
  const status: WorkOrderStatus = deleted ? "cancelled"
    : closed ? "closed"
    : teco || confirmedFlag ? "completed"
    : partially ? "in_progress"
    : released ? "released"
    : "planned";
  const unit = resolveUnit(ctx.config, { iso: r.text("OperationUnitISOCode"), internal: r.text("OperationUnitSAPCode"), unit: r.text("OperationUnit") }, `${path}/OperationUnit`, ctx.issues);
  const planned = quantity(r.decimal("OpPlannedTotalQuantity"), unit);
  const confirmed = quantity(r.decimal("OpTotalConfirmedYieldQty"), unit);
  // Plain assignments instead of spreads: this runs for every operation of every order.
  const schedule: Schedule = {};
  const scheduledStart = r.timestamp("OpErlstSchedldExecStrtDte", "OpErlstSchedldExecStrtTme");
  if (scheduledStart !== undefined) schedule.scheduledStart = scheduledStart;
  const scheduledEnd = r.timestamp("OpErlstSchedldExecEndDte", "OpErlstSchedldExecEndTme");
  if (scheduledEnd !== undefined) schedule.scheduledEnd = scheduledEnd;
  const actualStart = r.timestamp("OpActualExecutionStartDate", "OpActualExecutionStartTime");
  if (actualStart !== undefined) schedule.actualStart = actualStart;
  const actualEnd = r.timestamp("OpActualExecutionEndDate", "OpActualExecutionEndTime");
  if (actualEnd !== undefined) schedule.actualEnd = actualEnd;
  if (operationId === undefined) return undefined;
  const op: WorkOrderOperation = { operationId, status };
  if (sequence !== undefined) op.sequence = sequence;
  if (description !== undefined) op.description = description;
  if (workCenter !== undefined && plant !== undefined) op.workCenter = { id: workCenter, level: "work_center", site: { id: plant } };
  if (planned !== undefined) op.plannedQuantity = planned;
  if (confirmed !== undefined) op.confirmedYieldQuantity = confirmed;
  if (scheduledStart !== undefined || scheduledEnd !== undefined || actualStart !== undefined || actualEnd !== undefined) op.schedule = schedule;
  return {
    op,
    revision: r.text("LastChangeDateTime"),
    start: actualStart,
    end: actualEnd,
    finished: status === "cancelled" || actualEnd !== undefined,
  };
}

function mapComponent(ctx: Ctx, row: ODataRecord, path: string): WorkOrderComponent | undefined {
  const r = createFieldReader(row, path, ctx.config.timeZone, ctx.issues);
  if (r.flag("MatlCompIsMarkedForDeletion")) return undefined;
  const reservation = r.text("Reservation", true);
  const item = r.text("ReservationItem", true);
  const material = r.text("Material", true);
  const operationId = r.text("ManufacturingOrderOperation");
  const unit = resolveUnit(ctx.config, { iso: r.text("BaseUnitISOCode"), internal: r.text("BaseUnitSAPCode"), unit: r.text("BaseUnit") }, `${path}/BaseUnit`, ctx.issues);
  const required = quantity(r.decimal("RequiredQuantity", true), unit);
  const withdrawn = quantity(r.decimal("WithdrawnQuantity"), unit);
  const plant = r.text("Plant");
  const storageLocation = r.text("StorageLocation");
  const batch = r.text("Batch");
  const backflush = r.flag("MatlCompIsMarkedForBackflush");
  const finallyIssued = r.flag("ReservationIsFinallyIssued");
  if (reservation === undefined || item === undefined || material === undefined || required === undefined) return undefined;
  const component: WorkOrderComponent = {
    itemId: `${alphaToInternal(reservation, 10)}/${alphaToInternal(item, 4)}`,
    material: { id: material },
    requiredQuantity: required,
  };
  if (operationId !== undefined) component.operationId = operationId;
  if (withdrawn !== undefined) component.withdrawnQuantity = withdrawn;
  if (plant !== undefined) {
    const supply: StockLocation = { site: { id: plant }, stockType: "unrestricted" };
    if (storageLocation !== undefined) supply.storageLocation = storageLocation;
    component.supplyLocation = supply;
  }
  if (batch !== undefined) component.batch = { material: { id: material }, batchId: batch };
  component.backflush = backflush;
  component.finallyIssued = finallyIssued;
  return component;
}

function stockTypeOf(ctx: Ctx, code: string | undefined, path: string) {
  if (code === undefined) return "unrestricted" as const;
  const mapped = ctx.config.inventoryUsabilityCodes[code];
  if (mapped === undefined) ctx.issues.push(issue("unmapped_value", path, code, "InventoryUsabilityCode not in the configured inventoryUsabilityCodes table"));
  return mapped;
}

/**
 * Map one `A_ProductionOrder_2` (OData V2 JSON, with `$expand` of `to_ProductionOrderOperation`,
 * `to_ProductionOrderComponent`, and optionally `to_ProductionOrderStatus` and `to_ProductionOrderItem`)
 * to a validated canonical WorkOrder. Pure and deterministic; never throws.
 *
 * @param payload - the entity, or its `{"d": {…}}` envelope
 * @param config - the checked adapter configuration
 * @returns the WorkOrder (checked by `parseWorkOrder`), or the first wire issues / the model error
 * @example
 * ```ts
 * const order = mapProductionOrder(JSON.parse(body), config);
 * if (order.isOk()) console.log(order.value.status);
 * ```
 */
export function mapProductionOrder(payload: unknown, config: SapAdapterConfig): Result<WorkOrder, SapMappingError> {
  return guard(payload, () => mapOrder(payload, config));
}

function mapOrder(payload: unknown, config: SapAdapterConfig): Result<WorkOrder, SapMappingError> {
  const entity = toEntityRecord(payload);
  if (entity.isErr()) return err(wireError([entity.error]));
  const { record, path } = entity.value;
  const ctx: Ctx = { config, issues: [] };
  const r = createFieldReader(record, path, config.timeZone);
  const orderRaw = r.text("ManufacturingOrder", true);
  const orderId = orderRaw === undefined ? undefined : alphaToExternal(orderRaw);
  const plant = r.text("ProductionPlant", true);
  const material = r.text("Material", true);
  const orderType = r.text("ManufacturingOrderType");
  const flags: Record<string, boolean> = {};
  for (const f of ORDER_FLAGS) flags[f] = r.flag(f);
  if (!ORDER_FLAGS.some((f) => record[f] !== undefined)) {
    // Without the flags every order would look planned: the status rows' short texts cannot stand in (they are in the logon language).
    ctx.issues.push(issue("missing_property", `${path}/OrderIsReleased`, undefined, `the status flags (${ORDER_FLAGS.join(", ")}) are required to derive the status; do not $select them away`));
  }
  const unit = resolveUnit(config, { iso: r.text("ProductionUnitISOCode"), internal: r.text("ProductionUnitSAPCode"), unit: r.text("ProductionUnit") }, `${path}/ProductionUnit`, ctx.issues);
  const planned = quantity(r.decimal("TotalQuantity", true), unit);
  const plannedScrap = quantity(r.decimal("MfgOrderPlannedScrapQty"), unit);
  const confirmedYield = quantity(r.decimal("MfgOrderConfirmedYieldQty"), unit);
  const importance = r.text("ManufacturingOrderImportance");
  const schedule: Schedule = {
    ...defined("plannedStart", r.timestamp("MfgOrderPlannedStartDate", "MfgOrderPlannedStartTime")),
    ...defined("plannedEnd", r.timestamp("MfgOrderPlannedEndDate", "MfgOrderPlannedEndTime")),
    ...defined("scheduledStart", r.timestamp("MfgOrderScheduledStartDate", "MfgOrderScheduledStartTime")),
    ...defined("scheduledEnd", r.timestamp("MfgOrderScheduledEndDate", "MfgOrderScheduledEndTime")),
  };
  const headerRevision = r.text("LastChangeDateTime");
  const headerStorage = r.text("StorageLocation");
  const headerUsability = r.text("InventoryUsabilityCode");
  ctx.issues.push(...r.issues);

  const statuses: OrderStatusRow[] = [];
  for (const { row, path: rowPath } of expandedRows(record, "to_ProductionOrderStatus", path, ctx.issues, false) ?? []) {
    const sr = createFieldReader(row, rowPath, config.timeZone, ctx.issues);
    const code = sr.text("StatusCode", true);
    const shortName = sr.text("StatusShortName");
    const isUserStatus = sr.flag("IsUserStatus");
    if (code !== undefined) statuses.push({ code, ...defined("shortName", shortName), isUserStatus });
  }

  const opRows = (expandedRows(record, "to_ProductionOrderOperation", path, ctx.issues, true) ?? []).map((r, i) => ({ ...r, i }));
  const compRows = expandedRows(record, "to_ProductionOrderComponent", path, ctx.issues, true) ?? [];
  const mainOps = opRows.filter(({ row }) => readText(row["ManufacturingOrderSubOperation"]) === undefined);
  mainOps.sort((a, b) => {
    const sa = String(a.row["ManufacturingOrderSequence"] ?? "");
    const sb = String(b.row["ManufacturingOrderSequence"] ?? "");
    if (sa !== sb) return sa < sb ? -1 : 1;
    const oa = String(a.row["ManufacturingOrderOperation"] ?? "");
    const ob = String(b.row["ManufacturingOrderOperation"] ?? "");
    return oa < ob ? -1 : oa > ob ? 1 : a.i - b.i;
  });
  const operations: WorkOrderOperation[] = [];
  const revisions: (string | undefined)[] = [headerRevision];
  let actualStart: string | undefined;
  let actualEnd: string | undefined;
  let allFinished = mainOps.length > 0;
  let startMs = Infinity;
  let endMs = -Infinity;
  for (const { row, path: rowPath } of mainOps) {
    const m = mapOperation(ctx, row, rowPath);
    if (m === undefined) continue;
    operations.push(m.op);
    revisions.push(m.revision);
    if (!m.finished) allFinished = false;
    if (m.start !== undefined) {
      const t = Date.parse(m.start);
      if (t < startMs) [startMs, actualStart] = [t, m.start];
    }
    if (m.end !== undefined) {
      const t = Date.parse(m.end);
      if (t > endMs) [endMs, actualEnd] = [t, m.end];
    }
  }
  const components: WorkOrderComponent[] = [];
  for (const { row, path: rowPath } of compRows) {
    const c = mapComponent(ctx, row, rowPath);
    if (c !== undefined) components.push(c);
  }

  let outputBatch: WorkOrder["outputBatch"];
  let receivingLocation: StockLocation | undefined;
  const item = expandedRows(record, "to_ProductionOrderItem", path, ctx.issues, false)?.[0];
  if (item !== undefined) {
    const ir = createFieldReader(item.row, item.path, config.timeZone);
    const itemMaterial = ir.text("Material");
    const batch = ir.text("Batch");
    const itemPlant = ir.text("Plant");
    const itemStorage = ir.text("StorageLocation");
    const usability = ir.text("InventoryUsabilityCode");
    ctx.issues.push(...ir.issues);
    if (itemMaterial !== undefined && batch !== undefined) outputBatch = { material: { id: itemMaterial }, batchId: batch };
    const stockType = stockTypeOf(ctx, usability, `${item.path}/InventoryUsabilityCode`);
    if (itemPlant !== undefined && stockType !== undefined) {
      receivingLocation = { site: { id: itemPlant }, ...defined("storageLocation", itemStorage), stockType };
    }
  } else if (headerStorage !== undefined && plant !== undefined) {
    const stockType = stockTypeOf(ctx, headerUsability, `${path}/InventoryUsabilityCode`);
    if (stockType !== undefined) receivingLocation = { site: { id: plant }, storageLocation: headerStorage, stockType };
  }

  if (ctx.issues.length > 0) return err(wireError(ctx.issues));
  if (orderId === undefined || plant === undefined || material === undefined || planned === undefined) {
    return err(wireError([issue("missing_property", path, undefined, "ManufacturingOrder, ProductionPlant, Material and TotalQuantity are required")]));
  }
  const fullSchedule: Schedule = {
    ...schedule,
    ...defined("actualStart", actualStart),
    ...defined("actualEnd", allFinished ? actualEnd : undefined),
  };
  const priority = importance === undefined ? undefined : config.priorities[importance];
  const order: WorkOrder = {
    orderId,
    ...defined("orderType", orderType),
    site: { id: plant },
    material: { id: material },
    status: deriveOrderStatus({ flags, statuses }, config),
    ...(statuses.length > 0 ? { sourceStatuses: statuses.slice(0, 64).map((s) => s.shortName ?? s.code) } : {}),
    plannedQuantity: planned,
    ...defined("plannedScrapQuantity", plannedScrap),
    ...defined("confirmedYieldQuantity", confirmedYield),
    ...defined("priority", priority),
    ...defined("schedule", cleanSchedule(fullSchedule)),
    ...defined("outputBatch", outputBatch),
    ...defined("receivingLocation", receivingLocation),
    operations,
    components,
    revision: maxRevision(revisions),
    sourceRefs: [sourceRef(config, "A_ProductionOrder_2", [["ManufacturingOrder", orderId]])],
    ...defined("extensions", collectExtensions(config, record, [])),
  };
  return parseWorkOrder(order).mapErr(invalidEntity);
}
