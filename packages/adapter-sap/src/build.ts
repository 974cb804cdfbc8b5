import { MILLWRIGHT_NAMESPACE, uuidV5 } from "@millwright/events";
import type { MaterialMovement, ProductionConfirmation, QualityHold, StockType } from "@millwright/model";
import { err, ok, type Result } from "neverthrow";
import type { SapAdapterConfig } from "./config.js";
import { formatEdmTime, formatSapDate, formatTimestamp } from "./wire.js";

/** Why a canonical record cannot become a SAP request body. */
export interface SapBuildError {
  readonly code: "unsupported_record" | "unmapped_value" | "too_long";
  /** JSON pointer into the canonical record. */
  readonly path: string;
  readonly value?: unknown;
  readonly rule: string;
  readonly message: string;
}

/** A `ProdnOrdConf2` create body (OData V2 JSON). */
export type ProdnOrdConf2Create = Readonly<Record<string, string | boolean>>;

/** An `A_MaterialDocumentHeader` deep-insert body with `to_MaterialDocumentItem`. */
export interface MaterialDocumentCreate {
  readonly [property: string]: string | { readonly results: readonly Readonly<Record<string, string>>[] };
  readonly to_MaterialDocumentItem: { readonly results: readonly Readonly<Record<string, string>>[] };
}

function fail(code: SapBuildError["code"], path: string, value: unknown, rule: string): SapBuildError {
  return { code, path, value, rule, message: `${path} has value ${JSON.stringify(value)}: ${rule}` };
}

/** Calendar date `YYYY-MM-DD` → `/Date(ms)/` at UTC midnight. */
function sapDate(date: string): string {
  return formatSapDate(Date.parse(`${date}T00:00:00Z`));
}

/** Timestamp → plant-local SAP date and Edm.Time. */
function sapDateTime(timestamp: string, timeZone: string): { date: string; time: string } {
  const local = formatTimestamp(Date.parse(timestamp), timeZone);
  const day = local.slice(0, 10);
  const [h, m, s] = local.slice(11, 19).split(":").map(Number);
  return { date: sapDate(day), time: formatEdmTime((h ?? 0) * 3600 + (m ?? 0) * 60 + (s ?? 0)) };
}

/** Rec 20 → SAP internal unit: the first entry of the unit table that maps to it. */
function sapUnit(config: SapAdapterConfig, unit: string): string | undefined {
  for (const [sap, rec20] of Object.entries(config.units)) if (rec20 === unit) return sap;
  return undefined;
}

/**
 * The deterministic `ExternalSystemConfirmation` of a confirmation: its `externalId` when set,
 * else UUIDv5 over the SAP system and the confirmation id, so a retried post carries the same key.
 *
 * @param confirmation - the canonical confirmation
 * @param config - adapter configuration (the system name)
 * @returns the GUID
 * @example
 * ```ts
 * confirmationExternalId(confirmation, config); // "0c6f…"
 * ```
 */
export function confirmationExternalId(confirmation: ProductionConfirmation, config: SapAdapterConfig): string {
  return confirmation.externalId ?? uuidV5(MILLWRIGHT_NAMESPACE, `sap:${config.system}:ProdnOrdConf2:${confirmation.confirmationId}`);
}

/**
 * Build the `ProdnOrdConf2` create body for a canonical confirmation. `ExternalSystemConfirmation`
 * is the deterministic id, so SAP rejects a second posting of the same confirmation.
 *
 * @param confirmation - a validated ProductionConfirmation (not a reversal: cancel with CancelProdnOrdConf)
 * @param config - adapter configuration (plant time zone, unit table)
 * @returns the body, or `unsupported_record` / `unmapped_value` / `too_long`
 * @example
 * ```ts
 * const body = buildConfirmationCreate(confirmation, config);
 * ```
 */
