import { issue, parseDecimal } from "@millwright/adapter-kit";
import { parseQualityHold, type QualityHold, type QualityHoldDisposition, type StockType } from "@millwright/model";
import { err, type Result } from "neverthrow";
import { alphaToExternal, alphaToInternal } from "./alpha.js";
import { collectExtensions, defined, expandedEntity, normaliseRevision, quantity, resolveUnit, revisionOf, sourceRef } from "./common.js";
import type { SapAdapterConfig, UsageDecisionRule } from "./config.js";
import { invalidEntity, wireError, type SapMappingError, type SapWireIssue } from "./errors.js";
import { createFieldReader } from "./field-reader.js";
import type { ODataRecord } from "./odata-envelope.js";
import { guard, toEntityRecord } from "./payload.js";

/** The SAP records that make up one hold. */
export interface InspectionLotInput {
  /** `A_InspectionLot` (entity or `{"d": …}`), optionally with `to_InspectionLotWithStatus` expanded. */
  readonly lot: unknown;
  /** `A_InspLotUsageDecision` of the same lot, once decided. */
  readonly usageDecision?: unknown;
  /** The stock type the placing posting moved the material into, when the caller knows it from the material document. */
  readonly heldStockType?: StockType;
}

const PLACING_MOVEMENTS: Readonly<Record<string, StockType>> = {
  "101": "quality_inspection",
  "322": "quality_inspection",
  "349": "quality_inspection",
  "344": "blocked",
  "350": "blocked",
};

function isPositive(value: unknown): boolean {
  const d = parseDecimal(value);
  return d !== undefined && !d.startsWith("-") && /[1-9]/.test(d);
}

/**
 * Map an `A_InspectionLot` and its `A_InspLotUsageDecision` to a validated QualityHold: placed while
 * there is no usage decision, released or rejected by the configured code / valuation table,
 * cancelled when `A_InspectionLotWithStatus.InspLotStatusCanceled` is set.
 *
 * @param input - the lot, the usage decision and optionally the held stock type
 * @param config - the checked adapter configuration
 * @returns the QualityHold, or the error (an unmapped usage decision is `unmapped_value`)
 * @example
 * ```ts
 * const hold = mapInspectionLot({ lot, usageDecision }, config);
 * ```
 */
