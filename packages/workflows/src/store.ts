// The contract between the workflow runtime and its durable state. Implemented by the memory store
// (src/stores/memory.ts), SQLite (src/sqlite.ts) and PostgreSQL (src/postgres.ts); every one of
// them passes test/store-conformance.ts.
import type { FailureRecord, HistoryEntry, HistoryEntryInput, InstanceState, JsonValue, TraceCarrier } from "./types.js";

/** The states an instance never leaves (except `failed`, which `retry` reopens): one list for every store. */
const FINISHED_STATES: readonly InstanceState[] = ["completed", "compensated", "failed", "cancelled"];

/** Whether a state is finished (see {@link FINISHED_STATES}); stores use it, users read `state`. */
export function isFinishedState(state: string): boolean {
  return (FINISHED_STATES as readonly string[]).includes(state);
}

/** The finished states as an SQL list, `('completed', …)`, for `state [NOT] IN …`. */
export const FINISHED_SQL = `(${FINISHED_STATES.map((s) => `'${s}'`).join(", ")})`;

/** An instance as the store keeps it: one row. */
export interface InstanceRecord {
  /** UUIDv5 of the workflow name and the instance key (see `instanceIdOf`): one instance per (workflow, key). */
  readonly id: string;
  readonly workflow: string;
  /** The definition version the instance started with; it finishes on it. */
  readonly version: number;
  readonly key: string;
  readonly input: JsonValue;
  readonly state: InstanceState;
  /** What the body returned, once `completed`. */
  readonly output?: JsonValue;
  /** Why the instance failed (a compensation failing for good), once `failed`. */
  readonly failure?: FailureRecord;
  readonly trace?: TraceCarrier;
  /**
   * When the instance is next due, ms since the epoch; `null` when only an event or a signal can
   * wake it (and always for a finished instance). Indexed: timers are rows, not memory.
   */
  readonly wakeAt: number | null;
  /**
   * When a signal or an event last woke the instance since it was last claimed, or `null`.
   * Set by `deliverSignal`/`deliverEvent`, cleared by `claimDue`; `appendHistory` never lets a
   * new `wakeAt` pass it (see there), so a wake that arrives while a worker runs the instance is
   * not lost when the worker writes its next due time.
   */
  readonly wokenAt: number | null;
  /** The workflow's deadline (start + `deadline.after`); `null` without one. */
  readonly deadlineAt: number | null;
  /** The event types the instance's open waits wait for: `deliverEvent` of one of them makes it due now. */
  readonly waitingFor: readonly string[];
  /** The worker holding the lease, or `null`. */
  readonly leaseOwner: string | null;
  /** When the lease ends, ms since the epoch; 0 without a lease. */
  readonly leaseUntil: number;
  /** Bumped by every successful claim: the fencing token of the lease. */
  readonly leaseToken: number;
  readonly createdAt: number;
  /** When the instance row last changed (state, due time, lease release…); on SQLite a write of history entries alone leaves it. */
  readonly updatedAt: number;
}

/** The row `createInstance` writes, with its `started` history entry. */
export interface NewInstance {
  readonly id: string;
  readonly workflow: string;
  readonly version: number;
  readonly key: string;
  readonly input: JsonValue;
  readonly trace?: TraceCarrier;
  readonly deadlineAt: number | null;
  /** Creation time; the instance is due at once (`wakeAt = now`, state `running`). */
  readonly now: number;
  /**
   * Optional: create the instance leased to this worker until this time (token 1), so that the
   * runtime that starts it runs it at once, without a claim; other workers take it only when the
   * lease expires. A store that does not support it creates the instance unleased and returns no
   * `lease` (the memory, SQLite and PostgreSQL stores support it).
   */
  readonly lease?: { readonly workerId: string; readonly until: number };
}

/** What `createInstance` returns. */
export interface CreatedInstance {
  /** The instance as stored (the existing one when `created` is false). */
  readonly instance: InstanceRecord;
  /** false when the instance existed (nothing was written). */
  readonly created: boolean;
  /** The lease the new instance was created with, when `lease` was asked for and the store supports it. */
  readonly lease?: Lease;
}

