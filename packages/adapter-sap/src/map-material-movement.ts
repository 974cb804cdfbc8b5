import { issue } from "@millwright/adapter-kit";
import { parseMaterialMovement, type MaterialMovement, type StockLocation, type StockType } from "@millwright/model";
import { err, ok, type Result } from "neverthrow";
import { alphaToExternal, alphaToInternal } from "./alpha.js";
import { collectExtensions, defined, expandedEntity, expandedRows, quantity, resolveUnit, sourceRef } from "./common.js";
import type { MovementTypeRule, SapAdapterConfig } from "./config.js";
import { invalidEntity, wireError, type SapMappingError, type SapWireIssue } from "./errors.js";
import { createFieldReader } from "./field-reader.js";
import type { ODataRecord } from "./odata-envelope.js";
import { guard, toEntityRecord } from "./payload.js";

type Place = Omit<StockLocation, "stockType">;

function stockType(
  config: SapAdapterConfig,
  code: string | undefined,
  path: string,
  issues: SapWireIssue[],
): StockType | undefined {
  if (code === undefined) return "unrestricted";
  const mapped = config.inventoryStockTypes[code];
  if (mapped === undefined) issues.push(issue("unmapped_value", path, code, "stock type code not in the configured inventoryStockTypes table"));
  return mapped;
}

function locations(
  rule: MovementTypeRule,
  own: Place,
  partner: Place,
  itemType: StockType | undefined,
  partnerType: StockType | undefined,
): { from?: StockLocation; to?: StockLocation } {
  const resolve = (t: StockType | "item" | "partner" | undefined) => (t === "item" ? itemType : t === "partner" ? partnerType : t);
  const fromType = resolve(rule.from) ?? "unrestricted";
  const toType = resolve(rule.to) ?? "unrestricted";
  switch (rule.kind) {
    case "produced":
      return { to: { ...own, stockType: toType } };
    case "consumed":
    case "scrapped":
      return { from: { ...own, stockType: fromType } };
    case "transferred":
      return { from: { ...own, stockType: fromType }, to: { ...partner, stockType: toType } };
    case "status_changed":
      return { from: { ...own, stockType: fromType }, to: { ...own, stockType: toType } };
    case "adjusted":
      return rule.direction === "increase" ? { to: { ...own, stockType: toType } } : { from: { ...own, stockType: fromType } };
  }
}

function key(year: string | undefined, doc: string | undefined, item: string | undefined): string | undefined {
  return year === undefined || doc === undefined || item === undefined ? undefined : `${year}/${alphaToInternal(doc, 10)}/${alphaToInternal(item, 4)}`;
}

