// Public API of @millwright/adapter-sap. Explicit named exports only: what is not listed here is internal.
export {
  createSapConfig,
  DEFAULT_ISO_UNITS,
  DEFAULT_MOVEMENT_TYPES,
  DEFAULT_UNITS,
  WORK_ORDER_STATUS_PRIORITY,
  type ExtensionsConfig,
  type MovementTypeRule,
  type SapAdapterConfig,
  type SapAdapterConfigInput,
  type SapConfigError,
  type UsageDecisionRule,
} from "./config.js";
export type { SapInvalidEntityError, SapMappingError, SapMappingErrorCode, SapWireError, SapWireIssue } from "./errors.js";
// Wire format: what a user needs to read SAP payloads and write SAP documents by hand.
// The rest of the wire and EDMX machinery stays internal; the time-zone arithmetic is @millwright/adapter-kit's.
export { readNavigation, unwrapCollection, unwrapEntity, type Navigation, type ODataPage, type ODataRecord } from "./odata-envelope.js";
export { formatEdmTime, formatSapDate, toCalendarDate } from "./edm-time.js";
export { toTimestamp } from "./time-zone.js";
export { alphaToExternal, alphaToInternal } from "./alpha.js";
export { parseDecimal } from "@millwright/adapter-kit";
export { parseFlag } from "./field-reader.js";
// EDMX: check a request body or a function import call against a service's $metadata (yours too).
export {
  parseEdmx,
  type EdmxEntitySet,
  type EdmxEntityType,
  type EdmxError,
  type EdmxFunctionImport,
  type EdmxModel,
  type EdmxNavigation,
  type EdmxProperty,
} from "./edmx.js";
export { checkAgainstEdmx, checkFunctionImport, type EdmxIssue, type FunctionImportCall } from "./edmx-check.js";
export { deriveOperationStatus, deriveOrderStatus, mapProductionOrder, type OrderStatusInput, type OrderStatusRow } from "./map-work-order.js";
export { mapConfirmationGoodsMovements, mapMaterialDocument, mapMaterialDocumentItem } from "./map-material-movement.js";
export { mapBatch } from "./map-batch.js";
export { mapInspectionLot, type InspectionLotInput } from "./map-quality-hold.js";
export { mapProductionConfirmation, type ConfirmationMapOptions } from "./map-production-confirmation.js";
export {
  buildConfirmationCancel,
  buildConfirmationCreate,
  buildHoldTransferPosting,
  buildMaterialDocumentCancel,
  buildMaterialDocumentCreate,
  confirmationExternalId,
  type ConfirmationBuildOptions,
  type ConfirmationCancelOptions,
  type HoldPostingOptions,
  type MaterialDocumentBuildOptions,
  type MaterialDocumentCancelOptions,
  type MaterialDocumentCreate,
  type ProdnOrdConf2Create,
  type SapBuildError,
  type SapFunctionImportRequest,
} from "./build.js";
export {
  createSapClient,
  type CredentialsProvider,
  type SapClient,
  type SapClientError,
  type SapClientLogEntry,
  type SapClientOptions,
  type SapRequestOptions,
  type SapCreated,
  type SapMessage,
  type SapQuery,
} from "./client.js";
export { postConfirmation, type PostConfirmationError, type PostConfirmationOptions, type PostedConfirmation } from "./post.js";
export {
  handleInspectionLotEvent,
  handleMaterialDocumentEvent,
  handleProductionOrderEvent,
  parseSapEventType,
  type BusinessEventTraceOptions,
  type InspectionLotEventOptions,
  type MaterialDocumentEventOptions,
  type ProductionOrderEventOptions,
  type SapBusinessEvent,
  type SapBusinessEventError,
  type SapEventType,
} from "./business-event.js";
