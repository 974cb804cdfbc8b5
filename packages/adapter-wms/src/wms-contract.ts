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
  type QualityHold,
  type StockLocation,
  type StockType,
  type WmsEvent,
  type WmsLocation,
  type WmsRequestByType,
  type WmsRequestVariant,
  type WorkOrder,
} from "@millwright/model";
import { issue, type Issue } from "@millwright/adapter-kit";
import { err, ok, type Result } from "neverthrow";

// The WMS contract's types are generated from schemas/wms/ by @millwright/model; this package uses
// them as they are. `WmsRequest` is the schema's flat shape (every property optional but the three
// every request has); `WmsRequestVariant` is the same contract narrowed by `type`, which is what
// the validator proves and what code that builds or reads one request wants.
export type { WmsEvent, WmsLocation, WmsRequest, WmsRequestVariant } from "@millwright/model";

/**
 * What a WMS event reports.
 *
 * @example
 * const type: WmsEventType = "stage_to_line";
 */
export type WmsEventType = WmsEvent["type"];

/**
 * Stage a released work order's components at the line (schemas/wms/wms-request.schema.json).
 *
 * @example
 * const request: StagingRequest = createStagingRequest(order, options)._unsafeUnwrap();
 */
export type StagingRequest = WmsRequestByType["staging_request"];

/**
 * One component to stage.
 *
 * @example
 * const [line]: readonly StagingLine[] = request.lines;
 */
export type StagingLine = StagingRequest["lines"][number];

/**
 * Keep stock of a quality hold from use (block) or release it (unblock).
 *
 * @example
 * const request: HoldRequest = toHoldRequest(hold)._unsafeUnwrap();
 */
export type HoldRequest = WmsRequestByType["block" | "unblock"];

/** One way a value breaks the contract: the adapter kit's issue, with the model's code and the schema keyword and its argument as the rule. */
export type WmsContractIssue = Issue<ModelError["issues"][number]["code"]>;

/** Why a value is not a valid WMS event or request. */
export interface WmsContractError {
  readonly code: "invalid_wms_event" | "invalid_wms_request";
  readonly message: string;
  readonly issues: readonly WmsContractIssue[];
}

/** Why no outbound request can be built: the adapter kit's issue, its path a JSON Pointer into the canonical record. */
export type WmsRequestError = Issue<"order_not_released" | "nothing_to_stage" | "no_stock_effect" | "invalid_quantity">;

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
  const issues: readonly WmsContractIssue[] = error.issues;
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
  return parseWmsEventContract(input).mapErr((e) => contractError(e, "invalid_wms_event"));
}

/**
 * Checks that a value is a valid outbound WMS request of the generic contract.
 *
 * @param input - any value
 * @returns the request, or every issue with its JSON Pointer, value and rule
 * @example
 * const request = parseWmsRequest(JSON.parse(body));
 */
export function parseWmsRequest(input: unknown): Result<WmsRequestVariant, WmsContractError> {
  return parseWmsRequestContract(input).mapErr((e) => contractError(e, "invalid_wms_request"));
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
    return err(issue("order_not_released", "/status", order.status, "only released or in_progress orders are staged"));
  }
  const lines: StagingLine[] = [];
  for (const [i, c] of order.components.entries()) {
    if (c.finallyIssued === true) continue;
    let quantity = c.requiredQuantity;
    if (c.withdrawnQuantity !== undefined) {
      const rest = subtractQuantities(c.requiredQuantity, c.withdrawnQuantity);
      if (rest.isErr()) return err(issue("invalid_quantity", `/components/${i}/withdrawnQuantity`, c.withdrawnQuantity, rest.error.message));
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
    return err(issue("nothing_to_stage", "/components", undefined, "a staging request needs a component that is not finally issued nor fully withdrawn"));
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
    return err(issue("no_stock_effect", "/status", hold.status, "only placed and released holds change what the WMS may use"));
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
    return err(issue("no_stock_effect", "/scope/material", undefined, "an order-scope hold names a material, else it names no stock"));
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
