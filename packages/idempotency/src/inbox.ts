import { randomUUID } from "node:crypto";
import { parseEvent } from "@millwright/events";
import type { Meter } from "@opentelemetry/api";
import { errAsync, okAsync, ResultAsync, type Result } from "neverthrow";
import { systemClock, timerSleep, type Clock, type Sleep } from "./clock.js";
import { describeValue, toStoreError, type BatchOptionsError, type ReplayError, type StoreError } from "./errors.js";
import { fingerprint } from "./fingerprint.js";
import { createLeftBehind, isThenable } from "./stores/common.js";
import { inboxKey, recordId } from "./ids.js";
import { entityKeyOf, type RevisionInput, type RevisionVerdict } from "./revision-guard.js";
import { backoffDelay, DEFAULT_RETRY_POLICY, type HandlerError, type RetryPolicy } from "./retry.js";
import type { AtomicRequest, AtomicResult, AttemptError, ClaimRequest, ClaimResult, CommitRequest, CommitResult, DeadLetterRecord, IdempotencyStore } from "./store.js";
import { createInboxInstruments } from "./telemetry.js";

/** What the inbox needs of an event: a CloudEvent's identity and, for the revision guard, its subject and sequence. */
export interface InboxEvent {
  readonly id: string;
  readonly source: string;
  readonly type: string;
  readonly subject?: string | undefined;
  /** CloudEvents `sequence`: the revision, zero-padded. Without it the revision guard is skipped. */
  readonly sequence?: string | undefined;
  readonly data?: unknown;
}

/** What a handler gets besides the event. */
export interface HandlerContext<TTx> {
  /** The store's transaction: effects written through it commit atomically with "processed". */
  readonly tx: TTx;
  /** This attempt's number, from 1. */
  readonly attempt: number;
  /**
   * Aborted when this attempt's lease ends: the attempt is abandoned and its transaction rolled
   * back. Pass it to outside calls (fetch, SAP requests) so they stop too.
   */
  readonly signal: AbortSignal;
}

/** What a handler may return: nothing or an ok Result for success, an err Result with a {@link HandlerError} for failure. */
export type HandlerReturn = void | Result<unknown, HandlerError> | Promise<void | Result<unknown, HandlerError>> | ResultAsync<unknown, HandlerError>;

/**
 * Applies an event's effect. Throwing counts as a retryable failure. A handler that has not
 * settled when its lease ends is abandoned (a retryable `lease_expired` failure).
 */
export type Handler<TEvent, TTx> = (event: TEvent, context: HandlerContext<TTx>) => HandlerReturn;

/** The outcome of processing one delivery. Every delivery gets exactly one, with its reason. */
export type InboxOutcome =
  | { readonly outcome: "processed"; readonly attempts: number }
  | {
      readonly outcome: "duplicate";
      /** `processed`/`stale`/`dead`: this (source, id) was finished before; `same_revision`: another event carried the same revision and content. */
      readonly reason: "already_processed" | "already_stale" | "dead_lettered" | "same_revision";
      readonly message: string;
    }
  | { readonly outcome: "stale"; readonly revision: string; readonly current: string; readonly message: string }
  | {
      readonly outcome: "failed";
      readonly code: "dead_lettered" | "lease_lost" | "claimed_elsewhere";
      readonly message: string;
      /** Set when the event went to the dead letters. */
      readonly deadLetter?: DeadLetterRecord;
      /** The errors of this delivery's attempts. */
      readonly errors: readonly AttemptError[];
    };

