/**
 * The material documents the demo's SAP system holds, in SAP Gateway's OData V2 form
 * (`A_MaterialDocumentHeader` with `to_MaterialDocumentItem`), and the thin business event SAP sends
 * for each. Property names only from packages/adapter-sap/metadata/API_MATERIAL_DOCUMENT_SRV.edmx;
 * value forms as in the adapter's fixtures (test/fixtures/material-document-*.json): `/Date(ms)/`
 * for Edm.DateTime, `PT07H33M12S` for Edm.Time, decimals as strings, `X` flags.
 */
import { formatEdmTime, formatSapDate } from "@millwright/adapter-sap";

/** One item of a material document, as the demo needs it. */
interface DocumentItem {
  /** GoodsMovementType (BWART): 101, 261, 321, 322 … */
  readonly movementType: string;
  readonly material: string;
  readonly storageLocation: string;
  readonly batch?: string;
  /** InventoryStockType of the line: 01 unrestricted, 02 quality inspection, 07 blocked. */
  readonly stockType: string;
  /** QuantityInEntryUnit (and QuantityInBaseUnit: the demo's entry unit is the base unit). */
  readonly quantity: string;
  /** SAP internal unit (EntryUnit, MaterialBaseUnit), e.g. ST. */
  readonly unit: string;
  readonly order?: string;
  /** GoodsMovementRefDocType: F for a goods receipt for a production order. */
  readonly refDocType?: string;
  readonly reservation?: { readonly reservation: string; readonly item: string };
  /** For a transfer posting: the receiving stock type of the line SAP adds automatically. */
  readonly partnerStockType?: string;
}

/** A material document header and its items. */
export interface DocumentInput {
  readonly document: string;
  readonly year: string;
  /** Posting date `YYYY-MM-DD` (also DocumentDate and CreationDate). */
  readonly postingDate: string;
  /** CreationTime in the plant's local time, `HH:MM:SS`. */
  readonly createdAt: string;
  readonly createdBy: string;
  readonly goodsMovementCode: string;
  readonly headerText?: string;
  readonly plant: string;
  readonly items: readonly DocumentItem[];
}

function sapDate(date: string): string {
  return formatSapDate(Date.parse(`${date}T00:00:00Z`));
}

function edmTime(hms: string): string {
  const [h = 0, m = 0, s = 0] = hms.split(":").map(Number);
  return formatEdmTime(h * 3600 + m * 60 + s);
}

/** Edm.Decimal(13,3) as SAP writes it: "120.000". */
export function toSapDecimal(value: string): string {
  const [whole = "0", fraction = ""] = value.split(".");
  return `${whole}.${fraction.padEnd(3, "0")}`;
}

function item(input: DocumentInput, line: DocumentItem, index: number, automatic: boolean): Record<string, unknown> {
  return {
    MaterialDocumentYear: input.year,
    MaterialDocument: input.document,
    MaterialDocumentItem: String(index + 1).padStart(4, "0"),
    Material: line.material,
    Plant: input.plant,
    StorageLocation: line.storageLocation,
    Batch: line.batch ?? "",
    GoodsMovementType: line.movementType,
    InventoryStockType: automatic ? (line.partnerStockType ?? line.stockType) : line.stockType,
    InventorySpecialStockType: "",
    ManufacturingOrder: line.order ?? "",
    ManufacturingOrderItem: "0",
    GoodsMovementRefDocType: line.refDocType ?? "",
    GoodsMovementReasonCode: "0",
    MaterialBaseUnit: line.unit,
    QuantityInBaseUnit: line.quantity,
    EntryUnit: line.unit,
    QuantityInEntryUnit: line.quantity,
    IssgOrRcvgMaterial: line.partnerStockType === undefined ? "" : line.material,
    IssgOrRcvgBatch: line.partnerStockType === undefined ? "" : (line.batch ?? ""),
    IssuingOrReceivingPlant: line.partnerStockType === undefined ? "" : input.plant,
    IssuingOrReceivingStorageLoc: line.partnerStockType === undefined ? "" : line.storageLocation,
    IssuingOrReceivingStockType: automatic ? line.stockType : "",
    MaterialDocumentItemText: "",
    Reservation: line.reservation?.reservation ?? "0",
    ReservationItem: line.reservation?.item ?? "0",
    ReservationIsFinallyIssued: false,
    IsAutomaticallyCreated: automatic ? "X" : "",
    MaterialDocumentLine: String(index + 1),
    MaterialDocumentParentLine: automatic ? String(index) : "0",
    GoodsMovementIsCancelled: false,
    ReversedMaterialDocumentYear: "",
    ReversedMaterialDocument: "",
    ReversedMaterialDocumentItem: "",
    InventoryUsabilityCode: "",
    EWMWarehouse: "",
    EWMStorageBin: "",
  };
}

/**
 * Builds the `A_MaterialDocumentHeader` row the SAP test system holds after a posting. A transfer
 * posting (an item with `partnerStockType`) gets the second line SAP creates automatically
 * (`IsAutomaticallyCreated` X), which the SAP adapter skips.
 *
 * @param input - the document's keys, dates, header fields and items
 * @returns the row, with `to_MaterialDocumentItem` inline (served when expanded)
 * @example
 * const row = toMaterialDocument({ document: "4900000301", year: "2026", postingDate: "2026-03-02", createdAt: "07:33:12", createdBy: "MILLWRIGHT", goodsMovementCode: "03", plant: "1710", items: [] });
 */
export function toMaterialDocument(input: DocumentInput): Record<string, unknown> {
  const lines: Record<string, unknown>[] = [];
  for (const line of input.items) {
    lines.push(item(input, line, lines.length, false));
    if (line.partnerStockType !== undefined) lines.push(item(input, line, lines.length, true));
  }
  return {
    MaterialDocumentYear: input.year,
    MaterialDocument: input.document,
    DocumentDate: sapDate(input.postingDate),
    PostingDate: sapDate(input.postingDate),
    CreationDate: sapDate(input.postingDate),
    CreationTime: edmTime(input.createdAt),
    CreatedByUser: input.createdBy,
    MaterialDocumentHeaderText: input.headerText ?? "",
    ReferenceDocument: "",
    GoodsMovementCode: input.goodsMovementCode,
    to_MaterialDocumentItem: { results: lines },
  };
}

/**
 * The thin business event SAP sends when a material document is created: only its keys
 * (`sap.s4.beh.materialdocument.v1.MaterialDocument.Created.v1`, reference/standards.md §3.5).
 *
 * @param options - the document keys, the SAP system, the event id and time (the document's creation, UTC)
 * @returns the SAP CloudEvent
 * @example
 * const event = toMaterialDocumentCreated({ document: "4900000301", year: "2026", system: "S4PCLNT100", id: "…", time: "2026-03-02T15:33:12Z" });
 */
export function toMaterialDocumentCreated(options: { readonly document: string; readonly year: string; readonly system: string; readonly id: string; readonly time: string }) {
  return {
    specversion: "1.0",
    type: "sap.s4.beh.materialdocument.v1.MaterialDocument.Created.v1",
    source: `/default/sap.s4.beh/${options.system}`,
    id: options.id,
    time: options.time,
    datacontenttype: "application/json",
    data: { MaterialDocument: options.document, MaterialDocumentYear: options.year },
  };
}
