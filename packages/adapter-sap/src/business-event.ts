import { issue, type Issue } from "@millwright/adapter-kit";
import { createEvent, fromTraceHeaders, type CreatedEvent, type EventError } from "@millwright/events";
import { isDateTime, type EventType, type WorkOrderStatus } from "@millwright/model";
import { context as contextApi, SpanKind, type Attributes, type Context } from "@opentelemetry/api";
import { err, ok, ResultAsync, type Result } from "neverthrow";
import type { SapClient, SapClientError } from "./client.js";
import type { SapAdapterConfig } from "./config.js";
import type { SapMappingError } from "./errors.js";
import { mapMaterialDocument } from "./map-material-movement.js";
import { mapInspectionLot } from "./map-quality-hold.js";
import { mapProductionOrder } from "./map-work-order.js";
import { inSpan } from "./trace.js";

/** The parts of a SAP business event type `sap.s4.beh.<object>.<v>.<Entity>.<Action>.<v>`. */
export interface SapEventType {
  readonly object: string;
  readonly objectVersion: string;
  readonly entity: string;
  readonly action: string;
  readonly actionVersion: string;
}

/** A SAP business event as received (CloudEvents attributes; all checked, none trusted). */
export interface SapBusinessEvent {
  readonly specversion?: unknown;
  readonly id?: unknown;
  readonly source?: unknown;
  readonly type?: unknown;
  readonly time?: unknown;
  readonly datacontenttype?: unknown;
  /** W3C Trace Context (CloudEvents distributed tracing extension), when SAP or a broker set it. */
  readonly traceparent?: unknown;
  readonly tracestate?: unknown;
  readonly data?: unknown;
}

/** How the handlers of SAP business events join a trace. */
export interface BusinessEventTraceOptions {
  /**
   * The context to continue when the SAP event carries no valid `traceparent` (an HTTP server
   * span of the webhook, for example); the active context by default, so a new trace starts when
   * there is none.
   */
  readonly context?: Context;
}

/** Why a SAP business event could not be turned into a canonical event. */
export type SapBusinessEventError =
  | Issue<"invalid_business_event">
  | { readonly code: "event_error"; readonly message: string; readonly cause: EventError }
  | SapClientError
  | SapMappingError;

/** The parent of a handler's span: the SAP event's trace context, else the caller's or the active context. */
function parentOf(event: SapBusinessEvent, options: BusinessEventTraceOptions): Context {
  return fromTraceHeaders(event, options.context ?? contextApi.active());
}

/** Span attributes of an incoming SAP event (OpenTelemetry semantic conventions for CloudEvents). */
function eventAttributes(event: SapBusinessEvent, extra: Attributes): Attributes {
  const out: Attributes = { ...extra };
  if (typeof event.id === "string") out["cloudevents.event_id"] = event.id;
  if (typeof event.source === "string") out["cloudevents.event_source"] = event.source;
  if (typeof event.type === "string") out["cloudevents.event_type"] = event.type;
  return out;
}

const TYPE = /^sap\.s4\.beh\.([a-z0-9]+)\.(v\d+)\.([A-Za-z0-9]+)\.([A-Za-z0-9]+)\.(v\d+)$/;

/**
 * Split a SAP business event type such as `sap.s4.beh.productionorder.v1.ProductionOrder.Released.v1`.
 *
 * @param type - the CloudEvents `type` SAP sent
 * @returns its parts, or `invalid_business_event`
 * @example
 * ```ts
 * parseSapEventType("sap.s4.beh.productionorder.v1.ProductionOrder.Released.v1")._unsafeUnwrap().action; // "Released"
 * ```
 */
export function parseSapEventType(type: unknown): Result<SapEventType, SapBusinessEventError> {
  const m = typeof type === "string" ? TYPE.exec(type) : null;
  if (m === null) return err(issue("invalid_business_event", "/type", type, "sap.s4.beh.<object>.v<n>.<Entity>.<Action>.v<n>"));
  const [, object = "", objectVersion = "", entity = "", action = "", actionVersion = ""] = m;
  return ok({ object, objectVersion, entity, action, actionVersion });
}

