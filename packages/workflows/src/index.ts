// Public API of @millwright/workflows. Explicit named exports only: what is not listed here is internal.
// The SQLite and PostgreSQL stores are in the subpaths ./sqlite and ./postgres.
export {
  NAME_PATTERN,
  StepFailedError,
  checkWorkflow,
  defineWorkflow,
  onBreach,
  onEvent,
  parseDuration,
  type AnyWorkflowDefinition,
  type BreachTrigger,
  type CompensationContext,
  type EventTrigger,
  type EventWaitResult,
  type SignalWaitResult,
  type StepContext,
  type StepOptions,
  type StepReturn,
  type WorkflowContext,
  type WorkflowDefinition,
  type WorkflowLogger,
  type WorkflowSpec,
  type WorkflowTrigger,
} from "./define.js";
export { WORKFLOW_NAMESPACE, instanceIdOf, stepIdempotencyKey } from "./ids.js";
export {
  FINAL_STATES,
  type CompensationReason,
  type DeadlineAction,
  type DeadlineSpec,
  type DefinitionIssue,
  type Duration,
  type FailureRecord,
  type HistoryEntry,
  type HistoryEntryInput,
  type InstanceState,
  type JsonValue,
  type SignalPayload,
  type TraceCarrier,
  type WaitOutcome,
  type WorkflowError,
} from "./types.js";
export type {
  AppendOutcome,
  Claim,
  InstanceFilter,
  InstanceRecord,
  InstanceSnapshot,
  InstanceUpdate,
  Lease,
  NewInstance,
  PendingSignal,
  SignalOutcome,
  StoredEvent,
  WorkflowDeadLetter,
  WorkflowStore,
} from "./store.js";
export {
  COMPENSATION_FAILED_RULE,
  SignalRejectedError,
  createWorkflowRuntime,
  toBreachedFinding,
  workflowFindingOf,
  type WorkflowFinding,
  type DeliveryOutcome,
  type Escalation,
  type InstanceRef,
  type WorkflowRuntime,
  type WorkflowRuntimeOptions,
} from "./runtime.js";
export { createMemoryWorkflowStore } from "./stores/memory.js";
export { WORKFLOW_METRICS } from "./telemetry.js";
export { toJsonValue, type JsonCheck } from "./json.js";
