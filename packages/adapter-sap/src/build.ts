import { formatTimestamp, issue, type Issue } from "@millwright/adapter-kit";
import { MILLWRIGHT_NAMESPACE, uuidV5 } from "@millwright/events";
import type { MaterialMovement, ProductionConfirmation, QualityHold, StockType } from "@millwright/model";
import { err, ok, type Result } from "neverthrow";
import { alphaToInternal } from "./alpha.js";
import type { SapAdapterConfig } from "./config.js";
import { formatEdmTime, formatSapDate } from "./edm-time.js";

/** Why a canonical record cannot become a SAP request body: the kit's issue, its path a JSON Pointer into the canonical record. */
export interface SapBuildError extends Issue<"unsupported_record" | "unmapped_value" | "ambiguous_unit" | "too_long"> {
  /** For `ambiguous_unit`: the SAP units the unit table maps the Rec 20 code to. */
  readonly candidates?: readonly string[];
}

/** Options of `buildConfirmationCreate`. */
export interface ConfirmationBuildOptions {
  /**
   * The SAP unit to write as `ConfirmationUnit`, as SAP sent it for the order or operation
   * (`ProductionUnit`, `OperationUnit`). Default: `outboundUnits` of the configuration, else the
   * one SAP unit the unit table maps the Rec 20 code to; several candidates are an `ambiguous_unit` error.
   */
  readonly unit?: string;
}

/** Options of `buildMaterialDocumentCreate`. */
export interface MaterialDocumentBuildOptions {
  /**
   * Per movement (same index), the SAP unit to write as `EntryUnit`, as SAP sent it (the order's
   * `ProductionUnit`, the component's `BaseUnit`, a material document's `EntryUnit`). Default as
   * for `ConfirmationBuildOptions.unit`.
   */
  readonly entryUnits?: readonly (string | undefined)[];
}

/**
 * An OData V2 function import call: `POST` to the service root plus `path`, with an empty body.
 * SAP's posting functions that have no create (cancellations) are called this way.
 */
export interface SapFunctionImportRequest {
  readonly method: "POST";
  /** The function import of the service's EDMX, e.g. `CancelItem`. */
  readonly functionImport: string;
  /** Parameter → OData V2 URI literal, e.g. `MaterialDocumentYear` → `'2026'`, `PostingDate` → `datetime'2026-03-04T00:00:00'`. */
  readonly parameters: Readonly<Record<string, string>>;
  /** The function import and its percent-encoded parameters, relative to the service root, e.g. `CancelItem?MaterialDocumentYear='2026'&…`. */
  readonly path: string;
}

/** A `ProdnOrdConf2` create body (OData V2 JSON). */
export type ProdnOrdConf2Create = Readonly<Record<string, string | boolean>>;

