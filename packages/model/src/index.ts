// Public API of @millwright/model. Explicit named exports only: what is not listed here is internal.
// The names that come from the schemas (types, parsers, catalog) are listed one by one in
// generated/public.ts, which `pnpm generate` writes; the star re-exports exactly that list.
export * from "./generated/public.js";
export { eventCatalog, eventTypes, type EventDataMap, type EventType } from "./generated/events.js";
export { isEventType, parseEventData } from "./event-data.js";
export { MAX_ISSUES, type ContractName, type ModelError, type ModelIssue, type ModelIssueCode } from "./errors.js";
export { parseEntity, type Parser } from "./parse.js";
export {
  loadProfile,
  type ParseOptions,
  type Profile,
  type ProfileDocument,
  type ProfileError,
  type ProfileFieldSchema,
  type ProfileFormat,
  type ProfileIssue,
  type ProfileIssueCode,
  type ProfileNamespaceSchema,
  type ProfileRequirement,
  type ProfileScalar,
  type ProfileScalarType,
} from "./profile.js";
export { checkProfile } from "./profile-check.js";
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
// What a handler or mapper needs to return Results, so that users write them without installing
// neverthrow themselves (and so without a second copy whose Results are of another class).
export { err, errAsync, ok, okAsync, Result, ResultAsync, type Err, type Ok } from "neverthrow";
