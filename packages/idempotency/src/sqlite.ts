// @millwright/idempotency/sqlite: the embedded store over better-sqlite3 12 (an optional peer
// dependency) or Node's built-in `node:sqlite` (Node 22.13 and later, no native build).
import type { IdempotencyStore } from "./store.js";
import { createMutex, isThenable } from "./stores/common.js";
import { BUSY, createSqlStore, tablesFor, type Row, type SqlDriver, type SqlOutcome, type SqlSession, type SyncSqlSession } from "./stores/sql.js";
import { isInSqliteTransaction, type SqliteDatabase, type SqliteStatement } from "./sqlite-driver.js";

export {
  findSqliteDrivers,
  isInSqliteTransaction,
  openSqliteDatabase,
  type OpenedSqliteDatabase,
  type OpenedSqliteStatement,
  type OpenSqliteOptions,
  type SqliteDatabase,
  type SqliteDriverName,
  type SqliteOpenError,
  type SqliteStatement,
} from "./sqlite-driver.js";

/** How the SQLite store is set up. */
export interface SqliteStoreOptions {
  /** Prefix of the store's tables. Default `millwright_`. */
  readonly tablePrefix?: string;
  /** Switches the database to WAL with synchronous=NORMAL (durable at each checkpoint, fast). Default true. */
  readonly wal?: boolean;
  /** How long to wait for another process's write lock, in ms. Default 5000. */
  readonly busyTimeoutMs?: number;
}

const statementCache = new WeakMap<SqliteDatabase, Map<string, Prepared>>();
// One connection holds one transaction: every store over a database shares its queue, so an
// autocommit statement of one store never lands inside another store's open transaction.
const ENDED = "sqlite store: this transaction has ended (its lease expired, or it finished); nothing more can be written through it";
const queues = new WeakMap<SqliteDatabase, ReturnType<typeof createMutex>>();
// Transaction objects handed out (by any store), and whether their transaction is still open.
const handedOut = new WeakMap<object, () => boolean>();

/**
 * The transaction object a handler gets: the database behind a proxy that refuses every call
 * once the transaction has ended, and hands out statements and functions that do the same. A
 * handler still running after its transaction was rolled back (its lease ended) cannot write
 * outside it, alone or inside the next caller's transaction.
 */
function revocable<TDatabase extends SqliteDatabase>(db: TDatabase): { readonly tx: TDatabase; readonly revoke: () => void; readonly live: () => boolean } {
  let revoked = false;
  const check = (): void => {
    if (revoked) throw new Error(ENDED);
  };
  const wrap = <T extends object>(target: T): T =>
    new Proxy(target, {
      get(t, property) {
        const value: unknown = Reflect.get(t, property, t);
        if (typeof value !== "function") return value;
        return (...args: unknown[]) => {
          check();
          const result: unknown = (value as (...a: unknown[]) => unknown).apply(t, args);
          return FENCED.has(property) && ((typeof result === "object" && result !== null) || typeof result === "function") ? wrap(result as object) : result;
        };
      },
      apply(t, thisArg, args) {
        check();
        return Reflect.apply(t as (...a: unknown[]) => unknown, thisArg, args);
      },
    });
  return { tx: wrap(db), revoke: () => void (revoked = true), live: () => !revoked };
}

// Statements (prepare, bind), iterators and functions (db.transaction) keep the fence; plain results do not need it.
const FENCED = new Set<PropertyKey>(["prepare", "bind", "iterate", "transaction", "deferred", "immediate", "exclusive"]);

/**
 * A statement prepared once per database and SQL text. `positional`: its placeholders are `$1`
 * to `$n`, each once and in order, so it is prepared with `?` and bound from the parameters as
 * they are (no object of named ones to build and look up); otherwise `$n` is written `@pn`.
 */
interface Prepared {
  readonly statement: SqliteStatement;
  readonly positional: boolean;
}

/** Whether the `$n` placeholders of `sql` are `$1`, `$2`, … `$k`, each once, in that order. */
function inOrder(sql: string): boolean {
  let expected = 1;
  for (const match of sql.matchAll(/\$(\d+)/g)) {
    if (Number(match[1]) !== expected) return false;
    expected++;
  }
  return true;
}

function prepared(db: SqliteDatabase, sql: string): Prepared {
  let cache = statementCache.get(db);
  if (cache === undefined) statementCache.set(db, (cache = new Map()));
  let statement = cache.get(sql);
  if (statement === undefined) {
    const positional = inOrder(sql);
    statement = { statement: db.prepare(positional ? sql.replace(/\$\d+/g, "?") : sql.replace(/\$(\d+)/g, "@p$1")), positional };
    cache.set(sql, statement);
  }
  return statement;
}

// The parameter names, built once (`$n` is written `@pn` for both drivers).
const NAMES = Array.from({ length: 32 }, (_, i) => `p${i + 1}`);

function bind(params: readonly unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i < params.length; i++) out[NAMES[i] ?? `p${i + 1}`] = params[i];
  return out;
}

/** Runs a statement with `$n` parameters: positionally when it can, else by name. */
function runOf(db: SqliteDatabase, sql: string, params: readonly unknown[]): number {
  const p = prepared(db, sql);
  return Number((p.positional ? p.statement.run(...params) : p.statement.run(bind(params))).changes);
}

/** Reads the rows of a statement with `$n` parameters: positionally when it can, else by name. */
function allOf(db: SqliteDatabase, sql: string, params: readonly unknown[]): Row[] {
  const p = prepared(db, sql);
  return (p.positional ? p.statement.all(...params) : p.statement.all(bind(params))) as Row[];
}

