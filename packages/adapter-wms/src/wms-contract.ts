// The generic WMS contract (schemas/wms/*.schema.json, validated by @millwright/model): canonical mapping of WMS events,
// and outbound requests built from canonical work orders and quality holds.
import {
  compareQuantities,
  parseMaterialMovement,
  parseWmsEvent as parseWmsEventContract,
  parseWmsRequest as parseWmsRequestContract,
  subtractQuantities,
  type MaterialMovement,
  type MaterialRef,
  type ModelError,
  type OrderRef,
  type QualityHold,
  type Quantity,
  type Reason,
  type SiteRef,
  type StockLocation,
  type StockType,
  type WorkOrder,
} from "@millwright/model";
import { err, ok, type Result } from "neverthrow";

/** A place in a warehouse (schemas/wms/wms-location.schema.json). */
export interface WmsLocation {
  readonly site: SiteRef;
  readonly storageLocation?: string;
  readonly warehouse?: string;
  readonly bin?: string;
}

/** What a WMS event reports. */
export type WmsEventType =
  | "receipt"
  | "putaway"
  | "pick"
  | "stage_to_line"
  | "return_from_line"
  | "transfer"
  | "stock_status_change"
  | "cycle_count_adjustment";

/** One confirmed stock movement in the generic WMS contract (schemas/wms/wms-event.schema.json). */
export interface WmsEvent {
  readonly eventId: string;
  readonly type: WmsEventType;
  readonly occurredAt: string;
  readonly material: MaterialRef;
  readonly batchId?: string;
  readonly quantity: Quantity;
  readonly from?: WmsLocation;
  readonly to?: WmsLocation;
  readonly at?: WmsLocation;
  readonly stockType?: StockType;
  readonly fromStockType?: StockType;
  readonly toStockType?: StockType;
  readonly direction?: "increase" | "decrease";
  readonly order?: OrderRef;
  readonly stagingRequestId?: string;
  readonly handlingUnit?: string;
  readonly reason?: Reason;
}

/** One component to stage. */
export interface StagingLine {
  readonly lineId: string;
  readonly material: MaterialRef;
  readonly batchId?: string;
  readonly quantity: Quantity;
  readonly source?: WmsLocation;
}

/** Stage a released work order's components at the line (schemas/wms/wms-request.schema.json). */
export interface StagingRequest {
  readonly requestId: string;
  readonly type: "staging_request";
  readonly requestedAt: string;
  readonly order: OrderRef;
  readonly destination: WmsLocation;
  readonly requiredBy?: string;
  readonly lines: readonly [StagingLine, ...StagingLine[]];
}

/** Keep stock of a quality hold from use (block) or release it (unblock). */
export interface HoldRequest {
  readonly requestId: string;
  readonly type: "block" | "unblock";
  readonly requestedAt: string;
  readonly holdId: string;
  readonly material: MaterialRef;
  readonly batchId?: string;
  readonly location?: WmsLocation;
  readonly quantity?: Quantity;
  readonly reason?: Reason;
}

/** An outbound request to a WMS. */
export type WmsRequest = StagingRequest | HoldRequest;

/** One way a value breaks the contract. */
export interface WmsContractIssue {
  /** JSON Pointer into the checked value. */
  readonly path: string;
  readonly message: string;
  /** The schema keyword and its argument. */
  readonly rule: string;
  readonly value?: unknown;
}

/** Why a value is not a valid WMS event or request. */
export interface WmsContractError {
  readonly code: "invalid_wms_event" | "invalid_wms_request";
  readonly message: string;
  readonly issues: readonly WmsContractIssue[];
}

/** Why no outbound request can be built. */
export interface WmsRequestError {
  readonly code: "order_not_released" | "nothing_to_stage" | "no_stock_effect" | "invalid_quantity";
  readonly path: string;
  readonly message: string;
  readonly value?: unknown;
}

/**
 * Reads the value at an RFC 6901 JSON Pointer.
 *
 * @param input - any JSON value
 * @param pointer - the pointer, `""` for the whole value
 * @returns the value there, or `undefined`
 * @example
 * valueAt({ a: [1, 2] }, "/a/1"); // 2
 */
