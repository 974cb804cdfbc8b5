// The durable-store contract on a real PostgreSQL, plus what is particular to the PostgreSQL
// backend. PostgreSQL must be there: these tests fail, never skip, when it is not.
// Settings: MILLWRIGHT_PG_HOST, _PORT, _USER, _PASSWORD, _DATABASE (the admin database), as in
// the idempotency tests. Each run creates its own database and drops it afterwards.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDurableStore, type AlignmentBackend, type KeyState } from "../src/index.js";
import { createPostgresBackend, migratePostgresBackend } from "../src/postgres.js";
import { describeDurableContract } from "./durable-contract.js";

const pgSettings = {
  host: process.env["MILLWRIGHT_PG_HOST"] ?? "127.0.0.1",
  port: Number(process.env["MILLWRIGHT_PG_PORT"] ?? 5432),
  user: process.env["MILLWRIGHT_PG_USER"] ?? "postgres",
  password: process.env["MILLWRIGHT_PG_PASSWORD"] ?? "",
  database: process.env["MILLWRIGHT_PG_DATABASE"] ?? "postgres",
};
const databaseName = `millwright_test_${Date.now().toString(36)}_${randomBytes(4).toString("hex")}`;

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ ...pgSettings, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
  } catch (cause) {
    throw new Error(`PostgreSQL is not reachable at ${pgSettings.user}@${pgSettings.host}:${pgSettings.port}/${pgSettings.database} (set MILLWRIGHT_PG_*): ${String(cause)}`);
  }
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