/** Statements that run when called, for a transaction begun at once ({@link SqlDriver.transactNow}). */
function syncStatements(db: SqliteDatabase): SyncSqlSession {
  return {
    all: (sql, params) => allOf(db, sql, params),
    run: (sql, params) => runOf(db, sql, params),
  };
}

/** Statements run synchronously; the promise only carries the result (or the error). */
function syncSession(db: SqliteDatabase): SqlSession {
  return {
    all: (sql, params) => {
      try {
        return Promise.resolve(allOf(db, sql, params));
      } catch (cause) {
        return Promise.reject(cause);
      }
    },
    run: (sql, params) => {
      try {
        return Promise.resolve(runOf(db, sql, params));
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
 * const opened = openSqliteDatabase("millwright.db");
 * if (opened.isOk()) migrateSqlite(opened.value, "millwright_");
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
 * timeout. The handler's and `outbox.add`'s transaction is the database itself, behind a proxy
 * that refuses every call once the transaction has ended.
 *
 * @param db - an open better-sqlite3 `Database` or node:sqlite `DatabaseSync`
 * @param options - table prefix, WAL, busy timeout
 * @returns the store
 * @example
 * const opened = openSqliteDatabase("millwright.db"); // better-sqlite3, else node:sqlite
 * if (opened.isErr()) throw new Error(opened.error.message);
 * const inbox = createInbox(createSqliteStore(opened.value));
 */
export function createSqliteStore<TDatabase extends SqliteDatabase>(db: TDatabase, options: SqliteStoreOptions = {}): IdempotencyStore<TDatabase> {
  const prefix = options.tablePrefix ?? "millwright_";
  // PRAGMAs through exec, which both drivers have.
  db.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000))}`);
  if (options.wal ?? true) db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL");
  migrateSqlite(db, prefix);
  const inner = syncSession(db);
  // Every statement of the store waits its turn on the connection's queue.
  let exclusive = queues.get(db);
  if (exclusive === undefined) queues.set(db, (exclusive = createMutex()));
  const queue = exclusive;
  const now = syncStatements(db);
  /**
   * Begins a write transaction (BEGIN IMMEDIATE, prepared once per database). The revoking proxy
   * is built only when the work asks for the transaction object (a handler that reads `tx`);
   * asked for after the end, it comes revoked. `end` revokes it, then commits or rolls back.
   */
  const begin = (): { readonly txOf: () => TDatabase; readonly end: (commit: boolean) => void } => {
    prepared(db, "BEGIN IMMEDIATE").statement.run();
    let handle: ReturnType<typeof revocable<TDatabase>> | undefined;
    let ended = false;
    return {
      txOf: () => {
        if (handle === undefined) {
          handle = revocable(db);
          handedOut.set(handle.tx, handle.live);
          if (ended) handle.revoke();
        }
        return handle.tx;
      },
      end: (commit) => {
        // Revoked before COMMIT/ROLLBACK: a handler still running (abandoned) cannot write after it.
        ended = true;
        handle?.revoke();
        if (!isInSqliteTransaction(db)) return;
        try {
          prepared(db, commit ? "COMMIT" : "ROLLBACK").statement.run();
        } catch (cause) {
          // A COMMIT that failed leaves the transaction open: end it, so the next one can begin.
          if (isInSqliteTransaction(db)) prepared(db, "ROLLBACK").statement.run();
          throw cause;
        }
      },
    };
  };
  const driver: SqlDriver<TDatabase> = {
    name: "sqlite",
    synchronous: true,
    session: {
      all: (sql, params) => queue(() => inner.all(sql, params)),
      run: (sql, params) => queue(() => inner.run(sql, params)),
    },
    transaction: (work) =>
      queue(async () => {
        const { txOf, end } = begin();
        let outcome: Awaited<ReturnType<typeof work>>;
        try {
          outcome = await work(inner, txOf);
        } catch (cause) {
          end(false);
          throw cause;
        }
        end(outcome.commit);
        return outcome.value;
      }),
    transactNow: <T>(work: (session: SyncSqlSession, tx: () => TDatabase) => SqlOutcome<T> | Promise<SqlOutcome<T>>): T | Promise<T> | typeof BUSY => {
      const leave = queue.tryEnter();
      if (leave === undefined) return BUSY;
      let ended: ((commit: boolean) => void) | undefined;
      const settle = (commit: boolean): void => {
        try {
          ended?.(commit);
        } finally {
          leave();
        }
      };
      let outcome: SqlOutcome<T> | Promise<SqlOutcome<T>>;
      try {
        const { txOf, end } = begin();
        ended = end;
        outcome = work(now, txOf);
      } catch (cause) {
        settle(false);
        throw cause;
      }
      if (!isThenable(outcome)) {
        settle(outcome.commit);
        return outcome.value;
      }
      return Promise.resolve(outcome).then(
        (o) => {
          settle(o.commit);
          return o.value;
        },
        (cause: unknown) => {
          settle(false);
          throw cause;
        },
      );
    },
    sessionOf: (tx) => {
      const live = handedOut.get(tx);
      if (live === undefined) return inner;
      return {
        all: (sql, params) => (live() ? inner.all(sql, params) : Promise.reject(new Error(ENDED))),
        run: (sql, params) => (live() ? inner.run(sql, params) : Promise.reject(new Error(ENDED))),
      };
    },
    forUpdate: "",
    lockPartitions: false,
    inArray: (column, first, values) => ({ sql: `${column} IN (${values.map((_, i) => `$${first + i}`).join(", ")})`, params: values }),
  };
  return createSqlStore(driver, tablesFor(prefix));
}
