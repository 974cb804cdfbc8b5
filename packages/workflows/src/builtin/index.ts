// Public API of @millwright/workflows/builtin: the built-in workflows for the seed's high-friction
// flows, and the peer helpers they are made of. Explicit named exports only.
export { MOVEMENT_POSTED, movesInto, settle, type Escalate, type Escalation, type Settled } from "./common.js";
export {
  holdRequestOf,
  postHoldTransfer,
  postingReference,
  sapStepError,
  sendWithRequestId,
  targetStockTypes,
  wmsStepError,
  type BookedMovement,
  type HoldPosting,
  type HoldTransferRequest,
  type WmsEndpoint,
} from "./peers.js";
export {
  createQualityHoldWorkflow,
  qualityHoldKey,
  type HoldSide,
  type QualityHoldInput,
  type QualityHoldOutcome,
  type QualityHoldWorkflowOptions,
} from "./quality-hold.js";
export {
  createOrderReleaseWorkflow,
  type MesCall,
  type MesReturn,
  type OrderReferences,
  type OrderReleaseInput,
  type OrderReleaseOutcome,
  type OrderReleaseWorkflowOptions,
  type ShortComponent,
} from "./order-release.js";
export {
  createConfirmationPublisher,
  createProductionConfirmationWorkflow,
  goodsReceiptOf,
  type ConfirmationPublisherOptions,
  type ExpectedMovement,
  type ProductionConfirmationInput,
  type ProductionConfirmationOutcome,
  type ProductionConfirmationWorkflowOptions,
} from "./production-confirmation.js";
