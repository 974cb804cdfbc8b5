// @millwright/idempotency/sqlite: the embedded store over better-sqlite3 12 (an optional peer
// dependency) or Node's built-in `node:sqlite` (Node 22.13 and later, no native build).
import type { IdempotencyStore } from "./store.js";
import { createMutex } from "./stores/common.js";
import { createSqlStore, tablesFor, type Row, type SqlDriver, type SqlSession } from "./stores/sql.js";

/** The part of a statement the store uses: better-sqlite3's `Statement` or node:sqlite's `StatementSync`. */
export interface SqliteStatement {
  all(params: Readonly<Record<string, unknown>>): unknown[];
  run(params: Readonly<Record<string, unknown>>): { readonly changes: number };
}

/**
 * The part of a database the store uses; pass the database itself: a better-sqlite3 `Database`
 * (which says `inTransaction`) or a node:sqlite `DatabaseSync` (which says `isTransaction`).
 */
export interface SqliteDatabase {
  prepare(sql: string): SqliteStatement;
  exec(sql: string): unknown;
  readonly inTransaction?: boolean;
  readonly isTransaction?: boolean;
}

function inTransaction(db: SqliteDatabase): boolean {
  return db.inTransaction ?? db.isTransaction ?? false;
}

/** How the SQLite store is set up. */
export interface SqliteStoreOptions {
  /** Prefix of the store's tables. Default `millwright_`. */
  readonly tablePrefix?: string;
  /** Switches the database to WAL with synchronous=NORMAL (durable at each checkpoint, fast). Default true. */
  readonly wal?: boolean;
  /** How long to wait for another process's write lock, in ms. Default 5000. */
  readonly busyTimeoutMs?: number;
}

const statementCache = new WeakMap<SqliteDatabase, Map<string, SqliteStatement>>();

function prepared(db: SqliteDatabase, sql: string): SqliteStatement {
  let cache = statementCache.get(db);
  if (cache === undefined) statementCache.set(db, (cache = new Map()));
  let statement = cache.get(sql);
  if (statement === undefined) {
    statement = db.prepare(sql.replace(/\$(\d+)/g, "@p$1"));
    cache.set(sql, statement);
  }
  return statement;
}

function bind(params: readonly unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i < params.length; i++) out[`p${i + 1}`] = params[i];
  return out;
}

/** Statements run synchronously; the promise only carries the result (or the error). */
function syncSession(db: SqliteDatabase): SqlSession {
  return {
    all: (sql, params) => {
      try {
        return Promise.resolve(prepared(db, sql).all(bind(params)) as Row[]);
      } catch (cause) {
        return Promise.reject(cause);
      }
    },
    run: (sql, params) => {
      try {
        return Promise.resolve(prepared(db, sql).run(bind(params)).changes);
      } catch (cause) {
        return Promise.reject(cause);
      }
    },
  };
}

/**
 * Creates the tables of the SQLite store if they are missing.
 *
 * @param db - a better-sqlite3 or node:sqlite database
 * @param tablePrefix - the prefix of the table names
 * @returns nothing; throws only if the database rejects the DDL
 * @example
 * migrateSqlite(new Database("millwright.db"), "millwright_");
 */
export function migrateSqlite(db: SqliteDatabase, tablePrefix = "millwright_"): void {
  const t = tablesFor(tablePrefix);
  db.exec(`
    CREATE TABLE IF NOT EXISTS ${t.inbox} (key TEXT PRIMARY KEY, source TEXT NOT NULL, event_id TEXT NOT NULL, status TEXT NOT NULL, token TEXT,
      lease_until INTEGER NOT NULL, attempts INTEGER NOT NULL, errors TEXT NOT NULL, first_seen INTEGER NOT NULL) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS ${t.revisions} (entity_key TEXT PRIMARY KEY, revision TEXT NOT NULL, fingerprint TEXT NOT NULL) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS ${t.deadLetters} (id TEXT PRIMARY KEY, kind TEXT NOT NULL, source TEXT, event_id TEXT, payload TEXT NOT NULL,
      errors TEXT NOT NULL, attempts INTEGER NOT NULL, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL);
    CREATE INDEX IF NOT EXISTS ${t.deadLetters}_first_seen ON ${t.deadLetters} (first_seen, id);
    CREATE TABLE IF NOT EXISTS ${t.outbox} (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, source TEXT NOT NULL, event_id TEXT NOT NULL,
      partition_key TEXT NOT NULL, payload TEXT NOT NULL, created_at INTEGER NOT NULL, sent_at INTEGER);
    CREATE INDEX IF NOT EXISTS ${t.outbox}_unsent ON ${t.outbox} (seq) WHERE sent_at IS NULL;
    CREATE TABLE IF NOT EXISTS ${t.partitions} (partition_key TEXT PRIMARY KEY) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS ${t.relayLease} (name TEXT PRIMARY KEY, owner TEXT NOT NULL, lease_until INTEGER NOT NULL);
  `);
}

/**
 * Creates the embedded store over a SQLite database (better-sqlite3 12, or node:sqlite's
 * `DatabaseSync` on Node 22.13 and later): durable, one file, no server.
 * Creates its tables and (by default) switches the database to WAL. Transactions of this store
 * are serialized within the process; other processes wait for the write lock up to the busy
 * timeout. The handler's and `outbox.add`'s transaction is the database itself.
 *
 * @param db - an open better-sqlite3 `Database` or node:sqlite `DatabaseSync`
 * @param options - table prefix, WAL, busy timeout
 * @returns the store
 * @example
 * import Database from "better-sqlite3";
 * const store = createSqliteStore(new Database("millwright.db"));
 * const inbox = createInbox(store);
 */
export function createSqliteStore<TDatabase extends SqliteDatabase>(db: TDatabase, options: SqliteStoreOptions = {}): IdempotencyStore<TDatabase> {
  const prefix = options.tablePrefix ?? "millwright_";
  // PRAGMAs through exec, which both drivers have.
  db.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000))}`);
  if (options.wal ?? true) db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL");
  migrateSqlite(db, prefix);
  const inner = syncSession(db);
  // One connection holds one transaction: every statement of the store waits its turn, so an
  // autocommit statement never lands inside another caller's open transaction.
  const exclusive = createMutex();
  const driver: SqlDriver<TDatabase> = {
    name: "sqlite",
    synchronous: true,
    session: {
      all: (sql, params) => exclusive(() => inner.all(sql, params)),
      run: (sql, params) => exclusive(() => inner.run(sql, params)),
    },
    transaction: (work) =>
      exclusive(async () => {
        db.exec("BEGIN IMMEDIATE");
        let outcome: { commit: boolean; value: Awaited<ReturnType<typeof work>>["value"] };
        try {
          outcome = await work(inner, db);
        } catch (cause) {
          if (inTransaction(db)) db.exec("ROLLBACK");
          throw cause;
        }
        if (inTransaction(db)) db.exec(outcome.commit ? "COMMIT" : "ROLLBACK");
        return outcome.value;
      }),
    sessionOf: () => inner,
    forUpdate: "",
    lockPartitions: false,
    inArray: (column, first, values) => ({ sql: `${column} IN (${values.map((_, i) => `$${first + i}`).join(", ")})`, params: values }),
  };
  return createSqlStore(driver, tablesFor(prefix));
}
