// Public API of @millwright/model. Explicit named exports only: what is not listed here is internal.
export type {
  Alignment,
  AlignmentEvidence,
  Batch,
  BatchInput,
  BatchRef,
  CalendarDate,
  CanonicalEntity,
  CounterReading,
  Decimal,
  EquipmentRef,
  Extensions,
  Identifier,
  MachineState,
  MaterialMovement,
  MaterialRef,
  OrderRef,
  ProductionConfirmation,
  ProductionCount,
  QualityHold,
  QualityHoldBatchScope,
  QualityHoldDisposition,
  QualityHoldMaterialScope,
  QualityHoldOrderScope,
  Quantity,
  Reason,
  Revision,
  Schedule,
  SiteRef,
  SourceRef,
  SourceStateValue,
  StockLocation,
  StockType,
  Timestamp,
  UnitCode,
  WorkOrder,
  WorkOrderComponent,
  WorkOrderOperation,
  WorkOrderStatus,
  WmsEvent,
  WmsLocation,
  WmsRequest,
} from "./generated/types.js";
export {
  entityCatalog,
  entityNames,
  qualityHoldStatusTransitions,
  workOrderStatusTransitions,
  type EntityName,
} from "./generated/catalog.js";
export { eventCatalog, eventTypes, type EventDataMap, type EventType } from "./generated/events.js";
export { isEventType, parseEventData } from "./event-data.js";
export { MAX_ISSUES, type ContractName, type ModelError, type ModelIssue, type ModelIssueCode } from "./errors.js";
export {
  parseAlignment,
  parseBatch,
  parseEntity,
  parseMachineState,
  parseMaterialMovement,
  parseProductionConfirmation,
  parseProductionCount,
  parseQualityHold,
  parseWmsEvent,
  parseWmsRequest,
  parseWorkOrder,
  type EntityTypeMap,
  type Parser,
} from "./parse.js";
export {
  addQuantities,
  compareQuantities,
  convertQuantity,
  createQuantity,
  isZeroQuantity,
  subtractQuantities,
  sumQuantities,
  type QuantityError,
  type UnitConversion,
} from "./quantity.js";
export { allowedTransitions, canTransition, canTransitionHold } from "./transitions.js";
export { compareRevisions, revisionToSequence } from "./revision.js";
export { compareTimestamps } from "./timestamp.js";
export { isCalendarDate, isDateTime, isUuid } from "./formats.js";
