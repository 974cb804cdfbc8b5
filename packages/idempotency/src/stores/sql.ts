import type { HandlerError } from "../retry.js";
import { decideRevision, type RevisionInput, type RevisionState, type RevisionVerdict } from "../revision-guard.js";
import type { AtomicRequest, AtomicResult, AttemptError, CommitResult, DeadLetterRecord, IdempotencyStore, InboxStatus, OutboxRecord } from "../store.js";
import { createLeftBehind, isThenable, mergeDeadLetter } from "./common.js";

/** A row as drivers return it. */
export type Row = Readonly<Record<string, unknown>>;

/** Statements on one connection; SQL uses `$1`-style placeholders. */
export interface SqlSession {
  all(sql: string, params: readonly unknown[]): Promise<Row[]>;
  run(sql: string, params: readonly unknown[]): Promise<number>;
}

/** Statements that run when called (SQLite). */
export interface SyncSqlSession {
  all(sql: string, params: readonly unknown[]): Row[];
  run(sql: string, params: readonly unknown[]): number;
}

/** What a transaction's work answers: commit or not, its value, and whether a handler may still hold the transaction. */
export interface SqlOutcome<T> {
  readonly commit: boolean;
  readonly value: T;
  readonly abandon?: boolean;
}

/** {@link SqlDriver.transactNow}'s answer when the connection is taken. */
export const BUSY: unique symbol = Symbol("busy");

/** What the shared SQL engine needs of a driver (SQLite or PostgreSQL). */
export interface SqlDriver<TTx> {
  readonly name: string;
  /** Autocommit statements. */
  readonly session: SqlSession;
  /**
   * Runs `work` in a transaction; commits when it returns `commit: true`, rolls back otherwise or
   * when it throws. `abandon: true` (with `commit: false`) says that a handler may still hold the
   * transaction object: roll back without waiting for it, and leave it nothing to write through.
   * The transaction object is not usable once the transaction has ended. `work` gets it through a
   * function, so a driver can build it only when it is asked for (SQLite's revoking proxy).
   */
  transaction<T>(work: (session: SqlSession, tx: () => TTx) => Promise<{ readonly commit: boolean; readonly value: T; readonly abandon?: boolean }>): Promise<T>;
  /**
   * SQLite: runs `work` in a transaction at once, without awaiting, when the connection is free
   * right now; `work` may still answer with a promise (an async handler), and the transaction then
   * stays open until it settles. {@link BUSY} when the connection is taken: use `transaction`.
   */
  readonly transactNow?: <T>(
    work: (session: SyncSqlSession, tx: () => TTx) => SqlOutcome<T> | Promise<SqlOutcome<T>>,
  ) => T | Promise<T> | typeof BUSY;
  /** The session of a caller's transaction object. */
  sessionOf(tx: TTx): SqlSession;
  /**
   * Whether statements run synchronously when called (SQLite): then a batch can be issued without
   * awaiting in between, so a caller's synchronous transaction holds it. Asynchronous drivers (pg)
   * get one statement at a time, since one connection runs one query at a time.
   */
  readonly synchronous?: boolean;
  /** Whether the database runs the one-statement claim of claimAndCommit (PostgreSQL's data-modifying WITH). */
  readonly claimStatement?: boolean;
  /** `FOR UPDATE` where the database has row locks, "" where transactions are serialized. */
  readonly forUpdate: string;
  /** Whether producers must lock their partition row to keep outbox order (concurrent writers). */
  readonly lockPartitions: boolean;
  /** SQL and parameters for "column is one of values", its parameters numbered from `first`. */
  inArray(column: string, first: number, values: readonly unknown[]): { readonly sql: string; readonly params: readonly unknown[] };
}

/** Table names, each with the configured prefix. */
export interface SqlTables {
  readonly inbox: string;
  readonly revisions: string;
  readonly deadLetters: string;
  readonly outbox: string;
  readonly partitions: string;
  readonly relayLease: string;
}

/**
 * The table names for a prefix.
 *
 * @param prefix - a prefix of letters, digits and underscores, such as `millwright_`
 * @returns the names
 */
export function tablesFor(prefix: string): SqlTables {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(prefix) && prefix !== "") throw new TypeError(`tablePrefix ${JSON.stringify(prefix)} is letters, digits and underscores`);
  return {
    inbox: `${prefix}inbox`,
    revisions: `${prefix}revisions`,
    deadLetters: `${prefix}dead_letters`,
    outbox: `${prefix}outbox`,
    partitions: `${prefix}outbox_partitions`,
    relayLease: `${prefix}relay_lease`,
  };
}

