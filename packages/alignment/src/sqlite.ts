// @millwright/alignment/sqlite: durable alignment state in SQLite, over better-sqlite3 12 (an
// optional peer dependency) or Node's built-in `node:sqlite` (Node 22.13 and later).
import { isInSqliteTransaction, type SqliteDatabase, type SqliteStatement } from "@millwright/idempotency/sqlite";
import { err, ok, type Result } from "neverthrow";
import { backendTables, parseSnapshot, serializeKeyState, storeClosed, toStoreFailed, type AlignmentBackend, type AlignmentChanges, type AlignmentSnapshot, type AlignmentStoreError } from "./durable.js";

// The SQLite layer is the idempotency package's: one driver choice for every store in a process.
export { openSqliteDatabase, type OpenedSqliteDatabase, type SqliteDatabase, type SqliteOpenError, type SqliteStatement } from "@millwright/idempotency/sqlite";

/** How the SQLite backend is set up. */
export interface SqliteBackendOptions {
  /** Prefix of the backend's tables: letters, digits and `_`. Default `millwright_alignment_`. */
  readonly tablePrefix?: string;
  /** Create the tables on `load` when they are missing. Default true. */
  readonly migrate?: boolean;
  /**
   * Switch the database to WAL with synchronous=FULL on `load`: each flush is on disk when it
   * resolves, so acknowledged messages survive a power loss, at one fsync per flush. Default true.
   */
  readonly wal?: boolean;
  /** How long to wait for another process's write lock, in ms. Default 5000. */
  readonly busyTimeoutMs?: number;
}

function ddl(tablePrefix: string): string {
  const t = backendTables("migrateSqliteBackend", tablePrefix);
  // States keep a rowid: their JSON can be many kB, which WITHOUT ROWID tables store badly.
  return `
    CREATE TABLE IF NOT EXISTS ${t.states} (rule TEXT NOT NULL, key TEXT NOT NULL, state TEXT NOT NULL, PRIMARY KEY (rule, key));
    CREATE TABLE IF NOT EXISTS ${t.tombstones} (rule TEXT NOT NULL, key TEXT NOT NULL, closed_at_ms INTEGER NOT NULL, PRIMARY KEY (rule, key)) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS ${t.tombstones}_closed_at ON ${t.tombstones} (closed_at_ms);
  `;
}

/**
 * Creates the backend's tables if they are missing; running it again changes nothing.
 *
 * @param db - a better-sqlite3 `Database` or node:sqlite `DatabaseSync`
 * @param options - the table prefix (default `millwright_alignment_`)
 * @returns nothing, or why the database refused
 * @example
 * const opened = openSqliteDatabase("alignment.db"); // better-sqlite3, else node:sqlite
 * if (opened.isOk()) migrateSqliteBackend(opened.value);
 */
export function migrateSqliteBackend(db: SqliteDatabase, options: { readonly tablePrefix?: string } = {}): Result<void, AlignmentStoreError> {
  const sql = ddl(options.tablePrefix ?? "millwright_alignment_");
  try {
    db.exec(sql);
    return ok(undefined);
  } catch (cause) {
    return err(toStoreFailed("sqlite.migrate")(cause));
  }
}

/**
 * Creates the durable alignment backend over a SQLite database (better-sqlite3 12, or
 * node:sqlite's `DatabaseSync` on Node 22.13 and later): one file, no server. Its first `load`
 * sets the database up (busy timeout, WAL unless `wal: false`, tables unless `migrate: false`).
 * Each `apply` is one `BEGIN IMMEDIATE` transaction; statements run synchronously, so the event
 * loop waits for the disk during a flush. The database stays the caller's to close.
 *
 * @param db - an open better-sqlite3 `Database` or node:sqlite `DatabaseSync`
 * @param options - table prefix, migration, WAL, busy timeout
 * @returns the backend, for `openDurableStore`
 * @example
 * import { openDurableStore } from "@millwright/alignment";
 * import { createSqliteBackend, openSqliteDatabase } from "@millwright/alignment/sqlite";
 *
 * const db = openSqliteDatabase("alignment.db"); // better-sqlite3, else node:sqlite
 * if (db.isErr()) throw new Error(db.error.message);
 * const opened = await openDurableStore(createSqliteBackend(db.value));
 */
