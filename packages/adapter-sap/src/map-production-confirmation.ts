import { issue } from "@millwright/adapter-kit";
import { parseProductionConfirmation, type ProductionConfirmation } from "@millwright/model";
import { err, type Result } from "neverthrow";
import { alphaToExternal, alphaToInternal } from "./alpha.js";
import { collectExtensions, defined, expandedRows, quantity, resolveUnit, sourceRef } from "./common.js";
import type { SapAdapterConfig } from "./config.js";
import { invalidEntity, wireError, type SapMappingError, type SapWireIssue } from "./errors.js";
import { createFieldReader } from "./field-reader.js";
import { guard, toEntityRecord } from "./payload.js";

/** Options for mapping a confirmation. */
export interface ConfirmationMapOptions {
  /** For a reversal (`IsReversal`): the confirmation id it cancelled, when known (SAP does not name it). */
  readonly reverses?: string;
}

/**
 * Map one `ProdnOrdConf2` (optionally with `to_ProdnOrdConfMatlDocItm` expanded, for the output
 * batch of its 101 goods receipt) to a validated ProductionConfirmation.
 *
 * @param payload - the entity, or its `{"d": {…}}` envelope
 * @param config - the checked adapter configuration
 * @param options - the reversed confirmation id for reversals
 * @returns the ProductionConfirmation, or the error; a reversal without `options.reverses` is `missing_property`
 * @example
 * ```ts
 * const confirmation = mapProductionConfirmation(JSON.parse(body), config);
 * ```
 */
export function mapProductionConfirmation(
  payload: unknown,
  config: SapAdapterConfig,
  options: ConfirmationMapOptions = {},
): Result<ProductionConfirmation, SapMappingError> {
  return guard([payload, options], () => {
    const entity = toEntityRecord(payload);
    if (entity.isErr()) return err(wireError([entity.error]));
    const { record, path } = entity.value;
    const issues: SapWireIssue[] = [];
    const r = createFieldReader(record, path, config.timeZone);
    const group = r.text("ConfirmationGroup", true);
    const count = r.text("ConfirmationCount", true);
    const orderRaw = r.text("OrderID", true);
    const operation = r.text("OrderOperation");
    const plant = r.text("Plant", true);
    const workCenter = r.text("WorkCenter");
    const unit = resolveUnit(config, { iso: r.text("ConfirmationUnitISOCode"), unit: r.text("ConfirmationUnit") }, `${path}/ConfirmationUnit`, issues);
    const yieldQty = quantity(r.decimal("ConfirmationYieldQuantity", true), unit);
    const scrap = quantity(r.decimal("ConfirmationScrapQuantity"), unit);
    const rework = quantity(r.decimal("ConfirmationReworkQuantity"), unit);
    const variance = r.text("VarianceReasonCode");
    const isFinal = r.flag("IsFinalConfirmation");
    const isReversal = r.flag("IsReversal");
    const postingDate = r.date("PostingDate", true);
    const start = r.timestamp("ConfirmedExecutionStartDate", "ConfirmedExecutionStartTime");
    const end = r.timestamp("ConfirmedExecutionEndDate", "ConfirmedExecutionEndTime");
    const text = r.text("ConfirmationText");
    const externalRaw = r.text("ExternalSystemConfirmation");
    issues.push(...r.issues);
    let outputBatch: ProductionConfirmation["outputBatch"];
    const goodsMovements = expandedRows(record, "to_ProdnOrdConfMatlDocItm", path, issues, false);
    if (goodsMovements !== undefined) {
      const receipt = goodsMovements.find(({ row }) => row["GoodsMovementType"] === "101")?.row;
      const m = typeof receipt?.["Material"] === "string" ? receipt["Material"].trim() : "";
      const b = typeof receipt?.["Batch"] === "string" ? receipt["Batch"].trim() : "";
      const p = typeof receipt?.["Plant"] === "string" ? receipt["Plant"].trim() : "";
      if (m !== "" && b !== "") outputBatch = { material: { id: m }, batchId: b, ...(p === "" ? {} : { site: { id: p } }) };
    }
    if (isReversal && options.reverses === undefined) {
      issues.push(issue("missing_property", `${path}/IsReversal`, true, "a reversal confirmation needs the cancelled confirmation id (options.reverses): SAP does not name it"));
    }
    if (issues.length > 0) return err(wireError(issues));
    if (group === undefined || count === undefined || orderRaw === undefined || plant === undefined || yieldQty === undefined || postingDate === undefined) {
      return err(wireError([issue("missing_property", path, undefined, "ConfirmationGroup, ConfirmationCount, OrderID, Plant, ConfirmationYieldQuantity and PostingDate are required")]));
    }
    const g = alphaToInternal(group, 10);
    const c = alphaToInternal(count, 8);
    const externalId = externalRaw === undefined || /^0{8}-0{4}-0{4}-0{4}-0{12}$/.test(externalRaw) ? undefined : externalRaw.toLowerCase();
    const confirmation: ProductionConfirmation = {
      confirmationId: `${g}/${c}`,
      ...defined("externalId", externalId),
      order: { orderId: alphaToExternal(orderRaw), ...defined("operationId", operation) },
      site: { id: plant },
      ...(workCenter === undefined ? {} : { workCenter: { id: workCenter, level: "work_center" as const, site: { id: plant } } }),
      yieldQuantity: yieldQty,
      ...defined("scrapQuantity", scrap),
      ...defined("reworkQuantity", rework),
      ...(variance === undefined ? {} : { varianceReason: { code: variance } }),
      isFinal,
      postingDate,
      ...defined("executionStart", start),
      ...defined("executionEnd", end),
      ...defined("outputBatch", outputBatch),
      ...defined("reverses", isReversal ? options.reverses : undefined),
      ...defined("text", text),
      revision: "0",
      sourceRefs: [sourceRef(config, "ProdnOrdConf2", [["ConfirmationGroup", g], ["ConfirmationCount", c]])],
      ...defined("extensions", collectExtensions(config, record, ["Sequence", "OrderSuboperation", "Personnel", "OpConfirmedWorkQuantity1", "OpConfirmedWorkQuantity2", "OpConfirmedWorkQuantity3", "OpConfirmedWorkQuantity4", "OpConfirmedWorkQuantity5", "OpConfirmedWorkQuantity6"])),
    };
    return parseProductionConfirmation(confirmation).mapErr(invalidEntity);
  });
}