function mapItem(
  config: SapAdapterConfig,
  header: ODataRecord,
  headerPath: string,
  item: ODataRecord,
  path: string,
  source: { readonly kind: string; readonly operationId?: string | undefined; readonly orderProperty: string } = { kind: "A_MaterialDocumentItem", orderProperty: "ManufacturingOrder" },
): Result<MaterialMovement | undefined, SapMappingError> {
  const issues: SapWireIssue[] = [];
  const h = createFieldReader(header, headerPath, config.timeZone);
  const r = createFieldReader(item, path, config.timeZone);
  if (r.text("IsAutomaticallyCreated") === "X") return ok(undefined);
  const year = r.text("MaterialDocumentYear", true) ?? h.text("MaterialDocumentYear");
  const doc = r.text("MaterialDocument", true) ?? h.text("MaterialDocument");
  const itemNo = r.text("MaterialDocumentItem", true);
  const movementType = r.text("GoodsMovementType", true);
  const material = r.text("Material", true);
  const plant = r.text("Plant", true);
  const postingDate = h.date("PostingDate", true);
  const occurredAt = h.timestamp("CreationDate", "CreationTime");
  const headerText = h.text("MaterialDocumentHeaderText");
  const unit = resolveUnit(config, { iso: undefined, unit: r.text("EntryUnit") }, `${path}/EntryUnit`, issues);
  const qty = quantity(r.decimal("QuantityInEntryUnit", true), unit);
  const batch = r.text("Batch");
  const partnerBatch = r.text("IssgOrRcvgBatch");
  const partnerMaterial = r.text("IssgOrRcvgMaterial");
  const own: Place = {
    site: { id: plant ?? "" },
    ...defined("storageLocation", r.text("StorageLocation")),
    ...defined("warehouse", r.text("EWMWarehouse")),
    ...defined("bin", r.text("EWMStorageBin")),
  };
  const partner: Place = {
    site: { id: r.text("IssuingOrReceivingPlant") ?? plant ?? "" },
    ...defined("storageLocation", r.text("IssuingOrReceivingStorageLoc")),
  };
  const itemType = stockType(config, r.text("InventoryStockType"), `${path}/InventoryStockType`, issues);
  const partnerType = stockType(config, r.text("IssuingOrReceivingStockType"), `${path}/IssuingOrReceivingStockType`, issues);
  const order = r.text(source.orderProperty);
  const reservation = r.text("Reservation");
  const reservationItem = r.text("ReservationItem");
  const reasonCode = r.text("GoodsMovementReasonCode");
  const itemText = r.text("MaterialDocumentItemText");
  const reverses = key(r.text("ReversedMaterialDocumentYear"), r.text("ReversedMaterialDocument"), r.text("ReversedMaterialDocumentItem"));
  issues.push(...h.issues, ...r.issues);
  const rule = movementType === undefined ? undefined : config.movementTypes[movementType];
  if (movementType !== undefined && rule === undefined) {
    issues.push(issue("unknown_movement_type", `${path}/GoodsMovementType`, movementType, "movement type not in the configured movementTypes table"));
  }
  if (issues.length > 0) return err(wireError(issues));
  if (rule === undefined || year === undefined || doc === undefined || itemNo === undefined || material === undefined || postingDate === undefined || qty === undefined) {
    return err(wireError([issue("missing_property", path, undefined, "material document key, movement type, material, posting date and quantity are required")]));
  }
  const referenced = reverses !== undefined;
  const swap = rule.reversal === true && rule.swapWhenUnreferenced === true && !referenced;
  const isReversal = rule.reversal === true && !swap;
  const places = locations(rule, own, partner, itemType, partnerType);
  const { from, to } = swap ? { from: places.to, to: places.from } : places;
  const hasReservation = reservation !== undefined && reservationItem !== undefined && /[1-9]/.test(reservation);
  const text = itemText ?? headerText;
  const movement: MaterialMovement = {
    movementId: `${year}/${alphaToInternal(doc, 10)}/${alphaToInternal(itemNo, 4)}`,
    kind: rule.kind,
    ...defined("direction", rule.kind === "adjusted" ? rule.direction : undefined),
    sourceMovementType: movementType as string,
    postingDate,
    ...defined("occurredAt", occurredAt),
    material: { id: material },
    ...defined("batchId", batch),
    ...defined("toBatchId", partnerBatch !== undefined && partnerBatch !== batch ? partnerBatch : undefined),
    ...(partnerMaterial !== undefined && partnerMaterial !== material ? { toMaterial: { id: partnerMaterial } } : {}),
    quantity: qty,
    ...defined("from", from),
    ...defined("to", to),
    ...(order === undefined
      ? {}
      : { order: { orderId: alphaToExternal(order), ...(source.operationId === undefined ? {} : { operationId: source.operationId }), ...(hasReservation ? { componentItemId: `${alphaToInternal(reservation, 10)}/${alphaToInternal(reservationItem, 4)}` } : {}) } }),
    ...(reasonCode !== undefined && /[1-9]/.test(reasonCode)
      ? { reason: { code: reasonCode, catalog: movementType as string, ...defined("text", text) } }
      : text === undefined ? {} : { reason: { text } }),
    ...defined("reverses", reverses),
    ...(isReversal ? { isReversal: true } : {}),
    revision: "0",
    sourceRefs: [sourceRef(config, source.kind, [["MaterialDocumentYear", year], ["MaterialDocument", alphaToInternal(doc, 10)], ["MaterialDocumentItem", alphaToInternal(itemNo, 4)]])],
    ...defined("extensions", collectExtensions(config, { ...item, GoodsMovementCode: header["GoodsMovementCode"] }, ["GoodsMovementCode", "InventorySpecialStockType"])),
  };
  return parseMaterialMovement(movement).mapErr(invalidEntity);
}

/**
 * Map one `A_MaterialDocumentHeader` with expanded `to_MaterialDocumentItem` to one validated
 * MaterialMovement per item entered by the user (automatically created transfer lines are skipped).
 * Movement types come from the configured table; an unknown type is an `unknown_movement_type` error.
 *
 * @param payload - the header entity, or its `{"d": {…}}` envelope
 * @param config - the checked adapter configuration
 * @returns the movements in item order, or the first failing item's error
 * @example
 * ```ts
 * const movements = mapMaterialDocument(JSON.parse(body), config);
 * ```
 */