let pool: pg.Pool;
beforeAll(async () => {
  await admin(`CREATE DATABASE ${databaseName}`);
  pool = new pg.Pool({ ...pgSettings, database: databaseName, max: 8 });
  pool.on("error", () => undefined);
  await pool.query(`CREATE FUNCTION reject_poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'the rule poison is rejected'; END $$`);
}, 30_000);
afterAll(async () => {
  await pool?.end();
  await admin(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`);
}, 30_000);

let prefixes = 0;
describeDurableContract(
  "postgres",
  async () => {
    const prefix = `c${++prefixes}_`;
    (await migratePostgresBackend(pool, { tablePrefix: prefix }))._unsafeUnwrap();
    for (const table of ["states", "tombstones"]) {
      await pool.query(`CREATE TRIGGER poison BEFORE INSERT OR UPDATE ON ${prefix}${table} FOR EACH ROW WHEN (NEW.rule = 'poison') EXECUTE FUNCTION reject_poison()`);
    }
    return {
      open: async () => createPostgresBackend(pool, { tablePrefix: prefix, migrate: false }),
      crash: async () => undefined,
      writeRaw: async (rule, key, text) =>
        void (await pool.query(`INSERT INTO ${prefix}states (rule, key, state) VALUES ($1, $2, $3) ON CONFLICT (rule, key) DO UPDATE SET state = EXCLUDED.state`, [rule, key, text])),
      dispose: async () => void (await pool.query(`DROP TABLE ${prefix}states, ${prefix}tombstones`)),
    };
  },
  { roundTrip: 25, crash: 40 },
);

const state = (key: string): KeyState => ({
  rule: "workorder-started",
  key,
  events: [{ id: `r-${key}`, type: "dev.millwright.workorder.released.v1", source: "urn:millwright:sap:S4PCLNT100", time: "2026-03-02T06:00:00.000Z", timeMs: 1772431200000, role: "trigger" }],
  breached: false,
});

describe("postgres backend", () => {
  it("migrates idempotently, also from several callers at once", async () => {
    const results = await Promise.all([1, 2, 3].map(() => migratePostgresBackend(pool, { tablePrefix: "m_" })));
    expect(results.every((r) => r.isOk())).toBe(true);
    expect((await migratePostgresBackend(pool, { tablePrefix: "m_" })).isOk()).toBe(true);
    const { rows } = await pool.query("SELECT table_name FROM information_schema.tables WHERE table_name LIKE 'm\\_%' ORDER BY table_name");
    expect(rows).toEqual([{ table_name: "m_states" }, { table_name: "m_tombstones" }]);
  });

  it("migrates on the first load by default, with its default prefix", async () => {
    const store = (await openDurableStore(createPostgresBackend(pool)))._unsafeUnwrap();
    store.put(state("1000123"));
    (await store.flush())._unsafeUnwrap();
    const { rows } = await pool.query("SELECT rule, key, state->>'breached' AS breached FROM millwright_alignment_states");
    expect(rows).toEqual([{ rule: "workorder-started", key: "1000123", breached: "false" }]);
  });

  it("writes a batch larger than one statement's chunk in one transaction", async () => {
    const backend = createPostgresBackend(pool, { tablePrefix: "big_" });
    const store = (await openDurableStore(backend))._unsafeUnwrap();
    for (let i = 0; i < 12_000; i++) store.put(state(String(i)));
    for (let i = 0; i < 6_000; i++) store.close("qualityhold-closed", String(i), 1772431200000 + i);
    expect((await store.flush())._unsafeUnwrap()).toEqual({ written: 18_000 });
    const again = (await openDurableStore(createPostgresBackend(pool, { tablePrefix: "big_" })))._unsafeUnwrap();
    expect(again.size()).toEqual({ open: 12_000, closed: 6_000 });
    expect(again.get("workorder-started", "11999")).toEqual(state("11999"));
    for (let i = 0; i < 12_000; i++) again.close("workorder-started", String(i), 1772431300000);
    again.purgeClosed(1772431200000 + 3_000);
    (await again.flush())._unsafeUnwrap();
    const { rows } = await pool.query("SELECT (SELECT count(*) FROM big_states)::int AS states, (SELECT count(*) FROM big_tombstones)::int AS tombstones");
    expect(rows).toEqual([{ states: 0, tombstones: 15_000 }]);
  }, 60_000);

  it("says what failed: a missing table, a corrupt row, an unreachable server, a closed backend", async () => {
    const unmigrated = (await createPostgresBackend(pool, { tablePrefix: "none_", migrate: false }).load())._unsafeUnwrapErr();
    expect(unmigrated.message).toMatchInlineSnapshot(`"postgres.load failed: relation "none_states" does not exist"`);

    const backend = createPostgresBackend(pool, { tablePrefix: "corrupt_" });
    (await backend.load())._unsafeUnwrap();
    await pool.query("INSERT INTO corrupt_states (rule, key, state) VALUES ($1, $2, $3)", ["workorder-started", "1000123", "[]"]);
    expect((await backend.load())._unsafeUnwrapErr()).toMatchInlineSnapshot(`
      {
        "code": "state_corrupt",
        "key": "1000123",
        "message": "postgres.load: the stored state of workorder-started "1000123" is not a JSON object",
        "operation": "postgres.load",
        "rule": "workorder-started",
        "value": "[]",
      }
    `);

    const nowhere = new pg.Pool({ ...pgSettings, port: 1, connectionTimeoutMillis: 2000 });
    nowhere.on("error", () => undefined);
    const refused = (await createPostgresBackend(nowhere).load())._unsafeUnwrapErr();
    expect(refused).toMatchObject({ code: "store_failed", operation: "postgres.load" });
    expect(refused.message).toContain("ECONNREFUSED");
    await nowhere.end();

    await backend.close();
    expect((await backend.load())._unsafeUnwrapErr()).toMatchInlineSnapshot(`
      {
        "code": "store_closed",
        "message": "postgres.load refused: the backend is closed",
        "operation": "postgres.load",
      }
    `);
  });

  it("close waits for an apply in flight, then refuses", async () => {
    const backend = createPostgresBackend(pool, { tablePrefix: "inflight_" });
    (await backend.load())._unsafeUnwrap();
    let done = false;
    const applying = backend.apply({ upserts: [state("1")], closes: [], drops: [] });
    void applying.then(() => (done = true));
    await backend.close();
    expect(done).toBe(true);
    expect((await applying).isOk()).toBe(true);
    expect((await backend.apply({ upserts: [], closes: [], drops: [] }))._unsafeUnwrapErr().code).toBe("store_closed");
    const { rows } = await pool.query("SELECT key FROM inflight_states");
    expect(rows).toEqual([{ key: "1" }]);
  });

  it("takes a pg.Pool as it is typed, without a cast", () => {
    const backend: AlignmentBackend = createPostgresBackend(pool);
    expect(typeof backend.load).toBe("function");
  });
});
