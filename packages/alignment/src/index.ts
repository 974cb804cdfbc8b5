// Public API of @millwright/alignment. Explicit named exports only: what is not listed here is internal.
export { defineRule, type AlignmentRule, type Observation, type ObservationRole } from "./rule.js";
export type { BreachedFinding, BreachReason, Evidence, Finding, ResolvedFinding } from "./finding.js";
export type { AlignmentError } from "./errors.js";
export {
  compareObserved,
  judgeKey,
  signedDifference,
  type KeyState,
  type ObservedEvent,
  type QuantityCheck,
  type Verdict,
} from "./judge.js";
export { createMemoryStore, type AlignmentStore } from "./store.js";
export { createEngine, type AlignmentEngine, type EngineOptions, type IngestOutcome } from "./engine.js";
export {
  builtInRules,
  productionConfirmedRule,
  qualityHoldClosedRule,
  workOrderStartedRule,
  type BuiltInRuleOptions,
  type ConfirmationOptions,
  type DeadlineOptions,
} from "./built-in-rules.js";
export { toAlignmentRecord, type AlignmentRecord, type AlignmentRecordType } from "./record.js";
