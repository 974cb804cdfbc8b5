// The store contract against all four stores. PostgreSQL and Redis are real local services
// (see services.ts for the variables); a missing service fails these tests, it never skips them.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll } from "vitest";
import { createMemoryStore, type MemoryTransaction } from "../src/index.js";
import { createPostgresStore, migratePostgres, type PgPoolClient } from "../src/postgres.js";
import { createRedisStore, type RedisTransaction } from "../src/redis.js";
import { createSqliteStore, type SqliteDatabase } from "../src/sqlite.js";
import { describeStoreContract } from "./contract.js";
import { connectRedis, createTestDatabase, deletePrefix, pgSettings, uniqueSuffix } from "./services.js";

describeStoreContract<MemoryTransaction>("memory", async () => {
  const counts = new Map<string, number>();
  return {
    store: createMemoryStore(),
    effect: (tx, id) => tx.defer(() => counts.set(id, (counts.get(id) ?? 0) + 1)),
    effects: async () => new Map(counts),
    close: async () => undefined,
  };
});

const dir = mkdtempSync(join(tmpdir(), "millwright-sqlite-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

/*
 * SQLite runs on two drivers: better-sqlite3 12 (a native addon, built for this Node's ABI at
 * install) and node:sqlite (built into Node 22.13+). Each Node version runs the contract on the
 * drivers it can load: Node 20 on better-sqlite3, Node 22+ on node:sqlite, plus better-sqlite3
 * when its addon loads there. None is skipped on the version it belongs to.
 */
interface Db extends SqliteDatabase {
  prepare(sql: string): SqliteDatabase["prepare"] extends (sql: string) => infer S ? S & { run(...args: unknown[]): { readonly changes: number }; all(...args: unknown[]): unknown[] } : never;
  close(): void;
}
const major = Number(process.versions.node.split(".")[0]);
const drivers: { name: string; open: (file: string) => Promise<Db> }[] = [];
// The addon loads when a database is opened, not at import: probe by opening one.
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
if (major < 22 || betterSqliteLoads) {
  drivers.push({ name: "sqlite (better-sqlite3)", open: async (file) => new (await import("better-sqlite3")).default(file) as unknown as Db });
}
if (major >= 22) {
    // node:sqlite has no type declarations in @types/node 20; its shape is checked by the Db interface.
  const sqliteModule = "node:sqlite";
  drivers.push({
    name: "sqlite (node:sqlite)",
    open: async (file) => new ((await import(sqliteModule)) as { DatabaseSync: new (file: string) => Db }).DatabaseSync(file),
  });
}

for (const driver of drivers) {
  describeStoreContract<Db>(driver.name, async () => {
    const db = await driver.open(join(dir, `store-${++files}.db`));
    db.exec("CREATE TABLE effects (event_id TEXT NOT NULL)");
    return {
      store: createSqliteStore<Db>(db),
      effect: (tx, id) => void tx.prepare("INSERT INTO effects (event_id) VALUES (?)").run(id),
      effects: async () => new Map((db.prepare("SELECT event_id, count(*) AS n FROM effects GROUP BY event_id").all() as { event_id: string; n: number }[]).map((r) => [r.event_id, Number(r.n)])),
      close: async () => void db.close(),
    };
  });
}

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let pool: pg.Pool;
beforeAll(async () => {
  database = await createTestDatabase();
  pool = new pg.Pool({ ...pgSettings, database: database.name, max: 10 });
  pool.on("error", () => undefined);
  await pool.query("CREATE TABLE effects (event_id text NOT NULL)");
});
afterAll(async () => {
  await pool?.end();
  await database?.drop();
});
let prefixes = 0;
describeStoreContract<PgPoolClient>("postgres", async () => {
  const prefix = `t${++prefixes}_`;
  await migratePostgres(pool, prefix);
  await pool.query("TRUNCATE effects");
  return {
    store: createPostgresStore(pool, { tablePrefix: prefix }),
    effect: async (tx, id) => void (await tx.query("INSERT INTO effects (event_id) VALUES ($1)", [id])),
    effects: async () => new Map((await pool.query("SELECT event_id, count(*)::int AS n FROM effects GROUP BY event_id")).rows.map((r: { event_id: string; n: number }) => [r.event_id, r.n])),
    close: async () => undefined,
  };
});

describeStoreContract<RedisTransaction>("redis", async () => {
  const client = await connectRedis();
  const prefix = `millwright-test:${uniqueSuffix()}:`;
  return {
    store: createRedisStore(client, { keyPrefix: prefix }),
    effect: (tx, id) => tx.call("HINCRBY", `${prefix}effects`, id, "1"),
    effects: async () => {
      const flat = (await client.sendCommand(["HGETALL", `${prefix}effects`])) as string[] | Record<string, string>;
      const entries: [string, string][] = Array.isArray(flat) ? flat.flatMap((v, i) => (i % 2 === 0 ? [[v, flat[i + 1]!] as [string, string]] : [])) : Object.entries(flat);
      return new Map(entries.map(([k, v]) => [k, Number(v)]));
    },
    close: async () => {
      await deletePrefix(client, prefix);
      client.destroy();
    },
  };
});