/**
 * A claim on one instance: only its holder may write to it, and only while `claimDue` has not
 * handed the instance to another worker (the `token` is the fence).
 */
export interface Lease {
  readonly instanceId: string;
  readonly workerId: string;
  /** The instance's `leaseToken` after this claim. */
  readonly token: number;
  /** When the lease ends unless renewed, ms since the epoch. */
  readonly until: number;
}

/** What `claimDue` returns per claimed instance: the lease and the instance as it was claimed. */
export interface Claim {
  readonly lease: Lease;
  readonly instance: InstanceRecord;
  /**
   * True when the instance was still leased at the claim (the lease expired: its worker died or
   * stalled mid-run), false or absent when its last run released it. The runtime then records
   * every step attempt before it runs, so attempts that kill their worker are all counted.
   */
  readonly recovered?: boolean;
  /**
   * Optional: the instance's history, by `seq`, read in the claim's transaction (as `load` returns
   * it). A store that gives it (SQLite, for the whole batch in one query) saves the runtime a
   * `load` per claim; without it the runtime calls `load`.
   */
  readonly history?: readonly HistoryEntry[];
  /** Optional, with `history`: the signals not yet consumed, by `seq` (as `load` returns them). */
  readonly signals?: readonly PendingSignal[];
}

/** A signal delivered to an instance and not yet consumed by a wait. */
export interface PendingSignal {
  /** Position among the store's signals, increasing in delivery order. */
  readonly seq: number;
  readonly instanceId: string;
  /** A workflow signal name (`[a-z0-9-]+`), or one of the runtime's own, which start with `$` (`$cancel`, `$retry`). */
  readonly name: string;
  readonly payload: JsonValue;
  readonly deliveredAt: number;
}

/** A canonical event as the store keeps it for waits: its identity, its type and the whole event as JSON. */
export interface StoredEvent {
  /** Position among the store's events, increasing in delivery order. */
  readonly seq: number;
  readonly source: string;
  readonly id: string;
  readonly type: string;
  /** The whole CloudEvent as JSON. */
  readonly event: JsonValue;
  readonly receivedAt: number;
}

/** A dead letter: an instance whose compensation failed for good, with its whole history. */
export interface WorkflowDeadLetter {
  readonly instanceId: string;
  readonly workflow: string;
  readonly version: number;
  readonly key: string;
  /** The step whose compensation failed. */
  readonly step: string;
  readonly error: FailureRecord;
  readonly history: readonly HistoryEntry[];
  readonly at: number;
}

/**
 * How `appendHistory` changes the instance together with its entries. Absent fields stay as they
 * are; `null` clears a nullable one.
 */
export interface InstanceUpdate {
  readonly state?: InstanceState;
  readonly wakeAt?: number | null;
  readonly waitingFor?: readonly string[];
  readonly output?: JsonValue;
  readonly failure?: FailureRecord | null;
  /** Pending signals (by `seq`) consumed by waits: deleted with the write. */
  readonly consumedSignals?: readonly number[];
  /** Written (replacing any for this instance) in the same transaction; `null` deletes the instance's dead letter. */
  readonly deadLetter?: WorkflowDeadLetter | null;
  /** Ends the lease with the write (owner `null`, `leaseUntil` 0). */
  readonly release?: boolean;
  /**
   * With `waitingFor`: per waited-for event type, the highest event `seq` the run read for it
   * (0 when it read none). A stored event of that type with a higher `seq`, received since the
   * instance was created, arrived between the run's read and this write, when no wait row could
   * route it here yet: the write then leaves the instance due now (`wakeAt = now`), so the event is
   * never lost. Checked in the same transaction as the waits rows are written.
   */
  readonly eventsSeen?: Readonly<Record<string, number>>;
}

/** What `appendHistory` decided. */
export type AppendOutcome =
  | { readonly ok: true; /** The `seq` of the last entry now in the history (unchanged when no entries were given). */ readonly lastSeq: number }
  | { readonly ok: false; readonly code: "lease_lost"; /** The instance's lease owner now, or null. */ readonly owner: string | null };

