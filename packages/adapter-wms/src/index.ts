// Public API of @millwright/adapter-wms. Explicit named exports only: what is not listed here is internal.
export { epcisHashOptions, hashPreHash, toEpcisEventHash, toEpcisPreHash, type EpcisHashError, type EpcisHashOptions } from "./epcis-hash.js";
export { gs1CheckDigit, parseGs1Class, toCanonicalDigitalLink, toLotClass, type Gs1Class } from "./gs1-keys.js";
export { readEpcisDocument, type EpcisDocumentError, type EpcisEventList } from "./epcis-document.js";
export {
  mapEpcisDocument,
  mapEpcisEvent,
  type CanonicalRecord,
  type EpcisEventError,
  type EpcisEventErrorCode,
  type EpcisEventOutcome,
  type EpcisInConfig,
  type EpcisMappingReport,
} from "./epcis-in.js";
export {
  EPCIS_CONTEXT,
  MILLWRIGHT_EPCIS_NAMESPACE,
  fromOrderTransaction,
  fromPrivateClass,
  fromPrivateLocation,
  toBareCbv,
  toOrderTransaction,
  toPrivateClass,
  toPrivateLocation,
  type Place,
} from "./epcis-vocabulary.js";
export { toEpcisDocument, type EpcisDocument, type EpcisOutConfig, type EpcisOutError, type EpcisOutRecord } from "./epcis-out.js";
export {
  createStagingRequest,
  parseWmsEvent,
  parseWmsRequest,
  toHoldRequest,
  toMaterialMovement,
  valueAt,
  type HoldRequest,
  type StagingLine,
  type StagingRequest,
  type WmsContractError,
  type WmsContractIssue,
  type WmsEvent,
  type WmsEventType,
  type WmsLocation,
  type WmsRequest,
  type WmsRequestError,
} from "./wms-contract.js";
export {
  applyVendorMapping,
  createVendorMapping,
  type MappingTemplate,
  type VendorMapping,
  type VendorMappingError,
  type VendorMappingIssue,
  type VendorMappingLeaf,
} from "./wms-mapping.js";
export {
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  createWebhookVerifier,
  signWebhook,
  webhookTraceContext,
  type WebhookError,
  type WebhookHeaders,
  type WebhookVerifier,
  type WebhookVerifierOptions,
} from "./webhook.js";
export { sendWmsRequest, type SendWmsRequestOptions, type WmsClientError } from "./wms-client.js";
