import { issue } from "@millwright/adapter-kit";
import { parseBatch, type Batch } from "@millwright/model";
import { err, type Result } from "neverthrow";
import { collectExtensions, defined, normaliseRevision, revisionOf, sourceRef } from "./common.js";
import type { SapAdapterConfig } from "./config.js";
import { invalidEntity, wireError, type SapMappingError, type SapWireIssue } from "./errors.js";
import { createFieldReader } from "./field-reader.js";
import { guard, toEntityRecord } from "./payload.js";

/**
 * Map one API_BATCH_SRV `Batch` entity to a validated canonical Batch. Only the property names
 * verified in reference/standards.md §3.1 are read (no EDMX of this service was available).
 *
 * @param payload - the entity, or its `{"d": {…}}` envelope
 * @param config - the checked adapter configuration
 * @returns the Batch, or the error
 * @example
 * ```ts
 * const batch = mapBatch(JSON.parse(body), config);
 * ```
 */
export function mapBatch(payload: unknown, config: SapAdapterConfig): Result<Batch, SapMappingError> {
  return guard(payload, () => {
    const entity = toEntityRecord(payload);
    if (entity.isErr()) return err(wireError([entity.error]));
    const { record, path } = entity.value;
    const issues: SapWireIssue[] = [];
    const r = createFieldReader(record, path, config.timeZone);
    const batchRaw = r.text("Batch", true);
    const material = r.text("Material", true);
    const plant = r.text("BatchIdentifyingPlant");
    const restricted = r.flag("MatlBatchIsInRstrcdUseStock");
    const deleted = r.flag("BatchIsMarkedForDeletion");
    const supplierBatchId = r.text("BatchBySupplier");
    const supplier = r.text("Supplier");
    const country = r.text("CountryOfOrigin");
    const manufacturedOn = r.date("ManufactureDate");
    const expiresOn = r.date("ShelfLifeExpirationDate");
    const availableOn = r.date("MatlBatchAvailabilityDate");
    const revision = revisionOf(record, "LastChangeDateTime", path, issues) ?? revisionOf(record, "CreationDateTime", path, issues);
    issues.push(...r.issues);
    if (issues.length > 0) return err(wireError(issues));
    if (batchRaw === undefined || material === undefined) {
      return err(wireError([issue("missing_property", path, undefined, "Material and Batch are required")]));
    }
    const batchId = batchRaw.toUpperCase();
    const batch: Batch = {
      batchId,
      material: { id: material },
      ...(plant === undefined ? {} : { site: { id: plant } }),
      disposition: deleted && config.batchDeletionIsClosed ? "closed" : restricted ? "restricted" : "unrestricted",
      ...defined("supplierBatchId", supplierBatchId),
      ...defined("supplier", supplier),
      ...defined("countryOfOrigin", country),
      ...defined("manufacturedOn", manufacturedOn),
      ...defined("expiresOn", expiresOn),
      ...defined("availableOn", availableOn),
      revision: normaliseRevision(revision),
      sourceRefs: [sourceRef(config, "Batch", [["Material", material], ["BatchIdentifyingPlant", plant ?? ""], ["Batch", batchId]])],
      ...defined("extensions", collectExtensions(config, record, [])),
    };
    return parseBatch(batch).mapErr(invalidEntity);
  });
}