const FINAL = new Set(["processed", "duplicate", "stale", "dead"]);

/** Appends one JSON value ($n, text) to a JSON array column, in SQL both databases understand. */
function appendJson(column: string, param: string): string {
  return `CASE WHEN ${column} = '[]' THEN '[' || ${param} || ']' ELSE substr(${column}, 1, length(${column}) - 1) || ',' || ${param} || ']' END`;
}

function toRecord(row: Row): DeadLetterRecord {
  return {
    id: String(row["id"]),
    kind: row["kind"] === "raw" ? "raw" : "event",
    source: row["source"] === null ? undefined : String(row["source"]),
    eventId: row["event_id"] === null ? undefined : String(row["event_id"]),
    payload: String(row["payload"]),
    errors: JSON.parse(String(row["errors"])) as AttemptError[],
    attempts: Number(row["attempts"]),
    firstSeen: Number(row["first_seen"]),
    lastSeen: Number(row["last_seen"]),
  };
}

/** An outbox row (`seq, id, source, event_id, partition_key, payload, created_at`) as its record. */
export function outboxRecordOf(row: Row): OutboxRecord {
  return {
    seq: Number(row["seq"]),
    id: String(row["id"]),
    source: String(row["source"]),
    eventId: String(row["event_id"]),
    partitionKey: String(row["partition_key"]),
    payload: String(row["payload"]),
    addedAt: Number(row["created_at"]),
  };
}

function padRevision(revision: string): string {
  return revision.padStart(20, "0");
}

/**
 * The store over a SQL driver: one implementation of the contract for SQLite and PostgreSQL.
 *
 * @param driver - the database driver
 * @param t - the table names
 * @returns the store
 */
