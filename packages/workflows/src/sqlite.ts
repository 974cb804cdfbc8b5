// @millwright/workflows/sqlite: the embedded workflow store, one file, no server, over
// better-sqlite3 12 or Node's built-in node:sqlite (through @millwright/idempotency/sqlite).
import { isInSqliteTransaction, type SqliteDatabase, type SqliteStatement } from "@millwright/idempotency/sqlite";
import type {
  AppendOutcome,
  Claim,
  CreatedInstance,
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
import { FINISHED_SQL, isFinishedState } from "./store.js";
import type { HistoryEntry, HistoryEntryInput, InstanceState, JsonValue } from "./types.js";

export { findSqliteDrivers, openSqliteDatabase, type OpenedSqliteDatabase, type SqliteDatabase, type SqliteDriverName } from "@millwright/idempotency/sqlite";

/** How the SQLite workflow store is set up. */
export interface SqliteWorkflowStoreOptions {
  /** Prefix of the store's tables. Default `millwright_wf_`. */
  readonly tablePrefix?: string;
  /**
   * Switches the database to WAL with synchronous=NORMAL. Default true. The durability trade-off:
   * a commit is not fsynced (the WAL is, at each checkpoint), so a crash of the process loses
   * nothing, but a power loss or an OS crash may lose the last transactions — steps whose records
   * are lost run again, with the same idempotency key, so their effects stay once at the peer.
   * Give `false` and set `PRAGMA synchronous = FULL` yourself when that is not acceptable
   * (every commit then waits for the disk).
   */
  readonly wal?: boolean;
  /** How long to wait for another process's write lock, in ms. Default 5000. */
  readonly busyTimeoutMs?: number;
}

const PREFIX_PATTERN = /^[a-z_][a-z0-9_]{0,40}$/;

/** The instances table: keyed by the instance's number (creation order), its UUID in the unique index `instances_id`. */
const INSTANCES_COLUMNS = `num INTEGER PRIMARY KEY, id TEXT NOT NULL, workflow TEXT NOT NULL, version INTEGER NOT NULL, key TEXT NOT NULL,
      input TEXT NOT NULL, state TEXT NOT NULL, output TEXT, failure TEXT, trace TEXT, wake_at INTEGER, woken_at INTEGER, deadline_at INTEGER,
      waiting_for TEXT NOT NULL DEFAULT '[]', lease_owner TEXT, lease_until INTEGER NOT NULL DEFAULT 0, lease_token INTEGER NOT NULL DEFAULT 0,
      created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, last_seq INTEGER NOT NULL DEFAULT 0`;

/** `(?, ?, ?)` one to four times: the VALUES of a log insert of that many entries. */
const LOG_VALUES = [1, 2, 3, 4].map((n) => Array.from({ length: n }, () => "(?, ?, ?)").join(", "));

/** Whether an update changes nothing of the instance row but `updatedAt` (and the state only if it is the same). */
function onlyHistory(update: InstanceUpdate): boolean {
  for (const key in update) {
    const value = update[key as keyof InstanceUpdate];
    if (value === undefined || key === "state" || (key === "consumedSignals" && (value as readonly number[]).length === 0)) continue;
    return false;
  }
  return true;
}

interface InstanceRow {
  id: string;
  workflow: string;
  version: number;
  key: string;
  input: string;
  state: string;
  output: string | null;
  failure: string | null;
  trace: string | null;
  wake_at: number | null;
  woken_at: number | null;
  deadline_at: number | null;
  waiting_for: string;
  lease_owner: string | null;
  lease_until: number;
  lease_token: number;
  created_at: number;
  updated_at: number;
  /** Not maintained any more (the last seq is the log's MAX(seq) for the instance's number); the column stays for older files. */
  last_seq: number;
  /** The instance's number: its key, and its key in the history log (given at creation, never reused). */
  num: number;
}

function toRecord(row: InstanceRow): InstanceRecord {
  return {
    id: row.id,
    workflow: row.workflow,
    version: Number(row.version),
    key: row.key,
    input: JSON.parse(row.input) as JsonValue,
    state: row.state as InstanceState,
    ...(row.output === null ? {} : { output: JSON.parse(row.output) as JsonValue }),
    ...(row.failure === null ? {} : { failure: JSON.parse(row.failure) as InstanceRecord["failure"] & object }),
    ...(row.trace === null ? {} : { trace: JSON.parse(row.trace) as InstanceRecord["trace"] & object }),
    wakeAt: row.wake_at === null ? null : Number(row.wake_at),
    wokenAt: row.woken_at === null ? null : Number(row.woken_at),
    deadlineAt: row.deadline_at === null ? null : Number(row.deadline_at),
    waitingFor: JSON.parse(row.waiting_for) as string[],
    leaseOwner: row.lease_owner,
    leaseUntil: Number(row.lease_until),
    leaseToken: Number(row.lease_token),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

/**
 * Creates the tables of the SQLite workflow store if they are missing, and brings a file written
 * by an earlier layout up to date (in one transaction: another process opening the same file at
 * the same time waits, then finds it done).
 *
 * The layout keeps a step's write to about one page per b-tree: the history is an append-only
 * log (integer key in insert order) with a small index on (instance number, seq), where the
 * instance number is an integer given at creation; the instances are keyed by that number (so
 * rows created together, and claimed together, share pages), their UUID in a unique index; they
 * have no index on `state` (counting and filtering by state scan), and their creation index grows
 * at its end. An instance's `started` entry (seq 1) is not written to the log: it is the instance
 * row's own version, input, trace and creation time, and reads put it first (files written
 * before have it in the log, and reads take it from there). A step's records touch the log alone
 * (the instance row is read for the fence, not written; the next seq is the log's last for the
 * instance, or 2), so `instances.last_seq` is no longer kept up to date.
 * A file whose instances are keyed by their UUID (0.1, and the log layout that followed it) has its instances table rebuilt,
 * keyed by their numbers; a file from 0.1 (history keyed by the instance's UUID, `instances_state`, a descending
 * creation index) has its history copied into the log, in order, and the old table and indexes
 * dropped. Stop the processes of an earlier version that share the file first (their statements
 * would find another layout).
 * Called inside a transaction of the caller's, it runs in that transaction.
 *
 * @param db - a better-sqlite3 or node:sqlite database
 * @param tablePrefix - the prefix of the table names
 * @returns nothing; throws only if the database rejects the DDL (or the prefix is not `[a-z_][a-z0-9_]*`)
 * @example
 * const opened = openSqliteDatabase("workflows.db");
 * if (opened.isOk()) migrateWorkflowSqlite(opened.value);
 */
export function migrateWorkflowSqlite(db: SqliteDatabase, tablePrefix = "millwright_wf_"): void {
  if (!PREFIX_PATTERN.test(tablePrefix)) throw new TypeError(`migrateWorkflowSqlite: tablePrefix is ${JSON.stringify(tablePrefix)}: a prefix is [a-z_][a-z0-9_]*, at most 41 characters`);
  const p = tablePrefix;
  const own = !isInSqliteTransaction(db);
  if (own) db.exec("BEGIN IMMEDIATE");
  try {
    db.exec(`
    CREATE TABLE IF NOT EXISTS ${p}instances (${INSTANCES_COLUMNS});
    CREATE TABLE IF NOT EXISTS ${p}log (pos INTEGER PRIMARY KEY, num INTEGER NOT NULL, seq INTEGER NOT NULL, entry TEXT NOT NULL);
    CREATE UNIQUE INDEX IF NOT EXISTS ${p}log_instance ON ${p}log (num, seq);
    CREATE TABLE IF NOT EXISTS ${p}signals (seq INTEGER PRIMARY KEY AUTOINCREMENT, instance_id TEXT NOT NULL, name TEXT NOT NULL, payload TEXT NOT NULL, delivered_at INTEGER NOT NULL);
    CREATE INDEX IF NOT EXISTS ${p}signals_instance ON ${p}signals (instance_id, seq);
    CREATE TABLE IF NOT EXISTS ${p}events (seq INTEGER PRIMARY KEY AUTOINCREMENT, source TEXT NOT NULL, id TEXT NOT NULL, type TEXT NOT NULL,
      event TEXT NOT NULL, received_at INTEGER NOT NULL, UNIQUE (source, id));
    CREATE INDEX IF NOT EXISTS ${p}events_type ON ${p}events (type, received_at);
    CREATE TABLE IF NOT EXISTS ${p}waits (event_type TEXT NOT NULL, instance_id TEXT NOT NULL, PRIMARY KEY (event_type, instance_id)) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS ${p}waits_instance ON ${p}waits (instance_id);
    CREATE TABLE IF NOT EXISTS ${p}dead_letters (instance_id TEXT PRIMARY KEY, at INTEGER NOT NULL, letter TEXT NOT NULL) WITHOUT ROWID;
  `);
    const columns = db.prepare(`PRAGMA table_info(${p}instances)`).all() as { name: string }[];
    const has = (name: string) => columns.some((c) => c.name === name);
    const oldHistory = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).all(`${p}history`).length > 0;
    // A 0.1 file: the columns the log needs, then its history copied in (instances numbered in
    // creation order), then the old table and indexes gone.
    if (!has("last_seq")) db.exec(`ALTER TABLE ${p}instances ADD COLUMN last_seq INTEGER NOT NULL DEFAULT 0`);
    if (!has("num")) db.exec(`ALTER TABLE ${p}instances ADD COLUMN num INTEGER`);
    if (oldHistory) {
      db.exec(`
      UPDATE ${p}instances SET num = n.k FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY created_at, id) AS k FROM ${p}instances) AS n WHERE n.id = ${p}instances.id;
      INSERT INTO ${p}log (num, seq, entry) SELECT i.num, h.seq, h.entry FROM ${p}history h JOIN ${p}instances i ON i.id = h.instance_id ORDER BY i.num, h.seq;
      UPDATE ${p}instances SET last_seq = COALESCE((SELECT MAX(seq) FROM ${p}log l WHERE l.num = ${p}instances.num), 0);
      DROP TABLE ${p}history;`);
    }
    // A file whose instances are keyed by their UUID (0.1, and the log layout after it): rebuilt, keyed by their numbers
    // (a row without one, which no version wrote, gets the next free one).
    if (!columns.some((c) => c.name === "num" && Number((c as { pk?: number }).pk) === 1)) {
      const names = "num, id, workflow, version, key, input, state, output, failure, trace, wake_at, woken_at, deadline_at, waiting_for, lease_owner, lease_until, lease_token, created_at, updated_at, last_seq";
      db.exec(`
      CREATE TABLE ${p}instances_rebuilt (${INSTANCES_COLUMNS});
      INSERT INTO ${p}instances_rebuilt (${names}) SELECT ${names} FROM ${p}instances ORDER BY num IS NULL, num;
      DROP TABLE ${p}instances;
      ALTER TABLE ${p}instances_rebuilt RENAME TO ${p}instances;`);
    }
    db.exec(`
    CREATE UNIQUE INDEX IF NOT EXISTS ${p}instances_id ON ${p}instances (id);
    CREATE INDEX IF NOT EXISTS ${p}instances_wake ON ${p}instances (wake_at, id) WHERE wake_at IS NOT NULL;
    CREATE INDEX IF NOT EXISTS ${p}instances_created_at ON ${p}instances (created_at, id DESC);
    DROP INDEX IF EXISTS ${p}instances_state; DROP INDEX IF EXISTS ${p}instances_created;`);
    if (own) db.exec("COMMIT");
  } catch (cause) {
    if (own && isInSqliteTransaction(db)) db.exec("ROLLBACK");
    throw cause;
  }
}

/**
 * Creates the embedded workflow store over a SQLite database: instances, history, signals,
 * events and dead letters in one file. Timers are an indexed `wake_at` column, so waiting
 * instances cost rows, not memory; claims run in one `BEGIN IMMEDIATE` transaction, so several
 * processes on one file never claim the same instance. Give the store its own connection (its
 * transactions are synchronous and must not interleave with another store's open transaction).
 *
 * @param db - an open better-sqlite3 `Database` or node:sqlite `DatabaseSync` (the caller closes it)
 * @param options - table prefix, WAL, busy timeout
 * @returns the store
 * @example
 * import { createSqliteWorkflowStore, openSqliteDatabase } from "@millwright/workflows/sqlite";
 * const opened = openSqliteDatabase("workflows.db"); // better-sqlite3, else node:sqlite
 * if (opened.isErr()) throw new Error(opened.error.message);
 * const store = createSqliteWorkflowStore(opened.value);
 */
export function createSqliteWorkflowStore(db: SqliteDatabase, options: SqliteWorkflowStoreOptions = {}): WorkflowStore {
  const p = options.tablePrefix ?? "millwright_wf_";
  db.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000))}`);
  if (options.wal ?? true) db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL");
  migrateWorkflowSqlite(db, p);

  const statements = new Map<string, SqliteStatement>();
  const sql = (text: string): SqliteStatement => {
    let statement = statements.get(text);
    if (statement === undefined) statements.set(text, (statement = db.prepare(text)));
    return statement;
  };
  const all = <T>(text: string, ...params: unknown[]): T[] => sql(text).all(...params) as T[];
  const run = (text: string, ...params: unknown[]): number => Number(sql(text).run(...params).changes);
  // Synchronous work in one write transaction: nothing else of this process runs in between.
  const transaction = <T>(work: () => T): Promise<T> => {
    try {
      db.exec("BEGIN IMMEDIATE");
      let value: T;
      try {
        value = work();
      } catch (cause) {
        if (isInSqliteTransaction(db)) db.exec("ROLLBACK");
        throw cause;
      }
      db.exec("COMMIT");
      return Promise.resolve(value);
    } catch (cause) {
      return Promise.reject(cause instanceof Error ? cause : new Error(String(cause)));
    }
  };
  const read = <T>(work: () => T): Promise<T> => {
    try {
      return Promise.resolve(work());
    } catch (cause) {
      return Promise.reject(cause instanceof Error ? cause : new Error(String(cause)));
    }
  };
  const instance = (id: string): InstanceRow | undefined => all<InstanceRow>(`SELECT * FROM ${p}instances WHERE id = ?`, id)[0];
  const json = (value: unknown): string => JSON.stringify(value);
  /**
   * The numbers of the instances this store claimed, by UUID, until their lease is released: a
   * fenced write then finds the row by its key (one b-tree search, not the UUID index's and the
   * table's). A number never changes; the write still checks the UUID, and a miss retries by UUID.
   */
  const nums = new Map<string, number>();
  const leaseLost = (instanceId: string): AppendOutcome => {
    const holder = all<{ lease_owner: string | null }>(`SELECT lease_owner FROM ${p}instances WHERE id = ?`, instanceId)[0];
    return { ok: false, code: "lease_lost", owner: holder?.lease_owner ?? null };
  };

  /**
   * An instance's history from its log rows (by seq): the `started` entry first, from the row
   * itself when the log does not hold it (an instance created by this layout).
   */
  const historyOf = (row: InstanceRow, logged: HistoryEntry[]): HistoryEntry[] => {
    if (logged[0]?.seq === 1) return logged;
    const started = { type: "started", at: Number(row.created_at), version: Number(row.version), input: JSON.parse(row.input) as JsonValue, ...(row.trace === null ? {} : { trace: JSON.parse(row.trace) as InstanceRecord["trace"] & object }), seq: 1 };
    logged.unshift(started as HistoryEntry);
    return logged;
  };

  // The log rows of a write: one statement per count of entries (a step writes one to three).
  const appendLog = (num: number, firstSeq: number, entries: readonly HistoryEntryInput[]): void => {
    for (let i = 0; i < entries.length; i += 4) {
      const chunk = Math.min(4, entries.length - i);
      const params: unknown[] = [];
      for (let j = 0; j < chunk; j++) params.push(num, firstSeq + i + j, json(entries[i + j]));
      run(`INSERT INTO ${p}log (num, seq, entry) VALUES ${LOG_VALUES[chunk - 1]}`, ...params);
    }
  };

  const createOne = (input: NewInstance): CreatedInstance => {
    const inputJson = json(input.input);
    const traceJson = input.trace === undefined ? null : json(input.trace);
    // The instance number is the next one after the instances' last and the log's last (a deleted
    // instance's log rows never pass to a new one), in this same write transaction.
    const inserted = all<{ num: number }>(
      `INSERT INTO ${p}instances (num, id, workflow, version, key, input, state, trace, wake_at, deadline_at, waiting_for, lease_owner, lease_until, lease_token, created_at, updated_at, last_seq)
       VALUES (MAX(COALESCE((SELECT MAX(num) FROM ${p}instances), 0), COALESCE((SELECT MAX(num) FROM ${p}log), 0)) + 1, ?, ?, ?, ?, ?, 'running', ?, ?, ?, '[]', ?, ?, ?, ?, ?, 1)
       ON CONFLICT (id) DO NOTHING RETURNING num`,
      input.id,
      input.workflow,
      input.version,
      input.key,
      inputJson,
      traceJson,
      input.now,
      input.deadlineAt,
      input.lease?.workerId ?? null,
      input.lease?.until ?? 0,
      input.lease === undefined ? 0 : 1,
      input.now,
      input.now,
    )[0];
    if (inserted === undefined) {
      const existing = instance(input.id);
      if (existing === undefined) throw new Error(`createInstance: instance ${input.id} conflicted on insert and is not there`);
      return { instance: toRecord(existing), created: false };
    }
    // No log row: the `started` entry is the row's own version, input, trace and creation time (see `historyOf`).
    // The record of the row just written, without reading it back.
    const record: InstanceRecord = {
      id: input.id,
      workflow: input.workflow,
      version: input.version,
      key: input.key,
      input: input.input,
      state: "running",
      ...(input.trace === undefined ? {} : { trace: input.trace }),
      wakeAt: input.now,
      wokenAt: null,
      deadlineAt: input.deadlineAt,
      waitingFor: [],
      leaseOwner: input.lease?.workerId ?? null,
      leaseUntil: input.lease?.until ?? 0,
      leaseToken: input.lease === undefined ? 0 : 1,
      createdAt: input.now,
      updatedAt: input.now,
    };
    if (input.lease === undefined) return { instance: record, created: true };
    nums.set(input.id, Number(inserted.num));
    return { instance: record, created: true, lease: { instanceId: input.id, workerId: input.lease.workerId, token: 1, until: input.lease.until } };
  };

  // One appendHistory's work, inside a write transaction.
  const appendOne = (lease: Lease, entries: readonly HistoryEntryInput[], update: InstanceUpdate, now: number): AppendOutcome => {
    // A step's records alone (no change to the instance but its history): the fence is a read
    // of the instance row, which is not written; the entries go to the end of the log. One
    // b-tree (the log, with its index) written per step, as a bare loop's one row. (One
    // INSERT … SELECT doing both measured slower: it materializes the rows it reads.)
    if (entries.length > 0 && onlyHistory(update)) {
      const known = nums.get(lease.instanceId);
      const fence = (byNumber: boolean) =>
        all<{ num: number; state: string; last: number | null }>(
          `SELECT num, state, (SELECT MAX(seq) FROM ${p}log WHERE num = i.num) AS last FROM ${p}instances i WHERE ${byNumber ? "num = ? AND " : ""}id = ? AND lease_owner = ? AND lease_token = ?`,
          ...(byNumber ? [known] : []),
          lease.instanceId,
          lease.workerId,
          lease.token,
        )[0];
      const held = (known === undefined ? undefined : fence(true)) ?? fence(false);
      if (held === undefined) return leaseLost(lease.instanceId);
      if (update.state === undefined || update.state === held.state) {
        const last = Number(held.last ?? 1); // no log row: the started entry alone
        appendLog(Number(held.num), last + 1, entries);
        return { ok: true, lastSeq: last + entries.length };
      }
    }
    // The fence and the whole instance update in one statement; the entries then go to the end
    // of the log under the instance's number, after its last seq.
    const sets = ["updated_at = ?"];
    const params: unknown[] = [now];
    if (update.state !== undefined) {
      sets.push("state = ?");
      params.push(update.state);
    }
    if (update.wakeAt !== undefined) {
      // A signal or an event that woke the instance during the lease keeps an unfinished one due.
      sets.push(`wake_at = CASE WHEN COALESCE(?, state) IN ${FINISHED_SQL} OR woken_at IS NULL THEN ? ELSE MIN(COALESCE(?, woken_at), woken_at) END`);
      params.push(update.state ?? null, update.wakeAt, update.wakeAt);
    }
    if (update.waitingFor !== undefined) {
      sets.push("waiting_for = ?");
      params.push(json(update.waitingFor));
    }
    if (update.output !== undefined) {
      sets.push("output = ?");
      params.push(json(update.output));
    }
    if (update.failure !== undefined) {
      sets.push("failure = ?");
      params.push(update.failure === null ? null : json(update.failure));
    }
    if (update.release === true) sets.push("lease_owner = NULL", "lease_until = 0");
    const known = nums.get(lease.instanceId);
    const fence = (byNumber: boolean) =>
      all<{ num: number; state: string; last: number | null }>(
        `UPDATE ${p}instances SET ${sets.join(", ")} WHERE ${byNumber ? "num = ? AND " : ""}id = ? AND lease_owner = ? AND lease_token = ? RETURNING num, state, (SELECT MAX(seq) FROM ${p}log WHERE num = ${p}instances.num) AS last`,
        ...params,
        ...(byNumber ? [known] : []),
        lease.instanceId,
        lease.workerId,
        lease.token,
      )[0];
    const fenced = (known === undefined ? undefined : fence(true)) ?? fence(false);
    if (fenced === undefined) return leaseLost(lease.instanceId);
    if (update.release === true) nums.delete(lease.instanceId);
    const before = Number(fenced.last ?? 1); // no log row: the started entry alone
    if (entries.length > 0) appendLog(Number(fenced.num), before + 1, entries);
    const last = before + entries.length;
    if (update.waitingFor !== undefined) {
      run(`DELETE FROM ${p}waits WHERE instance_id = ?`, lease.instanceId);
      for (const type of new Set(update.waitingFor)) run(`INSERT INTO ${p}waits (event_type, instance_id) VALUES (?, ?)`, type, lease.instanceId);
    }
    if (update.eventsSeen !== undefined && !isFinishedState(fenced.state)) {
      // An event that arrived after the run read the events, before this write: due now.
      const missed = Object.entries(update.eventsSeen).some(
        ([type, seen]) =>
          all(`SELECT 1 FROM ${p}events e JOIN ${p}instances i ON i.id = ? WHERE e.type = ? AND e.seq > ? AND e.received_at >= i.created_at LIMIT 1`, lease.instanceId, type, seen).length > 0,
      );
      if (missed) {
        run(`UPDATE ${p}instances SET wake_at = CASE WHEN ? AND wake_at IS NOT NULL THEN MIN(wake_at, ?) ELSE ? END WHERE id = ?`, update.wakeAt === undefined ? 0 : 1, now, now, lease.instanceId);
      }
    }
    for (const signal of update.consumedSignals ?? []) run(`DELETE FROM ${p}signals WHERE seq = ? AND instance_id = ?`, signal, lease.instanceId);
    if (update.deadLetter === null) run(`DELETE FROM ${p}dead_letters WHERE instance_id = ?`, lease.instanceId);
    else if (update.deadLetter !== undefined) {
      run(`INSERT OR REPLACE INTO ${p}dead_letters (instance_id, at, letter) VALUES (?, ?, ?)`, lease.instanceId, update.deadLetter.at, json(update.deadLetter));
    }
    return { ok: true, lastSeq: last };
  };

  // Group commit: the appendHistory calls made in one event-loop turn (the activations running at
  // once each reach their next write in the same turn) commit in one transaction, each fenced on
  // its own; every caller's promise resolves only after that COMMIT, so a step's record is durable
  // before its next step starts, as with a transaction each. When the group fails (the disk, a
  // constraint), it is rolled back and each write runs again in a transaction of its own, so one
  // write's failure is its own.
  interface QueuedAppend {
    readonly lease: Lease;
    readonly entries: readonly HistoryEntryInput[];
    readonly update: InstanceUpdate;
    readonly now: number;
    readonly resolve: (outcome: AppendOutcome) => void;
    readonly reject: (cause: Error) => void;
  }
  let queued: QueuedAppend[] = [];
  const alone = (q: QueuedAppend): void => {
    transaction(() => appendOne(q.lease, q.entries, q.update, q.now)).then(q.resolve, q.reject);
  };
  const flushAppends = (): void => {
    const batch = queued;
    queued = [];
    if (batch.length === 1) return alone(batch[0]!);
    let outcomes: AppendOutcome[];
    try {
      db.exec("BEGIN IMMEDIATE");
      try {
        outcomes = batch.map((q) => appendOne(q.lease, q.entries, q.update, q.now));
        db.exec("COMMIT");
      } catch (cause) {
        if (isInSqliteTransaction(db)) db.exec("ROLLBACK");
        throw cause;
      }
    } catch {
      for (const q of batch) alone(q);
      return;
    }
    batch.forEach((q, i) => q.resolve(outcomes[i]!));
  };

  return {
    createInstance(input: NewInstance) {
      return transaction(() => createOne(input));
    },

    createInstances(inputs: readonly NewInstance[]) {
      return transaction(() => inputs.map(createOne));
    },

    claimDue({ workerId, now, leaseMs, limit }) {
      return transaction(() => {
        const rows = all<InstanceRow>(
          `SELECT * FROM ${p}instances WHERE wake_at IS NOT NULL AND wake_at <= ? AND (lease_owner IS NULL OR lease_until <= ?) ORDER BY wake_at, id LIMIT ?`,
          now,
          now,
          Math.max(0, Math.floor(limit)),
        );
        if (rows.length === 0) return [];
        // The whole batch in three statements: one lease update, then the histories and pending
        // signals the runtime would otherwise load one instance at a time.
        const ids = json(rows.map((row) => row.id));
        run(`UPDATE ${p}instances SET lease_owner = ?, lease_until = ?, lease_token = lease_token + 1, woken_at = NULL WHERE id IN (SELECT value FROM json_each(?))`, workerId, now + leaseMs, ids);
        const histories = new Map<number, HistoryEntry[]>();
        for (const h of all<{ num: number; seq: number; entry: string }>(`SELECT num, seq, entry FROM ${p}log WHERE num IN (SELECT value FROM json_each(?)) ORDER BY num, seq`, json(rows.map((row) => Number(row.num))))) {
          const num = Number(h.num);
          let history = histories.get(num);
          if (history === undefined) histories.set(num, (history = []));
          history.push({ ...(JSON.parse(h.entry) as HistoryEntryInput), seq: Number(h.seq) } as HistoryEntry);
        }
        const signals = new Map<string, PendingSignal[]>();
        for (const s of all<{ seq: number; instance_id: string; name: string; payload: string; delivered_at: number }>(
          `SELECT seq, instance_id, name, payload, delivered_at FROM ${p}signals WHERE instance_id IN (SELECT value FROM json_each(?)) ORDER BY seq`,
          ids,
        )) {
          let list = signals.get(s.instance_id);
          if (list === undefined) signals.set(s.instance_id, (list = []));
          list.push({ seq: Number(s.seq), instanceId: s.instance_id, name: s.name, payload: JSON.parse(s.payload) as JsonValue, deliveredAt: Number(s.delivered_at) });
        }
        if (nums.size > 100_000) nums.clear(); // leases lost without a release: forget them all
        return rows.map((row): Claim => {
          nums.set(row.id, Number(row.num));
          const token = Number(row.lease_token) + 1;
          const claimed = toRecord({ ...row, lease_owner: workerId, lease_until: now + leaseMs, lease_token: token, woken_at: null });
          return {
            lease: { instanceId: row.id, workerId, token, until: now + leaseMs },
            instance: claimed,
            recovered: row.lease_owner !== null,
            history: historyOf(row, histories.get(Number(row.num)) ?? []),
            signals: signals.get(row.id) ?? [],
          };
        });
      });
    },

    renewLease(lease: Lease, now, leaseMs) {
      return transaction(() => {
        const changed = run(`UPDATE ${p}instances SET lease_until = ? WHERE id = ? AND lease_owner = ? AND lease_token = ?`, now + leaseMs, lease.instanceId, lease.workerId, lease.token);
        return changed === 1 ? { ...lease, until: now + leaseMs } : undefined;
      });
    },

    appendHistory(lease, entries, update: InstanceUpdate, now): Promise<AppendOutcome> {
      return new Promise((resolve, reject) => {
        if (queued.push({ lease, entries, update, now, resolve, reject }) === 1) setImmediate(flushAppends);
      });
    },

    load(instanceId): Promise<InstanceSnapshot | undefined> {
      return read(() => {
        const row = instance(instanceId);
        if (row === undefined) return undefined;
        const history = historyOf(
          row,
          all<{ seq: number; entry: string }>(`SELECT seq, entry FROM ${p}log WHERE num = ? ORDER BY seq`, row.num).map((h) => ({ ...(JSON.parse(h.entry) as HistoryEntryInput), seq: Number(h.seq) }) as HistoryEntry),
        );
        const signals = all<{ seq: number; name: string; payload: string; delivered_at: number }>(
          `SELECT seq, name, payload, delivered_at FROM ${p}signals WHERE instance_id = ? ORDER BY seq`,
          instanceId,
        ).map((s): PendingSignal => ({ seq: Number(s.seq), instanceId, name: s.name, payload: JSON.parse(s.payload) as JsonValue, deliveredAt: Number(s.delivered_at) }));
        return { instance: toRecord(row), history, signals };
      });
    },

    list(filter: InstanceFilter = {}) {
      return read(() => {
        const where: string[] = [];
        const params: unknown[] = [];
        if (filter.state !== undefined) {
          where.push("state = ?");
          params.push(filter.state);
        }
        if (filter.workflow !== undefined) {
          where.push("workflow = ?");
          params.push(filter.workflow);
        }
        const clause = where.length === 0 ? "" : `WHERE ${where.join(" AND ")}`;
        return all<InstanceRow>(`SELECT * FROM ${p}instances ${clause} ORDER BY created_at DESC, id LIMIT ?`, ...params, filter.limit ?? 100).map(toRecord);
      });
    },

    countByState() {
      return read(() => {
        const counts: Partial<Record<InstanceState, number>> = {};
        for (const row of all<{ state: InstanceState; n: number }>(`SELECT state, COUNT(*) AS n FROM ${p}instances GROUP BY state`)) counts[row.state] = Number(row.n);
        return counts;
      });
    },

    deliverSignal({ instanceId, name, payload }, now): Promise<SignalOutcome> {
      return transaction((): SignalOutcome => {
        const row = instance(instanceId);
        if (row === undefined) return "not_found";
        const finished = isFinishedState(row.state);
        if (finished && !(row.state === "failed" && name === "$retry")) return "finished";
        run(`INSERT INTO ${p}signals (instance_id, name, payload, delivered_at) VALUES (?, ?, ?, ?)`, instanceId, name, json(payload), now);
        run(
          `UPDATE ${p}instances SET wake_at = CASE WHEN wake_at IS NULL OR wake_at > ? THEN ? ELSE wake_at END,
             woken_at = CASE WHEN woken_at IS NULL OR woken_at > ? THEN ? ELSE woken_at END WHERE id = ?`,
          now, now, now, now, instanceId,
        );
        return "delivered";
      });
    },

    deliverEvent(event: { readonly source: string; readonly id: string; readonly type: string; readonly event: JsonValue }, now) {
      return transaction(() => {
        const stored = run(`INSERT OR IGNORE INTO ${p}events (source, id, type, event, received_at) VALUES (?, ?, ?, ?, ?)`, event.source, event.id, event.type, json(event.event), now);
        if (stored === 0) return { stored: false, woken: 0 };
        const woken = run(
          `UPDATE ${p}instances SET wake_at = CASE WHEN wake_at IS NULL OR wake_at > ? THEN ? ELSE wake_at END,
             woken_at = CASE WHEN woken_at IS NULL OR woken_at > ? THEN ? ELSE woken_at END
           WHERE id IN (SELECT instance_id FROM ${p}waits WHERE event_type = ?) AND state NOT IN ${FINISHED_SQL}`,
          now,
          now,
          now,
          now,
          event.type,
        );
        return { stored: true, woken };
      });
    },

    eventsFor(instanceId, type) {
      return read(() =>
        all<{ seq: number; source: string; id: string; type: string; event: string; received_at: number }>(
          `SELECT e.seq, e.source, e.id, e.type, e.event, e.received_at FROM ${p}events e JOIN ${p}instances i ON i.id = ?
           WHERE e.type = ? AND e.received_at >= i.created_at ORDER BY e.seq`,
          instanceId,
          type,
        ).map((e): StoredEvent => ({ seq: Number(e.seq), source: e.source, id: e.id, type: e.type, event: JSON.parse(e.event) as JsonValue, receivedAt: Number(e.received_at) })),
      );
    },

    pruneEvents(before) {
      return transaction(() => {
        const oldest = all<{ oldest: number | null }>(`SELECT MIN(created_at) AS oldest FROM ${p}instances WHERE state NOT IN ${FINISHED_SQL}`)[0]?.oldest;
        const limit = oldest === null || oldest === undefined ? before : Math.min(before, Number(oldest));
        return run(`DELETE FROM ${p}events WHERE received_at < ?`, limit);
      });
    },

    deadLetters(limit = 100) {
      return read(() => all<{ letter: string }>(`SELECT letter FROM ${p}dead_letters ORDER BY at, instance_id LIMIT ?`, limit).map((r) => JSON.parse(r.letter) as WorkflowDeadLetter));
    },
  };
}