const WORK_ORDER_TYPES: Readonly<Record<WorkOrderStatus, EventType>> = {
  planned: "dev.millwright.workorder.created.v1",
  released: "dev.millwright.workorder.released.v1",
  in_progress: "dev.millwright.workorder.started.v1",
  on_hold: "dev.millwright.workorder.held.v1",
  completed: "dev.millwright.workorder.completed.v1",
  closed: "dev.millwright.workorder.closed.v1",
  cancelled: "dev.millwright.workorder.cancelled.v1",
};

/** Options for turning SAP production-order business events into canonical events. */
export interface ProductionOrderEventOptions extends BusinessEventTraceOptions {
  /** A client of API_PRODUCTION_ORDER_2_SRV. */
  readonly client: SapClient;
  readonly config: SapAdapterConfig;
  /** The canonical event `source`, e.g. `urn:millwright:sap:S4PCLNT100`. */
  readonly source: string;
  /** The property of the event's `data` that holds the order number (configuration: SAP's event payloads were not verified). */
  readonly keyProperty: string;
}

/**
 * Handle a thin SAP production-order business event (keys only): read the order by key with its
 * operations, components and statuses, map it, and build the canonical work-order event for its
 * status. The event id is derived from the order and its revision, so a redelivered SAP event gives
 * the same canonical id.
 *
 * Tracing: the read runs in a span `sap.productionorder.read`, a child of the SAP event's
 * `traceparent` when it carries one (else of `options.context` or the active context), and the
 * canonical event carries that span as its `traceparent`; the OData request sends it too.
 *
 * @param event - the SAP CloudEvent (`type`, `time`, `data`, and `traceparent` when present)
 * @param options - client, configuration, canonical source, the key property of `data`, and the trace context to fall back on
 * @returns the canonical event, or the first error
 * @example
 * ```ts
 * const event = await handleProductionOrderEvent(sapEvent, { client, config, source: "urn:millwright:sap:S4PCLNT100", keyProperty: "ManufacturingOrder" });
 * ```
 */
export function handleProductionOrderEvent(
  event: SapBusinessEvent,
  options: ProductionOrderEventOptions,
): ResultAsync<CreatedEvent, SapBusinessEventError> {
  const run = async (): Promise<Result<CreatedEvent, SapBusinessEventError>> => {
    const type = parseSapEventType(event.type);
    if (type.isErr()) return err(type.error);
    if (type.value.object !== "productionorder") return err(issue("invalid_business_event", "/type", event.type, "a production order event (sap.s4.beh.productionorder…)"));
    const data = event.data;
    const key = typeof data === "object" && data !== null ? (data as Record<string, unknown>)[options.keyProperty] : undefined;
    if (typeof key !== "string" || !/^[A-Za-z0-9]{1,12}$/.test(key)) {
      return err(issue("invalid_business_event", `/data/${options.keyProperty}`, key, "the order number (String 12)"));
    }
    const attributes = eventAttributes(event, { "millwright.order.id": key });
    return inSpan("sap.productionorder.read", { parent: parentOf(event, options), kind: SpanKind.CONSUMER, attributes }, async (scope) => {
      const row = await options.client.getEntity(
        "A_ProductionOrder_2",
        `'${key}'`,
        { expand: ["to_ProductionOrderOperation", "to_ProductionOrderComponent", "to_ProductionOrderStatus", "to_ProductionOrderItem"] },
        { headers: scope.headers },
      );
      if (row.isErr()) return err(row.error);
      const order = mapProductionOrder(row.value, options.config);
      if (order.isErr()) return err(order.error);
      const revision = order.value.revision;
      const time = typeof event.time === "string" && isDateTime(event.time)
        ? event.time
        : /^\d{14}$/.test(revision)
          ? `${revision.slice(0, 4)}-${revision.slice(4, 6)}-${revision.slice(6, 8)}T${revision.slice(8, 10)}:${revision.slice(10, 12)}:${revision.slice(12, 14)}Z`
          : undefined;
      if (time === undefined) return err(issue("invalid_business_event", "/time", event.time, "an RFC 3339 time, or an order revision YYYYMMDDhhmmss"));
      const created = createEvent({ type: WORK_ORDER_TYPES[order.value.status] as "dev.millwright.workorder.released.v1", source: options.source, data: order.value, time, ...scope.trace });
      return created.mapErr((cause): SapBusinessEventError => ({ code: "event_error", message: cause.message, cause }));
    });
  };
  return new ResultAsync(run());
}