/** What `deliverSignal` decided. */
export type SignalOutcome = "delivered" | "not_found" | "finished";

/** Which instances `list` returns. */
export interface InstanceFilter {
  readonly state?: InstanceState;
  readonly workflow?: string;
  /** At most this many, newest `createdAt` first (ties by id). Default 100. */
  readonly limit?: number;
}

/** An instance with its history and the signals waiting for it. */
export interface InstanceSnapshot {
  readonly instance: InstanceRecord;
  /** Every entry, by `seq`. */
  readonly history: readonly HistoryEntry[];
  /** Signals not yet consumed, by `seq`. */
  readonly signals: readonly PendingSignal[];
}

/**
 * The durable state of workflow instances. Every method resolves with its outcome and rejects only
 * when the store itself fails (connection lost, disk full): nothing was decided then.
 *
 * Guarantees every implementation gives (checked by `describeStoreConformance`):
 * - **One instance per (workflow, key).** `createInstance` on an existing id changes nothing and
 *   returns the existing record with `created: false`.
 * - **Due instances, claimed atomically.** An instance is due when `wakeAt ≤ now`. `claimDue`
 *   returns due instances whose lease is free (no owner, or `leaseUntil ≤ now`: a dead worker's
 *   lease expires), oldest `wakeAt` first, at most `limit`; in the same atomic step it sets
 *   `leaseOwner = workerId`, `leaseUntil = now + leaseMs`, `wokenAt = null` and increments `leaseToken`. Two
 *   concurrent `claimDue` calls never return the same instance (PostgreSQL: `FOR UPDATE SKIP
 *   LOCKED`; SQLite: one `BEGIN IMMEDIATE` transaction).
 * - **Fenced writes.** `appendHistory`, `renewLease` write only while the instance's
 *   `leaseOwner` and `leaseToken` equal the lease's (the `until` of the lease is not checked: an
 *   expired lease nobody took over is still the holder's). Otherwise nothing is written and
 *   `appendHistory` returns `lease_lost`.
 * - **History is append-only** and gapless: entries get `seq` = last + 1 in the order given, with
 *   the instance update in the same transaction.
 * - **Timers are due times.** Nothing in the store runs a timer: a sleep, a wait's timeout, a retry
 *   delay and the deadline are `wakeAt` values, indexed, so 100k waiting instances are rows.
 * - **Signals are kept per instance** until a wait consumes them (`consumedSignals`); delivering
 *   one makes the instance due now (`wakeAt = min(wakeAt, now)`, `wokenAt = now`), so a wait that starts after the
 *   signal arrived still sees it.
 * - **Events are kept by type.** `deliverEvent` stores the event once per (source, id) and makes
 *   due now (as a signal does) every unfinished instance whose `waitingFor` holds its type; `eventsFor` returns the
 *   events of a type received since an instance was created, so a wait that starts after its event
 *   arrived still sees it. `pruneEvents` forgets events older than every unfinished instance.
 * - Finished instances (`completed`, `compensated`, `cancelled`, `failed`) have `wakeAt = null`
 *   and are never claimed until a `$retry` signal to a `failed` one makes it due.
 */
export interface WorkflowStore {
  /**
   * Creates an instance (state `running`, `wakeAt = now`, no lease unless `lease` is given and
   * supported) with the history entry `started`, unless one with the same id exists.
   *
   * @param instance - the new instance
   * @returns the instance as stored, and whether this call created it
   */
  createInstance(instance: NewInstance): Promise<CreatedInstance>;

  /**
   * Optional: creates many instances as `createInstance` does, in as few transactions as the store
   * can (SQLite: one). The runtime's `startMany` uses it when present, else `createInstance` per row.
   *
   * @param instances - the new instances
   * @returns per instance, in the order given, the instance as stored and whether this call created it
   */
  createInstances?(instances: readonly NewInstance[]): Promise<{ readonly instance: InstanceRecord; readonly created: boolean }[]>;

