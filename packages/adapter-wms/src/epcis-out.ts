// Canonical records → EPCIS 2.0 documents; every event's eventID is its EPCIS event hash.
import type {
  Batch,
  MaterialMovement,
  MaterialRef,
  ProductionConfirmation,
  QualityHold,
  Quantity,
  StockLocation,
  StockType,
} from "@millwright/model";
import { err, ok, type Result } from "neverthrow";
import type { CanonicalRecord } from "./epcis-in.js";
import { toEpcisEventHash } from "./epcis-hash.js";
import {
  EPCIS_CONTEXT,
  MILLWRIGHT_EPCIS_NAMESPACE,
  toOrderTransaction,
  toPrivateClass,
  toPrivateLocation,
  type Place,
} from "./epcis-vocabulary.js";
import { toLotClass } from "./gs1-keys.js";

/** A canonical record EPCIS out accepts: what EPCIS in produces, plus production confirmations. */
export type EpcisOutRecord = CanonicalRecord | { readonly entity: "ProductionConfirmation"; readonly value: ProductionConfirmation };

/** How canonical references become EPCIS identifiers. */
export interface EpcisOutConfig {
  /** The document's creationDate (RFC 3339). Given, never taken from the clock, so output is deterministic. */
  readonly creationDate: string;
  /**
   * The location identifier of a place (an SGLN or its Digital Link), when it has one; otherwise
   * Millwright's `urn:millwright:location:…`.
   */
  readonly locationId?: (place: Place) => string | undefined;
}

/** Why a record has no EPCIS event. */
export interface EpcisOutError {
  readonly code: "no_epcis_meaning" | "missing_time" | "missing_quantity";
  /** The index of the record in the input and the JSON Pointer of the offending field. */
  readonly index: number;
  readonly path: string;
  readonly message: string;
  readonly value?: unknown;
}

/** An EPCIS 2.0 document as plain JSON. */
export interface EpcisDocument {
  readonly "@context": readonly (string | Readonly<Record<string, string>>)[];
  readonly type: "EPCISDocument";
  readonly schemaVersion: "2.0";
  readonly creationDate: string;
  readonly epcisBody: { readonly eventList: readonly Readonly<Record<string, unknown>>[] };
}

const MW = "mw";
// The document context and the hash must agree on every prefix the events use.
const NAMESPACES: Readonly<Record<string, string>> = { [MW]: MILLWRIGHT_EPCIS_NAMESPACE, cbvmda: "urn:epcglobal:cbv:mda:" };

type Event = Record<string, unknown>;

function classOf(material: MaterialRef, batchId?: string): string {
  return material.gtin !== undefined ? toLotClass(material.gtin, batchId) : toPrivateClass(material, batchId);
}

function quantityElement(material: MaterialRef, batchId: string | undefined, quantity: Quantity | undefined): Event {
  return {
    epcClass: classOf(material, batchId),
    ...(quantity !== undefined ? { quantity: Number(quantity.value), uom: quantity.unit } : {}),
  };
}

function offsetOf(timestamp: string): string {
  const m = /([+-]\d{2}:\d{2}|Z)$/.exec(timestamp);
  return m?.[1] === undefined || m[1] === "Z" ? "+00:00" : m[1];
}

function timeOf(timestamp: string): Event {
  return { eventTime: timestamp, eventTimeZoneOffset: offsetOf(timestamp) };
}

class Fail extends Error {
  constructor(readonly error: Omit<EpcisOutError, "index">) {
    super(error.message);
  }
}

