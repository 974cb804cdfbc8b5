// Public API of @millwright/idempotency. Explicit named exports only: what is not listed here is internal.
// The SQLite, PostgreSQL and Redis stores are in the subpaths ./sqlite, ./postgres and ./redis.
export { RECORD_NAMESPACE, recordId, inboxKey, type RecordKind } from "./ids.js";
export { canonicalJson, fingerprint } from "./fingerprint.js";
export { decideRevision, entityKeyOf, type RevisionInput, type RevisionState, type RevisionVerdict } from "./revision-guard.js";
export { DEFAULT_RETRY_POLICY, backoffDelay, createRetryPolicy, permanent, retryable, type HandlerError, type RetryPolicy } from "./retry.js";
export { systemClock, timerSleep, type Clock, type Sleep } from "./clock.js";
export type { BatchOptionsError, FingerprintError, IdempotencyError, ReplayError, StoreError } from "./errors.js";
export {
  createInbox,
  type Handler,
  type HandlerContext,
  type HandlerReturn,
  type BatchOptions,
  type Inbox,
  type InboxEvent,
  type InboxOptions,
  type InboxOutcome,
  type ProcessOptions,
} from "./inbox.js";
export {
  createOutbox,
  createOutboxRelay,
  type Outbox,
  type OutboxEvent,
  type OutboxOptions,
  type Publisher,
  type Relay,
  type RelayOptions,
  type RelayReport,
} from "./outbox.js";
export { IDEMPOTENCY_METRICS } from "./telemetry.js";
export { createMemoryStore, type MemoryTransaction } from "./stores/memory.js";
export type {
  AtomicRequest,
  AtomicResult,
  AttemptError,
  ClaimRequest,
  ClaimResult,
  CommitRequest,
  CommitResult,
  DeadLetterRecord,
  DeadLetterRequest,
  GuardState,
  IdempotencyStore,
  InboxStatus,
  OutboxBacklog,
  OutboxInput,
  OutboxRecord,
  RawDeadLetterRequest,
  ReleaseRequest,
} from "./store.js";
