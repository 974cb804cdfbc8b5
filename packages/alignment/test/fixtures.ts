// Builders of canonical events for the alignment tests: each fact at `minutes` after T0.
import { createEvent, type CanonicalEvent } from "@millwright/events";
import { expect } from "vitest";
import { createEngine } from "../src/engine.js";
import type { Finding } from "../src/finding.js";
import type { AlignmentRule } from "../src/rule.js";
import type { EventDataMap, EventType } from "@millwright/model";
import { buildBatch, buildProductionConfirmation, buildProductionCount, buildQualityHold, buildWorkOrder } from "@millwright/testing";

export const T0 = Date.parse("2026-03-02T06:00:00Z");
export const MINUTE = 60_000;
export const at = (minutes: number): string => new Date(T0 + minutes * MINUTE).toISOString();
export const SAP = "urn:millwright:sap:S4PCLNT100";

/** Runs the rules over the events in a fresh engine (every event must be taken) and evaluates at T0 + minutes. */
export function run(rules: readonly AlignmentRule[], events: readonly CanonicalEvent[], nowMinutes: number): readonly Finding[] {
  const engine = createEngine({ rules });
  for (const e of events) expect(engine.ingest(e).isOk()).toBe(true);
  return engine.evaluate(T0 + nowMinutes * MINUTE);
}

/** Findings in brief, for readable expectations: kind, rule, key, lateness in minutes, reasons or resolution, difference. */
export const brief = (findings: readonly Finding[]) =>
  findings.map((f) => ({
    kind: f.kind,
    rule: f.rule,
    key: f.key,
    latenessMin: f.latenessMs / MINUTE,
    ...(f.kind === "breached" ? { reasons: f.reasons } : { resolution: f.resolution }),
    ...(f.quantityDifference === undefined ? {} : { diff: f.quantityDifference }),
  }));
export const MES = "urn:millwright:mes:line-fab";

function make<TType extends EventType>(type: TType, data: EventDataMap[TType], minutes: number, source: string): CanonicalEvent {
  const created = createEvent({ type, source, time: at(minutes), data });
  if (created.isErr()) throw new Error(`fixture ${type}: ${created.error.message}`);
  return created.value as CanonicalEvent;
}

const revision = (minutes: number): string => String(20260302000000 + Math.round(minutes * 100));

export const released = (orderId: string, minutes: number, source = SAP): CanonicalEvent =>
  make("dev.millwright.workorder.released.v1", buildWorkOrder({ orderId, status: "released", revision: revision(minutes) }), minutes, source);

export const started = (orderId: string, minutes: number, source = MES): CanonicalEvent =>
  make("dev.millwright.workorder.started.v1", buildWorkOrder({ orderId, status: "in_progress", revision: revision(minutes) }), minutes, source);

export const completed = (orderId: string, minutes: number): CanonicalEvent =>
  make("dev.millwright.workorder.completed.v1", buildWorkOrder({ orderId, status: "completed", revision: revision(minutes) }), minutes, MES);

/** A confirmation in the ERP; with `reverses` (a confirmationId), the cancellation of that confirmation. */
export const confirmed = (options: { orderId: string; n: number; yieldValue: string; isFinal: boolean; minutes: number; reverses?: string; source?: string }): CanonicalEvent =>
  make(
    "dev.millwright.productionconfirmation.confirmed.v1",
    buildProductionConfirmation({
      confirmationId: `${options.orderId}/${String(options.n).padStart(8, "0")}`,
      order: { orderId: options.orderId, operationId: "0020" },
      yieldQuantity: { value: options.yieldValue, unit: "H87" },
      isFinal: options.isFinal,
      revision: String(options.n),
      ...(options.reverses === undefined ? {} : { reverses: options.reverses }),
    }),
    options.minutes,
    options.source ?? SAP,
  );

export const counted = (orderId: string, good: string, minutes: number, equipment = "WELD01"): CanonicalEvent =>
  make(
    "dev.millwright.productioncount.counted.v1",
    buildProductionCount({
      equipment: { id: equipment },
      order: { orderId, operationId: "0020" },
      goodQuantity: { value: good, unit: "H87" },
      windowStart: at(minutes - 1),
      windowEnd: at(minutes),
      revision: String((T0 + minutes * MINUTE) * 1000),
    }),
    minutes,
    MES,
  );

