// Builders of canonical events for the alignment tests: each fact at `minutes` after T0.
import { createEvent, type CanonicalEvent } from "@millwright/events";
import type { EventDataMap, EventType } from "@millwright/model";
import { buildProductionConfirmation, buildProductionCount, buildQualityHold, buildWorkOrder } from "@millwright/testing";

export const T0 = Date.parse("2026-03-02T06:00:00Z");
export const MINUTE = 60_000;
export const at = (minutes: number): string => new Date(T0 + minutes * MINUTE).toISOString();
export const SAP = "urn:millwright:sap:S4PCLNT100";
export const MES = "urn:millwright:mes:line-fab";

function make<TType extends EventType>(type: TType, data: EventDataMap[TType], minutes: number, source: string): CanonicalEvent {
  const created = createEvent({ type, source, time: at(minutes), data });
  if (created.isErr()) throw new Error(`fixture ${type}: ${created.error.message}`);
  return created.value as CanonicalEvent;
}

const revision = (minutes: number): string => String(20260302000000 + Math.round(minutes * 100));

export const released = (orderId: string, minutes: number): CanonicalEvent =>
  make("dev.millwright.workorder.released.v1", buildWorkOrder({ orderId, status: "released", revision: revision(minutes) }), minutes, SAP);

export const started = (orderId: string, minutes: number): CanonicalEvent =>
  make("dev.millwright.workorder.started.v1", buildWorkOrder({ orderId, status: "in_progress", revision: revision(minutes) }), minutes, MES);

export const completed = (orderId: string, minutes: number): CanonicalEvent =>
  make("dev.millwright.workorder.completed.v1", buildWorkOrder({ orderId, status: "completed", revision: revision(minutes) }), minutes, MES);

export const confirmed = (options: { orderId: string; n: number; yieldValue: string; isFinal: boolean; minutes: number }): CanonicalEvent =>
  make(
    "dev.millwright.productionconfirmation.confirmed.v1",
    buildProductionConfirmation({
      confirmationId: `${options.orderId}/${String(options.n).padStart(8, "0")}`,
      order: { orderId: options.orderId, operationId: "0020" },
      yieldQuantity: { value: options.yieldValue, unit: "H87" },
      isFinal: options.isFinal,
      revision: String(options.n),
    }),
    options.minutes,
    SAP,
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