/** An `A_MaterialDocumentHeader` deep-insert body with `to_MaterialDocumentItem`. */
export interface MaterialDocumentCreate {
  readonly [property: string]: string | { readonly results: readonly Readonly<Record<string, string>>[] };
  readonly to_MaterialDocumentItem: { readonly results: readonly Readonly<Record<string, string>>[] };
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

const SAP_UNIT = /^\S{1,3}$/u;

/**
 * The SAP unit to write for a Rec 20 code: the one the caller names (checked against the unit
 * table), else the configured outbound unit, else the only SAP unit the table maps to the code.
 * Several candidates are an error: which of them the order or material uses is not in the code.
 */
function sapUnit(config: SapAdapterConfig, code: string, path: string, given: string | undefined, option: string): Result<string, SapBuildError> {
  const mappedTo = (sap: string) => (Object.hasOwn(config.units, sap) ? config.units[sap] : undefined);
  if (given !== undefined) {
    if (typeof given !== "string" || !SAP_UNIT.test(given)) return err(issue("unmapped_value", path, given, `${option} is a SAP unit of 1-3 characters`));
    const back = mappedTo(given);
    if (back !== undefined && back !== code) return err(issue("unmapped_value", path, code, `${option} ${given} is the SAP unit of ${back} in the unit table, not of ${code}`));
    return ok(given);
  }
  if (Object.hasOwn(config.outboundUnits, code)) return ok(config.outboundUnits[code] as string);
  const candidates = Object.keys(config.units).filter((sap) => config.units[sap] === code);
  if (candidates.length === 1) return ok(candidates[0] as string);
  if (candidates.length === 0) return err(issue("unmapped_value", path, code, "Rec 20 unit not in the configured unit table"));
  const rule = `${code} is the Rec 20 code of several SAP units (${candidates.join(", ")}): pass the unit SAP sent (${option}) or configure outboundUnits.${code}`;
  return err({ ...issue("ambiguous_unit", path, code, rule), candidates });
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
 * `ConfirmationUnit` is the unit SAP sent for the order (`options.unit`), the configured outbound
 * unit, or the only SAP unit of the Rec 20 code; yield, scrap and rework share it.
 *
 * @param confirmation - a validated ProductionConfirmation (not a cancellation: see `buildConfirmationCancel`)
 * @param config - adapter configuration (plant time zone, unit tables)
 * @param options - the SAP unit to write
 * @returns the body, or `unsupported_record` / `unmapped_value` / `ambiguous_unit` / `too_long`
 * @example
 * ```ts
 * const body = buildConfirmationCreate(confirmation, config, { unit: "ST" });
 * ```
 */
export function buildConfirmationCreate(
  confirmation: ProductionConfirmation,
  config: SapAdapterConfig,
  options: ConfirmationBuildOptions = {},
): Result<ProdnOrdConf2Create, SapBuildError> {
  if (confirmation.reverses !== undefined) {
    return err(issue("unsupported_record", "/reverses", confirmation.reverses, "a cancellation is posted with SAP's CancelProdnOrdConf function (buildConfirmationCancel), not as a create"));
  }
  for (const field of ["scrapQuantity", "reworkQuantity"] as const) {
    const q = confirmation[field];
    if (q !== undefined && q.unit !== confirmation.yieldQuantity.unit) {
      return err(issue("unsupported_record", `/${field}/unit`, q.unit, `ProdnOrdConf2 has one ConfirmationUnit: ${field} is in the unit of yieldQuantity (${confirmation.yieldQuantity.unit})`));
    }
  }
  const sap = sapUnit(config, confirmation.yieldQuantity.unit, "/yieldQuantity/unit", options.unit, "options.unit");
  if (sap.isErr()) return err(sap.error);
  const unit = sap.value;
  if (confirmation.text !== undefined && [...confirmation.text].length > 40) {
    return err(issue("too_long", "/text", confirmation.text, "ConfirmationText is Edm.String MaxLength 40"));
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

/** The one `InventoryStockType` code configured for a stock type; none or several are errors. */
function stockCode(config: SapAdapterConfig, type: StockType, path: string): Result<string, SapBuildError> {
  const candidates = Object.keys(config.inventoryStockTypes).filter((code) => config.inventoryStockTypes[code] === type);
  if (candidates.length === 1) return ok(candidates[0] as string);
  if (candidates.length === 0) return err(issue("unmapped_value", path, type, "no InventoryStockType code is configured for this stock type (inventoryStockTypes)"));
  return err({ ...issue("unmapped_value", path, type, `several InventoryStockType codes are configured for this stock type (${candidates.join(", ")}): the builder does not pick one`), candidates });
}

/** The configured movement type whose rule produces this movement's kind and stock types; several matches are an error. */
function movementTypeOf(m: MaterialMovement, config: SapAdapterConfig, path: string): Result<string, SapBuildError> {
  if (m.sourceMovementType !== undefined) return ok(m.sourceMovementType);
  const reversal = m.isReversal === true;
  const fixed = (t: string | undefined, actual: StockType | undefined) => t === undefined || t === "item" || t === "partner" || t === actual;
  const candidates = Object.entries(config.movementTypes)
    .filter(([, rule]) => rule.kind === m.kind && (rule.reversal === true) === reversal && (m.kind !== "adjusted" || rule.direction === m.direction))
    .filter(([, rule]) => fixed(rule.from, m.from?.stockType) && fixed(rule.to, m.to?.stockType))
    .map(([type]) => type);
  if (candidates.length === 1) return ok(candidates[0] as string);
  if (candidates.length === 0) return err(issue("unmapped_value", `${path}/kind`, m.kind, "no configured movement type gives this kind and these stock types"));
  return err({ ...issue("unmapped_value", `${path}/sourceMovementType`, undefined, `several configured movement types give this kind and these stock types (${candidates.join(", ")}): set sourceMovementType`), candidates });
}

function buildItem(m: MaterialMovement, index: number, config: SapAdapterConfig, entryUnit: string | undefined): Result<Record<string, string>, SapBuildError> {
  const base = index < 0 ? "" : `/${index}`;
  if (m.reverses !== undefined) {
    return err(issue("unsupported_record", `${base}/reverses`, m.reverses, "a reversal of a posted movement is posted with SAP's Cancel or CancelItem function (buildMaterialDocumentCancel), which keeps the link to the original; a create would post an unlinked movement"));
  }
  const movementType = movementTypeOf(m, config, base);
  if (movementType.isErr()) return err(movementType.error);
  const type = movementType.value;
  const sap = sapUnit(config, m.quantity.unit, `${base}/quantity/unit`, entryUnit, `options.entryUnits[${index}]`);
  if (sap.isErr()) return err(sap.error);
  const unit = sap.value;
  const own = m.from ?? m.to;
  if (own === undefined) return err(issue("unsupported_record", base, undefined, "a movement needs from or to"));
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
    // Left out, the receipt would land in unrestricted stock: a missing code is an error, not an omission.
    const code = stockCode(config, m.to.stockType, `${base}/to/stockType`);
    if (code.isErr()) return err(code.error);
    item["InventoryStockType"] = code.value;
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
 * A movement that names the movement it reverses (`reverses`) is refused: SAP reverses a posted
 * document with its Cancel / CancelItem function (`buildMaterialDocumentCancel`). A reversal type
 * posted on its own (a 262 return of components, `isReversal` without `reverses`) is a create.
 *
 * @param movements - validated MaterialMovements (at least one)
 * @param config - adapter configuration (movement types, units, stock types)
 * @param options - the SAP entry unit of each movement
 * @returns the body, or the first build error
 * @example
 * ```ts
 * const body = buildMaterialDocumentCreate([receipt], config, { entryUnits: ["ST"] });
 * ```
 */
export function buildMaterialDocumentCreate(
  movements: readonly MaterialMovement[],
  config: SapAdapterConfig,
  options: MaterialDocumentBuildOptions = {},
): Result<MaterialDocumentCreate, SapBuildError> {
  const first = movements[0];
  if (first === undefined) return err(issue("unsupported_record", "", movements, "at least one movement"));
  const code = goodsMovementCode(first);
  const items: Record<string, string>[] = [];
  for (const [i, m] of movements.entries()) {
    if (goodsMovementCode(m) !== code) return err(issue("unsupported_record", `/${i}/kind`, m.kind, `every movement of one document has GoodsMovementCode ${code}`));
    if (m.postingDate !== first.postingDate) return err(issue("unsupported_record", `/${i}/postingDate`, m.postingDate, "every movement of one document has one posting date"));
    const item = buildItem(m, i, config, options.entryUnits?.[i]);
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
  /** The SAP unit to write as `EntryUnit`, as SAP sent it (the lot's `InspectionLotQuantityUnit`); default as for `ConfirmationBuildOptions.unit`. */
  readonly unit?: string;
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
  if (move === undefined) return err(issue("unsupported_record", "/status", hold.status, "no stock transfer for this status and held stock type"));
  if (hold.scope.kind !== "batch" || hold.scope.location === undefined) {
    return err(issue("unsupported_record", "/scope", hold.scope.kind, "a transfer posting needs batch scope with a location"));
  }
  if (hold.quantity === undefined) return err(issue("unsupported_record", "/quantity", undefined, "a transfer posting needs the held quantity"));
  const location = hold.scope.location;
  const sap = sapUnit(config, hold.quantity.unit, "/quantity/unit", options.unit, "options.unit");
  if (sap.isErr()) return err(sap.error);
  const unit = sap.value;
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

/** An OData V2 URI literal of an Edm.String. */
function stringLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** An OData V2 URI literal of an Edm.DateTime at midnight of a calendar date. */
function dateTimeLiteral(date: string): string {
  return `datetime'${date}T00:00:00'`;
}

function functionImport(name: string, parameters: Readonly<Record<string, string>>): SapFunctionImportRequest {
  const query = Object.entries(parameters).map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join("&");
  return { method: "POST", functionImport: name, parameters, path: `${name}?${query}` };
}

/** Options of `buildMaterialDocumentCancel`. */
export interface MaterialDocumentCancelOptions {
  /** `item` (default): CancelItem of the reversed item; `document`: Cancel of its whole material document. */
  readonly scope?: "item" | "document";
}

const MOVEMENT_KEY = /^(\d{4})\/([0-9A-Z]{1,10})\/(\d{1,4})$/;

/**
 * Build the API_MATERIAL_DOCUMENT_SRV call that reverses a posted goods movement: the function
 * import `CancelItem` (MaterialDocumentYear, MaterialDocument, MaterialDocumentItem, PostingDate),
 * or `Cancel` (MaterialDocumentYear, MaterialDocument, PostingDate) for the whole document. SAP
 * posts the reversal document itself, with the reversal movement type and `ReversedMaterialDocument…`
 * naming the original, which a create cannot do.
 *
 * @param reversal - the canonical reversal: `reverses` is the movementId of the original (`YYYY/document/item`, as the mappers write it) and `postingDate` the reversal's date
 * @param options - item or whole document
 * @returns the request, or `unsupported_record` when the record names no SAP material document item
 * @example
 * ```ts
 * const request = buildMaterialDocumentCancel(reversal)._unsafeUnwrap();
 * // POST <API_MATERIAL_DOCUMENT_SRV root>/ + request.path
 * ```
 */
export function buildMaterialDocumentCancel(reversal: MaterialMovement, options: MaterialDocumentCancelOptions = {}): Result<SapFunctionImportRequest, SapBuildError> {
  if (reversal.reverses === undefined) {
    return err(issue("unsupported_record", "/reverses", undefined, "a cancellation names the movement it reverses (reverses); post a reversal type on its own with buildMaterialDocumentCreate"));
  }
  const key = MOVEMENT_KEY.exec(reversal.reverses);
  if (key === null) {
    return err(issue("unsupported_record", "/reverses", reversal.reverses, "reverses is the movementId of a SAP material document item, MaterialDocumentYear/MaterialDocument/MaterialDocumentItem (e.g. 2026/4900000123/0001)"));
  }
  const [, year = "", document = "", item = ""] = key;
  const head = { MaterialDocumentYear: stringLiteral(year), MaterialDocument: stringLiteral(alphaToInternal(document, 10)) };
  const postingDate = { PostingDate: dateTimeLiteral(reversal.postingDate) };
  return ok(
    options.scope === "document"
      ? functionImport("Cancel", { ...head, ...postingDate })
      : functionImport("CancelItem", { ...head, MaterialDocumentItem: stringLiteral(alphaToInternal(item, 4)), ...postingDate }),
  );
}

/** Options of `buildConfirmationCancel`. */
export interface ConfirmationCancelOptions {
  /** The SAP key of the cancelled confirmation, when `reverses` holds another system's id. */
  readonly cancels?: { readonly confirmationGroup: string; readonly confirmationCount: string };
}

const CONFIRMATION_KEY = /^(\d{1,10})\/(\d{1,8})$/;

/**
 * Build the API_PROD_ORDER_CONFIRMATION_2_SRV call that cancels a posted confirmation: the function
 * import `CancelProdnOrdConf` (ConfirmationGroup, ConfirmationCount, PostingDate, ConfirmationText,
 * ExternalSystemConfirmation). SAP posts the cancellation (`IsReversal`) and marks the original
 * `IsReversed`. `ExternalSystemConfirmation` is the cancellation's own deterministic id
 * (`confirmationExternalId`), so a retried cancellation carries the same key.
 *
 * @param cancellation - the canonical cancelling confirmation: `reverses` is the SAP key `ConfirmationGroup/ConfirmationCount` of the original (as `mapProductionConfirmation` writes it)
 * @param config - adapter configuration (the system name of the external id)
 * @param options - the SAP key, when `reverses` is another system's id
 * @returns the request, or `unsupported_record` / `too_long`
 * @example
 * ```ts
 * const request = buildConfirmationCancel(cancellation, config)._unsafeUnwrap();
 * // POST <API_PROD_ORDER_CONFIRMATION_2_SRV root>/ + request.path
 * ```
 */
export function buildConfirmationCancel(
  cancellation: ProductionConfirmation,
  config: SapAdapterConfig,
  options: ConfirmationCancelOptions = {},
): Result<SapFunctionImportRequest, SapBuildError> {
  if (cancellation.reverses === undefined) {
    return err(issue("unsupported_record", "/reverses", undefined, "a cancellation names the confirmation it cancels (reverses)"));
  }
  let group: string;
  let count: string;
  if (options.cancels !== undefined) {
    ({ confirmationGroup: group, confirmationCount: count } = options.cancels);
    if (!CONFIRMATION_KEY.test(`${group}/${count}`)) {
      return err(issue("unsupported_record", "/reverses", `${group}/${count}`, "options.cancels is a SAP key: ConfirmationGroup of up to 10 digits, ConfirmationCount of up to 8"));
    }
  } else {
    const key = CONFIRMATION_KEY.exec(cancellation.reverses);
    if (key === null) {
      return err(issue("unsupported_record", "/reverses", cancellation.reverses, "reverses is the SAP key ConfirmationGroup/ConfirmationCount of the cancelled confirmation (e.g. 0000012345/00000003); pass options.cancels when it is another system's id"));
    }
    [, group = "", count = ""] = key;
  }
  if (cancellation.text !== undefined && [...cancellation.text].length > 40) {
    return err(issue("too_long", "/text", cancellation.text, "ConfirmationText is Edm.String MaxLength 40"));
  }
  return ok(
    functionImport("CancelProdnOrdConf", {
      ConfirmationGroup: stringLiteral(alphaToInternal(group, 10)),
      ConfirmationCount: stringLiteral(alphaToInternal(count, 8)),
      PostingDate: dateTimeLiteral(cancellation.postingDate),
      ...(cancellation.text === undefined ? {} : { ConfirmationText: stringLiteral(cancellation.text) }),
      ExternalSystemConfirmation: `guid'${confirmationExternalId(cancellation, config)}'`,
    }),
  );
}
