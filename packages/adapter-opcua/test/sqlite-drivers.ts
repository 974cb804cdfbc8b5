// SQLite drivers this Node can load, as the idempotency package's store tests pick them:
// better-sqlite3 12 (a native addon built for the install's Node ABI) on Node 20, node:sqlite on
// Node 22+, plus better-sqlite3 there when its addon loads.
import type { CounterSqliteDatabase } from "../src/state-store.js";

export interface TestDb extends CounterSqliteDatabase {
  close(): void;
}

export interface SqliteDriver {
  readonly name: string;
  readonly open: (file: string) => Promise<TestDb>;
}

const major = Number(process.versions.node.split(".")[0]);

const betterSqliteLoads = await import("better-sqlite3").then(
  (m) => {
    try {
      new m.default(":memory:").close();
      return true;
    } catch {
      return false;
    }
  },
  () => false,
);

export const sqliteDrivers: SqliteDriver[] = [];
if (major < 22 || betterSqliteLoads) {
  sqliteDrivers.push({ name: "better-sqlite3", open: async (file) => new (await import("better-sqlite3")).default(file) as unknown as TestDb });
}
if (major >= 22) {
  // node:sqlite has no type declarations in @types/node 20; its shape is checked by TestDb.
  const sqliteModule = "node:sqlite";
  sqliteDrivers.push({
    name: "node:sqlite",
    open: async (file) => new ((await import(sqliteModule)) as { DatabaseSync: new (file: string) => TestDb }).DatabaseSync(file),
  });
}

/** The first driver this Node can load. */
export const defaultSqliteDriver: SqliteDriver = sqliteDrivers[0] ?? { name: "none", open: () => Promise.reject(new Error("no SQLite driver loads on this Node")) };