export function buildConfirmationCreate(confirmation: ProductionConfirmation, config: SapAdapterConfig): Result<ProdnOrdConf2Create, SapBuildError> {
  if (confirmation.reverses !== undefined) {
    return err(fail("unsupported_record", "/reverses", confirmation.reverses, "a reversal is posted with the CancelProdnOrdConf function, not as a create"));
  }
  const unit = sapUnit(config, confirmation.yieldQuantity.unit);
  if (unit === undefined) return err(fail("unmapped_value", "/yieldQuantity/unit", confirmation.yieldQuantity.unit, "Rec 20 unit not in the configured unit table"));
  if (confirmation.text !== undefined && [...confirmation.text].length > 40) {
    return err(fail("too_long", "/text", confirmation.text, "ConfirmationText is Edm.String MaxLength 40"));
  }
  const body: Record<string, string | boolean> = {
    OrderID: confirmation.order.orderId,
    ...(confirmation.order.operationId === undefined ? {} : { OrderOperation: confirmation.order.operationId }),
    ...(confirmation.order.sequence === undefined ? {} : { Sequence: confirmation.order.sequence }),
    Plant: confirmation.site.id,
    ...(confirmation.workCenter === undefined ? {} : { WorkCenter: confirmation.workCenter.id }),
    PostingDate: sapDate(confirmation.postingDate),
    ConfirmationUnit: unit,
    ConfirmationYieldQuantity: confirmation.yieldQuantity.value,
    ...(confirmation.scrapQuantity === undefined ? {} : { ConfirmationScrapQuantity: confirmation.scrapQuantity.value }),
    ...(confirmation.reworkQuantity === undefined ? {} : { ConfirmationReworkQuantity: confirmation.reworkQuantity.value }),
    ...(confirmation.varianceReason?.code === undefined ? {} : { VarianceReasonCode: confirmation.varianceReason.code }),
    IsFinalConfirmation: confirmation.isFinal,
    ...(confirmation.text === undefined ? {} : { ConfirmationText: confirmation.text }),
    ExternalSystemConfirmation: confirmationExternalId(confirmation, config),
  };
  if (confirmation.executionStart !== undefined) {
    const s = sapDateTime(confirmation.executionStart, config.timeZone);
    body["ConfirmedExecutionStartDate"] = s.date;
    body["ConfirmedExecutionStartTime"] = s.time;
  }
  if (confirmation.executionEnd !== undefined) {
    const e = sapDateTime(confirmation.executionEnd, config.timeZone);
    body["ConfirmedExecutionEndDate"] = e.date;
    body["ConfirmedExecutionEndTime"] = e.time;
  }
  return ok(body);
}

/** GoodsMovementCode (GM_CODE) per kind; see reference/standards.md §3.3. */
function goodsMovementCode(m: MaterialMovement): string {
  switch (m.kind) {
    case "produced":
      return m.order === undefined ? "05" : "02";
    case "consumed":
    case "scrapped":
      return "03";
    case "transferred":
    case "status_changed":
      return "04";
    case "adjusted":
      return m.direction === "increase" ? "05" : "03";
  }
}

function stockCode(config: SapAdapterConfig, type: StockType): string | undefined {
  for (const [code, t] of Object.entries(config.inventoryStockTypes)) if (t === type) return code;
  return undefined;
}

/** The configured movement type whose rule produces this movement's kind and stock types. */
function movementTypeOf(m: MaterialMovement, config: SapAdapterConfig): string | undefined {
  if (m.sourceMovementType !== undefined) return m.sourceMovementType;
  const reversal = m.isReversal === true;
  for (const [type, rule] of Object.entries(config.movementTypes)) {
    if (rule.kind !== m.kind || (rule.reversal === true) !== reversal) continue;
    if (m.kind === "adjusted" && rule.direction !== m.direction) continue;
    const fixed = (t: string | undefined, actual: StockType | undefined) => t === undefined || t === "item" || t === "partner" || t === actual;
    if (fixed(rule.from, m.from?.stockType) && fixed(rule.to, m.to?.stockType)) return type;
  }
  return undefined;
}

