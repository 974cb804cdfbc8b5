// The durable-store contract on SQLite files, over each driver this Node can load, plus what is
// particular to the SQLite backend (migration, prefixes, error messages).
import type Database from "better-sqlite3";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openDurableStore, type AlignmentBackend } from "../src/index.js";
import { findSqliteDrivers } from "@millwright/idempotency/sqlite";
import { createSqliteBackend, migrateSqliteBackend, openSqliteDatabase, type OpenedSqliteDatabase } from "../src/sqlite.js";
import { describeDurableContract } from "./durable-contract.js";

const dir = mkdtempSync(join(tmpdir(), "millwright-alignment-sqlite-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const nextFile = (): string => join(dir, `alignment-${++files}.db`);

/*
 * Two drivers: better-sqlite3 12 (a native addon built for this Node at install) and node:sqlite
 * (built into Node 22.13+). The contract runs on each driver this Node loads (the idempotency
 * package's SQLite layer finds them): Node 20 on better-sqlite3, Node 22.13+ on node:sqlite, plus
 * better-sqlite3 when its addon loads there. None is skipped: a Node on which neither loads fails
 * the first test.
 */
type Db = OpenedSqliteDatabase;
const drivers = findSqliteDrivers().map((name) => ({ name, open: async (file: string): Promise<Db> => openSqliteDatabase(file, { driver: name })._unsafeUnwrap() }));
it("finds a SQLite driver on this Node", () => {
  expect(drivers.length, openSqliteDatabase(":memory:").match(() => "", (e) => e.message)).toBeGreaterThan(0);
});

const poisonTriggers = (prefix: string): string =>
  ["states", "tombstones"]
    .flatMap((table) =>
      ["INSERT", "UPDATE"].map(
        (op) => `CREATE TRIGGER ${prefix}${table}_poison_${op.toLowerCase()} BEFORE ${op} ON ${prefix}${table} WHEN NEW.rule = 'poison' BEGIN SELECT RAISE(ABORT, 'the rule poison is rejected'); END;`,
      ),
    )
    .join("\n");

for (const driver of drivers) {
  describeDurableContract(
    `sqlite (${driver.name})`,
    async () => {
      const file = nextFile();
      const setup = await driver.open(file);
      migrateSqliteBackend(setup)._unsafeUnwrap();
      setup.exec(poisonTriggers("millwright_alignment_"));
      setup.close();
      const connections = new Map<AlignmentBackend, Db>();
      return {
        open: async () => {
          const db = await driver.open(file);
          const backend = createSqliteBackend(db);
          connections.set(backend, db);
          return backend;
        },
        crash: async (backend) => {
          connections.get(backend)?.close();
          connections.delete(backend);
        },
        writeRaw: async (rule, key, text) => {
          const db = await driver.open(file);
          db.prepare("INSERT OR REPLACE INTO millwright_alignment_states (rule, key, state) VALUES (?, ?, ?)").run(rule, key, text);
          db.close();
        },
        dispose: async () => {
          for (const db of connections.values()) db.close();
          connections.clear();
        },
      };
    },
    { roundTrip: 50, crash: 60 },
  );

  describe(`sqlite backend (${driver.name})`, () => {
    it("migrates idempotently, under its own prefix, beside other tables", async () => {
      const db = await driver.open(nextFile());
      db.exec("CREATE TABLE unrelated (x INTEGER)");
      expect(migrateSqliteBackend(db, { tablePrefix: "plant1710_" }).isOk()).toBe(true);
      expect(migrateSqliteBackend(db, { tablePrefix: "plant1710_" }).isOk()).toBe(true);
      const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map((r) => r.name);
      expect(tables).toEqual(["plant1710_states", "plant1710_tombstones", "unrelated"]);

      const a = (await openDurableStore(createSqliteBackend(db, { tablePrefix: "plant1710_" })))._unsafeUnwrap();
      const b = (await openDurableStore(createSqliteBackend(db, { tablePrefix: "plant1711_" })))._unsafeUnwrap();
      a.close("workorder-started", "1000123", 5);
      (await a.flush())._unsafeUnwrap();
      (await b.flush())._unsafeUnwrap();
      const again = (await openDurableStore(createSqliteBackend(db, { tablePrefix: "plant1711_" })))._unsafeUnwrap();
      expect(again.size()).toEqual({ open: 0, closed: 0 });
      db.close();
    });

    it("switches the database to WAL on load, and leaves it alone with wal: false", async () => {
      const file = nextFile();
      const plain = await driver.open(file);
      (await createSqliteBackend(plain, { wal: false }).load())._unsafeUnwrap();
      expect(plain.prepare("PRAGMA journal_mode").all()).toEqual([{ journal_mode: "delete" }]);
      (await createSqliteBackend(plain).load())._unsafeUnwrap();
      expect(plain.prepare("PRAGMA journal_mode").all()).toEqual([{ journal_mode: "wal" }]);
      expect(plain.prepare("PRAGMA synchronous").all()).toEqual([{ synchronous: 2 }]);
      plain.close();
    });

    it("says what failed: a missing table, a corrupt row, a closed backend", async () => {
      const db = await driver.open(nextFile());
      const unmigrated = await createSqliteBackend(db, { migrate: false, wal: false }).load();
      expect(unmigrated._unsafeUnwrapErr()).toMatchObject({ code: "store_failed", operation: "sqlite.load" });
      expect(unmigrated._unsafeUnwrapErr().message).toMatchInlineSnapshot(`"sqlite.load failed: no such table: millwright_alignment_states"`);

      const backend = createSqliteBackend(db);
      (await backend.load())._unsafeUnwrap();
      const insert = db.prepare("INSERT OR REPLACE INTO millwright_alignment_states (rule, key, state) VALUES (?, ?, ?)");
      insert.run("workorder-started", "1000123", "{not json");
      expect((await backend.load())._unsafeUnwrapErr()).toMatchObject({ code: "state_corrupt", rule: "workorder-started", key: "1000123", value: "{not json", cause: expect.any(SyntaxError) });
      insert.run("workorder-started", "1000123", "[]");
      expect((await backend.load())._unsafeUnwrapErr()).toMatchInlineSnapshot(`
        {
          "code": "state_corrupt",
          "key": "1000123",
          "message": "sqlite.load: the stored state of workorder-started "1000123" is not a JSON object",
          "operation": "sqlite.load",
          "rule": "workorder-started",
          "value": "[]",
        }
      `);
      await backend.close();
      expect((await backend.apply({ upserts: [], closes: [], drops: [] }))._unsafeUnwrapErr()).toMatchInlineSnapshot(`
        {
          "code": "store_closed",
          "message": "sqlite.apply refused: the backend is closed",
          "operation": "sqlite.apply",
        }
      `);
      db.close();
    });

    it("refuses a table prefix that is not a plain identifier (a programmer error)", async () => {
      const db = await driver.open(":memory:");
      expect(() => createSqliteBackend(db, { tablePrefix: "x; DROP TABLE y; --" })).toThrowErrorMatchingInlineSnapshot(
        `[TypeError: createSqliteBackend: tablePrefix must be letters, digits and _ (not starting with a digit), got "x; DROP TABLE y; --"]`,
      );
      db.close();
    });
  });
}

it("takes a better-sqlite3 Database as it is typed, without a cast", () => {
  // A type test: this must compile against @types/better-sqlite3 (it is not run, so that a Node
  // without the addon still passes).
  const typed = (db: Database.Database): AlignmentBackend => createSqliteBackend(db);
  expect(typeof typed).toBe("function");
});