function revisionTime(revision: string, path: string): string {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{3})?$/.exec(revision);
  if (m === null) {
    throw new Fail({ code: "missing_time", path, message: `${path}: a batch without a UTC YYYYMMDDhhmmss revision has no event time`, value: revision });
  }
  return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${m[7] !== undefined ? `.${m[7]}` : ""}Z`;
}

function dispositionFor(stockType: StockType): string {
  return stockType === "blocked" ? "non_conformant" : stockType === "quality_inspection" ? "unavailable" : "available";
}

function orderList(orderId: string | undefined): Event {
  return orderId === undefined ? {} : { bizTransactionList: [{ type: "prodorder", bizTransaction: toOrderTransaction(orderId) }] };
}

class Writer {
  constructor(private readonly config: EpcisOutConfig) {}

  location(place: Place | StockLocation): string {
    const { stockType: _ignored, ...bare } = place as StockLocation;
    return this.config.locationId?.(bare) ?? toPrivateLocation(bare);
  }

  movement(m: MaterialMovement): Event {
    const time = timeOf(m.occurredAt ?? `${m.postingDate}T00:00:00Z`);
    const what = { quantityList: [quantityElement(m.material, m.batchId, m.quantity)] };
    const ext: Event = {
      [`${MW}:movementId`]: m.movementId,
      [`${MW}:postingDate`]: m.postingDate,
      ...(m.sourceMovementType !== undefined ? { [`${MW}:sourceMovementType`]: m.sourceMovementType } : {}),
      ...(m.from !== undefined ? { [`${MW}:fromStockType`]: m.from.stockType } : {}),
      ...(m.to !== undefined ? { [`${MW}:toStockType`]: m.to.stockType } : {}),
    };
    const order = orderList(m.order?.orderId);
    switch (m.kind) {
      case "produced":
        return { type: "ObjectEvent", ...time, ...what, action: "ADD", bizStep: "commissioning", disposition: dispositionFor(m.to?.stockType ?? "unrestricted"), ...this.at(m.to), ...order, ...ext };
      case "consumed":
        // GS1's schema wants outputs or a transformationID beside inputs: consumption for an order
        // is one step of the order's transformation, named by the order.
        return {
          type: "TransformationEvent",
          ...time,
          inputQuantityList: what.quantityList,
          transformationID: m.order !== undefined ? toOrderTransaction(m.order.orderId) : `urn:millwright:movement:${encodeURIComponent(m.movementId)}`,
          ...(m.from !== undefined ? { bizLocation: { id: this.location(m.from) } } : {}),
          ...order,
          ...ext,
        };
      case "transferred":
        return {
          type: "ObjectEvent",
          ...time,
          ...what,
          action: "OBSERVE",
          bizStep: "storing",
          disposition: dispositionFor(m.to?.stockType ?? "unrestricted"),
          ...(m.from !== undefined ? { readPoint: { id: this.location(m.from) }, sourceList: [{ type: "location", source: this.location(m.from) }] } : {}),
          ...this.at(m.to),
          ...order,
          ...ext,
        };
      case "status_changed": {
        const to = m.to?.stockType ?? "unrestricted";
        return {
          type: "ObjectEvent",
          ...time,
          ...what,
          action: "OBSERVE",
          bizStep: to === "unrestricted" ? "inspecting" : "holding",
          disposition: to === "unrestricted" ? "conformant" : dispositionFor(to),
          ...this.at(m.to),
          ...order,
          ...ext,
        };
      }
      case "scrapped":
        return { type: "ObjectEvent", ...time, ...what, action: "DELETE", bizStep: "destroying", disposition: "destroyed", ...this.at(m.from), ...order, ...ext };
      case "adjusted":
        return {
          type: "ObjectEvent",
          ...time,
          ...what,
          action: m.direction === "decrease" ? "DELETE" : "ADD",
          bizStep: "cycle_counting",
          ...this.at(m.direction === "decrease" ? m.from : m.to),
          ...order,
          ...ext,
        };
    }
  }

  at(place: Place | undefined): Event {
    return place === undefined ? {} : { bizLocation: { id: this.location(place) } };
  }

  batch(b: Batch, path: string): Event {
    const time = timeOf(revisionTime(b.revision, `${path}/revision`));
    const disposition = b.disposition === "in_process" ? "in_progress" : b.disposition === "restricted" ? "unavailable" : b.disposition === "closed" ? "disposed" : "active";
    const ilmd: Event = {
      ...(b.expiresOn !== undefined ? { "cbvmda:itemExpirationDate": b.expiresOn } : {}),
      ...(b.countryOfOrigin !== undefined ? { "cbvmda:countryOfOrigin": b.countryOfOrigin } : {}),
    };
    const output = [quantityElement(b.material, b.batchId, b.quantity)];
    const common = {
      disposition,
      ...(b.site !== undefined ? { bizLocation: { id: this.location({ site: b.site }) } } : {}),
      ...orderList(b.originOrder?.orderId),
      ...(Object.keys(ilmd).length > 0 ? { ilmd } : {}),
    };
    if (b.inputs !== undefined && b.inputs.length > 0) {
      return {
        type: "TransformationEvent",
        ...time,
        inputQuantityList: b.inputs.map((i) => quantityElement(i.batch.material, i.batch.batchId, i.quantity)),
        outputQuantityList: output,
        bizStep: "commissioning",
        ...common,
      };
    }
    return { type: "ObjectEvent", ...time, quantityList: output, action: "ADD", bizStep: "commissioning", ...common };
  }

  hold(h: QualityHold, path: string): Event {
    let cls: string;
    let place: Place | undefined;
    if (h.scope.kind === "batch") {
      cls = classOf(h.scope.batch.material, h.scope.batch.batchId);
      place = h.scope.location ?? (h.scope.batch.site !== undefined ? { site: h.scope.batch.site } : undefined);
    } else if (h.scope.kind === "material") {
      cls = classOf(h.scope.material);
      place = { site: h.scope.site, ...(h.scope.storageLocation !== undefined ? { storageLocation: h.scope.storageLocation } : {}) };
    } else {
      if (h.scope.material === undefined) {
        throw new Fail({ code: "no_epcis_meaning", path: `${path}/scope/material`, message: `${path}/scope: an order-scope hold without a material names no EPCIS class`, value: h.scope });
      }
      cls = classOf(h.scope.material);
    }
    const what = { quantityList: [{ epcClass: cls, ...(h.quantity !== undefined ? { quantity: Number(h.quantity.value), uom: h.quantity.unit } : {}) }] };
    const order = h.scope.kind === "order" ? orderList(h.scope.order.orderId) : {};
    const base = { ...what, action: "OBSERVE", ...this.at(place), ...order, [`${MW}:holdId`]: h.holdId };
    if (h.status === "placed") {
      return {
        type: "ObjectEvent",
        ...timeOf(h.placedAt),
        ...base,
        bizStep: "holding",
        disposition: dispositionFor(h.heldStockType === "unrestricted" ? "quality_inspection" : h.heldStockType),
        ...(h.heldStockType === "blocked" ? { persistentDisposition: { set: ["non_conformant"] } } : {}),
        [`${MW}:fromStockType`]: "unrestricted",
        [`${MW}:toStockType`]: h.heldStockType,
        ...(h.reason.text !== undefined ? { [`${MW}:holdReason`]: h.reason.text } : {}),
      };
    }
    if (h.status === "cancelled" || h.disposition === undefined) {
      throw new Fail({ code: "no_epcis_meaning", path: `${path}/status`, message: `${path}/status: a hold withdrawn without a decision has no EPCIS event`, value: h.status });
    }
    const released = h.status === "released";
    return {
      type: "ObjectEvent",
      ...timeOf(h.disposition.decidedAt),
      ...base,
      bizStep: "inspecting",
      disposition: released ? "conformant" : "non_conformant",
      ...(h.heldStockType === "blocked" && released ? { persistentDisposition: { unset: ["non_conformant"] } } : {}),
      [`${MW}:holdPlacedAt`]: h.placedAt,
      [`${MW}:decision`]: h.disposition.decision,
      [`${MW}:fromStockType`]: h.heldStockType,
      [`${MW}:toStockType`]: h.disposition.targetStockType ?? (released ? "unrestricted" : "blocked"),
    };
  }

  confirmation(c: ProductionConfirmation, path: string): Event {
    if (c.outputBatch === undefined) {
      throw new Fail({ code: "no_epcis_meaning", path: `${path}/outputBatch`, message: `${path}/outputBatch: a confirmation without an output batch names no EPCIS class` });
    }
    const time = c.executionEnd ?? c.executionStart ?? `${c.postingDate}T00:00:00Z`;
    // The order's transformation: the same transformationID as the order's consumption.
    return {
      type: "TransformationEvent",
      ...timeOf(time),
      outputQuantityList: [quantityElement(c.outputBatch.material, c.outputBatch.batchId, c.yieldQuantity)],
      transformationID: toOrderTransaction(c.order.orderId),
      bizStep: "commissioning",
      disposition: "active",
      bizLocation: { id: this.location({ site: c.site }) },
      ...orderList(c.order.orderId),
      [`${MW}:confirmationId`]: c.confirmationId,
      [`${MW}:postingDate`]: c.postingDate,
    };
  }
}

/**
 * Writes canonical records as an EPCIS 2.0 document: one event per record, each event's `eventID`
 * its EPCIS event hash, with Millwright's keys (`mw:movementId`, `mw:holdId` …) as extension
 * fields so that reading the document back recovers them. Pure and deterministic.
 *
 * @param records - movements, batches, holds and confirmations
 * @param config - the creation date and the location identifiers
 * @returns the document, or every record that has no EPCIS counterpart
 * @example
 * const doc = toEpcisDocument([{ entity: "MaterialMovement", value: movement }], { creationDate: "2026-03-03T10:00:00Z" });
 */
export function toEpcisDocument(
  records: readonly EpcisOutRecord[],
  config: EpcisOutConfig,
): Result<EpcisDocument, readonly EpcisOutError[]> {
  const writer = new Writer(config);
  const errors: EpcisOutError[] = [];
  const eventList: Event[] = [];
  records.forEach((record, index) => {
    const path = `/${index}/value`;
    try {
      const event =
        record.entity === "MaterialMovement"
          ? writer.movement(record.value)
          : record.entity === "Batch"
            ? writer.batch(record.value, path)
            : record.entity === "QualityHold"
              ? writer.hold(record.value, path)
              : writer.confirmation(record.value, path);
      const hash = toEpcisEventHash(event, { namespaces: NAMESPACES });
      // Our own events are plain JSON: hashing them cannot fail.
      if (hash.isErr()) throw new Error(`EPCIS out built an unhashable event: ${hash.error.message}`);
      const { type, ...rest } = event;
      eventList.push({ type, eventID: hash.value, ...rest });
    } catch (cause) {
      if (!(cause instanceof Fail)) throw cause;
      errors.push({ index, ...cause.error });
    }
  });
  if (errors.length > 0) return err(errors);
  return ok({
    "@context": [EPCIS_CONTEXT, NAMESPACES],
    type: "EPCISDocument",
    schemaVersion: "2.0",
    creationDate: config.creationDate,
    epcisBody: { eventList },
  });
}