function buildItem(m: MaterialMovement, index: number, config: SapAdapterConfig): Result<Record<string, string>, SapBuildError> {
  const base = index < 0 ? "" : `/${index}`;
  const type = movementTypeOf(m, config);
  if (type === undefined) return err(fail("unmapped_value", `${base}/kind`, m.kind, "no configured movement type gives this kind and these stock types"));
  const unit = sapUnit(config, m.quantity.unit);
  if (unit === undefined) return err(fail("unmapped_value", `${base}/quantity/unit`, m.quantity.unit, "Rec 20 unit not in the configured unit table"));
  const own = m.from ?? m.to;
  if (own === undefined) return err(fail("unsupported_record", base, undefined, "a movement needs from or to"));
  const item: Record<string, string> = {
    Material: m.material.id,
    Plant: own.site.id,
    ...(own.storageLocation === undefined ? {} : { StorageLocation: own.storageLocation }),
    ...(m.batchId === undefined ? {} : { Batch: m.batchId }),
    GoodsMovementType: type,
    QuantityInEntryUnit: m.quantity.value,
    EntryUnit: unit,
  };
  if (m.kind === "produced" && m.to !== undefined && m.to.stockType !== "unrestricted") {
    const code = stockCode(config, m.to.stockType);
    if (code !== undefined) item["InventoryStockType"] = code;
  }
  if (m.order !== undefined) {
    item["ManufacturingOrder"] = m.order.orderId;
    if (m.kind === "produced") item["GoodsMovementRefDocType"] = "F";
    const [reservation, reservationItem] = m.order.componentItemId?.split("/") ?? [];
    if (reservation !== undefined && reservationItem !== undefined) {
      item["Reservation"] = reservation;
      item["ReservationItem"] = reservationItem;
    }
  }
  if (m.kind === "transferred" && m.to !== undefined) {
    item["IssuingOrReceivingPlant"] = m.to.site.id;
    if (m.to.storageLocation !== undefined) item["IssuingOrReceivingStorageLoc"] = m.to.storageLocation;
  }
  if (m.toBatchId !== undefined) item["IssgOrRcvgBatch"] = m.toBatchId;
  if (m.toMaterial !== undefined) item["IssgOrRcvgMaterial"] = m.toMaterial.id;
  if (m.reason?.code !== undefined) item["GoodsMovementReasonCode"] = m.reason.code;
  if (m.reason?.text !== undefined && [...m.reason.text].length <= 50) item["MaterialDocumentItemText"] = m.reason.text;
  return ok(item);
}

/**
 * Build an `A_MaterialDocumentHeader` deep insert (header + `to_MaterialDocumentItem`) for one or more
 * canonical movements posted together. All movements must share a posting date and GoodsMovementCode.
 *
 * @param movements - validated MaterialMovements (at least one)
 * @param config - adapter configuration (movement types, units, stock types)
 * @returns the body, or the first build error
 * @example
 * ```ts
 * const body = buildMaterialDocumentCreate([receipt], config);
 * ```
 */
export function buildMaterialDocumentCreate(
  movements: readonly MaterialMovement[],
  config: SapAdapterConfig,
): Result<MaterialDocumentCreate, SapBuildError> {
  const first = movements[0];
  if (first === undefined) return err(fail("unsupported_record", "", movements, "at least one movement"));
  const code = goodsMovementCode(first);
  const items: Record<string, string>[] = [];
  for (const [i, m] of movements.entries()) {
    if (goodsMovementCode(m) !== code) return err(fail("unsupported_record", `/${i}/kind`, m.kind, `every movement of one document has GoodsMovementCode ${code}`));
    if (m.postingDate !== first.postingDate) return err(fail("unsupported_record", `/${i}/postingDate`, m.postingDate, "every movement of one document has one posting date"));
    const item = buildItem(m, i, config);
    if (item.isErr()) return err(item.error);
    items.push(item.value);
  }
  return ok({
    GoodsMovementCode: code,
    PostingDate: sapDate(first.postingDate),
    DocumentDate: sapDate(first.postingDate),
    to_MaterialDocumentItem: { results: items },
  });
}