/** How an inbox behaves. Every field has a default. */
export interface InboxOptions<TEvent extends InboxEvent> {
  /**
   * How long a claim holds before another worker may take the event over, and so how long a
   * handler may run: one still running at the end is abandoned. Default 30 s.
   */
  readonly leaseMs?: number;
  readonly retry?: RetryPolicy;
  readonly clock?: Clock;
  readonly sleep?: Sleep;
  /** Uniform numbers in [0, 1) for the jitter. */
  readonly random?: () => number;
  /** How often to look again while another worker holds a live lease. Default 50 ms. */
  readonly busyPollMs?: number;
  /** How long to wait for another worker's claim before giving up with `claimed_elsewhere`. Default 2 × leaseMs. */
  readonly busyWaitMs?: number;
  /** The revision guard's entity key; undefined skips the guard. Default {@link entityKeyOf}. */
  readonly entityKey?: (event: TEvent) => string | undefined;
  /** Writes an event for its dead-letter record. Default JSON.stringify. */
  readonly serialize?: (event: TEvent) => string;
  /** Reads a dead-letter payload back for replay. Default `parseEvent` of @millwright/events. */
  readonly parse?: (payload: string) => Result<TEvent, unknown>;
  /**
   * Where the `millwright.inbox.*` metrics go; `metrics.getMeter("@millwright/idempotency")` by
   * default. The metrics API hands out a meter of the SDK registered at that moment: register the
   * SDK's MeterProvider before creating the inbox. With none, nothing is recorded.
   */
  readonly meter?: Meter;
  /**
   * Whether a new event may take the one-transaction path on a store that has one (SQLite,
   * PostgreSQL): claim, guard, handler and "processed" in one transaction, whose lock stands in
   * for the lease. Taken only for handlers that are not `async` functions; an attempt on it that
   * dies with the process leaves no trace, so it does not count towards `maxAttempts`. Set false
   * to take the lease path for every event. Default true.
   */
  readonly claimInTransaction?: boolean;
}

/** What a caller may add to one delivery. */
export interface ProcessOptions {
  /**
   * The revision guard's fingerprint of `event.data`, exactly as {@link fingerprint}`(event.data ?? null)`
   * returns it (64 lower-case hex digits), for a caller that has it already (a transport that
   * hashed the received canonical text): the inbox then does not canonicalise and hash the data
   * again. Ignored when the guard is skipped (no `sequence`, or no entity key).
   *
   * The inbox does not check that it is the data's fingerprint: that is the caller's
   * responsibility. A wrong one makes the guard compare the wrong content: a redelivery of the
   * same revision with another (wrong) fingerprint is dead-lettered as a `revision_conflict`, and
   * one whose content changed but whose fingerprint did not is taken for a `duplicate`. A value
   * that is not 64 lower-case hex digits is refused: the event is dead-lettered with code
   * `invalid_fingerprint`, its handler not run.
   */
  readonly fingerprint?: string;
}

/** What a caller may add to a batch of deliveries ({@link Inbox.processBatch}). */
export interface BatchOptions {
  /**
   * Per event, as {@link ProcessOptions.fingerprint}: `fingerprints[i]` is the fingerprint of
   * `events[i].data`, or undefined where the caller has none. When given, it has exactly one entry
   * per event; otherwise the call fails with `invalid_batch_options` and processes nothing.
   */
  readonly fingerprints?: readonly (string | undefined)[];
}

/** An inbox over a store. */
export interface Inbox<TEvent extends InboxEvent, TTx> {
  /**
   * Processes one delivery exactly once in effect: claims (source, id), applies the revision
   * guard, runs the handler in the store's transaction, retries retryable failures with backoff,
   * and dead-letters the event after the last attempt or a permanent failure.
   *
   * @param event - the delivered event
   * @param handler - applies its effect (see {@link Handler})
   * @param options - the data's fingerprint when the caller has it ({@link ProcessOptions})
   */
  process(event: TEvent, handler: Handler<TEvent, TTx>, options?: ProcessOptions): ResultAsync<InboxOutcome, StoreError>;
  /**
   * Processes a batch of deliveries (as a transport delivers them) with fewer store round trips:
   * `outcomes[i]` belongs to `events[i]` and is what `process(events[i])` would give, with the same
   * exactly-once effects, revision guard, retries, dead letters and metrics per event; a batch may
   * repeat an event, and a later copy is a duplicate of the earlier one. Handlers of the batch step
   * run in event order: on a store with the one-transaction batch (SQLite) and a handler that is
   * not `async`, the whole batch is one transaction with a savepoint per event; on a store with the
   * batch lease path (Redis), one round trip claims the batch and one commits it; on any other
   * store each event goes through `process` in order. An event the batch step does not settle (a
   * failed attempt to retry, an entry another worker holds, a revision conflict, a replayed or
   * pending entry) is then processed alone, in event order, after the batch step: its effect comes
   * after those of the batch's other events.
   *
   * A store failure fails the whole call with a {@link StoreError}; events of the batch may be
   * committed already. Redelivering the batch is safe: their copies are duplicates.
   *
   * @param events - the delivered events, in delivery order
   * @param handler - applies one event's effect (see {@link Handler})
   * @param options - per event, the data's fingerprint when the caller has it ({@link BatchOptions})
   * @returns one outcome per event, in event order; `invalid_batch_options` when `options.fingerprints` does not have one entry per event
   * @example
   * const outcomes = await inbox.processBatch(events, (e, { tx }) => { tx.defer(() => apply(e)); });
   * if (outcomes.isOk()) outcomes.value.forEach((o, i) => console.log(events[i]?.id, o.outcome));
   */
  processBatch(events: readonly TEvent[], handler: Handler<TEvent, TTx>, options?: BatchOptions): ResultAsync<InboxOutcome[], StoreError | BatchOptionsError>;
  /** Keeps a payload that could not be read as an event in the dead letters. */
  reject(input: { readonly payload: string; readonly source?: string; readonly code: string; readonly message: string }): ResultAsync<DeadLetterRecord, StoreError>;
  /** Lists dead letters, oldest first. */
  deadLetters(options?: { readonly limit?: number; readonly offset?: number }): ResultAsync<DeadLetterRecord[], StoreError>;
  /**
   * Parses a dead letter's payload again and processes it when its inbox entry is dead (or
   * absent); removes the record once the event has its effect. An event processed since is a
   * `duplicate`: the handler does not run again. Concurrent replays of one record run it once.
   */
  replay(id: string, handler: Handler<TEvent, TTx>): ResultAsync<InboxOutcome, StoreError | ReplayError>;
}