export function mapMaterialDocument(payload: unknown, config: SapAdapterConfig): Result<readonly MaterialMovement[], SapMappingError> {
  return guard(payload, () => {
    const entity = toEntityRecord(payload);
    if (entity.isErr()) return err(wireError([entity.error]));
    const { record, path } = entity.value;
    const issues: SapWireIssue[] = [];
    const rows = expandedRows(record, "to_MaterialDocumentItem", path, issues, true);
    if (rows === undefined) return err(wireError(issues));
    const out: MaterialMovement[] = [];
    for (const { row: item, path: itemPath } of rows) {
      const m = mapItem(config, record, path, item, itemPath);
      if (m.isErr()) return err(m.error);
      if (m.value !== undefined) out.push(m.value);
    }
    return ok(out);
  });
}

/**
 * Map one `A_MaterialDocumentItem` (with its header given, or expanded as `to_MaterialDocumentHeader`)
 * to a validated MaterialMovement; an automatically created line maps to `undefined`.
 *
 * @param payload - the item entity, or its `{"d": {…}}` envelope
 * @param header - the header entity (PostingDate, CreationDate/Time, GoodsMovementCode), when not expanded
 * @param config - the checked adapter configuration
 * @returns the movement, `undefined` for an automatic line, or the error
 * @example
 * ```ts
 * const movement = mapMaterialDocumentItem(item, header, config);
 * ```
 */
export function mapMaterialDocumentItem(
  payload: unknown,
  header: unknown,
  config: SapAdapterConfig,
): Result<MaterialMovement | undefined, SapMappingError> {
  return guard([payload, header], () => {
    const entity = toEntityRecord(payload);
    if (entity.isErr()) return err(wireError([entity.error]));
    const { record, path } = entity.value;
    const issues: SapWireIssue[] = [];
    const expanded = expandedEntity(record, "to_MaterialDocumentHeader", path, issues);
    if (issues.length > 0) return err(wireError(issues));
    if (expanded !== undefined) return mapItem(config, expanded.row, expanded.path, record, path);
    const given = header === undefined ? undefined : toEntityRecord(header);
    if (given !== undefined && given.isErr()) return err(wireError([{ ...given.error, path: `/header${given.error.path}` }]));
    if (given === undefined) {
      return err(wireError([issue("missing_property", `${path}/to_MaterialDocumentHeader`, undefined, "the header (PostingDate) is required: pass it or $expand=to_MaterialDocumentHeader")]));
    }
    return mapItem(config, given.value.record, `/header${given.value.path}`, record, path);
  });
}

/**
 * Map the goods movements a confirmation posted (`ProdnOrdConf2` with `to_ProdnOrdConfMatlDocItm`
 * expanded) to validated MaterialMovements. The posting date comes from the confirmation, the
 * operation from its `OrderOperation`; the movement ids are the material document keys, so the
 * same movement read from API_MATERIAL_DOCUMENT_SRV has the same `movementId`.
 *
 * @param payload - the confirmation entity, or its `{"d": {…}}` envelope
 * @param config - the checked adapter configuration
 * @returns the movements in item order, or the first failing item's error
 * @example
 * ```ts
 * const movements = mapConfirmationGoodsMovements(JSON.parse(body), config);
 * ```
 */
export function mapConfirmationGoodsMovements(payload: unknown, config: SapAdapterConfig): Result<readonly MaterialMovement[], SapMappingError> {
  return guard(payload, () => {
    const entity = toEntityRecord(payload);
    if (entity.isErr()) return err(wireError([entity.error]));
    const { record, path } = entity.value;
    const issues: SapWireIssue[] = [];
    const rows = expandedRows(record, "to_ProdnOrdConfMatlDocItm", path, issues, true);
    if (rows === undefined) return err(wireError(issues));
    const operation = typeof record["OrderOperation"] === "string" && record["OrderOperation"].trim() !== "" ? record["OrderOperation"].trim() : undefined;
    const header: ODataRecord = { PostingDate: record["PostingDate"] };
    const out: MaterialMovement[] = [];
    for (const { row: item, path: itemPath } of rows) {
      const m = mapItem(config, header, path, item, itemPath, {
        // The full ProdnOrdConfMatlDocItm key would exceed an Identifier's 128 characters; the
        // material document item key locates the same SAP object.
        kind: "A_MaterialDocumentItem",
        operationId: operation,
        orderProperty: "OrderID",
      });
      if (m.isErr()) return err(m.error);
      if (m.value !== undefined) out.push(m.value);
    }
    return ok(out);
  });
}
