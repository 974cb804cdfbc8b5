import { decideRevision, type RevisionState } from "../revision-guard.js";
import type { HandlerError } from "../retry.js";
import type { AttemptError, ClaimRequest, ClaimResult, CommitRequest, CommitResult, DeadLetterRecord, IdempotencyStore, InboxStatus, OutboxRecord } from "../store.js";
import { mergeDeadLetter } from "./common.js";

/** The transaction of the memory store: effects are deferred and run together when it commits. */
export interface MemoryTransaction {
  /** Runs `effect` if and only if the transaction commits. */
  defer(effect: () => void): void;
}

interface Entry {
  source: string;
  eventId: string;
  status: InboxStatus;
  token: string | undefined;
  leaseUntil: number;
  attempts: number;
  errors: AttemptError[];
  firstSeen: number;
}

/**
 * Creates a store that keeps everything in this process's memory: for tests, demos and
 * single-process pipelines whose deliveries are replayed from the source after a restart.
 * Nothing survives the process.
 *
 * @returns the store; its transaction is a {@link MemoryTransaction}
 * @example
 * const inbox = createInbox(createMemoryStore());
 */
export function createMemoryStore(): IdempotencyStore<MemoryTransaction> {
  const inbox = new Map<string, Entry>();
  const revisions = new Map<string, RevisionState>();
  const deadLetters = new Map<string, DeadLetterRecord>();
  // Unsent records in the order they were added; ids of sent ones, so adding them again keeps one.
  const outbox = new Map<string, OutboxRecord>();
  const sent = new Set<string>();
  let seq = 0;
  let relay: { owner: string; until: number } | undefined;

  async function inTransaction<T>(work: (tx: MemoryTransaction) => Promise<T>): Promise<{ value: T; commit: () => void }> {
    const effects: (() => void)[] = [];
    const value = await work({ defer: (effect) => void effects.push(effect) });
    return { value, commit: () => effects.forEach((effect) => effect()) };
  }

  const claim = (r: ClaimRequest): ClaimResult => {
    const entry = inbox.get(r.key);
    if (entry === undefined) {
      inbox.set(r.key, { source: r.source, eventId: r.eventId, status: "processing", token: r.token, leaseUntil: r.now + r.leaseMs, attempts: 1, errors: [], firstSeen: r.now });
      return { kind: "claimed", attempt: 1, firstSeen: r.now };
    }
    if (entry.status === "dead" && r.revive === true) {
      // Replay: dead → processing in this one synchronous step, attempts and errors afresh.
      Object.assign(entry, { status: "processing", token: r.token, leaseUntil: r.now + r.leaseMs, attempts: 1, errors: [] });
      return { kind: "claimed", attempt: 1, firstSeen: entry.firstSeen };
    }
    if (entry.status === "processed" || entry.status === "duplicate" || entry.status === "stale" || entry.status === "dead") return { kind: "done", status: entry.status };
    if (entry.status === "processing" && entry.leaseUntil > r.now) return { kind: "busy", leaseUntil: entry.leaseUntil };
    entry.status = "processing";
    entry.token = r.token;
    entry.leaseUntil = r.now + r.leaseMs;
    entry.attempts += 1;
    return { kind: "claimed", attempt: entry.attempts, firstSeen: entry.firstSeen };
  };
  const holds = (r: CommitRequest): Entry | undefined => {
    const entry = inbox.get(r.key);
    return entry !== undefined && entry.status === "processing" && entry.token === r.token ? entry : undefined;
  };
  /** A commit's steps before the work: the fence and the early look at the revision; undefined when the work is to run. */
  const beforeWork = (r: CommitRequest): CommitResult | undefined => {
    if (holds(r) === undefined) return { kind: "lease_lost" };
    if (r.guard !== undefined) {
      const verdict = decideRevision(revisions.get(r.guard.entityKey), r.guard);
      if (verdict.verdict !== "applied") {
        const entry = holds(r);
        if (entry === undefined) return { kind: "lease_lost" };
        if (verdict.verdict !== "conflict") Object.assign(entry, { status: verdict.verdict, token: undefined });
        return { kind: "guarded", verdict };
      }
    }
    return undefined;
  };
  /** A commit's steps after the work: the fence and the guard again, then the effects and "processed". */
  const afterWork = (r: CommitRequest, error: HandlerError | undefined, commit: () => void): CommitResult => {
    if (error !== undefined) return { kind: "handler_failed", error };
    const entry = holds(r);
    if (entry === undefined) return { kind: "lease_lost" };
    // Re-check the guard: another event of the entity may have committed while the work ran.
    if (r.guard !== undefined) {
      const verdict = decideRevision(revisions.get(r.guard.entityKey), r.guard);
      if (verdict.verdict !== "applied") {
        if (verdict.verdict !== "conflict") Object.assign(entry, { status: verdict.verdict, token: undefined });
        return { kind: "guarded", verdict };
      }
      revisions.set(r.guard.entityKey, { revision: r.guard.revision, fingerprint: r.guard.fingerprint });
    }
    commit();
    entry.status = "processed";
    entry.token = undefined;
    return { kind: "processed" };
  };

  return {
    name: "memory",
    claim: async (r) => claim(r),
    // Each claim in turn, as claim() takes it: a second request for a key claimed earlier in the batch finds it busy.
    claimMany: async (requests) => requests.map(claim),
    commit: async (r, work) => {
      const early = beforeWork(r);
      if (early !== undefined) return early;
      const { value: error, commit } = await inTransaction(work);
      return afterWork(r, error, commit);
    },
    commitMany: async (requests, works) => {
      if (requests.length !== works.length) throw new TypeError(`commitMany: ${requests.length} requests and ${works.length} works; there is one work per request`);
      // The works run first, in request order, each in its own transaction; then every one commits in request order.
      const ran: ({ readonly settled: CommitResult } | { readonly error: HandlerError | undefined; readonly commit: () => void })[] = [];
      for (let i = 0; i < requests.length; i++) {
        const early = beforeWork(requests[i]!);
        if (early !== undefined) {
          ran.push({ settled: early });
          continue;
        }
        const { value: error, commit } = await inTransaction(works[i]!);
        ran.push({ error, commit });
      }
      return ran.map((done, i) => ("settled" in done ? done.settled : afterWork(requests[i]!, done.error, done.commit)));
    },
    release: async (r) => {
      const entry = inbox.get(r.key);
      if (entry === undefined || entry.status !== "processing" || entry.token !== r.token) return false;
      entry.status = "pending";
      entry.token = undefined;
      entry.errors.push(r.error);
      return true;
    },
    deadLetter: async (r) => {
      const entry = inbox.get(r.key);
      if (entry === undefined || entry.status !== "processing" || entry.token !== r.token) return undefined;
      entry.status = "dead";
      entry.token = undefined;
      const errors = [...entry.errors, r.error];
      entry.errors = errors;
      const record = mergeDeadLetter(deadLetters.get(r.id), { id: r.id, kind: "event", source: r.source, eventId: r.eventId, payload: r.payload }, errors, entry.attempts, r.now);
      deadLetters.set(r.id, { ...record, firstSeen: Math.min(record.firstSeen, entry.firstSeen) });
      return deadLetters.get(r.id);
    },
    putRawDeadLetter: async (r) => {
      const record = mergeDeadLetter(deadLetters.get(r.id), { id: r.id, kind: "raw", source: r.source, eventId: undefined, payload: r.payload }, [r.error], 1, r.now);
      deadLetters.set(r.id, record);
      return record;
    },
    getDeadLetter: async (id) => deadLetters.get(id),
    listDeadLetters: async ({ limit, offset }) =>
      [...deadLetters.values()].sort((a, b) => a.firstSeen - b.firstSeen || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).slice(offset, offset + limit),
    removeDeadLetter: async (id) => deadLetters.delete(id),
    inboxStatus: async (key) => {
      const entry = inbox.get(key);
      return entry === undefined ? undefined : { status: entry.status, attempts: entry.attempts, errors: [...entry.errors] };
    },
    applyRevision: async (input) => {
      const verdict = decideRevision(revisions.get(input.entityKey), input);
      if (verdict.verdict === "applied") revisions.set(input.entityKey, { revision: input.revision, fingerprint: input.fingerprint });
      return verdict;
    },
    readRevision: async (key) => revisions.get(key),
    transaction: async (work) => {
      const { value, commit } = await inTransaction(work);
      commit();
      return value;
    },
    addToOutbox: async (tx, records) => {
      tx.defer(() => {
        for (const r of records) {
          if (outbox.has(r.id) || sent.has(r.id)) continue;
          outbox.set(r.id, { id: r.id, source: r.source, eventId: r.eventId, partitionKey: r.partitionKey, payload: r.payload, seq: ++seq, addedAt: r.now });
        }
      });
    },
    acquireRelayLease: async (owner, now, leaseMs) => {
      if (relay !== undefined && relay.owner !== owner && relay.until > now) return false;
      relay = { owner, until: now + leaseMs };
      return true;
    },
    releaseRelayLease: async (owner) => {
      if (relay?.owner === owner) relay = undefined;
    },
    pendingOutbox: async (limit) => {
      const out: OutboxRecord[] = [];
      for (const r of outbox.values()) {
        if (out.length >= limit) break;
        out.push(r);
      }
      return out;
    },
    markSent: async (ids) => {
      for (const id of ids) {
        if (outbox.delete(id)) sent.add(id);
      }
    },
    outboxBacklog: async () => {
      // The map keeps the order of adding: its first record is the oldest unsent one.
      const oldest = outbox.values().next();
      return { pending: outbox.size, oldestAddedAt: oldest.done === true ? undefined : oldest.value.addedAt };
    },
  };
}
