import type { AdapterEvent, LineState } from "./line-state.js";

/**
 * What an adapter persists per line: its state and the events computed from that state but not
 * yet acknowledged by the handler. Saving both in one write makes delivery at-least-once with
 * stable event ids: after a crash the pending events are delivered again, never recomputed.
 */
export interface StoredLine {
  readonly state: LineState;
  readonly pending: readonly AdapterEvent[];
}

/** One line to save: its key in the store and what to store under it. */
export interface StoredLineEntry {
  /** The line's key in the store, as `save` takes it. */
  readonly key: string;
  /** The line's state and unacknowledged events, as `save` takes them. */
  readonly value: StoredLine;
}

/**
 * Durable storage of last counter values and pending events. The idempotency package's stores keep
 * inbox and outbox records only, so the adapters bring this small interface; implement it over
 * PostgreSQL or Redis for many processes.
 *
 * `saveMany` is optional: an adapter that has several lines to save at once (the OPC UA adapter,
 * after a publish of a shared subscription) calls it when present, and otherwise `save` once per
 * line. A store that implements it saves all the entries or none (one transaction): an adapter
 * treats a rejection as a failed save of every line in it.
 */
export interface CounterStateStore {
  readonly name: string;
  load(key: string): Promise<StoredLine | undefined>;
  save(key: string, value: StoredLine): Promise<void>;
  /** Saves several lines in one write, all or none; the keys are distinct. */
  saveMany?(entries: readonly StoredLineEntry[]): Promise<void>;
}

/**
 * Creates a counter state store in memory (tests, or a process that may recount after a restart).
 * It keeps the saved line itself, not a copy: a `StoredLine` is immutable (readonly all the way
 * down; the adapters make a new one for every change), so a save costs no serialisation and a
 * load returns what was saved. Do not mutate a line after saving it.
 *
 * @returns a store that lives as long as the process
 * @example
 * ```ts
 * const store = createMemoryCounterStore();
 * await store.save("1710/LINE1", { state: EMPTY_LINE_STATE, pending: [] });
 * ```
 */
export function createMemoryCounterStore(): CounterStateStore {
  const lines = new Map<string, StoredLine>();
  return {
    name: "memory",
    load(key) {
      return Promise.resolve(lines.get(key));
    },
    save(key, value) {
      lines.set(key, value);
      return Promise.resolve();
    },
    saveMany(entries) {
      for (const entry of entries) lines.set(entry.key, entry.value);
      return Promise.resolve();
    },
  };
}

/** The part of a SQLite statement the store uses (the SQLite layer of `@millwright/idempotency/sqlite` fits). */
export interface CounterSqliteStatement {
  run(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
}

/** The part of a SQLite database the store uses (the SQLite layer of `@millwright/idempotency/sqlite` fits). */
export interface CounterSqliteDatabase {
  prepare(sql: string): CounterSqliteStatement;
  exec(sql: string): unknown;
}

/**
 * Creates a counter state store in a SQLite database, over the idempotency package's SQLite
 * layer (better-sqlite3 12 or node:sqlite `DatabaseSync`, as `openSqliteDatabase` picks), so an
 * adapter and the idempotency store can share one file.
 *
 * @param db - an open database
 * @param table - the table's name, a SQL identifier; created when missing
 * @returns a durable store; each save is one statement, so atomic, and `saveMany` one transaction
 *   (a savepoint, so it also nests in a transaction the caller holds open on the same database)
 * @example
 * ```ts
 * import { openSqliteDatabase } from "@millwright/idempotency/sqlite";
 * const opened = openSqliteDatabase("millwright.db");
 * if (opened.isOk()) {
 *   const store = createSqliteCounterStore(opened.value, "millwright_sparkplug_line_state");
 * }
 * ```
 */
export function createSqliteCounterStore(db: CounterSqliteDatabase, table: string): CounterStateStore {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(table)) throw new TypeError(`table must be a SQL identifier, got ${JSON.stringify(table)}`);
  db.exec(`CREATE TABLE IF NOT EXISTS ${table} (key TEXT PRIMARY KEY, value TEXT NOT NULL)`);
  const select = db.prepare(`SELECT value FROM ${table} WHERE key = ?`);
  const upsert = db.prepare(`INSERT INTO ${table} (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`);
  return {
    name: "sqlite",
    load(key) {
      try {
        const row = select.all(key)[0] as { value?: unknown } | undefined;
        return Promise.resolve(typeof row?.value === "string" ? (JSON.parse(row.value) as StoredLine) : undefined);
      } catch (cause) {
        return Promise.reject(cause instanceof Error ? cause : new Error(String(cause)));
      }
    },
    save(key, value) {
      try {
        upsert.run(key, JSON.stringify(value));
        return Promise.resolve();
      } catch (cause) {
        return Promise.reject(cause instanceof Error ? cause : new Error(String(cause)));
      }
    },
    saveMany(entries) {
      // A savepoint outside a transaction begins one and RELEASE commits it; inside one it nests.
      // The statements run synchronously, so no other code of this process writes in between.
      try {
        db.exec("SAVEPOINT millwright_counter_save_many");
      } catch (cause) {
        return Promise.reject(cause instanceof Error ? cause : new Error(String(cause)));
      }
      try {
        for (const entry of entries) upsert.run(entry.key, JSON.stringify(entry.value));
        db.exec("RELEASE millwright_counter_save_many");
        return Promise.resolve();
      } catch (cause) {
        try {
          db.exec("ROLLBACK TO millwright_counter_save_many");
          db.exec("RELEASE millwright_counter_save_many");
        } catch {
          // The failure that rolled the transaction back already ended it: nothing left to undo.
        }
        return Promise.reject(cause instanceof Error ? cause : new Error(String(cause)));
      }
    },
  };
}
