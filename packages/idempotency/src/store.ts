import type { RevisionInput, RevisionState, RevisionVerdict } from "./revision-guard.js";
import type { HandlerError } from "./retry.js";

/** The states of an inbox entry. `duplicate` and `stale` are final, like `processed` and `dead`. */
export type InboxStatus = "pending" | "processing" | "processed" | "duplicate" | "stale" | "dead";

/** One failed attempt, as kept on inbox entries and dead-letter records. */
export interface AttemptError {
  readonly attempt: number;
  /** Epoch milliseconds. */
  readonly at: number;
  readonly code: string;
  readonly message: string;
  readonly retryable: boolean;
}

/** A request to claim an inbox entry for one attempt. */
export interface ClaimRequest {
  /** {@link inboxKey} of (source, id). */
  readonly key: string;
  readonly source: string;
  readonly eventId: string;
  /** Fencing token of this attempt: only its holder may finish it. */
  readonly token: string;
  readonly now: number;
  readonly leaseMs: number;
  /**
   * Replay: a `dead` entry is claimable too, in the same atomic step (compare-and-set
   * dead → processing), and starts its attempts and errors afresh. Every other state answers as
   * for any claim, so a processed entry stays a duplicate.
   */
  readonly revive?: boolean;
  /**
   * The revision guard's entity key of the event, when it has one: a store may read the stored
   * revision in the same step and answer it as `guardState` (Redis), saving a round trip.
   */
  readonly guardKey?: string | undefined;
}

/** The stored revision of an entity as read with a claim; `current` undefined when none is stored. */
export interface GuardState {
  /** The stored revision and fingerprint; undefined when none is stored. */
  readonly current: RevisionState | undefined;
}

/** The answer to a claim. */
export type ClaimResult =
  | { readonly kind: "claimed"; readonly attempt: number; readonly firstSeen: number; readonly guardState?: GuardState }
  | { readonly kind: "done"; readonly status: "processed" | "duplicate" | "stale" | "dead" }
  | { readonly kind: "busy"; readonly leaseUntil: number };

/** A request to finish a claimed attempt: guard the revision, run the work, mark processed. */
export interface CommitRequest {
  readonly key: string;
  readonly token: string;
  readonly now: number;
  readonly guard: RevisionInput | undefined;
  /**
   * Aborted when the attempt's lease ends before `work` settles. `work` then returns a
   * `lease_expired` error without waiting for the handler, which may still be running: the store
   * rolls back without waiting for it either, and makes the transaction object unusable (SQLite)
   * or ends its connection (PostgreSQL), so nothing the late handler writes through it is kept.
   */
  readonly signal?: AbortSignal | undefined;
  /**
   * The stored revision read with the claim ({@link ClaimRequest.guardKey}), when it was: a store
   * may take it for its early look (whether to run the handler at all) instead of reading again.
   * The commit itself still decides against the revision stored when it runs.
   */
  readonly guardState?: GuardState | undefined;
}

/** What came of a commit. Only `processed` wrote anything of the work. */
export type CommitResult =
  | { readonly kind: "processed" }
  | { readonly kind: "guarded"; readonly verdict: Exclude<RevisionVerdict, { verdict: "applied" }> }
  | { readonly kind: "handler_failed"; readonly error: HandlerError }
  | { readonly kind: "lease_lost" };

/**
 * A request for the one-transaction path ({@link IdempotencyStore.claimAndCommit}): claim a new
 * entry, guard the revision, run the work and mark the entry processed, all in one transaction.
 */
