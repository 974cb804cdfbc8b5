// The SQLite drivers the adapter's tests run on: each one the idempotency package's SQLite layer
// loads on this Node (better-sqlite3 12 on Node 20; node:sqlite on Node 22.13+, plus
// better-sqlite3 there when its addon loads).
import { findSqliteDrivers, openSqliteDatabase, type OpenedSqliteDatabase, type SqliteDriverName } from "@millwright/idempotency/sqlite";

type TestDb = OpenedSqliteDatabase;

export interface SqliteDriver {
  readonly name: string;
  readonly open: (file: string) => Promise<TestDb>;
}

const opener =
  (driver?: SqliteDriverName) =>
  async (file: string): Promise<TestDb> => {
    const opened = openSqliteDatabase(file, driver === undefined ? {} : { driver });
    if (opened.isErr()) throw new Error(opened.error.message, { cause: opened.error });
    return opened.value;
  };

export const sqliteDrivers: SqliteDriver[] = findSqliteDrivers().map((name) => ({ name, open: opener(name) }));

/** The driver `openSqliteDatabase` picks on this Node; opening fails, naming both drivers, when neither loads. */
export const defaultSqliteDriver: SqliteDriver = { name: "default", open: opener() };
