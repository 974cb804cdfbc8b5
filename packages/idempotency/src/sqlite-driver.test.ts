// The one SQLite layer: which driver opens a database, and what is said when none can.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { findSqliteDrivers, isInSqliteTransaction, openSqliteDatabase, type SqliteDatabase } from "./sqlite-driver.js";

const dir = mkdtempSync(join(tmpdir(), "millwright-sqlite-driver-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
const nodeSqliteBelongs = major > 22 || (major === 22 && minor >= 13);

describe("openSqliteDatabase", () => {
  it("finds the driver this Node belongs to: better-sqlite3 before Node 22.13, node:sqlite from it", () => {
    expect(findSqliteDrivers()).toContain(nodeSqliteBelongs ? "node:sqlite" : "better-sqlite3");
  });

  it("opens a file on the first driver that loads, better-sqlite3 first, and the data is in the file", () => {
    const file = join(dir, "default.db");
    const first = openSqliteDatabase(file)._unsafeUnwrap();
    // better-sqlite3's class is `Database`, node:sqlite's `DatabaseSync`.
    expect(first.constructor.name).toBe(findSqliteDrivers()[0] === "better-sqlite3" ? "Database" : "DatabaseSync");
    first.exec("CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER)");
    expect(Number(first.prepare("INSERT INTO t (k, v) VALUES (?, ?)").run("a", 1).changes)).toBe(1);
    first.close();
    const again = openSqliteDatabase(file)._unsafeUnwrap();
    expect(again.prepare("SELECT k, v FROM t WHERE k = ?").get("a")).toEqual({ k: "a", v: 1 });
    again.close();
  });

  it("opens on each driver that loads, with positional and named parameters and either transaction flag", () => {
    for (const driver of findSqliteDrivers()) {
      const db: SqliteDatabase & { close(): void } = openSqliteDatabase(":memory:", { driver })._unsafeUnwrap();
      db.exec("CREATE TABLE t (k TEXT, v INTEGER)");
      db.prepare("INSERT INTO t (k, v) VALUES (@p1, @p2)").run({ p1: "a", p2: 2 });
      expect(isInSqliteTransaction(db)).toBe(false);
      db.exec("BEGIN");
      expect(isInSqliteTransaction(db)).toBe(true);
      db.exec("ROLLBACK");
      expect(db.prepare("SELECT v FROM t WHERE k = ?").all("a")).toEqual([{ v: 2 }]);
      db.close();
    }
  });

  it("says which driver refused which file", () => {
    const missing = join(dir, "no-such-folder", "x.db");
    const failed = openSqliteDatabase(missing)._unsafeUnwrapErr();
    expect(failed).toMatchObject({ code: "sqlite_open_failed", driver: findSqliteDrivers()[0], file: missing, cause: expect.any(Error) });
    expect(failed.message).toContain(`could not open ${missing}: `);
  });

  it("names the driver asked for and why it does not load, or opens on it", () => {
    for (const driver of ["better-sqlite3", "node:sqlite"] as const) {
      const opened = openSqliteDatabase(":memory:", { driver });
      if (findSqliteDrivers().includes(driver)) {
        opened._unsafeUnwrap().close();
        continue;
      }
      const error = opened._unsafeUnwrapErr();
      expect(error).toMatchObject({ code: "sqlite_driver_unavailable", tried: [{ driver, cause: expect.anything() }] });
      expect(error.message).toMatch(new RegExp(`^the SQLite driver ${driver} does not load on this Node \\(install better-sqlite3 12 built for Node ${process.versions.node}, or run Node 22\\.13\\+ for node:sqlite\\): ${driver}: `));
    }
  });
});