/** Options for turning SAP material-document business events into canonical events. */
export interface MaterialDocumentEventOptions extends BusinessEventTraceOptions {
  /** A client of API_MATERIAL_DOCUMENT_SRV. */
  readonly client: SapClient;
  readonly config: SapAdapterConfig;
  /** The canonical event `source`, e.g. `urn:millwright:sap:S4PCLNT100`. */
  readonly source: string;
}

const DOCUMENT = /^[0-9A-Za-z]{1,10}$/;
const YEAR = /^\d{4}$/;

/**
 * Handle a thin SAP material-document business event
 * (`sap.s4.beh.materialdocument.v1.MaterialDocument.Created.v1`, whose data are the keys
 * `MaterialDocument` and `MaterialDocumentYear`): read the document with its items, map every item,
 * and build one canonical event per item (`…materialmovement.posted.v1`, or `…reversed.v1` for a
 * reversal posting). Ids derive from the movement, so a redelivered SAP event gives the same ids.
 * Traced like {@link handleProductionOrderEvent}, in a span `sap.materialdocument.read`.
 *
 * @param event - the SAP CloudEvent (`type`, `time`, `data`)
 * @param options - client, configuration and canonical source
 * @returns the canonical events in item order, or the first error
 * @example
 * ```ts
 * const events = await handleMaterialDocumentEvent(sapEvent, { client, config, source: "urn:millwright:sap:S4PCLNT100" });
 * ```
 */
export function handleMaterialDocumentEvent(
  event: SapBusinessEvent,
  options: MaterialDocumentEventOptions,
): ResultAsync<readonly CreatedEvent[], SapBusinessEventError> {
  const run = async (): Promise<Result<readonly CreatedEvent[], SapBusinessEventError>> => {
    const type = parseSapEventType(event.type);
    if (type.isErr()) return err(type.error);
    if (type.value.object !== "materialdocument") {
      return err(issue("invalid_business_event", "/type", event.type, "a material document event (sap.s4.beh.materialdocument…)"));
    }
    const data = (typeof event.data === "object" && event.data !== null ? event.data : {}) as Record<string, unknown>;
    const document = data["MaterialDocument"];
    const year = data["MaterialDocumentYear"];
    if (typeof document !== "string" || !DOCUMENT.test(document)) {
      return err(issue("invalid_business_event", "/data/MaterialDocument", document, "the material document number (String 10)"));
    }
    if (typeof year !== "string" || !YEAR.test(year)) return err(issue("invalid_business_event", "/data/MaterialDocumentYear", year, "the material document year (String 4)"));
    const attributes = eventAttributes(event, { "millwright.materialdocument.id": `${year}/${document}` });
    return inSpan("sap.materialdocument.read", { parent: parentOf(event, options), kind: SpanKind.CONSUMER, attributes }, async (scope) => {
      const row = await options.client.getEntity(
        "A_MaterialDocumentHeader",
        `MaterialDocumentYear='${year}',MaterialDocument='${document}'`,
        { expand: ["to_MaterialDocumentItem"] },
        { headers: scope.headers },
      );
      if (row.isErr()) return err(row.error);
      const movements = mapMaterialDocument(row.value, options.config);
      if (movements.isErr()) return err(movements.error);
      const events: CreatedEvent[] = [];
      for (const movement of movements.value) {
        const time = movement.occurredAt ?? (typeof event.time === "string" && isDateTime(event.time) ? event.time : `${movement.postingDate}T00:00:00Z`);
        const created = createEvent({
          type: movement.isReversal === true ? "dev.millwright.materialmovement.reversed.v1" : "dev.millwright.materialmovement.posted.v1",
          source: options.source,
          data: movement,
          time,
          ...scope.trace,
        });
        if (created.isErr()) return err({ code: "event_error", message: created.error.message, cause: created.error });
        events.push(created.value);
      }
      return ok(events);
    });
  };
  return new ResultAsync(run());
}

