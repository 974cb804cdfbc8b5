// The workflow store contract on a real PostgreSQL (a fresh database per test), plus what is
// particular to the PostgreSQL store. PostgreSQL must be there: these tests fail, never skip.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { instanceIdOf } from "../src/ids.js";
import { createPostgresWorkflowStore, migrateWorkflowPostgres } from "../src/postgres.js";
import type { WorkflowStore } from "../src/store.js";
import { adminQuery, createTestDatabase, type TestDatabase } from "./pg-services.js";
import { describeStoreConformance } from "./store-conformance.js";

// Every write is a round trip here: the contract's 2,000-instance test makes 4,000 sequential
// commits, about 5 s on a busy 2-core machine.
vi.setConfig({ testTimeout: 60_000 });

describeStoreConformance("postgres", async () => {
  const db = await createTestDatabase("wf_conf");
  // Commits need not wait for the disk here (nothing tested survives an OS crash): the contract's
  // 2,000-instance test makes 4,000 sequential commits within vitest's 5 s.
  await adminQuery(`ALTER DATABASE ${db.name} SET synchronous_commit = off`);
  const pool = new pg.Pool({ connectionString: db.url, max: 6 });
  pool.on("error", () => undefined);
  await migrateWorkflowPostgres(pool);
  return {
    store: createPostgresWorkflowStore(pool),
    close: async () => {
      await pool.end();
      await db.drop();
    },
  };
});

describe("postgres workflow store", () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  beforeAll(async () => {
    db = await createTestDatabase("wf_pg");
    pool = new pg.Pool({ connectionString: db.url, max: 8 });
    pool.on("error", () => undefined);
  }, 30_000);
  afterAll(async () => {
    await pool?.end();
    await db?.drop();
  }, 30_000);

  const T0 = Date.UTC(2026, 11, 7, 6, 0, 0);
  const newInstance = (key: string, now = T0) => ({ id: instanceIdOf("pg", key), workflow: "pg", version: 1, key, input: { key }, deadlineAt: null, now });

  it("migrates only when asked, from many processes at once, and keeps stores with other prefixes apart", async () => {
    const store = createPostgresWorkflowStore(pool, { tablePrefix: "alpha_" });
    await expect(store.createInstance(newInstance("a"))).rejects.toThrow(/alpha_instances" does not exist/);
    await Promise.all([1, 2, 3, 4].map(() => migrateWorkflowPostgres(pool, "alpha_")));
    await migrateWorkflowPostgres(pool, "beta_");
    expect((await store.createInstance(newInstance("a"))).created).toBe(true);
    const beta = createPostgresWorkflowStore(pool, { tablePrefix: "beta_" });
    expect(await beta.list()).toEqual([]);
    expect(() => createPostgresWorkflowStore(pool, { tablePrefix: "Robert'); DROP TABLE x;--" })).toThrowErrorMatchingInlineSnapshot(
      `[TypeError: createPostgresWorkflowStore: tablePrefix is "Robert'); DROP TABLE x;--": a prefix is [a-z_][a-z0-9_]*, at most 41 characters]`,
    );
  });

  it("claims disjoint batches from 8 concurrent workers on 400 due instances, each instance once", async () => {
    await migrateWorkflowPostgres(pool, "claims_");
    const store: WorkflowStore = createPostgresWorkflowStore(pool, { tablePrefix: "claims_" });
    for (let i = 0; i < 400; i++) await store.createInstance(newInstance(`k${i}`));
    const seen: string[] = [];
    await Promise.all(
      Array.from({ length: 8 }, async (_, w) => {
        for (;;) {
          const claims = await store.claimDue({ workerId: `w${w}`, now: T0 + 1, leaseMs: 60_000, limit: 7 });
          if (claims.length === 0) return;
          seen.push(...claims.map((c) => c.instance.id));
        }
      }),
    );
    expect(seen).toHaveLength(400);
    expect(new Set(seen).size).toBe(400);
    const owners = (await pool.query<{ n: string }>("SELECT COUNT(DISTINCT lease_owner) AS n FROM claims_instances")).rows[0]!.n;
    expect(Number(owners)).toBeGreaterThan(1);
  });

  it("never loses an event delivered while another worker's write starts waiting for its type", async () => {
    await migrateWorkflowPostgres(pool, "race_");
    const store = createPostgresWorkflowStore(pool, { tablePrefix: "race_" });
    const type = "dev.millwright.materialmovement.posted.v1";
    // J already waits for the type; a lock on J's row holds deliverEvent between the snapshot of
    // its wake-up UPDATE and its commit: the window in which a new wait for the type could be missed.
    const { instance: j } = await store.createInstance(newInstance("j"));
    const [claimJ] = await store.claimDue({ workerId: "w0", now: T0, leaseMs: 60_000, limit: 1 });
    await store.appendHistory(claimJ!.lease, [], { state: "waiting", wakeAt: null, waitingFor: [type], release: true }, T0);
    const { instance: i } = await store.createInstance(newInstance("i", T0 + 1));
    const [claimI] = await store.claimDue({ workerId: "w1", now: T0 + 1, leaseMs: 60_000, limit: 1 });
    expect(claimI?.instance.id).toBe(i.id);

    const blocker = new pg.Client({ connectionString: db.url });
    await blocker.connect();
    await blocker.query("BEGIN");
    await blocker.query("SELECT id FROM race_instances WHERE id = $1 FOR UPDATE", [j.id]);
    const settled = <T>(promise: Promise<T>) => {
      const state = { done: false };
      void promise.then(() => (state.done = true));
      return state;
    };
    const delivery = store.deliverEvent({ source: "urn:race", id: "e1", type, event: { id: "e1" } }, T0 + 2);
    await new Promise((resolve) => setTimeout(resolve, 300));
    // The worker registers I's wait (keeping its lease), then looks for events it already missed.
    const register = store.appendHistory(claimI!.lease, [], { state: "waiting", waitingFor: [type] }, T0 + 3);
    const registered = settled(register);
    await new Promise((resolve) => setTimeout(resolve, 300));
    // A write that finished while the delivery is still open must not have missed it unseen.
    const seenEarly = registered.done ? await store.eventsFor(i.id, type) : undefined;
    await blocker.query("COMMIT");
    await blocker.end();
    expect(await delivery).toEqual({ stored: true, woken: expect.any(Number) });
    expect((await register).ok).toBe(true);
    const seen = seenEarly ?? (await store.eventsFor(i.id, type));
    await store.appendHistory(claimI!.lease, [], { wakeAt: T0 + 3_600_000, release: true }, T0 + 4);
    const after = (await store.load(i.id))!.instance;
    // Either the worker saw the event, or the delivery made I due now.
    expect(seen.length > 0 || (after.wakeAt !== null && after.wakeAt <= T0 + 4)).toBe(true);
    expect((await store.load(j.id))!.instance.wakeAt).toBe(T0 + 2);
  });
});