/** Options for a hold's transfer posting. */
export interface HoldPostingOptions {
  /** Posting date `YYYY-MM-DD` (the caller's business date; never taken from the clock here). */
  readonly postingDate: string;
}

/** The movement type a hold change posts: standards.md §3.3. */
function holdMovementType(hold: QualityHold): { type: string; from: StockType; to?: StockType } | undefined {
  const held = hold.heldStockType;
  if (hold.status === "placed") {
    if (held === "quality_inspection") return { type: "322", from: "unrestricted", to: "quality_inspection" };
    if (held === "blocked") return { type: "344", from: "unrestricted", to: "blocked" };
    return undefined;
  }
  if (hold.status === "released") {
    if (held === "quality_inspection") return { type: "321", from: "quality_inspection", to: "unrestricted" };
    if (held === "blocked") return { type: "343", from: "blocked", to: "unrestricted" };
    return undefined;
  }
  if (hold.status === "rejected") {
    if (hold.disposition?.decision === "scrap") {
      if (held === "quality_inspection") return { type: "553", from: "quality_inspection" };
      if (held === "blocked") return { type: "555", from: "blocked" };
      return { type: "551", from: "unrestricted" };
    }
    if (held === "quality_inspection") return { type: "350", from: "quality_inspection", to: "blocked" };
    return undefined;
  }
  return undefined;
}

/**
 * Build the transfer posting that makes SAP stock follow a hold: placed → 322 (to quality inspection)
 * or 344 (to blocked); released → 321 or 343; rejected → 350 (to blocked) or 553/555 (scrap).
 * The hold needs batch scope with a location and a quantity.
 *
 * @param hold - a validated QualityHold
 * @param config - adapter configuration
 * @param options - the posting date
 * @returns the material document deep insert, or `unsupported_record` when the hold has no posting
 * @example
 * ```ts
 * const body = buildHoldTransferPosting(hold, config, { postingDate: "2026-03-03" });
 * ```
 */
export function buildHoldTransferPosting(
  hold: QualityHold,
  config: SapAdapterConfig,
  options: HoldPostingOptions,
): Result<MaterialDocumentCreate, SapBuildError> {
  const move = holdMovementType(hold);
  if (move === undefined) return err(fail("unsupported_record", "/status", hold.status, "no stock transfer for this status and held stock type"));
  if (hold.scope.kind !== "batch" || hold.scope.location === undefined) {
    return err(fail("unsupported_record", "/scope", hold.scope.kind, "a transfer posting needs batch scope with a location"));
  }
  if (hold.quantity === undefined) return err(fail("unsupported_record", "/quantity", undefined, "a transfer posting needs the held quantity"));
  const location = hold.scope.location;
  const unit = sapUnit(config, hold.quantity.unit);
  if (unit === undefined) return err(fail("unmapped_value", "/quantity/unit", hold.quantity.unit, "Rec 20 unit not in the configured unit table"));
  return ok({
    GoodsMovementCode: move.to === undefined ? "03" : "04",
    PostingDate: sapDate(options.postingDate),
    DocumentDate: sapDate(options.postingDate),
    MaterialDocumentHeaderText: `Hold ${hold.holdId}`.slice(0, 25),
    to_MaterialDocumentItem: {
      results: [
        {
          Material: hold.scope.batch.material.id,
          Plant: location.site.id,
          ...(location.storageLocation === undefined ? {} : { StorageLocation: location.storageLocation }),
          Batch: hold.scope.batch.batchId,
          GoodsMovementType: move.type,
          QuantityInEntryUnit: hold.quantity.value,
          EntryUnit: unit,
        },
      ],
    },
  });
}
