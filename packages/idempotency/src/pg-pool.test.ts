// The one PostgreSQL checkout, against a real server: clients go back to the pool when the work
// succeeded and are destroyed when it failed, and a connection cut while a client is out does
// not end the process.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, pgSettings } from "../test/services.js";
import { guardPgPool, usePgClient, withPgTransaction } from "./pg-pool.js";

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let pool: pg.Pool;
beforeAll(async () => {
  database = await createTestDatabase();
  pool = guardPgPool(new pg.Pool({ ...pgSettings, database: database.name, max: 4 }));
  pool.on("error", () => undefined);
  await pool.query("CREATE TABLE t (k text PRIMARY KEY)");
});
afterAll(async () => {
  await pool?.end();
  await database?.drop();
});

describe("usePgClient and withPgTransaction", () => {
  it("return the client to the pool after success and destroy it after a failure", async () => {
    await usePgClient(pool, (client) => client.query("SELECT 1"));
    const before = pool.totalCount;
    expect(pool.idleCount).toBe(before);
    await expect(withPgTransaction(pool, "BEGIN", async (client) => {
      await client.query("INSERT INTO t (k) VALUES ('rolled-back')");
      await client.query("SELECT no_such_column FROM t");
    })).rejects.toThrow(/no_such_column/);
    expect(pool.totalCount).toBe(before - 1);
    expect((await pool.query("SELECT k FROM t")).rows).toEqual([]);
    await withPgTransaction(pool, "BEGIN", (client) => client.query("INSERT INTO t (k) VALUES ('committed')"));
    expect((await pool.query("SELECT k FROM t")).rows).toEqual([{ k: "committed" }]);
  });

  it("destroy a client that work discards, though it still works", async () => {
    await usePgClient(pool, (client) => client.query("SELECT 1"));
    const before = pool.totalCount;
    const value = await usePgClient(pool, async (client, discard) => {
      discard();
      return (await client.query("SELECT 2 AS two")).rows;
    });
    expect(value).toEqual([{ two: 2 }]);
    expect(pool.totalCount).toBe(before - 1);
  });

  it("keep the process alive when a checked-out client's connection is cut, and drop that client", async () => {
    let during = 0;
    await usePgClient(pool, async (client) => {
      // No listener of the test's own: an `error` event nobody listens to would be an uncaught
      // exception, which fails this run.
      const ended = new Promise((resolve) => (client as unknown as pg.PoolClient).once("end", resolve));
      await pool.query("SELECT pg_terminate_backend($1)", [(client as unknown as pg.PoolClient & { processID: number }).processID]);
      await ended;
      during = pool.totalCount;
    });
    expect(pool.totalCount).toBe(during - 1);
    expect((await pool.query("SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
  });
});