export const holdPlaced = (holdId: string, minutes: number): CanonicalEvent =>
  make("dev.millwright.qualityhold.placed.v1", buildQualityHold({ holdId, status: "placed", placedAt: at(minutes), revision: revision(minutes) }), minutes, SAP);

export const holdEnded = (holdId: string, minutes: number, status: "released" | "rejected" | "cancelled" = "released"): CanonicalEvent =>
  make(
    "dev.millwright.qualityhold.released.v1",
    buildQualityHold({
      holdId,
      status,
      placedAt: at(0),
      revision: revision(minutes),
      ...(status === "cancelled" ? {} : { disposition: { decision: status === "released" ? "use" : "scrap", decidedAt: at(minutes) } }),
    }),
    minutes,
    SAP,
  );

export const holdPlacedOnOrder = (holdId: string, orderId: string, minutes: number): CanonicalEvent =>
  make(
    "dev.millwright.qualityhold.placed.v1",
    { ...buildQualityHold({ holdId, status: "placed", placedAt: at(minutes), revision: revision(minutes) }), scope: { kind: "order", order: { orderId } } },
    minutes,
    SAP,
  );

/**
 * A shift of four work orders for the report tests, judged at its last event (9 h after T0):
 * 1000123 on time and confirmed with the counted yield; 1000124 started 1 h 05 min late and
 * confirmed 2 short of the count, with a quality hold; 1000125 released and never started
 * (4 h late at the end); 1000126 and 1000127 released late in the shift, still open.
 */
export function shiftScenario(): CanonicalEvent[] {
  const h = 60;
  return [
    released("1000123", 0),
    released("1000124", 0),
    started("1000123", 30),
    counted("1000123", "10", 1 * h),
    released("1000125", 1 * h),
    counted("1000123", "10", 1.5 * h),
    counted("1000123", "10", 2 * h),
    completed("1000123", 2.5 * h),
    confirmed({ orderId: "1000123", n: 1, yieldValue: "30", isFinal: true, minutes: 3 * h }),
    started("1000124", 4 * h + 65),
    counted("1000124", "15", 5.5 * h),
    counted("1000124", "15", 6 * h),
    completed("1000124", 6 * h),
    confirmed({ orderId: "1000124", n: 1, yieldValue: "28", isFinal: true, minutes: 6.5 * h }),
    holdPlacedOnOrder("H-0001", "1000124", 6.75 * h),
    released("1000126", 7 * h),
    released("1000127", 9 * h),
  ];
}

// Stock facts for the goods movement and blocking rules: one batch FG126/B260302A at plant 1710.
export const WMS = "urn:millwright:wms:dc-1710";
export const QMS = "urn:millwright:qms:1710";
const plant = { id: "1710" };
let documents = 0;
const documentId = (): string => `2026/49${String(++documents).padStart(8, "0")}/0001`;
type Movement = EventDataMap["dev.millwright.materialmovement.posted.v1"];
/** A movement record; createEvent checks it against the schema and the rules. */
const movementOf = (fields: Omit<Movement, "postingDate" | "revision" | "sourceRefs">): Movement => ({
  postingDate: "2026-03-02",
  revision: "0",
  sourceRefs: [{ system: "S4PCLNT100", kind: "A_MaterialDocumentItem", key: fields.movementId }],
  ...fields,
});

/**
 * Material consumed for an order: reported by the floor (MES) or issued by the ERP (SAP 261); a
 * reversal (SAP 262) with `reversal`, naming the movement it reverses with `reverses`.
 */
