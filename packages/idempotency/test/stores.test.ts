// The store contract against all four stores. PostgreSQL and Redis are real local services
// (see services.ts for the variables); a missing service fails these tests, it never skips them.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createInbox, createMemoryStore, inboxKey, type MemoryTransaction } from "../src/index.js";
import { createPostgresStore, migratePostgres, type PgPoolClient } from "../src/postgres.js";
import { createRedisStore, type RedisTransaction } from "../src/redis.js";
import { createSqliteStore, findSqliteDrivers, openSqliteDatabase, type OpenedSqliteDatabase } from "../src/sqlite.js";
import { describeStoreContract } from "./contract.js";
import { workOrderEvent } from "./fixtures.js";
import { connectRedis, createTestDatabase, deletePrefix, pgSettings, uniqueSuffix } from "./services.js";

describeStoreContract<MemoryTransaction>("memory", async () => {
  const counts = new Map<string, number>();
  const store = createMemoryStore();
  return {
    store,
    effect: (tx, id) => tx.defer(() => counts.set(id, (counts.get(id) ?? 0) + 1)),
    effects: async () => new Map(counts),
    peer: async () => store,
    close: async () => undefined,
  };
});

const dir = mkdtempSync(join(tmpdir(), "millwright-sqlite-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

/*
 * SQLite runs on two drivers: better-sqlite3 12 (a native addon, built for this Node's ABI at
 * install) and node:sqlite (built into Node 22.13+). The contract runs on each driver this Node
 * loads: Node 20 on better-sqlite3, Node 22.13+ on node:sqlite, plus better-sqlite3 when its addon
 * loads there. None is skipped: a Node on which neither loads fails the test below.
 */
const drivers = findSqliteDrivers();
it("finds a SQLite driver on this Node", () => {
  expect(drivers.length, openSqliteDatabase(":memory:").match(() => "", (e) => e.message)).toBeGreaterThan(0);
});

for (const driver of drivers) {
  describeStoreContract<OpenedSqliteDatabase>(`sqlite (${driver})`, async () => {
    const db = openSqliteDatabase(join(dir, `store-${++files}.db`), { driver })._unsafeUnwrap();
    db.exec("CREATE TABLE effects (event_id TEXT NOT NULL)");
    const store = createSqliteStore(db);
    return {
      store,
      effect: (tx, id) => void tx.prepare("INSERT INTO effects (event_id) VALUES (?)").run(id),
      effects: async () => new Map((db.prepare("SELECT event_id, count(*) AS n FROM effects GROUP BY event_id").all() as { event_id: string; n: number }[]).map((r) => [r.event_id, Number(r.n)])),
      // One process holds one SQLite connection: a second one would wait for the first's write lock synchronously.
      peer: async () => store,
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
  const peers: pg.Pool[] = [];
  return {
    store: createPostgresStore(pool, { tablePrefix: prefix }),
    peer: async () => {
      const other = new pg.Pool({ ...pgSettings, database: database.name, max: 10 });
      other.on("error", () => undefined);
      peers.push(other);
      return createPostgresStore(other, { tablePrefix: prefix });
    },
    effect: async (tx, id) => void (await tx.query("INSERT INTO effects (event_id) VALUES ($1)", [id])),
    effects: async () => new Map((await pool.query("SELECT event_id, count(*)::int AS n FROM effects GROUP BY event_id")).rows.map((r: { event_id: string; n: number }) => [r.event_id, r.n])),
    close: async () => void (await Promise.all(peers.map((p) => p.end()))),
  };
});

describeStoreContract<RedisTransaction>("redis", async () => {
  const client = await connectRedis();
  const prefix = `millwright-test:${uniqueSuffix()}:`;
  const peers: Awaited<ReturnType<typeof connectRedis>>[] = [];
  return {
    store: createRedisStore(client, { keyPrefix: prefix }),
    peer: async () => {
      const other = await connectRedis();
      peers.push(other);
      return createRedisStore(other, { keyPrefix: prefix });
    },
    effect: (tx, id) => tx.call("HINCRBY", `${prefix}effects`, id, "1"),
    effects: async () => {
      const flat = (await client.sendCommand(["HGETALL", `${prefix}effects`])) as string[] | Record<string, string>;
      const entries: [string, string][] = Array.isArray(flat) ? flat.flatMap((v, i) => (i % 2 === 0 ? [[v, flat[i + 1]!] as [string, string]] : [])) : Object.entries(flat);
      return new Map(entries.map(([k, v]) => [k, Number(v)]));
    },
    close: async () => {
      await deletePrefix(client, prefix);
      client.destroy();
      for (const other of peers) other.destroy();
    },
  };
});

describe("PostgreSQL store: a handler stuck in a statement", () => {
  it("ends the stuck statement's server process when the lease ends, so the row lock goes and another worker takes over", async () => {
    const prefix = "stuck_";
    await migratePostgres(pool, prefix);
    await pool.query("CREATE TABLE IF NOT EXISTS stuck_effects (event_id text NOT NULL)");
    const other = new pg.Pool({ ...pgSettings, database: database.name, max: 4 });
    other.on("error", () => undefined);
    try {
      const e = workOrderEvent(60);
      const leaseMs = 500;
      let sleeps = 0;
      const stuck = createInbox(createPostgresStore(pool, { tablePrefix: prefix }), { leaseMs, sleep: () => new Promise(() => void (sleeps += 1)) });
      let entered = false;
      void stuck.process(e, async (event, { tx }) => {
        entered = true;
        // Holds the inbox row lock of the attempt for a minute unless something ends it.
        await tx.query("SELECT pg_sleep(60)");
        await tx.query("INSERT INTO stuck_effects (event_id) VALUES ($1)", [event.id]);
      });
      const started = Date.now();
      while (!entered) await new Promise((r) => setTimeout(r, 10));
      // The abandoned attempt is released (which needs the row lock the stuck statement held).
      const inspect = createPostgresStore(other, { tablePrefix: prefix });
      const key = inboxKey(e.source, e.id);
      while ((await inspect.inboxStatus(key))?.status !== "pending") {
        expect(Date.now() - started, "released soon after the lease, not after the minute-long statement").toBeLessThan(15_000);
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(sleeps, "the stuck worker recorded its abandoned attempt and backed off").toBe(1);
      expect((await inspect.inboxStatus(key))?.errors.map((x) => x.code)).toEqual(["lease_expired"]);
      const later = createInbox(inspect, { leaseMs, busyPollMs: 20 });
      const outcome = (await later.process(e, async (event, { tx }) => void (await tx.query("INSERT INTO stuck_effects (event_id) VALUES ($1)", [event.id]))))._unsafeUnwrap();
      expect(outcome).toEqual({ outcome: "processed", attempts: 2 });
      expect((await pool.query("SELECT count(*)::int AS n FROM stuck_effects")).rows[0]).toEqual({ n: 1 });
      const sleeping = await pool.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(60)' AND state = 'active' AND datname = $1", [database.name]);
      expect(sleeping.rows[0], "the stuck statement's server process is gone").toEqual({ n: 0 });
    } finally {
      await other.end();
    }
  }, 30_000);
});

describe("PostgreSQL store on a shared pool", () => {
  it("creates 20 stores on one pool without adding a listener per store (no process warning)", async () => {
    const shared = new pg.Pool({ ...pgSettings, database: database.name, max: 2 });
    shared.on("error", () => undefined);
    const warnings: Error[] = [];
    const onWarning = (warning: Error): void => void warnings.push(warning);
    process.on("warning", onWarning);
    try {
      const before = shared.listenerCount("connect");
      for (let i = 0; i < 20; i++) createPostgresStore(shared, { tablePrefix: `shared${i}_` });
      // Warnings are emitted on a later tick.
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(warnings.map((w) => `${w.name}: ${w.message}`)).toEqual([]);
      expect(shared.listenerCount("connect") - before).toBeLessThanOrEqual(1);
    } finally {
      process.off("warning", onWarning);
      await shared.end();
    }
  });
});