function toAttemptError(error: HandlerError, attempt: number, at: number): AttemptError {
  return { attempt, at, code: error.code, message: error.message, retryable: error.retryable };
}

/** A handler's err Result (or anything else it returned) as its failure; undefined for success. */
function handlerErrorOf(value: unknown): HandlerError | undefined {
  if (value !== undefined && value !== null && typeof value === "object" && "isErr" in value && (value as { isErr: () => boolean }).isErr()) {
    const e = (value as unknown as { error: unknown }).error as Partial<HandlerError> | undefined;
    if (e !== undefined && e !== null && typeof e === "object" && typeof e.message === "string" && typeof e.retryable === "boolean") {
      return { code: typeof e.code === "string" ? e.code : e.retryable ? "retryable" : "permanent", message: describeValue(e.message), retryable: e.retryable, cause: e.cause };
    }
    return { code: "handler_failed", message: `handler returned err(${describeValue(e)})`, retryable: true, cause: e };
  }
  return undefined;
}

function threw(cause: unknown): HandlerError {
  return { code: "handler_threw", message: `handler threw: ${describeValue(cause)}`, retryable: true, cause };
}

/** Normalizes a handler's failure, reading a hostile result's getters safely; never throws. */
function settle(value: unknown): HandlerError | undefined {
  try {
    return handlerErrorOf(value);
  } catch (cause) {
    // The getters of a hostile result (isErr, error, code…) may throw too: still the handler's failure.
    return threw(cause);
  }
}

/** Awaits what a handler returned and normalizes it; never rejects. */
async function settleAsync(value: PromiseLike<unknown>): Promise<HandlerError | undefined> {
  try {
    return handlerErrorOf(await value);
  } catch (cause) {
    return threw(cause);
  }
}

/** What {@link fingerprint} returns: a lower-case hex SHA-256. */
const FINGERPRINT = /^[0-9a-f]{64}$/;

const AsyncFunction = (async () => undefined).constructor;
const AsyncGeneratorFunction = async function* () {
  /* only its constructor */
}.constructor;

/** Whether a handler is declared `async`: it takes the lease path (its effects may well lie outside the store). */
function isAsyncHandler(handler: unknown): boolean {
  return typeof handler === "function" && (handler instanceof AsyncFunction || handler instanceof AsyncGeneratorFunction);
}

/**
 * Runs the handler until it settles or the lease ends, whichever comes first. At the end of the
 * lease, `controller` is aborted (the store and the handler see it) and a `lease_expired` error
 * is returned without waiting for the handler.
 */
async function withinLease(work: Promise<HandlerError | undefined>, remainingMs: number, leaseMs: number, controller: AbortController): Promise<HandlerError | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<HandlerError>((resolve) => {
    timer = setTimeout(() => {
      controller.abort();
      resolve({
        code: "lease_expired",
        message: `the handler had not settled when the lease of ${leaseMs} ms ended; the attempt was abandoned and its transaction rolled back`,
        retryable: true,
      });
    }, Math.max(0, remainingMs));
  });
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** Where the per-event path takes over an event that a batch step began and did not settle. */
type Resume =
  /** The one-transaction batch ran the handler and it failed: nothing of it was written. */
  | { readonly kind: "failed_in_transaction"; readonly error: HandlerError }
  /** The lease batch claimed the entry and, with `result`, ran the handler and committed (or tried to). */
  | { readonly kind: "claimed"; readonly token: string; readonly now: number; readonly claim: Extract<ClaimResult, { readonly kind: "claimed" }>; readonly result?: CommitResult };