export function mapInspectionLot(input: InspectionLotInput, config: SapAdapterConfig): Result<QualityHold, SapMappingError> {
  return guard(input, () => {
    if (typeof input !== "object" || input === null) {
      return err(wireError([issue("invalid_envelope", "", input, "expected { lot, usageDecision? }")]));
    }
    const entity = toEntityRecord(input.lot);
    if (entity.isErr()) return err(wireError([{ ...entity.error, path: `/lot${entity.error.path}` }]));
    const { record, path: inner } = entity.value;
    const path = `/lot${inner}`;
    const issues: SapWireIssue[] = [];
    const r = createFieldReader(record, path, config.timeZone);
    const lotRaw = r.text("InspectionLot", true);
    const lotId = lotRaw === undefined ? undefined : alphaToInternal(lotRaw, 12);
    const material = r.text("Material");
    const batch = r.text("Batch");
    const plant = r.text("Plant");
    const storageLocation = r.text("InspectionLotStorageLocation");
    const order = r.text("ManufacturingOrder");
    const origin = r.text("InspectionLotOrigin");
    const text = r.text("InspectionLotText");
    const unit = record["InspectionLotQuantity"] === undefined ? undefined : resolveUnit(config, { iso: undefined, unit: r.text("InspectionLotQuantityUnit") }, `${path}/InspectionLotQuantityUnit`, issues);
    const qty = quantity(r.decimal("InspectionLotQuantity"), unit);
    const placedAt = r.timestamp("InspLotCreatedOnLocalDate", "InspLotCreatedOnLocalTime") ?? r.timestamp("InspectionLotCreatedOn", "InspectionLotCreatedOnTime");
    const hasDecision = r.flag("InspectionLotHasUsageDecision");
    const blockedOnReceipt = r.text("GoodsReceiptIsMovedToBlkdStock") === "X";
    const placingType = r.text("GoodsMovementType");
    const lotRevision = revisionOf(record, "ChangedDateTime", path, issues);
    issues.push(...r.issues);
    const statusRow = expandedEntity(record, "to_InspectionLotWithStatus", path, issues);
    const cancelled = statusRow !== undefined && createFieldReader(statusRow.row, statusRow.path, config.timeZone, issues).flag("InspLotStatusCanceled");

    let disposition: QualityHoldDisposition | undefined;
    let status: QualityHold["status"] = cancelled ? "cancelled" : "placed";
    let udRecord: ODataRecord | undefined;
    let udRevision: string | undefined;
    if (!cancelled && hasDecision) {
      const ud = input.usageDecision === undefined ? undefined : toEntityRecord(input.usageDecision);
      if (ud === undefined || ud.isErr()) {
        issues.push(issue("missing_property", "/usageDecision", undefined, "InspectionLotHasUsageDecision is set: the A_InspLotUsageDecision is required"));
      } else {
        udRecord = ud.value.record;
        const upath = `/usageDecision${ud.value.path}`;
        const u = createFieldReader(udRecord, upath, config.timeZone);
        const code = u.text("InspectionLotUsageDecisionCode");
        const group = u.text("InspLotUsageDecisionCodeGroup");
        const valuation = u.text("InspLotUsageDecisionValuation");
        const decidedBy = u.text("InspectionLotUsageDecidedBy");
        const decidedAt = u.timestamp("InspectionLotUsageDecidedOn", "InspLotUsageDecisionTime");
        udRevision = revisionOf(udRecord, "ChangedDateTime", upath, issues);
        issues.push(...u.issues);
        const rule: UsageDecisionRule | undefined =
          (group !== undefined && code !== undefined ? config.usageDecisionCodes[`${group}/${code}`] : undefined) ??
          (code === undefined ? undefined : config.usageDecisionCodes[code]) ??
          (valuation === undefined ? undefined : config.usageDecisionValuations[valuation]);
        if (rule === undefined) {
          issues.push(issue("unmapped_value", `${upath}/InspLotUsageDecisionValuation`, valuation ?? "", "usage decision not in usageDecisionCodes or usageDecisionValuations"));
        } else if (decidedAt === undefined) {
          issues.push(issue("missing_property", `${upath}/InspectionLotUsageDecidedOn`, undefined, "a usage decision has a decision date"));
        } else {
          status = rule.status;
          const target: StockType | undefined =
            rule.status === "released" && isPositive(record["InspLotQtyToFree"]) ? "unrestricted"
            : rule.status === "rejected" && isPositive(record["InspLotQtyToBlocked"]) ? "blocked"
            : undefined;
          disposition = {
            decision: rule.decision,
            ...defined("code", code),
            ...defined("codeGroup", group),
            ...defined("decidedBy", decidedBy),
            decidedAt,
            ...defined("targetStockType", target),
          };
        }
      }
    }
    if (issues.length > 0) return err(wireError(issues));
    if (lotId === undefined || placedAt === undefined) {
      return err(wireError([issue("missing_property", `${path}/InspLotCreatedOnLocalDate`, undefined, "InspectionLot and its creation date are required")]));
    }
    const heldStockType: StockType =
      input.heldStockType ?? (blockedOnReceipt ? "blocked" : placingType === undefined ? "unrestricted" : PLACING_MOVEMENTS[placingType] ?? "quality_inspection");
    let scope: QualityHold["scope"];
    if (batch !== undefined && material !== undefined) {
      scope = {
        kind: "batch",
        batch: { material: { id: material }, batchId: batch, ...(plant === undefined ? {} : { site: { id: plant } }) },
        ...(plant !== undefined && storageLocation !== undefined ? { location: { site: { id: plant }, storageLocation, stockType: heldStockType } } : {}),
      };
    } else if (order !== undefined) {
      scope = { kind: "order", order: { orderId: alphaToExternal(order) }, ...(material === undefined ? {} : { material: { id: material } }) };
    } else {
      scope = { kind: "material", material: { id: material ?? "" }, site: { id: plant ?? "" }, ...defined("storageLocation", storageLocation) };
    }
    const revisions = [lotRevision, udRevision].filter((v): v is string => v !== undefined).sort();
    const hold: QualityHold = {
      holdId: lotId,
      status,
      scope,
      ...defined("quantity", qty),
      heldStockType,
      reason: { ...defined("code", origin), ...(origin === undefined ? {} : { catalog: "InspectionLotOrigin" }), ...defined("text", text) },
      placedAt,
      ...defined("disposition", disposition),
      revision: normaliseRevision(revisions.at(-1)),
      sourceRefs: [
        sourceRef(config, "A_InspectionLot", [["InspectionLot", lotId]]),
        ...(udRecord === undefined ? [] : [sourceRef(config, "A_InspLotUsageDecision", [["InspectionLot", lotId]])]),
      ],
      ...defined("extensions", collectExtensions(config, { ...record, ...udRecord }, ["InspLotUsageDecisionCodeGroup", "InspLotUsgeDcsnFollowUpAction"])),
    };
    return parseQualityHold(hold).mapErr(invalidEntity);
  });
}