export function createSqlStore<TTx>(driver: SqlDriver<TTx>, t: SqlTables): IdempotencyStore<TTx> {
  const { session } = driver;

  /**
   * Inserts a fresh record, or appends its errors and attempts to the stored one, in one
   * statement: two writers of one new record never overwrite each other's errors.
   */
  const upsertDeadLetter = async (s: SqlSession, record: DeadLetterRecord): Promise<DeadLetterRecord> => {
    const d = t.deadLetters;
    const rows = await s.all(
      `INSERT INTO ${d} (id, kind, source, event_id, payload, errors, attempts, first_seen, last_seen) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (id) DO UPDATE SET
         errors = CASE WHEN ${d}.errors = '[]' THEN EXCLUDED.errors WHEN EXCLUDED.errors = '[]' THEN ${d}.errors
                  ELSE substr(${d}.errors, 1, length(${d}.errors) - 1) || ',' || substr(EXCLUDED.errors, 2) END,
         attempts = ${d}.attempts + EXCLUDED.attempts, last_seen = EXCLUDED.last_seen,
         first_seen = CASE WHEN EXCLUDED.first_seen < ${d}.first_seen THEN EXCLUDED.first_seen ELSE ${d}.first_seen END
       RETURNING *`,
      [record.id, record.kind, record.source ?? null, record.eventId ?? null, record.payload, JSON.stringify(record.errors), record.attempts, record.firstSeen, record.lastSeen],
    );
    return toRecord(rows[0]!);
  };
  const readDeadLetter = async (s: SqlSession, id: string): Promise<DeadLetterRecord | undefined> => {
    const rows = await s.all(`SELECT * FROM ${t.deadLetters} WHERE id = $1`, [id]);
    return rows[0] === undefined ? undefined : toRecord(rows[0]);
  };
  const readRevision = async (s: SqlSession, key: string, lock: boolean): Promise<RevisionState | undefined> => {
    const rows = await s.all(`SELECT revision, fingerprint FROM ${t.revisions} WHERE entity_key = $1 ${lock ? driver.forUpdate : ""}`, [key]);
    const row = rows[0];
    return row === undefined ? undefined : { revision: String(row["revision"]), fingerprint: String(row["fingerprint"]) };
  };
  /** Writes the revision if it is newer than the stored one; false when a newer or equal one won a race. */
  const writeRevision = async (s: SqlSession, input: RevisionInput): Promise<boolean> => {
    const rows = await s.all(
      `INSERT INTO ${t.revisions} (entity_key, revision, fingerprint) VALUES ($1, $2, $3)
       ON CONFLICT (entity_key) DO UPDATE SET revision = EXCLUDED.revision, fingerprint = EXCLUDED.fingerprint WHERE ${t.revisions}.revision < EXCLUDED.revision
       RETURNING revision`,
      [input.entityKey, padRevision(input.revision), input.fingerprint],
    );
    return rows.length === 1;
  };

  // The one-transaction path (claimAndCommit). Its statements are built once: SQLite caches a
  // prepared statement per text.
  const sql = {
    // Inserted as processed at once: nobody sees it before COMMIT, and everything rolls back with
    // the work. PostgreSQL: a concurrent insert of the key waits here for this transaction's end
    // (the row lock); SQLite: the write lock serializes the whole transaction.
    insertProcessed: `INSERT INTO ${t.inbox} (key, source, event_id, status, token, lease_until, attempts, errors, first_seen) VALUES ($1, $2, $3, 'processed', NULL, $4, 1, '[]', $5) ON CONFLICT (key) DO NOTHING`,
    status: `SELECT status FROM ${t.inbox} WHERE key = $1`,
    setStatus: `UPDATE ${t.inbox} SET status = $2 WHERE key = $1`,
    revisionForUpdate: `SELECT revision, fingerprint FROM ${t.revisions} WHERE entity_key = $1 ${driver.forUpdate}`,
    // Written before the work, when newer (it rolls back with the work): one statement decides
    // "applied" and locks the row; only an older or equal revision reads the stored one.
    writeRevision: `INSERT INTO ${t.revisions} (entity_key, revision, fingerprint) VALUES ($1, $2, $3)
       ON CONFLICT (entity_key) DO UPDATE SET revision = EXCLUDED.revision, fingerprint = EXCLUDED.fingerprint WHERE ${t.revisions}.revision < EXCLUDED.revision
       RETURNING revision`,
    // The same without RETURNING, for the synchronous (SQLite) path: its change count (1 when
    // inserted or updated, 0 when the stored revision is newer or equal) says the same, and SQLite
    // skips building a result row.
    writeRevisionCounted: `INSERT INTO ${t.revisions} (entity_key, revision, fingerprint) VALUES ($1, $2, $3)
       ON CONFLICT (entity_key) DO UPDATE SET revision = EXCLUDED.revision, fingerprint = EXCLUDED.fingerprint WHERE ${t.revisions}.revision < EXCLUDED.revision`,
    // PostgreSQL: insertProcessed and writeRevision (when the entry was inserted and $5 is given)
    // in one statement, with the status of an entry committed before it (null when there was none
    // or it committed while this statement waited for its row lock).
    claimAndRevise: `WITH i AS (
        INSERT INTO ${t.inbox} (key, source, event_id, status, token, lease_until, attempts, errors, first_seen) VALUES ($1, $2, $3, 'processed', NULL, $4, 1, '[]', $4)
        ON CONFLICT (key) DO NOTHING RETURNING 1
      ), w AS (
        INSERT INTO ${t.revisions} (entity_key, revision, fingerprint) SELECT $5::text, $6::text, $7::text WHERE $5::text IS NOT NULL AND EXISTS (SELECT 1 FROM i)
        ON CONFLICT (entity_key) DO UPDATE SET revision = EXCLUDED.revision, fingerprint = EXCLUDED.fingerprint WHERE ${t.revisions}.revision < EXCLUDED.revision
        RETURNING 1
      )
      SELECT (SELECT count(*) FROM i) AS inserted, (SELECT count(*) FROM w) AS wrote, (SELECT status FROM ${t.inbox} WHERE key = $1) AS status`,
    // One request of claimAndCommitMany; the name is reused, each savepoint ending before the next begins.
    savepoint: "SAVEPOINT millwright_request",
    release: "RELEASE millwright_request",
    rollbackTo: "ROLLBACK TO millwright_request",
  };
  const revisionOf = (row: Row | undefined): RevisionState | undefined =>
    row === undefined ? undefined : { revision: String(row["revision"]), fingerprint: String(row["fingerprint"]) };
  const revisionParams = (input: RevisionInput): unknown[] => [input.entityKey, padRevision(input.revision), input.fingerprint];
  const wrote = (rows: readonly Row[]): boolean => rows.length === 1;
  /** The entry was there already: finished (done), or pending, processing or gone again (the lease path decides). */
  const existing = (row: Row | undefined): AtomicResult => {
    const status = row?.["status"];
    return typeof status === "string" && FINAL.has(status) ? { kind: "done", status: status as "processed" | "duplicate" | "stale" | "dead" } : { kind: "fallback" };
  };
  /** What the guard's verdict settles before the work runs: a duplicate or stale entry (committed), a conflict (the lease path dead-letters it). */
  const guardEarly = (key: string, verdict: RevisionVerdict): { readonly update?: unknown[]; readonly outcome: SqlOutcome<AtomicResult> } | undefined => {
    if (verdict.verdict === "applied") return undefined;
    if (verdict.verdict === "conflict") return { outcome: { commit: false, value: { kind: "fallback" } } };
    return { update: [key, verdict.verdict], outcome: { commit: true, value: { kind: "guarded", verdict } } };
  };
  /** claimAndCommit on a synchronous session: no await unless the work answers with a promise. */
  const atomicNow = (
    s: SyncSqlSession,
    txOf: () => TTx,
    r: AtomicRequest,
    work: (tx: () => TTx) => HandlerError | undefined | Promise<HandlerError | undefined>,
  ): SqlOutcome<AtomicResult | { readonly kind: "raced" }> | Promise<SqlOutcome<AtomicResult | { readonly kind: "raced" }>> => {
    if (s.run(sql.insertProcessed, [r.key, r.source, r.eventId, r.now, r.now]) !== 1) return { commit: false, value: existing(s.all(sql.status, [r.key])[0]) };
    const guard = r.guard;
    if (guard !== undefined && s.run(sql.writeRevisionCounted, revisionParams(guard)) !== 1) {
      const early = guardEarly(r.key, decideRevision(revisionOf(s.all(sql.revisionForUpdate, [guard.entityKey])[0]), guard));
      if (early === undefined) return { commit: false, value: { kind: "raced" } };
      if (early.update !== undefined) s.run(sql.setStatus, early.update);
      return early.outcome;
    }
    const finish = (error: HandlerError | undefined): SqlOutcome<AtomicResult> =>
      error === undefined ? { commit: true, value: { kind: "processed" } } : { commit: false, abandon: r.signal?.aborted === true, value: { kind: "handler_failed", error } };
    const error = work(txOf);
    return isThenable(error) ? Promise.resolve(error).then(finish) : finish(error);
  };
  type AtomicWork = (tx: () => TTx) => HandlerError | undefined | Promise<HandlerError | undefined>;
  /**
   * claimAndCommitMany on a synchronous session, inside one transaction: each request in its own
   * savepoint, released when its outcome commits, rolled back to otherwise (a request that raced
   * answers `fallback`). A request of an entry or entity for which an earlier request answered
   * `fallback` or `handler_failed` answers `fallback` untouched. A work that answers with a
   * promise is awaited in the transaction, as claimAndCommit awaits it; the requests after it
   * answer `fallback` (the inbox takes them one by one), so a late handler never shares the
   * transaction with a later request.
   */
  const batchNow = (s: SyncSqlSession, txOf: () => TTx, requests: readonly AtomicRequest[], works: readonly AtomicWork[]): SqlOutcome<AtomicResult[]> | Promise<SqlOutcome<AtomicResult[]>> => {
    const answers: AtomicResult[] = [];
    // Entries and entities of requests answered fallback or handler_failed: later requests of them answer fallback.
    const waiting = createLeftBehind();
    const settle = (r: AtomicRequest, o: SqlOutcome<AtomicResult | { readonly kind: "raced" }>): void => {
      s.run(o.commit ? sql.release : sql.rollbackTo, []);
      if (!o.commit) s.run(sql.release, []);
      const answer: AtomicResult = o.value.kind === "raced" ? { kind: "fallback" } : o.value;
      if (answer.kind === "fallback" || answer.kind === "handler_failed") waiting.add(r.key, r.guard?.entityKey);
      answers.push(answer);
    };
    for (let i = 0; i < requests.length; i++) {
      const r = requests[i]!;
      if (waiting.has(r.key, r.guard?.entityKey)) {
        waiting.add(r.key, r.guard?.entityKey);
        answers.push({ kind: "fallback" });
        continue;
      }
      s.run(sql.savepoint, []);
      const outcome = atomicNow(s, txOf, r, works[i]!);
      if (!isThenable(outcome)) {
        settle(r, outcome);
        continue;
      }
      return Promise.resolve(outcome).then((o) => {
        settle(r, o);
        while (answers.length < requests.length) answers.push({ kind: "fallback" });
        return { commit: true, value: answers };
      });
    }
    return { commit: true, value: answers };
  };

  const transactNow = driver.transactNow;
  const claimAndCommitMany: Pick<IdempotencyStore<TTx>, "claimAndCommitMany"> =
    transactNow === undefined
      ? {}
      : {
          claimAndCommitMany: async (requests, works) => {
            if (requests.length !== works.length) throw new TypeError(`claimAndCommitMany: ${requests.length} requests and ${works.length} works; there is one work per request`);
            // The revisions are checked as the lease path checks them (a revision that is no digit string throws).
            for (const r of requests) if (r.guard !== undefined) decideRevision(undefined, r.guard);
            if (requests.length === 0) return [];
            for (;;) {
              const now = transactNow<AtomicResult[]>((s, txOf) => batchNow(s, txOf, requests, works));
              if (now !== BUSY) return await now;
              // The connection is in another transaction: wait for its turn, then begin at once.
              await session.all("SELECT 1", []);
            }
          },
        };

  return {
    name: driver.name,
    ...claimAndCommitMany,
    claim: async (r) => {
      for (;;) {
        const rows = await session.all(
          `INSERT INTO ${t.inbox} (key, source, event_id, status, token, lease_until, attempts, errors, first_seen) VALUES ($1, $2, $3, 'processing', $4, $5, 1, '[]', $6)
           ON CONFLICT (key) DO UPDATE SET status = 'processing', token = EXCLUDED.token, lease_until = EXCLUDED.lease_until,
             attempts = CASE WHEN ${t.inbox}.status = 'dead' THEN 1 ELSE ${t.inbox}.attempts + 1 END,
             errors = CASE WHEN ${t.inbox}.status = 'dead' THEN '[]' ELSE ${t.inbox}.errors END
           WHERE ${t.inbox}.status = 'pending' OR (${t.inbox}.status = 'processing' AND ${t.inbox}.lease_until <= $6) OR (${t.inbox}.status = 'dead' AND $7 = 1)
           RETURNING attempts, first_seen`,
          [r.key, r.source, r.eventId, r.token, r.now + r.leaseMs, r.now, r.revive === true ? 1 : 0],
        );
        const row = rows[0];
        if (row !== undefined) return { kind: "claimed", attempt: Number(row["attempts"]), firstSeen: Number(row["first_seen"]) };
        const current = (await session.all(`SELECT status, lease_until FROM ${t.inbox} WHERE key = $1`, [r.key]))[0];
        if (current === undefined) continue;
        const status = String(current["status"]);
        if (FINAL.has(status) && !(status === "dead" && r.revive === true)) return { kind: "done", status: status as "processed" | "duplicate" | "stale" | "dead" };
        const leaseUntil = Number(current["lease_until"]);
        if (status === "processing" && leaseUntil > r.now) return { kind: "busy", leaseUntil };
        // It became claimable between the two statements: try again.
      }
    },
    commit: async (r, work) => {
      for (;;) {
        const result = await driver.transaction<CommitResult | { readonly kind: "raced" }>(async (s, txOf) => {
          // Fence first: the row lock keeps a late claimer waiting until this commits or rolls back.
          const fenced = await s.run(`UPDATE ${t.inbox} SET status = 'processed', token = NULL WHERE key = $1 AND token = $2 AND status = 'processing'`, [r.key, r.token]);
          if (fenced !== 1) return { commit: false, value: { kind: "lease_lost" } as const };
          if (r.guard !== undefined) {
            const verdict = decideRevision(await readRevision(s, r.guard.entityKey, true), r.guard);
            if (verdict.verdict === "conflict") return { commit: false, value: { kind: "guarded", verdict } as const };
            if (verdict.verdict !== "applied") {
              await s.run(`UPDATE ${t.inbox} SET status = $2 WHERE key = $1`, [r.key, verdict.verdict]);
              return { commit: true, value: { kind: "guarded", verdict } as const };
            }
          }
          const error = await work(txOf());
          if (error !== undefined) return { commit: false, abandon: r.signal?.aborted === true, value: { kind: "handler_failed", error } as const };
          if (r.guard !== undefined && !(await writeRevision(s, r.guard))) return { commit: false, value: { kind: "raced" } as const };
          return { commit: true, value: { kind: "processed" } as const };
        });
        // A concurrent event of the same entity committed first: decide again against it.
        if (result.kind !== "raced") return result;
      }
    },
    claimAndCommit: async (r, work) => {
      // The revision is checked as the lease path checks it (a revision that is no digit string throws).
      if (r.guard !== undefined) decideRevision(undefined, r.guard);
      if (driver.transactNow !== undefined) {
        // SQLite with the connection free: the whole delivery runs in this call (a synchronous
        // handler), with no await between BEGIN and COMMIT.
        const now = driver.transactNow<AtomicResult | { readonly kind: "raced" }>((s, txOf) => atomicNow(s, txOf, r, work));
        if (now !== BUSY) {
          const result = await now;
          if (result.kind !== "raced") return result;
        }
      }
      for (;;) {
        const result = await driver.transaction<AtomicResult | { readonly kind: "raced" }>(async (s, txOf) => {
          const guard = r.guard;
          let inserted: boolean;
          let applied: boolean;
          if (driver.claimStatement === true) {
            // PostgreSQL: the entry, the revision and the status of an entry already there in one round trip.
            const row = (await s.all(sql.claimAndRevise, [r.key, r.source, r.eventId, r.now, ...(guard === undefined ? [null, null, null] : revisionParams(guard))]))[0];
            inserted = Number(row?.["inserted"]) === 1;
            applied = Number(row?.["wrote"]) === 1;
            if (!inserted && typeof row?.["status"] === "string") return { commit: false, value: existing(row) };
          } else {
            inserted = (await s.run(sql.insertProcessed, [r.key, r.source, r.eventId, r.now, r.now])) === 1;
            applied = inserted && guard !== undefined && wrote(await s.all(sql.writeRevision, revisionParams(guard)));
          }
          if (!inserted) return { commit: false, value: existing((await s.all(sql.status, [r.key]))[0]) };
          if (guard !== undefined && !applied) {
            const early = guardEarly(r.key, decideRevision(revisionOf((await s.all(sql.revisionForUpdate, [guard.entityKey]))[0]), guard));
            if (early === undefined) return { commit: false, value: { kind: "raced" } as const };
            if (early.update !== undefined) await s.run(sql.setStatus, early.update);
            return early.outcome;
          }
          const error = await work(txOf);
          if (error !== undefined) return { commit: false, abandon: r.signal?.aborted === true, value: { kind: "handler_failed", error } as const };
          return { commit: true, value: { kind: "processed" } as const };
        });
        // The revision row changed between the write and the read: decide again.
        if (result.kind !== "raced") return result;
      }
    },
    release: async (r) =>
      (await session.run(`UPDATE ${t.inbox} SET status = 'pending', token = NULL, errors = ${appendJson("errors", "$3")} WHERE key = $1 AND token = $2 AND status = 'processing'`, [
        r.key,
        r.token,
        JSON.stringify(r.error),
      ])) === 1,
    deadLetter: async (r) =>
      driver.transaction(async (s) => {
        const rows = await s.all(
          `UPDATE ${t.inbox} SET status = 'dead', token = NULL, errors = ${appendJson("errors", "$3")} WHERE key = $1 AND token = $2 AND status = 'processing' RETURNING errors, attempts, first_seen`,
          [r.key, r.token, JSON.stringify(r.error)],
        );
        const row = rows[0];
        if (row === undefined) return { commit: false, value: undefined };
        const fresh = mergeDeadLetter(
          undefined,
          { id: r.id, kind: "event", source: r.source, eventId: r.eventId, payload: r.payload },
          JSON.parse(String(row["errors"])) as AttemptError[],
          Number(row["attempts"]),
          r.now,
        );
        const record = await upsertDeadLetter(s, { ...fresh, firstSeen: Math.min(fresh.firstSeen, Number(row["first_seen"])) });
        return { commit: true, value: record };
      }),
    putRawDeadLetter: async (r) =>
      driver.transaction(async (s) => {
        const record = await upsertDeadLetter(s, mergeDeadLetter(undefined, { id: r.id, kind: "raw", source: r.source, eventId: undefined, payload: r.payload }, [r.error], 1, r.now));
        return { commit: true, value: record };
      }),
    getDeadLetter: (id) => readDeadLetter(session, id),
    listDeadLetters: async ({ limit, offset }) =>
      (await session.all(`SELECT * FROM ${t.deadLetters} ORDER BY first_seen, id LIMIT $1 OFFSET $2`, [limit, offset])).map(toRecord),
    removeDeadLetter: async (id) => (await session.run(`DELETE FROM ${t.deadLetters} WHERE id = $1`, [id])) > 0,
    inboxStatus: async (key) => {
      const row = (await session.all(`SELECT status, attempts, errors FROM ${t.inbox} WHERE key = $1`, [key]))[0];
      if (row === undefined) return undefined;
      return { status: String(row["status"]) as InboxStatus, attempts: Number(row["attempts"]), errors: JSON.parse(String(row["errors"])) as AttemptError[] };
    },
    applyRevision: async (input) => {
      for (;;) {
        const verdict = await driver.transaction<RevisionVerdict | undefined>(async (s) => {
          const v = decideRevision(await readRevision(s, input.entityKey, true), input);
          if (v.verdict !== "applied") return { commit: false, value: v };
          return (await writeRevision(s, input)) ? { commit: true, value: v } : { commit: false, value: undefined };
        });
        if (verdict !== undefined) return verdict;
      }
    },
    readRevision: (key) => readRevision(session, key, false),
    transaction: (work) => driver.transaction(async (_s, txOf) => ({ commit: true, value: await work(txOf()) })),
    addToOutbox: async (tx, records) => {
      const s = driver.sessionOf(tx);
      const statements: [string, unknown[]][] = [];
      if (driver.lockPartitions) {
        // Locking each partition's row serializes producers of one partition, so their outbox
        // sequence numbers are in commit order and the relay never sees a later one first.
        for (const key of [...new Set(records.map((r) => r.partitionKey))].sort()) {
          statements.push([`INSERT INTO ${t.partitions} (partition_key) VALUES ($1) ON CONFLICT (partition_key) DO UPDATE SET partition_key = EXCLUDED.partition_key`, [key]]);
        }
      }
      for (const r of records) {
        statements.push([
          `INSERT INTO ${t.outbox} (id, source, event_id, partition_key, payload, created_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING`,
          [r.id, r.source, r.eventId, r.partitionKey, r.payload, r.now],
        ]);
      }
      if (driver.synchronous === true) {
        // Issued without awaiting in between: SQLite runs each at the call, inside the caller's
        // (possibly synchronous) transaction.
        await Promise.all(statements.map(([sql, params]) => s.run(sql, params)));
      } else {
        for (const [sql, params] of statements) await s.run(sql, params);
      }
    },
    acquireRelayLease: async (owner, now, leaseMs) =>
      (
        await session.all(
          `INSERT INTO ${t.relayLease} (name, owner, lease_until) VALUES ('relay', $1, $2)
           ON CONFLICT (name) DO UPDATE SET owner = EXCLUDED.owner, lease_until = EXCLUDED.lease_until
           WHERE ${t.relayLease}.owner = EXCLUDED.owner OR ${t.relayLease}.lease_until <= $3
           RETURNING owner`,
          [owner, now + leaseMs, now],
        )
      ).length === 1,
    releaseRelayLease: async (owner) => void (await session.run(`DELETE FROM ${t.relayLease} WHERE name = 'relay' AND owner = $1`, [owner])),
    pendingOutbox: async (limit) =>
      (await session.all(`SELECT seq, id, source, event_id, partition_key, payload, created_at FROM ${t.outbox} WHERE sent_at IS NULL ORDER BY seq LIMIT $1`, [limit])).map(
        outboxRecordOf,
      ),
    markSent: async (ids, now) => {
      for (let i = 0; i < ids.length; i += 500) {
        const where = driver.inArray("id", 2, ids.slice(i, i + 500));
        await session.run(`UPDATE ${t.outbox} SET sent_at = $1 WHERE ${where.sql}`, [now, ...where.params]);
      }
    },
    outboxBacklog: async () => {
      const [row] = await session.all(`SELECT count(*) AS pending, min(created_at) AS oldest FROM ${t.outbox} WHERE sent_at IS NULL`, []);
      const oldest = row?.["oldest"];
      return { pending: Number(row?.["pending"] ?? 0), oldestAddedAt: oldest === null || oldest === undefined ? undefined : Number(oldest) };
    },
  };
}
