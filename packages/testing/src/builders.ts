import {
  parseEntity,
  type Alignment,
  type Batch,
  type EntityName,
  type EntityTypeMap,
  type MachineState,
  type MaterialMovement,
  type ProductionConfirmation,
  type ProductionCount,
  type QualityHold,
  type WorkOrder,
} from "@millwright/model";

// The per-entity shorthands (buildWorkOrder, …) are generated from schemas/ into
// generated/builders.ts; the defaults below are fixtures and stay written by hand.

/** Overrides for a fixture: any property, nested objects merged, arrays replaced. */
export type Overrides<T> = { readonly [K in keyof T]?: T[K] extends readonly unknown[] ? T[K] : T[K] extends object ? Overrides<T[K]> : T[K] };

const site = { id: "1710" };
const sourceRef = (kind: string, key: string) => [{ system: "S4PCLNT100", kind, key }] as [{ system: string; kind: string; key: string }];

const DEFAULTS: { readonly [K in EntityName]: EntityTypeMap[K] } = {
  WorkOrder: {
    orderId: "1000123",
    site,
    material: { id: "FG126" },
    status: "released",
    plannedQuantity: { value: "500", unit: "H87" },
    schedule: { plannedStart: "2026-03-02T06:00:00-08:00", plannedEnd: "2026-03-06T22:00:00-08:00" },
    operations: [
      { operationId: "0010", status: "released", workCenter: { id: "CUT01", level: "work_center", site } },
      { operationId: "0020", status: "released", workCenter: { id: "WELD01", level: "work_center", site } },
    ],
    components: [{ itemId: "0000045678/0001", material: { id: "RM10" }, operationId: "0010", requiredQuantity: { value: "255.000", unit: "MTR" } }],
    revision: "20260301061530",
    sourceRefs: sourceRef("A_ProductionOrder_2", "ManufacturingOrder=1000123"),
  } satisfies WorkOrder,
  Batch: {
    batchId: "B260302A",
    material: { id: "FG126" },
    site,
    disposition: "unrestricted",
    manufacturedOn: "2026-03-02",
    expiresOn: "2028-03-01",
    revision: "20260302120000",
    sourceRefs: sourceRef("Batch", "Material=FG126,BatchIdentifyingPlant=1710,Batch=B260302A"),
  } satisfies Batch,
  MaterialMovement: {
    movementId: "2026/4900000123/0001",
    kind: "produced",
    postingDate: "2026-03-02",
    material: { id: "FG126" },
    batchId: "B260302A",
    quantity: { value: "118", unit: "H87" },
    to: { site, storageLocation: "171A", stockType: "unrestricted" },
    order: { orderId: "1000123" },
    revision: "0",
    sourceRefs: sourceRef("A_MaterialDocumentItem", "MaterialDocumentYear=2026,MaterialDocument=4900000123,MaterialDocumentItem=1"),
  } satisfies MaterialMovement,
  QualityHold: {
    holdId: "010000000123",
    status: "placed",
    scope: { kind: "batch", batch: { material: { id: "FG126" }, batchId: "B260302A" } },
    heldStockType: "quality_inspection",
    reason: { text: "Weld porosity found at final inspection" },
    placedAt: "2026-03-02T14:00:00-08:00",
    revision: "20260302220000",
    sourceRefs: sourceRef("A_InspectionLot", "InspectionLot=010000000123"),
  } satisfies QualityHold,
  ProductionConfirmation: {
    confirmationId: "0000012345/00000001",
    order: { orderId: "1000123", operationId: "0020" },
    site,
    yieldQuantity: { value: "118", unit: "H87" },
    scrapQuantity: { value: "2", unit: "H87" },
    isFinal: false,
    postingDate: "2026-03-02",
    revision: "0",
    sourceRefs: sourceRef("ProdnOrdConf2", "ConfirmationGroup=0000012345,ConfirmationCount=00000001"),
  } satisfies ProductionConfirmation,
  MachineState: {
    equipment: { id: "WELD01", level: "work_center", site },
    availability: "executing",
    packmlState: "execute",
    since: "2026-03-02T07:02:13.482-08:00",
    revision: "1772463733482000",
    sourceRefs: [{ system: "urn:line-fab:opcua", kind: "Variable", key: "ns=3;s=WELD01.Status.StateCurrent" }],
  } satisfies MachineState,
  ProductionCount: {
    equipment: { id: "WELD01", level: "work_center", site },
    order: { orderId: "1000123", operationId: "0020" },
    goodQuantity: { value: "118", unit: "H87" },
    defectiveQuantity: { value: "2", unit: "H87" },
    windowStart: "2026-03-02T07:02:13.482-08:00",
    windowEnd: "2026-03-02T08:02:13.482-08:00",
    revision: "1772467333482000",
    sourceRefs: [{ system: "urn:line-fab:opcua", kind: "Variable", key: "ns=3;s=WELD01.Admin.ProdProcessedCount" }],
  } satisfies ProductionCount,
  Alignment: {
    kind: "breached",
    rule: "workorder-started",
    key: "1000123",
    site: "1710",
    reasons: ["missing"],
    dueAt: "2026-03-01T18:15:30.000Z",
    latenessMs: 2_670_000,
    evidence: [
      { id: "6f1c8a52-5d0e-5a3e-9a0c-3b7f6c1e2d10", type: "dev.millwright.workorder.released.v1", source: "urn:millwright:sap:S4PCLNT100", time: "2026-03-01T06:15:30-08:00", role: "trigger" },
    ],
    at: "2026-03-01T19:00:00.000Z",
    revision: "1772388930000",
  } satisfies Alignment,
};

function merge(base: unknown, overrides: unknown): unknown {
  if (overrides === undefined) return structuredClone(base);
  if (typeof overrides !== "object" || overrides === null || Array.isArray(overrides) || typeof base !== "object" || base === null) {
    return structuredClone(overrides);
  }
  const out: Record<string, unknown> = structuredClone(base) as Record<string, unknown>;
  for (const [key, value] of Object.entries(overrides)) out[key] = merge((base as Record<string, unknown>)[key], value);
  return out;
}

/**
 * Builds a valid canonical entity for a test: a realistic default (plant 1710, order 1000123)
 * with your overrides merged in (nested objects merged, arrays replaced). Throws when the result
 * is not valid, naming every issue, since an invalid fixture is a bug in the test.
 *
 * @param entity - the entity name
 * @param overrides - the properties to change
 * @returns a fresh, valid entity
 * @example
 * const held = buildEntity("QualityHold", { status: "released", disposition: { decision: "use", decidedAt: "2026-03-03T09:00:00Z" } });
 */
export function buildEntity<K extends EntityName>(entity: K, overrides?: Overrides<EntityTypeMap[K]>): EntityTypeMap[K] {
  const candidate = merge(DEFAULTS[entity], overrides);
  const result = parseEntity(entity, candidate);
  if (result.isErr()) {
    throw new TypeError(`buildEntity(${entity}): the fixture is not valid:\n${result.error.issues.map((i) => `  - ${i.code}: ${i.message}`).join("\n")}`);
  }
  return result.value;
}