/** How {@link createInbox}'s `run` takes one event. */
interface RunOptions {
  /** A replay: the entry may be dead, and is revived. */
  readonly replaying: boolean;
  /** The caller's fingerprint of the data. */
  readonly given: string | undefined;
  /** Where a batch step left the event; undefined: from the start. */
  readonly resume?: Resume | undefined;
  /** The guard's input as the batch step worked it out, so the data is not hashed again. */
  readonly guarded?: Guarded | undefined;
}

/** The revision guard's input for an event, or why its data cannot be compared. */
interface Guarded {
  readonly guard?: RevisionInput;
  readonly unusable?: { readonly code: string; readonly message: string };
}

/**
 * Creates an inbox over a store: at-least-once deliveries in, exactly-once effects out.
 *
 * @param store - any {@link IdempotencyStore}: memory, SQLite, PostgreSQL or Redis
 * @param options - lease, retry policy, clock, sleep, random, revision key, serializer, parser
 * @returns the inbox
 * @example
 * const inbox = createInbox(createMemoryStore());
 * const outcome = await inbox.process(event, (e, { tx }) => { tx.defer(() => apply(e)); });
 */
export function createInbox<TTx, TEvent extends InboxEvent = InboxEvent>(store: IdempotencyStore<TTx>, options: InboxOptions<TEvent> = {}): Inbox<TEvent, TTx> {
  const leaseMs = options.leaseMs ?? 30_000;
  const retry = options.retry ?? DEFAULT_RETRY_POLICY;
  const clock = options.clock ?? systemClock;
  const sleep = options.sleep ?? timerSleep;
  const random = options.random ?? Math.random;
  const busyPollMs = options.busyPollMs ?? 50;
  const busyWaitMs = options.busyWaitMs ?? 2 * leaseMs;
  const keyOf = options.entityKey ?? entityKeyOf;
  const serialize = options.serialize ?? ((e: TEvent) => JSON.stringify(e));
  const parse = options.parse ?? ((payload: string) => parseEvent(payload) as unknown as Result<TEvent, unknown>);
  const inTransaction = options.claimInTransaction ?? true;
  const owner = randomUUID();
  const instruments = createInboxInstruments(store.name, options.meter);
  let tokens = 0;

  /** The guard's input, or why the event's data cannot be compared (it is dead-lettered: `unusable`). */
  function guardOf(event: TEvent, given: string | undefined): Guarded {
    if (event.sequence === undefined) return {};
    const entityKey = keyOf(event);
    if (entityKey === undefined) return {};
    if (given !== undefined) {
      if (typeof given === "string" && FINGERPRINT.test(given)) return { guard: { entityKey, revision: event.sequence, fingerprint: given } };
      const shown = typeof given === "string" ? JSON.stringify(given.length > 80 ? `${given.slice(0, 80)}…` : given) : describeValue(given);
      return {
        guard: { entityKey, revision: event.sequence, fingerprint: "invalid" },
        unusable: { code: "invalid_fingerprint", message: `options.fingerprint ${shown} is not a fingerprint: it must be 64 lower-case hex digits (a SHA-256), as fingerprint(event.data) returns` },
      };
    }
    const print = fingerprint(event.data ?? null);
    if (print.isOk()) return { guard: { entityKey, revision: event.sequence, fingerprint: print.value } };
    // Data without a canonical form cannot be compared; such an event fails in the guard below.
    return { guard: { entityKey, revision: event.sequence, fingerprint: "unfingerprintable" }, unusable: { code: "not_canonical_json", message: `event data ${print.error.message}` } };
  }

  /**
   * One attempt of the handler, as the store's work: the handler runs at once; one that returns a
   * promise runs within the lease (abandoned at its end). The AbortController is made only when
   * the handler reads `signal` or returns a promise, the transaction only when it reads `tx`.
   */
  const attemptOf =
    (event: TEvent, handler: Handler<TEvent, TTx>, attempt: number, now: number, state: { controller?: AbortController }) =>
    (txOf: () => TTx): HandlerError | undefined | Promise<HandlerError | undefined> => {
      const context: HandlerContext<TTx> = {
        get tx() {
          return txOf();
        },
        attempt,
        get signal() {
          return (state.controller ??= new AbortController()).signal;
        },
      };
      let value: unknown;
      try {
        value = handler(event, context);
      } catch (cause) {
        return threw(cause);
      }
      if (!isThenable(value)) return settle(value);
      return withinLease(settleAsync(value), leaseMs - (clock.now() - now), leaseMs, (state.controller ??= new AbortController()));
    };

  const finished = (event: TEvent, status: "processed" | "duplicate" | "stale" | "dead"): InboxOutcome => {
    const reason = status === "dead" ? "dead_lettered" : status === "stale" ? "already_stale" : "already_processed";
    return { outcome: "duplicate", reason, message: `event ${event.id} from ${event.source} was already handled (${status})` };
  };

  /** The outcome of the revision guard's duplicate or stale verdict. */
  const guardedOutcome = (event: TEvent, v: Extract<RevisionVerdict, { verdict: "duplicate" | "stale" }>): InboxOutcome =>
    v.verdict === "duplicate"
      ? { outcome: "duplicate", reason: "same_revision", message: `event ${event.id}: ${v.reason}` }
      : { outcome: "stale", revision: v.revision, current: v.current, message: `event ${event.id}: ${v.reason}` };

  /** What a one-transaction answer settles; undefined when the lease path takes the event over. */
  const atomicOutcome = (event: TEvent, atomic: AtomicResult): InboxOutcome | undefined => {
    switch (atomic.kind) {
      case "processed":
        return { outcome: "processed", attempts: 1 };
      case "done":
        return finished(event, atomic.status);
      case "guarded":
        return guardedOutcome(event, atomic.verdict);
      default:
        return undefined;
    }
  };

  /** The one-transaction request for a new event, and its first attempt as the store's work. */
  const atomicAttempt = (event: TEvent, key: string, guard: RevisionInput | undefined, handler: Handler<TEvent, TTx>) => {
    const now = clock.now();
    const state: { controller?: AbortController } = {};
    const request: AtomicRequest = {
      key,
      source: event.source,
      eventId: event.id,
      now,
      guard,
      get signal() {
        return state.controller?.signal;
      },
    };
    return { request, work: attemptOf(event, handler, 1, now, state) };
  };

  async function run(event: TEvent, handler: Handler<TEvent, TTx>, { replaying, given, resume, guarded }: RunOptions): Promise<InboxOutcome> {
    const key = inboxKey(event.source, event.id);
    const errors: AttemptError[] = [];
    const started = clock.now();
    const { guard, unusable } = guarded ?? guardOf(event, given);
    const unfingerprintable = unusable !== undefined;
    // The failure of an attempt on the one-transaction path, which left nothing in the store: the
    // lease path's next claim records it as that claim's attempt.
    let failedInTransaction: HandlerError | undefined = resume?.kind === "failed_in_transaction" ? resume.error : undefined;
    if (resume === undefined && inTransaction && !replaying && !unfingerprintable && store.claimAndCommit !== undefined && !isAsyncHandler(handler)) {
      const { request, work } = atomicAttempt(event, key, guard, handler);
      const atomic = await store.claimAndCommit(request, work);
      const outcome = atomicOutcome(event, atomic);
      if (outcome !== undefined) return outcome;
      if (atomic.kind === "handler_failed") failedInTransaction = atomic.error;
    }
    const bury = async (token: string, error: AttemptError): Promise<InboxOutcome> => {
      errors.push(error);
      const deadLetterId = recordId("dead-letter", [event.source, event.id]);
      const record = await store.deadLetter({ id: deadLetterId, key, token, source: event.source, eventId: event.id, payload: serialize(event), error, now: clock.now() });
      if (record === undefined) return { outcome: "failed", code: "lease_lost", message: `event ${event.id} from ${event.source}: the lease expired before it could be dead-lettered; another worker owns it`, errors };
      return { outcome: "failed", code: "dead_lettered", message: `event ${event.id} from ${event.source} was dead-lettered after ${record.attempts} attempt(s): ${error.message}`, deadLetter: record, errors };
    };

    // A replay may claim a dead entry until it has claimed once; later claims are ordinary.
    let revive = replaying;
    // The claim (and commit) a lease batch made for this event: its first attempt.
    let held = resume?.kind === "claimed" ? resume : undefined;
    for (;;) {
      const token = held?.token ?? `${owner}:${++tokens}`;
      const now = held?.now ?? clock.now();
      const claim: ClaimResult =
        held?.claim ?? (await store.claim({ key, source: event.source, eventId: event.id, token, now, leaseMs, ...(revive ? { revive } : {}), ...(guard === undefined ? {} : { guardKey: guard.entityKey }) }));
      const committed = held?.result;
      held = undefined;
      if (claim.kind !== "claimed" && failedInTransaction !== undefined) {
        // Someone else has the entry now: the failed attempt stays in this delivery's errors only.
        errors.push(toAttemptError(failedInTransaction, 1, now));
        failedInTransaction = undefined;
      }
      if (claim.kind === "done") return finished(event, claim.status);
      if (claim.kind === "busy") {
        if (now - started >= busyWaitMs) {
          return { outcome: "failed", code: "claimed_elsewhere", message: `event ${event.id} from ${event.source} is still claimed by another worker after ${busyWaitMs} ms`, errors };
        }
        await sleep(Math.max(1, Math.min(busyPollMs, claim.leaseUntil - now + 1)));
        continue;
      }
      revive = false;
      const attempt = claim.attempt;
      const failed = failedInTransaction;
      failedInTransaction = undefined;
      if (attempt > retry.maxAttempts && failed === undefined) {
        // A worker died during each earlier attempt (a poison message that crashes the process).
        return bury(token, {
          attempt,
          at: now,
          code: "attempts_exhausted",
          message: `${attempt - 1} attempt(s) ended without an outcome (the worker stopped or its lease expired); maxAttempts is ${retry.maxAttempts}`,
          retryable: false,
        });
      }
      if (unusable !== undefined) {
        return bury(token, { attempt, at: now, code: unusable.code, message: unusable.message, retryable: false });
      }
      const state: { controller?: AbortController } = {};
      const work = attemptOf(event, handler, attempt, now, state);
      const result: CommitResult =
        failed !== undefined
          ? { kind: "handler_failed", error: failed }
          : (committed ??
            await store.commit(
              {
                key,
                token,
                now,
                guard,
                guardState: claim.guardState,
                get signal() {
                  return state.controller?.signal;
                },
              },
              async (tx) => work(() => tx),
            ));
      switch (result.kind) {
        case "processed":
          return { outcome: "processed", attempts: attempt };
        case "lease_lost":
          return { outcome: "failed", code: "lease_lost", message: `event ${event.id} from ${event.source}: the lease expired during attempt ${attempt}; another worker took it over and nothing of this attempt was kept`, errors };
        case "guarded": {
          const v = result.verdict;
          if (v.verdict !== "conflict") return guardedOutcome(event, v);
          return bury(token, { attempt, at: clock.now(), code: "revision_conflict", message: v.reason, retryable: false });
        }
        case "handler_failed": {
          const error = toAttemptError(result.error, attempt, clock.now());
          if (!error.retryable || attempt >= retry.maxAttempts) return bury(token, error);
          errors.push(error);
          instruments?.retried(event.type, error);
          const released = await store.release({ key, token, error });
          if (!released) return { outcome: "failed", code: "lease_lost", message: `event ${event.id} from ${event.source}: the lease expired during attempt ${attempt}`, errors };
          await sleep(backoffDelay(retry, attempt, random));
          continue;
        }
      }
    }
  }

  /**
   * The batch step: the one-transaction batch or the lease batch, as the store and handler allow.
   * Settles what it can through `settled`; answers, per event, where the per-event path takes over
   * (`fresh`: from the start), or undefined for a settled event.
   */
  async function batchStep(
    events: readonly TEvent[],
    handler: Handler<TEvent, TTx>,
    guards: readonly Guarded[],
    settled: (i: number, o: InboxOutcome) => void,
  ): Promise<(Resume | "fresh" | undefined)[]> {
    const next: (Resume | "fresh" | undefined)[] = events.map(() => "fresh");
    if (inTransaction && store.claimAndCommitMany !== undefined && !isAsyncHandler(handler)) {
      const indexes: number[] = [];
      const requests: AtomicRequest[] = [];
      const works: ((tx: () => TTx) => HandlerError | undefined | Promise<HandlerError | undefined>)[] = [];
      // The entries and entities of events left to the per-event path: a later event of one of them
      // is left to it too, so that it still comes after the earlier one (the store does the same
      // for the requests it answers `fallback` or `handler_failed`).
      const waiting = createLeftBehind();
      events.forEach((event, i) => {
        const { guard, unusable } = guards[i]!;
        const key = inboxKey(event.source, event.id);
        // Unusable data is dead-lettered on the lease path, as process does.
        if (unusable !== undefined || waiting.has(key, guard?.entityKey)) {
          waiting.add(key, guard?.entityKey);
          return;
        }
        const { request, work } = atomicAttempt(event, key, guard, handler);
        indexes.push(i);
        requests.push(request);
        works.push(work);
      });
      if (requests.length === 0) return next;
      const answers = await store.claimAndCommitMany(requests, works);
      answers.forEach((atomic, k) => {
        const i = indexes[k]!;
        const outcome = atomicOutcome(events[i]!, atomic);
        if (outcome !== undefined) {
          next[i] = undefined;
          settled(i, outcome);
        } else if (atomic.kind === "handler_failed") {
          next[i] = { kind: "failed_in_transaction", error: atomic.error };
        }
      });
      return next;
    }
    if (store.claimMany === undefined || store.commitMany === undefined) return next;
    const claimRequests: ClaimRequest[] = events.map((event, i) => {
      const guard = guards[i]!.guard;
      return { key: inboxKey(event.source, event.id), source: event.source, eventId: event.id, token: `${owner}:${++tokens}`, now: clock.now(), leaseMs, ...(guard === undefined ? {} : { guardKey: guard.entityKey }) };
    });
    const claims = await store.claimMany(claimRequests);
    const indexes: number[] = [];
    const requests: CommitRequest[] = [];
    const works: ((tx: TTx) => Promise<HandlerError | undefined>)[] = [];
    // Only the first event of each entity is committed here: a later one waits for the per-event
    // path, whose early look at the revision then sees the earlier one's outcome (process skips the
    // handler of a stale event; in one commitMany it would run before the earlier one commits, and
    // an earlier one that is retried after the batch must still come first).
    const entities = new Set<string>();
    claims.forEach((claim, i) => {
      const event = events[i]!;
      const { token, now } = claimRequests[i]!;
      const entity = guards[i]!.guard?.entityKey;
      const first = entity === undefined || !entities.has(entity);
      if (entity !== undefined) entities.add(entity);
      if (claim.kind === "done") {
        next[i] = undefined;
        return settled(i, finished(event, claim.status));
      }
      // Held by another worker: the per-event path waits for it.
      if (claim.kind === "busy") return;
      if (!first) {
        // Its commit comes after the earlier event's: the revision read with the claim may be outdated by then.
        const { guardState: _read, ...held } = claim;
        next[i] = { kind: "claimed", token, now, claim: held };
        return;
      }
      next[i] = { kind: "claimed", token, now, claim };
      // Exhausted attempts and unusable data are dead-lettered by the per-event path, the handler not run.
      if (claim.attempt > retry.maxAttempts || guards[i]!.unusable !== undefined) return;
      const state: { controller?: AbortController } = {};
      const work = attemptOf(event, handler, claim.attempt, now, state);
      indexes.push(i);
      requests.push({
        key: claimRequests[i]!.key,
        token,
        now,
        guard: guards[i]!.guard,
        guardState: claim.guardState,
        get signal() {
          return state.controller?.signal;
        },
      });
      works.push(async (tx) => work(() => tx));
    });
    if (requests.length === 0) return next;
    const results = await store.commitMany(requests, works);
    results.forEach((result, k) => {
      const i = indexes[k]!;
      const resume = next[i];
      if (resume !== undefined && resume !== "fresh" && resume.kind === "claimed") next[i] = { ...resume, result };
    });
    return next;
  }

  /** Processes a batch: its batch step, then each event it did not settle alone, in event order. */
  async function runBatch(events: readonly TEvent[], handler: Handler<TEvent, TTx>, givens: BatchOptions["fingerprints"], settled: (i: number, o: InboxOutcome) => void): Promise<InboxOutcome[]> {
    const outcomes: InboxOutcome[] = [];
    const settle = (i: number, o: InboxOutcome): void => {
      outcomes[i] = o;
      settled(i, o);
    };
    const guards = events.map((e, i) => guardOf(e, givens?.[i]));
    const next = await batchStep(events, handler, guards, settle);
    for (let i = 0; i < events.length; i++) {
      const resume = next[i];
      if (resume === undefined) continue;
      settle(i, await run(events[i]!, handler, { replaying: false, given: givens?.[i], resume: resume === "fresh" ? undefined : resume, guarded: guards[i] }));
    }
    return outcomes;
  }

  const processBatch = (events: readonly TEvent[], handler: Handler<TEvent, TTx>, options: BatchOptions = {}): ResultAsync<InboxOutcome[], StoreError | BatchOptionsError> => {
    const givens = options.fingerprints;
    if (givens !== undefined && (!Array.isArray(givens) || givens.length !== events.length)) {
      const value = Array.isArray(givens) ? givens.length : describeValue(givens);
      return errAsync({
        code: "invalid_batch_options",
        path: "options.fingerprints",
        value,
        message: Array.isArray(givens)
          ? `options.fingerprints has ${givens.length} entries for ${events.length} events: it must have exactly one entry (a fingerprint or undefined) per event`
          : `options.fingerprints ${value} is not an array: it must have exactly one entry (a fingerprint or undefined) per event`,
      });
    }
    if (events.length === 0) return okAsync([]);
    let open = events.length;
    const settled = (i: number, o: InboxOutcome): void => {
      open--;
      instruments?.settled(events[i]!.type, o);
    };
    const outcomes = runBatch(events, handler, givens, settled);
    const recorded =
      instruments === undefined
        ? outcomes
        : outcomes.catch((cause: unknown) => {
            instruments.storeFailed(open);
            throw cause;
          });
    return ResultAsync.fromPromise(recorded, toStoreError("inbox.processBatch"));
  };

  const process = (event: TEvent, handler: Handler<TEvent, TTx>, replaying: boolean, given?: string): ResultAsync<InboxOutcome, StoreError> => {
    const outcome = run(event, handler, { replaying, given });
    const recorded =
      instruments === undefined
        ? outcome
        : outcome.then(
            (o) => {
              instruments.settled(event.type, o);
              return o;
            },
            (cause: unknown) => {
              instruments.storeFailed();
              throw cause;
            },
          );
    return ResultAsync.fromPromise(recorded, toStoreError("inbox.process"));
  };

  return {
    process: (event, handler, o) => process(event, handler, false, o?.fingerprint),
    processBatch,
    reject: (input) =>
      ResultAsync.fromPromise(
        store.putRawDeadLetter({
          id: recordId("dead-letter-raw", [input.source ?? "", input.payload]),
          source: input.source,
          payload: input.payload,
          error: { attempt: 1, at: clock.now(), code: input.code, message: input.message, retryable: false },
          now: clock.now(),
        }),
        toStoreError("inbox.reject"),
      ).map((record) => {
        instruments?.rejected(input.code);
        return record;
      }),
    deadLetters: (o = {}) => ResultAsync.fromPromise(store.listDeadLetters({ limit: o.limit ?? 100, offset: o.offset ?? 0 }), toStoreError("deadLetters.list")),
    replay: (id, handler) =>
      ResultAsync.fromPromise(store.getDeadLetter(id), toStoreError("deadLetters.get")).andThen((record): ResultAsync<InboxOutcome, StoreError | ReplayError> => {
        if (record === undefined) return errAsync({ code: "dead_letter_not_found", id, message: `no dead-letter record has id ${id}` });
        const parsed = parse(record.payload);
        if (parsed.isErr()) {
          const at = clock.now();
          const message = `the payload still does not parse: ${typeof parsed.error === "object" && parsed.error !== null && "message" in parsed.error ? describeValue(parsed.error.message) : describeValue(parsed.error)}`;
          return ResultAsync.fromPromise(
            store.putRawDeadLetter({ id: record.id, source: record.source, payload: record.payload, error: { attempt: record.attempts + 1, at, code: "replay_unparseable", message, retryable: false }, now: at }),
            toStoreError("deadLetters.put"),
          ).map((updated): InboxOutcome => ({ outcome: "failed", code: "dead_lettered", message, deadLetter: updated, errors: updated.errors.slice(-1) }));
        }
        const event = parsed.value;
        return process(event, handler, true).andThen((outcome) => {
            // Failed, or still dead (a store that cannot revive): the record stays for the next replay.
            if (outcome.outcome === "failed" || (outcome.outcome === "duplicate" && outcome.reason === "dead_lettered")) return okAsync(outcome);
            // The record of a raw payload has another id than the event's own; remove both.
            const ids = new Set([record.id, recordId("dead-letter", [event.source, event.id])]);
            return ResultAsync.fromPromise(Promise.all([...ids].map((i) => store.removeDeadLetter(i))), toStoreError("deadLetters.remove")).map(() => outcome);
          });
      }),
  };
}
