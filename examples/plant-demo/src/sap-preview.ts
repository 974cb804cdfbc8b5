/**
 * A deliberately small preview of the SAP mapping, enough for the demo's first stage: one
 * A_ProductionOrder_2 with its operations and components (OData V2 JSON) to a canonical WorkOrder.
 * The real adapter, with every wire-format rule, status priority table and unit table, is
 * @millwright/adapter-sap; this file goes away when it lands.
 */
import type { WorkOrder, WorkOrderStatus } from "@millwright/model";

/** What the mapping needs to know about the plant: never guessed. */
export interface PlantConfig {
  readonly logicalSystem: string;
  readonly timeZone: string;
}

type ODataRecord = Record<string, unknown>;

const SAP_DATE = /^\/Date\((-?\d+)(?:[+-]\d{4})?\)\/$/;
const SAP_TIME = /^PT(\d{2})H(\d{2})M(\d{2})S$/;

/** Offset of an IANA time zone at an instant, in minutes east of UTC. */
function offsetMinutes(timeZone: string, utcMs: number): number {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  }).formatToParts(new Date(utcMs));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const local = Date.UTC(get("year"), get("month") - 1, get("day"), get("hour"), get("minute"), get("second"));
  return Math.round((local - utcMs) / 60_000);
}

/** SAP Edm.DateTime (a date at UTC midnight) + Edm.Time (plant local time) → RFC 3339 with offset. */
export function sapDateTime(date: unknown, time: unknown, timeZone: string): string | undefined {
  const d = typeof date === "string" ? SAP_DATE.exec(date) : null;
  const t = typeof time === "string" ? SAP_TIME.exec(time) : null;
  if (d === null || t === null) return undefined;
  const wallMs = Number(d[1]) + ((Number(t[1]) * 60 + Number(t[2])) * 60 + Number(t[3])) * 1000;
  // The wall time is local to the plant: find the offset that maps it to itself.
  let offset = offsetMinutes(timeZone, wallMs);
  offset = offsetMinutes(timeZone, wallMs - offset * 60_000);
  const sign = offset < 0 ? "-" : "+";
  const abs = Math.abs(offset);
  const hh = String(Math.floor(abs / 60)).padStart(2, "0");
  const mm = String(abs % 60).padStart(2, "0");
  return `${new Date(wallMs).toISOString().slice(0, 19)}${sign}${hh}:${mm}`;
}

const flag = (r: ODataRecord, name: string) => r[name] === "X";

/**
 * SAP's ISO unit codes are mostly Rec 20 codes already; a few are older ISO 31 codes. The demo's
 * table maps those (the adapter makes this table configuration).
 */
const TO_REC20: Readonly<Record<string, string>> = { PCE: "H87", ST: "H87", PC: "H87", M: "MTR", KG: "KGM" };
const unitOf = (iso: unknown, sap: unknown): string => {
  const code = String(iso ?? sap);
  return TO_REC20[code] ?? code;
};

/** One canonical status from SAP's multi-valued status flags, by explicit priority. */
function orderStatus(r: ODataRecord): WorkOrderStatus {
  if (flag(r, "OrderIsMarkedForDeletion")) return "cancelled";
  if (flag(r, "OrderIsClosed")) return "closed";
  if (flag(r, "OrderIsTechnicallyCompleted") || flag(r, "OrderIsConfirmed")) return "completed";
  if (flag(r, "OrderIsLocked")) return "on_hold";
  if (flag(r, "OrderIsPartiallyConfirmed")) return "in_progress";
  if (flag(r, "OrderIsReleased")) return "released";
  return "planned";
}

const SYSTEM_STATUS: Readonly<Record<string, string>> = {
  OrderIsCreated: "CRTD",
  OrderIsReleased: "REL",
  OrderIsPartiallyConfirmed: "PCNF",
  OrderIsConfirmed: "CNF",
  OrderIsTechnicallyCompleted: "TECO",
  OrderIsClosed: "CLSD",
  OrderIsMarkedForDeletion: "DLFL",
};

function results(value: unknown): ODataRecord[] {
  const r = (value as { results?: unknown } | undefined)?.results;
  return Array.isArray(r) ? (r as ODataRecord[]) : [];
}

/**
 * Maps an OData V2 `A_ProductionOrder_2` response (`{ d: … }`) to a WorkOrder candidate. The
 * result is untrusted until `parseWorkOrder` says otherwise: mapping never validates.
 */
export function productionOrderToWorkOrder(response: unknown, plant: PlantConfig): unknown {
  const r = ((response as { d?: unknown }).d ?? {}) as ODataRecord;
  const site = { id: String(r["ProductionPlant"]) };
  const unit = unitOf(r["ProductionUnitISOCode"], r["ProductionUnit"]);
  const qty = (value: unknown, u: string) => ({ value: String(value), unit: u });
  return {
    orderId: r["ManufacturingOrder"],
    orderType: r["ManufacturingOrderType"],
    site,
    material: { id: r["Material"] },
    status: orderStatus(r),
    sourceStatuses: Object.entries(SYSTEM_STATUS).filter(([f]) => flag(r, f)).map(([, code]) => code),
    plannedQuantity: qty(r["TotalQuantity"], unit),
    plannedScrapQuantity: qty(r["MfgOrderPlannedScrapQty"], unit),
    confirmedYieldQuantity: qty(r["MfgOrderConfirmedYieldQty"], unit),
    schedule: {
      plannedStart: sapDateTime(r["MfgOrderPlannedStartDate"], r["MfgOrderPlannedStartTime"], plant.timeZone),
      plannedEnd: sapDateTime(r["MfgOrderPlannedEndDate"], r["MfgOrderPlannedEndTime"], plant.timeZone),
    },
    operations: results(r["to_ProductionOrderOperation"]).map((op) => ({
      operationId: op["ManufacturingOrderOperation"],
      description: op["MfgOrderOperationText"],
      workCenter: { id: op["WorkCenter"], level: "work_center", site },
      status: op["OperationIsConfirmed"] === "X" ? "completed" : op["OperationIsReleased"] === "X" ? "released" : "planned",
      plannedQuantity: qty(op["OpPlannedTotalQuantity"], unitOf(op["OperationUnitISOCode"], op["OperationUnit"])),
    })),
    components: results(r["to_ProductionOrderComponent"]).map((c) => ({
      itemId: `${String(c["Reservation"])}/${String(c["ReservationItem"])}`,
      material: { id: c["Material"] },
      operationId: c["ManufacturingOrderOperation"],
      requiredQuantity: qty(c["RequiredQuantity"], unitOf(c["BaseUnitISOCode"], c["BaseUnit"])),
      withdrawnQuantity: qty(c["WithdrawnQuantity"], unitOf(c["BaseUnitISOCode"], c["BaseUnit"])),
      supplyLocation: { site: { id: c["Plant"] }, storageLocation: c["StorageLocation"], stockType: "unrestricted" },
      backflush: c["MatlCompIsMarkedForBackflush"],
      finallyIssued: c["ReservationIsFinallyIssued"],
    })),
    revision: r["LastChangeDateTime"],
    sourceRefs: [{ system: plant.logicalSystem, kind: "A_ProductionOrder_2", key: `ManufacturingOrder=${String(r["ManufacturingOrder"])}` }],
    extensions: { sap: { ZZ1_ShiftModel_ORD: r["ZZ1_ShiftModel_ORD"] ?? null } },
  };
}
