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
import { isCheckedWorkOrder } from "./checked-work-order.js";
import { collectExtensions, defined, expandedRows, quantity, resolveUnitAt, type NavigationRow } from "./common.js";
import type { SapAdapterConfig } from "./config.js";
import { invalidEntity, wireError, type SapMappingError, type SapWireIssue } from "./errors.js";
import { createFieldReader, createRowReader, readText } from "./field-reader.js";
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

/** The schedule, or undefined when it has no time (the mapper only ever sets these keys). */
function cleanSchedule(s: Schedule): Schedule | undefined {
  return s.plannedStart === undefined && s.plannedEnd === undefined && s.scheduledStart === undefined && s.scheduledEnd === undefined && s.actualStart === undefined && s.actualEnd === undefined ? undefined : s;
}

/**
 * Whether two timestamps the reader wrote (`YYYY-MM-DDThh:mm:ss` and the same `Z` or `±hh:mm`, a
 * four-digit year) sort by their text exactly as Date.parse orders them.
 */
function comparableAsText(a: string, b: string): boolean {
  const n = a.length;
  if (n !== b.length || (n !== 25 && n !== 20)) return false;
  for (let i = 19; i < n; i++) if (a.charCodeAt(i) !== b.charCodeAt(i)) return false;
  return a.charCodeAt(4) === 45 && b.charCodeAt(4) === 45;
}

/** The order of main operations: by sequence, then by operation number (both as sent, compared as strings). */
function byOperationKey(a: NavigationRow, b: NavigationRow): number {
  const sa = String(a.row["ManufacturingOrderSequence"] ?? "");
  const sb = String(b.row["ManufacturingOrderSequence"] ?? "");
  if (sa !== sb) return sa < sb ? -1 : 1;
  const oa = String(a.row["ManufacturingOrderOperation"] ?? "");
  const ob = String(b.row["ManufacturingOrderOperation"] ?? "");
  return oa < ob ? -1 : oa > ob ? 1 : 0;
}

interface Ctx {
  readonly config: SapAdapterConfig;
  readonly issues: SapWireIssue[];
}

function mapOperation(ctx: Ctx, nav: NavigationRow): { op: WorkOrderOperation; revision?: string | undefined; start?: string | undefined; end?: string | undefined; finished: boolean } | undefined {
  const row = nav.row;
  const r = createRowReader(nav, ctx.config.timeZone, ctx.issues);
  const operationId = r.textOf(row["ManufacturingOrderOperation"], "ManufacturingOrderOperation", true);
  const sequence = r.textOf(row["ManufacturingOrderSequence"], "ManufacturingOrderSequence");
  const description = r.textOf(row["MfgOrderOperationText"], "MfgOrderOperationText");
  const workCenter = r.textOf(row["WorkCenter"], "WorkCenter");
  const plant = r.textOf(row["ProductionPlant"], "ProductionPlant");
  // Every flag is read (so a malformed one is reported); the priority is deriveOperationStatus's.
  r.flagOf(row["OperationIsCreated"], "OperationIsCreated");
  const released = r.flagOf(row["OperationIsReleased"], "OperationIsReleased");
  const confirmedFlag = r.flagOf(row["OperationIsConfirmed"], "OperationIsConfirmed");
  const partially = r.flagOf(row["OperationIsPartiallyConfirmed"], "OperationIsPartiallyConfirmed");
  const deleted = r.flagOf(row["OperationIsDeleted"], "OperationIsDeleted");
  const teco = r.flagOf(row["OperationIsTechlyCompleted"], "OperationIsTechlyCompleted");
  const closed = r.flagOf(row["OperationIsClosed"], "OperationIsClosed");
  const status: WorkOrderStatus = deleted ? "cancelled"
    : closed ? "closed"
    : teco || confirmedFlag ? "completed"
    : partially ? "in_progress"
    : released ? "released"
    : "planned";
  const unit = resolveUnitAt(ctx.config, r.textOf(row["OperationUnitISOCode"], "OperationUnitISOCode"), r.textOf(row["OperationUnitSAPCode"], "OperationUnitSAPCode"), r.textOf(row["OperationUnit"], "OperationUnit"), r, "OperationUnit", ctx.issues);
  const planned = quantity(r.decimalOf(row["OpPlannedTotalQuantity"], "OpPlannedTotalQuantity"), unit);
  const confirmed = quantity(r.decimalOf(row["OpTotalConfirmedYieldQty"], "OpTotalConfirmedYieldQty"), unit);
  // Plain assignments instead of spreads: this runs for every operation of every order.
  const schedule: Schedule = {};
  const scheduledStart = r.timestampOf(row["OpErlstSchedldExecStrtDte"], "OpErlstSchedldExecStrtDte", "OpErlstSchedldExecStrtTme");
  if (scheduledStart !== undefined) schedule.scheduledStart = scheduledStart;
  const scheduledEnd = r.timestampOf(row["OpErlstSchedldExecEndDte"], "OpErlstSchedldExecEndDte", "OpErlstSchedldExecEndTme");
  if (scheduledEnd !== undefined) schedule.scheduledEnd = scheduledEnd;
  const actualStart = r.timestampOf(row["OpActualExecutionStartDate"], "OpActualExecutionStartDate", "OpActualExecutionStartTime");
  if (actualStart !== undefined) schedule.actualStart = actualStart;
  const actualEnd = r.timestampOf(row["OpActualExecutionEndDate"], "OpActualExecutionEndDate", "OpActualExecutionEndTime");
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
    revision: r.textOf(row["LastChangeDateTime"], "LastChangeDateTime"),
    start: actualStart,
    end: actualEnd,
    finished: status === "cancelled" || actualEnd !== undefined,
  };
}

