// Public API of @millwright/alignment. Explicit named exports only: what is not listed here is internal.
export { defineRule, type AlignmentRule, type Observation, type ObservationRole } from "./rule.js";
export type { BreachedFinding, BreachReason, Evidence, Finding, Resolution, ResolvedFinding } from "./finding.js";
export type { AlignmentError } from "./errors.js";
export type { KeyState, ObservedEvent } from "./judge.js";
export { createMemoryStore, type AlignmentStore } from "./store.js";
export { createEngine, type AlignmentEngine, type EngineOptions, type IngestOutcome, type RuleOutcomes } from "./engine.js";
export {
  builtInRules,
  defaultSystemOf,
  goodsIssuePostedRule,
  goodsReceiptPostedRule,
  productionConfirmedRule,
  qualityHoldBlockedRule,
  qualityHoldClosedRule,
  qualityHoldUnblockedRule,
  workOrderStartedRule,
  type BlockingOptions,
  type BuiltInRuleOptions,
  type ConfirmationOptions,
  type DeadlineOptions,
  type HoldOptions,
  type MovementOptions,
  type StartOptions,
  type SystemClassifier,
  type SystemOptions,
  type SystemRole,
} from "./built-in-rules.js";
export { toAlignmentData, toAlignmentEvent, type AlignmentEvent, type AlignmentEventType } from "./record.js";
export {
  buildAlignmentReport,
  createReportBuilder,
  type AddOutcome,
  type AlignmentReport,
  type BuildReportInput,
  type ReportBuilder,
  type ReportError,
  type ReportFinding,
  type ReportOptions,
  type ReportStatus,
  type RuleSummary,
} from "./report/report.js";
export type { RejectedEvent, ReportEventCounts } from "./report/counts.js";
export type { OrderTimeline, ReportTimelines, TimelineDue, TimelineEvent } from "./report/timelines.js";
export { renderReportText, type TextReportOptions } from "./report/text.js";
export { renderReportHtml, type HtmlReportOptions } from "./report/html.js";
export { formatDuration, formatTime, shortType, systemOf, type SystemLabel } from "./report/format.js";
export {
  openDurableStore,
  type AlignmentBackend,
  type AlignmentChanges,
  type AlignmentSnapshot,
  type AlignmentStoreError,
  type DurableAlignmentStore,
  type FlushOutcome,
  type KeyRef,
  type StateCorruptError,
  type StoreClosedError,
  type StoreFailedError,
  type Tombstone,
} from "./durable.js";
export { ALIGNMENT_METRICS, instrumentEngine, type InstrumentOptions } from "./telemetry.js";