export function valueAt(input: unknown, pointer: string): unknown {
  if (pointer === "") return input;
  let current: unknown = input;
  for (const raw of pointer.slice(1).split("/")) {
    const key = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (current === null || typeof current !== "object" || !Object.hasOwn(current, key)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/** The model's issues, in this package's error shape. */
function contractError(error: ModelError, code: WmsContractError["code"]): WmsContractError {
  const issues = error.issues.map((i) => ({ path: i.path, message: i.message, rule: i.rule, ...(i.value !== undefined ? { value: i.value } : {}) }));
  const what = code === "invalid_wms_event" ? "WMS event" : "WMS request";
  return { code, message: `not a valid ${what}: ${issues.slice(0, 3).map((i) => i.message).join("; ")}`, issues };
}

/**
 * Checks that a value is a valid WMS event of the generic contract.
 *
 * @param input - any value, typically a vendor mapping's output
 * @returns the event, or every issue with its JSON Pointer, value and rule
 * @example
 * const event = parseWmsEvent(JSON.parse(body));
 */
export function parseWmsEvent(input: unknown): Result<WmsEvent, WmsContractError> {
  // The contract's schema lives in schemas/wms/ and is compiled by @millwright/model's generator.
  return parseWmsEventContract(input).map((e) => e as unknown as WmsEvent).mapErr((e) => contractError(e, "invalid_wms_event"));
}

/**
 * Checks that a value is a valid outbound WMS request of the generic contract.
 *
 * @param input - any value
 * @returns the request, or every issue with its JSON Pointer, value and rule
 * @example
 * const request = parseWmsRequest(JSON.parse(body));
 */
export function parseWmsRequest(input: unknown): Result<WmsRequest, WmsContractError> {
  return parseWmsRequestContract(input).map((r) => r as unknown as WmsRequest).mapErr((e) => contractError(e, "invalid_wms_request"));
}

function stocked(place: WmsLocation, stockType: StockType): StockLocation {
  return { ...place, stockType };
}

/**
 * Maps a WMS event to a canonical MaterialMovement, checked by `parseMaterialMovement`.
 * receipt → produced (with an order) or adjusted increase; putaway, pick, stage_to_line,
 * return_from_line, transfer → transferred; stock_status_change → status_changed;
 * cycle_count_adjustment → adjusted.
 *
 * @param event - a valid WMS event
 * @param config - the WMS's source system name
 * @returns the movement, or the model's error
 * @example
 * const movement = parseWmsEvent(input).andThen((e) => toMaterialMovement(e, { system: "WMS-1" }));
 */
export function toMaterialMovement(event: WmsEvent, config: { readonly system: string }): Result<MaterialMovement, ModelError> {
  const stockType = event.stockType ?? "unrestricted";
  const wms: Record<string, string> = { type: event.type };
  if (event.stagingRequestId !== undefined) wms["stagingRequestId"] = event.stagingRequestId;
  if (event.handlingUnit !== undefined) wms["handlingUnit"] = event.handlingUnit;
  let shape: Pick<MaterialMovement, "kind" | "from" | "to" | "direction">;
  switch (event.type) {
    case "receipt":
      shape = event.order !== undefined
        ? { kind: "produced", ...(event.to && { to: stocked(event.to, stockType) }) }
        : { kind: "adjusted", direction: "increase", ...(event.to && { to: stocked(event.to, stockType) }) };
      break;
    case "stock_status_change":
      shape = {
        kind: "status_changed",
        ...(event.at && event.fromStockType && { from: stocked(event.at, event.fromStockType) }),
        ...(event.at && event.toStockType && { to: stocked(event.at, event.toStockType) }),
      };
      break;
    case "cycle_count_adjustment":
      shape =
        event.direction === "decrease"
          ? { kind: "adjusted", direction: "decrease", ...(event.at && { from: stocked(event.at, stockType) }) }
          : { kind: "adjusted", direction: "increase", ...(event.at && { to: stocked(event.at, stockType) }) };
      break;
    default:
      shape = {
        kind: "transferred",
        ...(event.from && { from: stocked(event.from, stockType) }),
        ...(event.to && { to: stocked(event.to, stockType) }),
      };
  }
  const movement: MaterialMovement = {
    movementId: event.eventId,
    ...shape,
    postingDate: event.occurredAt.slice(0, 10),
    occurredAt: event.occurredAt,
    material: event.material,
    ...(event.batchId !== undefined ? { batchId: event.batchId } : {}),
    quantity: event.quantity,
    ...(event.order !== undefined ? { order: event.order } : {}),
    ...(event.reason !== undefined ? { reason: event.reason } : {}),
    revision: "0",
    sourceRefs: [{ system: config.system, kind: `wms:${event.type}`, key: event.eventId }],
    extensions: { wms },
  };
  return parseMaterialMovement(movement);
}

/**
 * Builds the staging request of a released work order: one line per component not finally
 * issued, for the required quantity minus what was already withdrawn.
 *
 * @param order - the canonical work order, status released or in_progress
 * @param options - the line-side destination and the request time (the release's time; never the clock)
 * @returns the request, or why the order cannot be staged
 * @example
 * createStagingRequest(order, { destination: { site: { id: "1710" }, bin: "LINE-1" }, requestedAt: "2026-03-02T06:00:00+01:00" });
 */
export function createStagingRequest(
  order: WorkOrder,
  options: { readonly destination: WmsLocation; readonly requestedAt: string },
): Result<StagingRequest, WmsRequestError> {
  if (order.status !== "released" && order.status !== "in_progress") {
    return err({ code: "order_not_released", path: "/status", message: `/status: ${JSON.stringify(order.status)} (only released or in_progress orders are staged)`, value: order.status });
  }
  const lines: StagingLine[] = [];
  for (const [i, c] of order.components.entries()) {
    if (c.finallyIssued === true) continue;
    let quantity = c.requiredQuantity;
    if (c.withdrawnQuantity !== undefined) {
      const rest = subtractQuantities(c.requiredQuantity, c.withdrawnQuantity);
      if (rest.isErr()) return err({ code: "invalid_quantity", path: `/components/${i}/withdrawnQuantity`, message: `/components/${i}/withdrawnQuantity: ${rest.error.message}`, value: c.withdrawnQuantity });
      quantity = rest.value;
    }
    const positive = compareQuantities(quantity, { value: "0", unit: quantity.unit });
    if (positive.isErr() || positive.value <= 0) continue;
    const { stockType: _s, ...source } = c.supplyLocation ?? { stockType: "unrestricted" };
    lines.push({
      lineId: c.itemId,
      material: c.material,
      ...(c.batch !== undefined ? { batchId: c.batch.batchId } : {}),
      quantity,
      ...(c.supplyLocation !== undefined ? { source: source as WmsLocation } : {}),
    });
  }
  const [first, ...rest] = lines;
  if (first === undefined) {
    return err({ code: "nothing_to_stage", path: "/components", message: "/components: every component is finally issued or fully withdrawn" });
  }
  const requiredBy = order.schedule?.scheduledStart ?? order.schedule?.plannedStart;
  return ok({
    requestId: `${order.orderId}/staging/${order.revision}`,
    type: "staging_request",
    requestedAt: options.requestedAt,
    order: { orderId: order.orderId },
    destination: options.destination,
    ...(requiredBy !== undefined ? { requiredBy } : {}),
    lines: [first, ...rest],
  });
}

/**
 * Builds the block request of a placed quality hold, or the unblock request of a released one.
 *
 * @param hold - the canonical quality hold
 * @returns the request, or `no_stock_effect` for rejected and cancelled holds and order-scope holds without a material
 * @example
 * const request = toHoldRequest(hold);
 */
export function toHoldRequest(hold: QualityHold): Result<HoldRequest, WmsRequestError> {
  if (hold.status !== "placed" && hold.status !== "released") {
    return err({ code: "no_stock_effect", path: "/status", message: `/status: ${JSON.stringify(hold.status)} (only placed and released holds change what the WMS may use)`, value: hold.status });
  }
  const scope = hold.scope;
  let material: MaterialRef | undefined;
  let batchId: string | undefined;
  let location: WmsLocation | undefined;
  if (scope.kind === "batch") {
    material = scope.batch.material;
    batchId = scope.batch.batchId;
    if (scope.location !== undefined) {
      const { stockType: _s, ...place } = scope.location;
      location = place;
    }
  } else if (scope.kind === "material") {
    material = scope.material;
    location = { site: scope.site, ...(scope.storageLocation !== undefined ? { storageLocation: scope.storageLocation } : {}) };
  } else {
    material = scope.material;
  }
  if (material === undefined) {
    return err({ code: "no_stock_effect", path: "/scope/material", message: "/scope: an order-scope hold without a material names no stock" });
  }
  const released = hold.status === "released";
  return ok({
    requestId: `${hold.holdId}/${released ? "unblock" : "block"}/${hold.revision}`,
    type: released ? "unblock" : "block",
    requestedAt: released && hold.disposition !== undefined ? hold.disposition.decidedAt : hold.placedAt,
    holdId: hold.holdId,
    material,
    ...(batchId !== undefined ? { batchId } : {}),
    ...(location !== undefined ? { location } : {}),
    ...(hold.quantity !== undefined ? { quantity: hold.quantity } : {}),
    reason: hold.reason,
  });
}