  /**
   * Claims due instances for a worker (see the guarantees above).
   *
   * @param request - the worker, the time, the lease length and the most instances to claim
   * @returns the claims, oldest `wakeAt` first
   */
  claimDue(request: { readonly workerId: string; readonly now: number; readonly leaseMs: number; readonly limit: number }): Promise<Claim[]>;

  /**
   * Extends a lease held by the caller.
   *
   * @param lease - the lease to extend
   * @param now - the current time
   * @param leaseMs - the new lease length from now
   * @returns the extended lease, or undefined when the lease was lost (nothing written)
   */
  renewLease(lease: Lease, now: number, leaseMs: number): Promise<Lease | undefined>;

  /**
   * Appends history entries and updates the instance in one transaction, fenced by the lease.
   *
   * @param lease - the caller's lease
   * @param entries - the entries to append, in order (may be empty: an update alone)
   * @param update - the changes to the instance; `updatedAt` is set to `now` (the SQLite store
   *   leaves it when the write changes nothing of the instance but its history, such as a step's
   *   records: it reads the row for the fence and does not write it). When `update.wakeAt`
   *   is given, the state after the update is not finished and the instance's `wokenAt` is not
   *   null, the stored `wakeAt` is `min(update.wakeAt ?? wokenAt, wokenAt)`: a signal or event that
   *   arrived during the lease keeps the instance due.
   * @param now - the current time
   * @returns the last `seq`, or `lease_lost`
   */
  appendHistory(lease: Lease, entries: readonly HistoryEntryInput[], update: InstanceUpdate, now: number): Promise<AppendOutcome>;

  /**
   * Reads an instance with its history and its pending signals.
   *
   * @param instanceId - the instance
   * @returns the snapshot, or undefined when there is no such instance
   */
  load(instanceId: string): Promise<InstanceSnapshot | undefined>;

  /**
   * Lists instances, newest first.
   *
   * @param filter - state, workflow and limit
   * @returns the instance records (without history)
   */
  list(filter?: InstanceFilter): Promise<InstanceRecord[]>;

  /**
   * Counts instances by state, for the metrics.
   *
   * @returns the number of instances in each state that has any
   */
  countByState(): Promise<Partial<Record<InstanceState, number>>>;

  /**
   * Keeps a signal for an instance and makes the instance due now. Refused (`finished`) for a
   * `completed`, `compensated` or `cancelled` instance; a `failed` one takes only `$retry`.
   *
   * @param signal - the instance, the name and the payload
   * @param now - the current time
   * @returns `delivered`, `not_found` or `finished`
   */
  deliverSignal(signal: { readonly instanceId: string; readonly name: string; readonly payload: JsonValue }, now: number): Promise<SignalOutcome>;

  /**
   * Keeps a canonical event for the waits (once per source and id) and makes due now every
   * unfinished instance waiting for its type.
   *
   * @param event - the event's source, id, type and the whole event as JSON
   * @param now - the current time
   * @returns whether the event was new, and how many instances it woke
   */
  deliverEvent(
    event: { readonly source: string; readonly id: string; readonly type: string; readonly event: JsonValue },
    now: number,
  ): Promise<{ readonly stored: boolean; readonly woken: number }>;

  /**
   * The events of one type received at or after an instance's `createdAt`, by `seq`.
   *
   * @param instanceId - the instance whose waits look
   * @param type - the event type
   * @returns the events (empty for an unknown instance)
   */
  eventsFor(instanceId: string, type: string): Promise<StoredEvent[]>;

  /**
   * Forgets events that no unfinished instance can see any more: received before the oldest
   * `createdAt` of the unfinished instances (all of them when none is unfinished), and before `before`.
   *
   * @param before - keep every event received at or after this time
   * @returns how many events were deleted
   */
  pruneEvents(before: number): Promise<number>;

  /**
   * The dead letters, oldest first.
   *
   * @param limit - at most this many (default 100)
   * @returns the dead letters
   */
  deadLetters(limit?: number): Promise<WorkflowDeadLetter[]>;
}