export const consumed = (options: { orderId: string; material?: string; value: string; minutes: number; by: "floor" | "erp"; unit?: string; id?: string; reversal?: boolean; reverses?: string }): CanonicalEvent =>
  make(
    "dev.millwright.materialmovement.posted.v1",
    movementOf({
      movementId: options.id ?? (options.by === "erp" ? documentId() : `MES-${options.orderId}-${options.minutes}`),
      kind: "consumed",
      ...(options.by === "erp" ? { sourceMovementType: options.reversal === true ? "262" : "261" } : {}),
      ...(options.reversal === true ? { isReversal: true } : {}),
      ...(options.reverses === undefined ? {} : { reverses: options.reverses }),
      material: { id: options.material ?? "RM10" },
      quantity: { value: options.value, unit: options.unit ?? "MTR" },
      from: { site: plant, storageLocation: "171B", stockType: "unrestricted" },
      order: { orderId: options.orderId },
    }),
    options.minutes,
    options.by === "erp" ? SAP : MES,
  );

/** A batch the floor produced for an order. */
export const batchProduced = (batchId: string, value: string | undefined, minutes: number, orderId = "1000123"): CanonicalEvent =>
  make(
    "dev.millwright.batch.created.v1",
    buildBatch({ batchId, disposition: "unrestricted", originOrder: { orderId }, ...(value === undefined ? {} : { quantity: { value, unit: "H87" } }), revision: revision(minutes) }),
    minutes,
    MES,
  );

/** The ERP's goods receipt of a batch (SAP 101), or its reversal (SAP 102) naming the receipt it reverses. */
export const goodsReceipt = (batchId: string, value: string, minutes: number, options: { id?: string; reverses?: string } = {}): CanonicalEvent =>
  make(
    "dev.millwright.materialmovement.posted.v1",
    movementOf({
      movementId: options.id ?? documentId(),
      kind: "produced",
      sourceMovementType: options.reverses === undefined ? "101" : "102",
      ...(options.reverses === undefined ? {} : { isReversal: true, reverses: options.reverses }),
      material: { id: "FG126" },
      batchId,
      quantity: { value, unit: "H87" },
      to: { site: plant, storageLocation: "171A", stockType: "unrestricted" },
      order: { orderId: "1000123" },
    }),
    minutes,
    SAP,
  );

/** A batch placed on quality hold (batch scope, quality inspection stock). */
export const batchHoldPlaced = (holdId: string, batchId: string, minutes: number): CanonicalEvent =>
  make(
    "dev.millwright.qualityhold.placed.v1",
    buildQualityHold({ holdId, scope: { kind: "batch", batch: { material: { id: "FG126" }, batchId, site: plant } }, placedAt: at(minutes), revision: revision(minutes) }),
    minutes,
    QMS,
  );

/** A batch hold released for use. */
export const batchHoldReleased = (holdId: string, batchId: string, minutes: number, status: "released" | "rejected" = "released"): CanonicalEvent =>
  make(
    "dev.millwright.qualityhold.released.v1",
    buildQualityHold({
      holdId,
      status,
      scope: { kind: "batch", batch: { material: { id: "FG126" }, batchId, site: plant } },
      placedAt: at(0),
      disposition: { decision: status === "released" ? "use" : "scrap", decidedAt: at(minutes) },
      revision: revision(minutes),
    }),
    minutes,
    QMS,
  );

/** A stock status change of a batch in the ERP (SAP 321/343/349) or the WMS. */
export const stockStatus = (batchId: string, to: "blocked" | "quality_inspection" | "unrestricted", minutes: number, by: "erp" | "wms"): CanonicalEvent =>
  make(
    "dev.millwright.materialmovement.posted.v1",
    movementOf({
      movementId: by === "erp" ? documentId() : `WMS-${batchId}-${minutes}`,
      kind: "status_changed",
      // SAP: 321 quality inspection → unrestricted, 322 unrestricted → quality inspection, 344 unrestricted → blocked.
      ...(by === "erp" ? { sourceMovementType: to === "unrestricted" ? "321" : to === "quality_inspection" ? "322" : "344" } : {}),
      material: { id: "FG126" },
      batchId,
      quantity: { value: "118", unit: "H87" },
      from: { site: plant, storageLocation: "171A", stockType: to === "unrestricted" ? "quality_inspection" : "unrestricted" },
      to: { site: plant, storageLocation: "171A", stockType: to },
    }),
    minutes,
    by === "erp" ? SAP : WMS,
  );