function mapComponent(ctx: Ctx, nav: NavigationRow): WorkOrderComponent | undefined {
  const row = nav.row;
  const r = createRowReader(nav, ctx.config.timeZone, ctx.issues);
  if (r.flagOf(row["MatlCompIsMarkedForDeletion"], "MatlCompIsMarkedForDeletion")) return undefined;
  const reservation = r.textOf(row["Reservation"], "Reservation", true);
  const item = r.textOf(row["ReservationItem"], "ReservationItem", true);
  const material = r.textOf(row["Material"], "Material", true);
  const operationId = r.textOf(row["ManufacturingOrderOperation"], "ManufacturingOrderOperation");
  const unit = resolveUnitAt(ctx.config, r.textOf(row["BaseUnitISOCode"], "BaseUnitISOCode"), r.textOf(row["BaseUnitSAPCode"], "BaseUnitSAPCode"), r.textOf(row["BaseUnit"], "BaseUnit"), r, "BaseUnit", ctx.issues);
  const required = quantity(r.decimalOf(row["RequiredQuantity"], "RequiredQuantity", true), unit);
  const withdrawn = quantity(r.decimalOf(row["WithdrawnQuantity"], "WithdrawnQuantity"), unit);
  const plant = r.textOf(row["Plant"], "Plant");
  const storageLocation = r.textOf(row["StorageLocation"], "StorageLocation");
  const batch = r.textOf(row["Batch"], "Batch");
  const backflush = r.flagOf(row["MatlCompIsMarkedForBackflush"], "MatlCompIsMarkedForBackflush");
  const finallyIssued = r.flagOf(row["ReservationIsFinallyIssued"], "ReservationIsFinallyIssued");
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
 * @returns the WorkOrder (valid by `parseWorkOrder`'s schema and rules: a cheap check accepts the
 *   orders it knows are valid, `parseWorkOrder` decides the rest), or the wire issues / the model error
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
  const orderRaw = r.textOf(record["ManufacturingOrder"], "ManufacturingOrder", true);
  const orderId = orderRaw === undefined ? undefined : alphaToExternal(orderRaw);
  const plant = r.textOf(record["ProductionPlant"], "ProductionPlant", true);
  const material = r.textOf(record["Material"], "Material", true);
  const orderType = r.textOf(record["ManufacturingOrderType"], "ManufacturingOrderType");
  // The ORDER_FLAGS, read with constant keys (and the object built in one literal, in that order).
  const flags: Record<string, boolean> = {
    OrderIsCreated: r.flagOf(record["OrderIsCreated"], "OrderIsCreated"),
    OrderIsReleased: r.flagOf(record["OrderIsReleased"], "OrderIsReleased"),
    OrderIsPartiallyReleased: r.flagOf(record["OrderIsPartiallyReleased"], "OrderIsPartiallyReleased"),
    OrderIsConfirmed: r.flagOf(record["OrderIsConfirmed"], "OrderIsConfirmed"),
    OrderIsPartiallyConfirmed: r.flagOf(record["OrderIsPartiallyConfirmed"], "OrderIsPartiallyConfirmed"),
    OrderIsDelivered: r.flagOf(record["OrderIsDelivered"], "OrderIsDelivered"),
    OrderIsDeleted: r.flagOf(record["OrderIsDeleted"], "OrderIsDeleted"),
    OrderIsMarkedForDeletion: r.flagOf(record["OrderIsMarkedForDeletion"], "OrderIsMarkedForDeletion"),
    OrderIsLocked: r.flagOf(record["OrderIsLocked"], "OrderIsLocked"),
    OrderIsTechnicallyCompleted: r.flagOf(record["OrderIsTechnicallyCompleted"], "OrderIsTechnicallyCompleted"),
    OrderIsClosed: r.flagOf(record["OrderIsClosed"], "OrderIsClosed"),
  };
  if (!ORDER_FLAGS.some((f) => record[f] !== undefined)) {
    // Without the flags every order would look planned: the status rows' short texts cannot stand in (they are in the logon language).
    ctx.issues.push(issue("missing_property", `${path}/OrderIsReleased`, undefined, `the status flags (${ORDER_FLAGS.join(", ")}) are required to derive the status; do not $select them away`));
  }
  const unit = resolveUnitAt(config, r.textOf(record["ProductionUnitISOCode"], "ProductionUnitISOCode"), r.textOf(record["ProductionUnitSAPCode"], "ProductionUnitSAPCode"), r.textOf(record["ProductionUnit"], "ProductionUnit"), path, "ProductionUnit", ctx.issues);
  const planned = quantity(r.decimalOf(record["TotalQuantity"], "TotalQuantity", true), unit);
  const plannedScrap = quantity(r.decimalOf(record["MfgOrderPlannedScrapQty"], "MfgOrderPlannedScrapQty"), unit);
  const confirmedYield = quantity(r.decimalOf(record["MfgOrderConfirmedYieldQty"], "MfgOrderConfirmedYieldQty"), unit);
  const importance = r.textOf(record["ManufacturingOrderImportance"], "ManufacturingOrderImportance");
  // Plain assignments, in the order the keys are written, instead of spreads (here and below).
  const schedule: Schedule = {};
  const plannedStart = r.timestampOf(record["MfgOrderPlannedStartDate"], "MfgOrderPlannedStartDate", "MfgOrderPlannedStartTime");
  if (plannedStart !== undefined) schedule.plannedStart = plannedStart;
  const plannedEnd = r.timestampOf(record["MfgOrderPlannedEndDate"], "MfgOrderPlannedEndDate", "MfgOrderPlannedEndTime");
  if (plannedEnd !== undefined) schedule.plannedEnd = plannedEnd;
  const scheduledStart = r.timestampOf(record["MfgOrderScheduledStartDate"], "MfgOrderScheduledStartDate", "MfgOrderScheduledStartTime");
  if (scheduledStart !== undefined) schedule.scheduledStart = scheduledStart;
  const scheduledEnd = r.timestampOf(record["MfgOrderScheduledEndDate"], "MfgOrderScheduledEndDate", "MfgOrderScheduledEndTime");
  if (scheduledEnd !== undefined) schedule.scheduledEnd = scheduledEnd;
  const headerRevision = r.textOf(record["LastChangeDateTime"], "LastChangeDateTime");
  const headerStorage = r.textOf(record["StorageLocation"], "StorageLocation");
  const headerUsability = r.textOf(record["InventoryUsabilityCode"], "InventoryUsabilityCode");
  ctx.issues.push(...r.issues);

  const statuses: OrderStatusRow[] = [];
  for (const { row, path: rowPath } of expandedRows(record, "to_ProductionOrderStatus", path, ctx.issues, false) ?? []) {
    const sr = createFieldReader(row, rowPath, config.timeZone, ctx.issues);
    const code = sr.text("StatusCode", true);
    const shortName = sr.text("StatusShortName");
    const isUserStatus = sr.flag("IsUserStatus");
    if (code !== undefined) statuses.push(shortName === undefined ? { code, isUserStatus } : { code, shortName, isUserStatus });
  }

  const opRows = expandedRows(record, "to_ProductionOrderOperation", path, ctx.issues, true) ?? [];
  const compRows = expandedRows(record, "to_ProductionOrderComponent", path, ctx.issues, true) ?? [];
  const mainOps: NavigationRow[] = [];
  for (const op of opRows) if (readText(op.row["ManufacturingOrderSubOperation"]) === undefined) mainOps.push(op);
  // Array.prototype.sort is stable, so equal keys keep the payload's order.
  mainOps.sort(byOperationKey);
  const operations: WorkOrderOperation[] = [];
  const revisions: (string | undefined)[] = [headerRevision];
  let actualStart: string | undefined;
  let actualEnd: string | undefined;
  let allFinished = mainOps.length > 0;
  let startMs = Infinity;
  let endMs = -Infinity;
  for (const nav of mainOps) {
    const m = mapOperation(ctx, nav);
    if (m === undefined) continue;
    operations.push(m.op);
    revisions.push(m.revision);
    if (!m.finished) allFinished = false;
    // The earliest start and the latest end, as Date.parse orders them; two timestamps of the
    // same form and offset are ordered by their text without parsing (NaN: not parsed yet).
    if (m.start !== undefined) {
      if (actualStart !== undefined && comparableAsText(m.start, actualStart)) {
        if (m.start < actualStart) {
          actualStart = m.start;
          startMs = NaN;
        }
      } else {
        const t = Date.parse(m.start);
        if (actualStart !== undefined && Number.isNaN(startMs)) startMs = Date.parse(actualStart);
        if (t < startMs) {
          startMs = t;
          actualStart = m.start;
        }
      }
    }
    if (m.end !== undefined) {
      if (actualEnd !== undefined && comparableAsText(m.end, actualEnd)) {
        if (m.end > actualEnd) {
          actualEnd = m.end;
          endMs = NaN;
        }
      } else {
        const t = Date.parse(m.end);
        if (actualEnd !== undefined && Number.isNaN(endMs)) endMs = Date.parse(actualEnd);
        if (t > endMs) {
          endMs = t;
          actualEnd = m.end;
        }
      }
    }
  }
  const components: WorkOrderComponent[] = [];
  for (const nav of compRows) {
    const c = mapComponent(ctx, nav);
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
  if (actualStart !== undefined) schedule.actualStart = actualStart;
  if (allFinished && actualEnd !== undefined) schedule.actualEnd = actualEnd;
  const priority = importance === undefined ? undefined : config.priorities[importance];
  // Keys are assigned in the canonical order (the order the spreads this replaces wrote them in).
  const order = { orderId } as WorkOrder;
  if (orderType !== undefined) order.orderType = orderType;
  order.site = { id: plant };
  order.material = { id: material };
  order.status = deriveOrderStatus({ flags, statuses }, config);
  if (statuses.length > 0) order.sourceStatuses = statuses.slice(0, 64).map((s) => s.shortName ?? s.code);
  order.plannedQuantity = planned;
  if (plannedScrap !== undefined) order.plannedScrapQuantity = plannedScrap;
  if (confirmedYield !== undefined) order.confirmedYieldQuantity = confirmedYield;
  if (priority !== undefined) order.priority = priority;
  const fullSchedule = cleanSchedule(schedule);
  if (fullSchedule !== undefined) order.schedule = fullSchedule;
  if (outputBatch !== undefined) order.outputBatch = outputBatch;
  if (receivingLocation !== undefined) order.receivingLocation = receivingLocation;
  order.operations = operations;
  order.components = components;
  order.revision = maxRevision(revisions);
  order.sourceRefs = [{ system: config.system, kind: "A_ProductionOrder_2", key: `ManufacturingOrder=${orderId}` }];
  const extensions = collectExtensions(config, record, []);
  if (extensions !== undefined) order.extensions = extensions;
  // The orders the mapper builds from good data pass this cheap check; anything else (and every
  // invalid order) gets parseWorkOrder's full validation and its error.
  if (isCheckedWorkOrder(order)) return ok(order);
  return parseWorkOrder(order).mapErr(invalidEntity);
}