export interface AtomicRequest {
  /** {@link inboxKey} of (source, id). */
  readonly key: string;
  readonly source: string;
  readonly eventId: string;
  /** Epoch milliseconds: the entry's first-seen time. */
  readonly now: number;
  /** The revision guard's input; undefined skips the guard. */
  readonly guard: RevisionInput | undefined;
  /** As in {@link CommitRequest}: aborted when the attempt is abandoned at the end of its lease. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * What came of {@link IdempotencyStore.claimAndCommit}. Only `processed` and a `guarded`
 * duplicate/stale verdict committed anything; every other answer rolled the whole transaction
 * back, the entry included, so the caller goes on with the lease path ({@link IdempotencyStore.claim}).
 */
export type AtomicResult =
  | { readonly kind: "processed" }
  | { readonly kind: "done"; readonly status: "processed" | "duplicate" | "stale" | "dead" }
  | { readonly kind: "guarded"; readonly verdict: Extract<RevisionVerdict, { verdict: "duplicate" | "stale" }> }
  /** The entry exists and is not finished (pending, processing, dead), or the guard found a conflict: nothing was written. */
  | { readonly kind: "fallback" }
  /** The work failed; nothing was written, the entry neither. */
  | { readonly kind: "handler_failed"; readonly error: HandlerError };

/** A request to give up a claim after a failed attempt, keeping the error. */
export interface ReleaseRequest {
  readonly key: string;
  readonly token: string;
  readonly error: AttemptError;
}

/** A request to move a claimed entry to the dead letters. */
export interface DeadLetterRequest {
  /** {@link recordId}("dead-letter", [source, id]). */
  readonly id: string;
  readonly key: string;
  readonly token: string;
  readonly source: string;
  readonly eventId: string;
  /** The event as JSON text. */
  readonly payload: string;
  readonly error: AttemptError;
  readonly now: number;
}

/** A request to keep a payload that never became an event (unreadable, invalid). */
export interface RawDeadLetterRequest {
  readonly id: string;
  readonly source: string | undefined;
  readonly payload: string;
  readonly error: AttemptError;
  readonly now: number;
}

/** A dead-letter record: what failed, every error, how often, since when. */
export interface DeadLetterRecord {
  readonly id: string;
  /** `event`: a parsed event that failed processing; `raw`: a payload that never parsed. */
  readonly kind: "event" | "raw";
  readonly source: string | undefined;
  readonly eventId: string | undefined;
  /** The original event as JSON text, or the raw payload exactly as received. */
  readonly payload: string;
  readonly errors: readonly AttemptError[];
  readonly attempts: number;
  readonly firstSeen: number;
  readonly lastSeen: number;
}

/** An event to put in the outbox. */
export interface OutboxInput {
  /** {@link recordId}("outbox", [source, eventId]): adding the same event twice keeps one. */
  readonly id: string;
  readonly source: string;
  readonly eventId: string;
  /** Events of one partition key are published in the order they were added. */
  readonly partitionKey: string;
  readonly payload: string;
  readonly now: number;
}

/** An outbox record waiting to be published. */
export interface OutboxRecord {
  readonly id: string;
  readonly source: string;
  readonly eventId: string;
  readonly partitionKey: string;
  readonly payload: string;
  /** The order of adding, increasing (per store; gaps allowed). */
  readonly seq: number;
  /** When it was added (the `now` of its {@link OutboxInput}), epoch milliseconds. */
  readonly addedAt: number;
}

/** How far the relay is behind: the unsent outbox records. */
export interface OutboxBacklog {
  /** Records added and not yet marked sent. */
  readonly pending: number;
  /** When the oldest of them was added, epoch milliseconds; undefined when none is pending. */
  readonly oldestAddedAt: number | undefined;
}

/**
 * What a store does for the inbox, the revision guard, the dead letters and the outbox. The
 * four stores of this package implement it and pass one contract suite; implement it to add a
 * store. Methods reject on I/O failure; the inbox and the relay turn rejections into
 * {@link StoreError} values. `TTx` is the transaction handlers and `outbox.add` write through.
 */
export interface IdempotencyStore<TTx> {
  /** A short name for messages and metrics: `memory`, `sqlite`, `postgres`, `redis`. */
  readonly name: string;
  /** Atomically claims an entry that is new, pending, or whose lease expired (or dead, with `revive`). */
  claim(request: ClaimRequest): Promise<ClaimResult>;
  /**
   * In one transaction: checks the token still holds the claim, applies the revision guard, runs
   * `work`, and marks the entry processed (or duplicate/stale when guarded). Rolls back
   * everything when the work fails or the lease was lost.
   */
  commit(request: CommitRequest, work: (tx: TTx) => Promise<HandlerError | undefined>): Promise<CommitResult>;
  /**
   * Optional one-transaction path for an entry that does not exist yet: inserts it, applies the
   * revision guard, runs `work` and marks it processed in ONE transaction, whose lock (the row
   * lock on PostgreSQL, the write lock on SQLite) stands in for the lease and the fence. A crash
   * rolls back all of it, so the attempt leaves no trace: the inbox uses this path only for
   * handlers that are not `async` functions (see the package README). `work` gets the
   * transaction through a function, so a store can build it only when the handler asks for it,
   * and answers synchronously when the handler did (SQLite then finishes without awaiting).
   */
  claimAndCommit?(request: AtomicRequest, work: (tx: () => TTx) => HandlerError | undefined | Promise<HandlerError | undefined>): Promise<AtomicResult>;
  /**
   * Optional batch form of {@link IdempotencyStore.claimAndCommit}, for `inbox.processBatch`: ONE
   * transaction for all the requests, each in its own savepoint, `works[i]` run for `requests[i]`
   * in request order. Answers in request order, each as claimAndCommit would answer that request
   * alone; a request answering `fallback` or `handler_failed` was rolled back to its savepoint
   * (nothing of it is written) while the others commit. A later request for a key that an earlier
   * one in the batch inserted answers `done`. A request for an entry or a revision entity
   * (`guard.entityKey`) for which an earlier request of the batch answered `fallback` or
   * `handler_failed` answers `fallback` without being tried, so that the inbox still processes it
   * after that earlier one. A crash before the COMMIT leaves nothing of the batch. A store may
   * answer `fallback` for requests it cannot take in the batch (a work that answered with a
   * promise, say); the inbox then processes those one by one.
   */
  claimAndCommitMany?(requests: readonly AtomicRequest[], works: readonly ((tx: () => TTx) => HandlerError | undefined | Promise<HandlerError | undefined>)[]): Promise<AtomicResult[]>;
  /**
   * Optional batch form of {@link IdempotencyStore.claim}, for `inbox.processBatch` on a store
   * without the one-transaction path (Redis): claims all the requests in one round trip, in
   * request order, each answered as claim() would answer it alone. A later request for a key
   * claimed earlier in the same batch answers `busy`.
   */
  claimMany?(requests: readonly ClaimRequest[]): Promise<ClaimResult[]>;
  /**
   * Optional batch form of {@link IdempotencyStore.commit}: runs `works[i]` for `requests[i]` in
   * request order (each with its own transaction object; skipped, as in commit, when the early
   * look at the revision refuses the event), then commits every request whose work did not fail
   * in one round trip, applying the guard to each in request order. Answers in request order,
   * each as commit() would answer that request alone; a failed work leaves its claim held, for
   * release().
   */
  commitMany?(requests: readonly CommitRequest[], works: readonly ((tx: TTx) => Promise<HandlerError | undefined>)[]): Promise<CommitResult[]>;
  /** Ends a failed attempt: appends the error, makes the entry pending again. false when the lease was lost. */
  release(request: ReleaseRequest): Promise<boolean>;
  /** Marks the claimed entry dead and writes (or appends to) its dead-letter record. */
  deadLetter(request: DeadLetterRequest): Promise<DeadLetterRecord | undefined>;
  /** Writes (or appends to) a dead-letter record of a raw payload. */
  putRawDeadLetter(request: RawDeadLetterRequest): Promise<DeadLetterRecord>;
  getDeadLetter(id: string): Promise<DeadLetterRecord | undefined>;
  /** Dead letters ordered by first seen, then id. */
  listDeadLetters(options: { readonly limit: number; readonly offset: number }): Promise<DeadLetterRecord[]>;
  removeDeadLetter(id: string): Promise<boolean>;
  /** The status of an inbox entry, for inspection. */
  inboxStatus(key: string): Promise<{ readonly status: InboxStatus; readonly attempts: number; readonly errors: readonly AttemptError[] } | undefined>;
  /** Atomically applies the revision guard alone. */
  applyRevision(input: RevisionInput): Promise<RevisionVerdict>;
  readRevision(entityKey: string): Promise<RevisionState | undefined>;
  /** Runs `work` in a transaction of this store, for callers without one of their own. */
  transaction<T>(work: (tx: TTx) => Promise<T>): Promise<T>;
  /** Adds records to the outbox inside the caller's transaction. */
  addToOutbox(tx: TTx, records: readonly OutboxInput[]): Promise<void>;
  /** Takes or renews the single relay lease; false while another owner holds it. */
  acquireRelayLease(owner: string, now: number, leaseMs: number): Promise<boolean>;
  releaseRelayLease(owner: string): Promise<void>;
  /** Unsent outbox records in the order they were added. */
  pendingOutbox(limit: number): Promise<OutboxRecord[]>;
  markSent(ids: readonly string[], now: number): Promise<void>;
  /** How many records are unsent and when the oldest of them was added, read in one consistent step. */
  outboxBacklog(): Promise<OutboxBacklog>;
}