/** Options for turning SAP inspection-lot business events into canonical events. */
export interface InspectionLotEventOptions extends BusinessEventTraceOptions {
  /** A client of API_INSPECTIONLOT_SRV. */
  readonly client: SapClient;
  readonly config: SapAdapterConfig;
  /** The canonical event `source`, e.g. `urn:millwright:sap:S4PCLNT100`. */
  readonly source: string;
}

const INSPECTION_LOT = /^\d{1,12}$/;

/**
 * Handle a thin SAP inspection-lot business event (`sap.s4.beh.inspectionlot.v1.InspectionLot.Created.v1`,
 * `…Changed.v1`, `…Canceled.v1`; data: the key `InspectionLot`): read the lot and, once decided, its
 * usage decision, map them to a QualityHold, and build the canonical hold event for its status
 * (`…qualityhold.placed.v1`, or `…qualityhold.released.v1` when released, rejected or cancelled).
 * Traced like {@link handleProductionOrderEvent}, in a span `sap.inspectionlot.read`.
 *
 * @param event - the SAP CloudEvent (`type`, `time`, `data`)
 * @param options - client, configuration and canonical source
 * @returns the canonical event, or the first error
 * @example
 * ```ts
 * const event = await handleInspectionLotEvent(sapEvent, { client, config, source: "urn:millwright:sap:S4PCLNT100" });
 * ```
 */
export function handleInspectionLotEvent(event: SapBusinessEvent, options: InspectionLotEventOptions): ResultAsync<CreatedEvent, SapBusinessEventError> {
  const run = async (): Promise<Result<CreatedEvent, SapBusinessEventError>> => {
    const type = parseSapEventType(event.type);
    if (type.isErr()) return err(type.error);
    if (type.value.object !== "inspectionlot") return err(issue("invalid_business_event", "/type", event.type, "an inspection lot event (sap.s4.beh.inspectionlot…)"));
    const data = (typeof event.data === "object" && event.data !== null ? event.data : {}) as Record<string, unknown>;
    const key = data["InspectionLot"];
    if (typeof key !== "string" || !INSPECTION_LOT.test(key)) return err(issue("invalid_business_event", "/data/InspectionLot", key, "the inspection lot number (String 12, digits)"));
    const attributes = eventAttributes(event, { "millwright.inspectionlot.id": key });
    return inSpan("sap.inspectionlot.read", { parent: parentOf(event, options), kind: SpanKind.CONSUMER, attributes }, async (scope) => {
      const lot = await options.client.getEntity("A_InspectionLot", `'${key}'`, undefined, { headers: scope.headers });
      if (lot.isErr()) return err(lot.error);
      const decided = lot.value["InspectionLotHasUsageDecision"] === true;
      const usageDecision = decided ? await options.client.getEntity("A_InspLotUsageDecision", `'${key}'`, undefined, { headers: scope.headers }) : undefined;
      if (usageDecision?.isErr() === true) return err(usageDecision.error);
      const hold = mapInspectionLot({ lot: lot.value, ...(usageDecision?.isOk() === true ? { usageDecision: usageDecision.value } : {}) }, options.config);
      if (hold.isErr()) return err(hold.error);
      const time = typeof event.time === "string" && isDateTime(event.time) ? event.time : hold.value.disposition?.decidedAt ?? hold.value.placedAt;
      const created = createEvent({
        type: hold.value.status === "placed" ? "dev.millwright.qualityhold.placed.v1" : "dev.millwright.qualityhold.released.v1",
        source: options.source,
        data: hold.value,
        time,
        ...scope.trace,
      });
      return created.mapErr((cause): SapBusinessEventError => ({ code: "event_error", message: cause.message, cause }));
    });
  };
  return new ResultAsync(run());
}
