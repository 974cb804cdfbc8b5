import { createSqliteCounterStore as createKitSqliteStore, type CounterSqliteDatabase, type CounterStateStore } from "@millwright/adapter-kit";

/**
 * Creates a counter state store in a SQLite database, over the idempotency package's SQLite
 * layer (better-sqlite3 12 or node:sqlite `DatabaseSync`, as `openSqliteDatabase` picks), so the
 * adapter and the idempotency store can share one file. The table is `<tablePrefix>opcua_line_state`.
 *
 * @param db - an open database
 * @param tablePrefix - prefix of the table, default `millwright_`
 * @returns a durable store; each save is one statement, so atomic
 * @example
 * ```ts
 * import { openSqliteDatabase } from "@millwright/idempotency/sqlite";
 * const opened = openSqliteDatabase("millwright.db");
 * if (opened.isOk()) {
 *   const store = createSqliteCounterStore(opened.value);
 * }
 * ```
 */
export function createSqliteCounterStore(db: CounterSqliteDatabase, tablePrefix = "millwright_"): CounterStateStore {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,32}$/.test(tablePrefix)) throw new TypeError(`tablePrefix must be a SQL identifier prefix, got ${JSON.stringify(tablePrefix)}`);
  return createKitSqliteStore(db, `${tablePrefix}opcua_line_state`);
}