export function createSqliteBackend(db: SqliteDatabase, options: SqliteBackendOptions = {}): AlignmentBackend {
  const prefix = options.tablePrefix ?? "millwright_alignment_";
  const t = backendTables("createSqliteBackend", prefix);
  let closed = false;
  let setUp = false;
  const statements = new Map<string, SqliteStatement>();
  const prepared = (sql: string): SqliteStatement => {
    let statement = statements.get(sql);
    if (statement === undefined) {
      statement = db.prepare(sql);
      statements.set(sql, statement);
    }
    return statement;
  };
  const sql = {
    upsertState: `INSERT INTO ${t.states} (rule, key, state) VALUES (?, ?, ?) ON CONFLICT (rule, key) DO UPDATE SET state = excluded.state`,
    deleteState: `DELETE FROM ${t.states} WHERE rule = ? AND key = ?`,
    upsertTombstone: `INSERT INTO ${t.tombstones} (rule, key, closed_at_ms) VALUES (?, ?, ?) ON CONFLICT (rule, key) DO UPDATE SET closed_at_ms = excluded.closed_at_ms`,
    deleteTombstone: `DELETE FROM ${t.tombstones} WHERE rule = ? AND key = ?`,
    purge: `DELETE FROM ${t.tombstones} WHERE closed_at_ms < ?`,
    states: `SELECT rule, key, state FROM ${t.states}`,
    tombstones: `SELECT rule, key, closed_at_ms FROM ${t.tombstones}`,
  };

  const setup = (): void => {
    if (setUp) return;
    db.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000))}`);
    if (options.wal ?? true) db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL");
    if (options.migrate ?? true) db.exec(ddl(prefix));
    setUp = true;
  };

  const load = (): Result<AlignmentSnapshot, AlignmentStoreError> => {
    const operation = "sqlite.load";
    let stateRows: unknown[];
    let tombstoneRows: unknown[];
    try {
      setup();
      // One read transaction, so the states and the tombstones are of one moment.
      db.exec("BEGIN");
      try {
        stateRows = prepared(sql.states).all();
        tombstoneRows = prepared(sql.tombstones).all();
      } finally {
        if (isInSqliteTransaction(db)) db.exec("COMMIT");
      }
    } catch (cause) {
      return err(toStoreFailed(operation)(cause));
    }
    return parseSnapshot({ operation, states: stateRows, tombstones: tombstoneRows });
  };

  const apply = (changes: AlignmentChanges): Result<void, AlignmentStoreError> => {
    const operation = "sqlite.apply";
    try {
      setup();
      db.exec("BEGIN IMMEDIATE");
    } catch (cause) {
      return err(toStoreFailed(operation)(cause));
    }
    try {
      if (changes.purgeBeforeMs !== undefined) prepared(sql.purge).run(changes.purgeBeforeMs);
      const upsertState = prepared(sql.upsertState);
      const deleteState = prepared(sql.deleteState);
      const upsertTombstone = prepared(sql.upsertTombstone);
      const deleteTombstone = prepared(sql.deleteTombstone);
      for (const state of changes.upserts) {
        upsertState.run(state.rule, state.key, serializeKeyState(state));
        deleteTombstone.run(state.rule, state.key);
      }
      for (const { rule, key, closedAtMs } of changes.closes) {
        deleteState.run(rule, key);
        upsertTombstone.run(rule, key, closedAtMs);
      }
      for (const { rule, key } of changes.drops) {
        deleteState.run(rule, key);
        deleteTombstone.run(rule, key);
      }
      db.exec("COMMIT");
      return ok(undefined);
    } catch (cause) {
      try {
        if (isInSqliteTransaction(db)) db.exec("ROLLBACK");
      } catch {
        // The first error is the one to report; SQLite rolls back by itself when it can't.
      }
      const counts = `${changes.upserts.length} upserts, ${changes.closes.length} closes, ${changes.drops.length} drops`;
      const failed = toStoreFailed(operation)(cause);
      return err({ ...failed, message: `${failed.message} (batch of ${counts}; nothing was written)` });
    }
  };

  return {
    load: async () => (closed ? err(storeClosed("sqlite.load")) : load()),
    apply: async (changes) => (closed ? err(storeClosed("sqlite.apply")) : apply(changes)),
    // Statements run synchronously: nothing is ever in flight when close is called.
    close: async () => void (closed = true),
  };
}
