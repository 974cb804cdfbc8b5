// PostgreSQL scale-out with real processes on one database: 8 inbox processes, 8 partitioned
// relays, and 3 relays with one SIGKILLed mid-run. Each run creates its own database and drops it.
// The throughput sweep over 1, 2, 4, 8 processes is bench/pg-scaling.ts; here the 8-process runs
// assert correctness at the peer and print their throughput and the sampled wait events.
import { join } from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { createPostgresRelay, migratePostgres } from "../../src/postgres.js";
import { createScaleDatabase, killAll, spawnWorker, type ScaleDatabase } from "./pg-scale-harness.js";
import { checkOrder, fillOutbox, readDeliveries, runInboxScale, runRelayScale, TARGET_TABLES } from "./pg-scale-runs.js";

const WORKER = join(import.meta.dirname, "pg-scale-worker.ts");

afterAll(() => killAll());

describe("PostgreSQL inbox, 8 worker processes on one database", () => {
  it("gives each of 1,000 events its effect exactly once, with duplicates racing between processes", { timeout: 180_000 }, async () => {
    const result = await runInboxScale({ workers: 8, events: 1000, concurrency: 4, poolSize: 4 });
    console.log(`pg-scale inbox ×8: ${result.eventsPerSecond} events/s, client CPU ${result.clientCpuMs} ms, waits ${JSON.stringify(result.waits)}`);
    expect(result.deliveries, "every fifth event was delivered twice").toBe(1000 + 200);
    expect(result.effects).toEqual({ rows: 1000, distinct: 1000, repeated: 0 });
    expect(result.statuses).toEqual({ processed: 1000 });
    expect(result.outcomes["processed"]).toBe(1000);
    expect(result.outcomes["duplicate"], "the second deliveries were absorbed").toBe(200);
    expect(result.waits.samples, "the sampler watched the run").toBeGreaterThan(0);
  });
});

describe("PostgreSQL outbox relay, partition ownership", () => {
  it("8 relay processes share 16 partitions: every record once, in order per partition key", { timeout: 180_000 }, async () => {
    const result = await runRelayScale({ relays: 8, records: 2000, keys: 200, partitions: 16, poolSize: 4 });
    console.log(`pg-scale relay ×8: ${result.recordsPerSecond} records/s, client CPU ${result.clientCpuMs} ms, waits ${JSON.stringify(result.waits)}`);
    expect(result.unsent).toBe(0);
    const order = checkOrder(result.deliveries);
    // Repeats happen only when a lease ends mid-round (a stalled relay); then only under a later token.
    expect(order).toMatchObject({ distinct: 2000, outOfOrderWithinLease: 0, fenceRegressions: 0, firstDeliveriesOutOfOrder: 0, duplicatesWithoutTakeover: 0 });
    expect(order.duplicates).toBe(result.summaries.reduce((sum, s) => sum + (s["published"] ?? 0), 0) - 2000);
    const byRelay = new Map<string, number>();
    for (const d of result.deliveries) byRelay.set(d.relay, (byRelay.get(d.relay) ?? 0) + 1);
    expect(byRelay.size, `every relay published a share: ${JSON.stringify([...byRelay])}`).toBe(8);
    // No two relays ever published one partition under one token.
    const owners = new Map<string, string>();
    for (const d of result.deliveries) {
      const key = `${d.partition}/${d.fence}`;
      expect(owners.get(key) ?? d.relay).toBe(d.relay);
      owners.set(key, d.relay);
    }
  });

  describe("with a database of its own", () => {
    let db: ScaleDatabase;
    let pool: pg.Pool;
    const setUp = async (): Promise<void> => {
      db = await createScaleDatabase("relaykill");
      pool = new pg.Pool({ ...db.config, max: 4 });
      pool.on("error", () => undefined);
      await migratePostgres(pool, "s_");
      await pool.query(TARGET_TABLES);
    };
    afterAll(async () => {
      killAll();
      await pool?.end();
      await db?.drop();
    });

    it("3 relays, one SIGKILLed mid-run: its partitions are taken over, nothing lost, none out of order, repeats only after the takeover", { timeout: 180_000 }, async () => {
      await setUp();
      const records = 3000;
      await fillOutbox(pool, records, 60);
      const config = (i: number) => ({ mode: "relay", pg: db.config, tablePrefix: "s_", name: `kill-relay-${i}`, worker: i, workers: 3, poolSize: 3, partitions: 12, leaseMs: 1500, publishDelayMs: 2, batchSize: 60 });
      const relays = [0, 1, 2].map((i) => spawnWorker(WORKER, config(i)));
      await Promise.all(relays.map((r) => r.ready));
      for (const r of relays) r.child.stdin!.end("go\n");
      const victim = relays[0]!;
      const deadline = Date.now() + 60_000;
      while (!victim.lines.some((l) => l === "published 200")) {
        if (Date.now() > deadline) throw new Error(`relay 0 did not get going: ${victim.lines.join("|")}`);
        await new Promise((r) => setTimeout(r, 10));
      }
      const heldAtKill = (await pool.query<{ partition: number; fence: string }>("SELECT partition, fence FROM s_relay_partitions WHERE owner = 'kill-relay-0'")).rows;
      victim.child.kill("SIGKILL");
      expect((await victim.exit).signal).toBe("SIGKILL");
      expect(heldAtKill.length, "the killed relay held partitions").toBeGreaterThan(0);
      for (const r of relays.slice(1)) expect((await r.exit).code).toBe(0);

      expect((await pool.query<{ n: number }>("SELECT count(*)::int AS n FROM s_outbox WHERE sent_at IS NULL")).rows[0]!.n).toBe(0);
      const deliveries = await readDeliveries(pool);
      const order = checkOrder(deliveries);
      console.log(`pg-scale relay kill: ${JSON.stringify(order)}, held at kill ${JSON.stringify(heldAtKill)}`);
      expect(order.distinct, "none lost").toBe(records);
      expect(order).toMatchObject({ outOfOrderWithinLease: 0, fenceRegressions: 0, firstDeliveriesOutOfOrder: 0, duplicatesWithoutTakeover: 0 });
      // The survivors took the victim's partitions over under a higher token.
      for (const { partition, fence } of heldAtKill) {
        const after = deliveries.filter((d) => d.partition === partition && d.fence > Number(fence));
        expect(after.length, `partition ${partition} was published after the kill`).toBeGreaterThan(0);
        expect(after.every((d) => d.relay !== "kill-relay-0")).toBe(true);
      }
      // Repeats are the records the victim published but had not marked sent, and only those.
      const victimIds = new Set(deliveries.filter((d) => d.relay === "kill-relay-0").map((d) => d.recordId));
      const seen = new Set<string>();
      const repeats = deliveries.filter((d) => (seen.has(d.recordId) ? true : (seen.add(d.recordId), false)));
      expect(repeats.every((d) => victimIds.has(d.recordId) && d.relay !== "kill-relay-0")).toBe(true);
      expect(repeats.length).toBe(order.duplicates);
      expect(repeats.length, "at most one batch of the victim is repeated").toBeLessThanOrEqual(60);
    });

    it("fences: a relay whose partition passed to another marks nothing sent, and a target that checks the token refuses it", { timeout: 60_000 }, async () => {
      await pool.query("TRUNCATE s_outbox, published, target_fences, s_relay_partitions, s_relay_members");
      await fillOutbox(pool, 10, 1);
      let release: () => void = () => undefined;
      const blocked = new Promise<void>((resolve) => (release = resolve));
      const seen: number[] = [];
      const relay = createPostgresRelay(pool, {
        tablePrefix: "s_",
        partitions: 4,
        leaseMs: 30_000,
        owner: "slow",
        publish: async (record, lease) => {
          seen.push(lease.fence);
          // The first publish waits while the test hands the partition to an intruder.
          if (seen.length === 1) await blocked;
          const r = await pool.query(
            `WITH f AS (INSERT INTO target_fences (partition, fence) VALUES ($1, $2) ON CONFLICT (partition) DO UPDATE SET fence = EXCLUDED.fence
                        WHERE target_fences.fence <= EXCLUDED.fence RETURNING fence)
             INSERT INTO published (record_id, partition_key, seq, partition, fence, relay, at) SELECT $3, $4, $5, $1, $2, 'slow', 0 FROM f`,
            [lease.partition, lease.fence, record.id, record.partitionKey, record.seq],
          );
          if (r.rowCount !== 1) throw new Error(`fence ${lease.fence} refused`);
        },
      });
      const round = relay.runOnce();
      while (seen.length === 0) await new Promise((r) => setTimeout(r, 5));
      // Another relay takes the partition over (its token is one higher) and publishes once.
      const taken = await pool.query<{ partition: number; fence: string }>(
        "UPDATE s_relay_partitions SET owner = 'intruder', fence = fence + 1 WHERE owner = 'slow' RETURNING partition, fence",
      );
      expect(taken.rows.length).toBeGreaterThan(0);
      for (const row of taken.rows) await pool.query("INSERT INTO target_fences (partition, fence) VALUES ($1, $2) ON CONFLICT (partition) DO UPDATE SET fence = EXCLUDED.fence", [row.partition, row.fence]);
      release();
      const report = (await round)._unsafeUnwrap();
      expect(report.published, "nothing marked sent by the relay that lost the partition").toBe(0);
      expect(report.failed.map((f) => f.message)).toEqual([`fence ${seen[0]} refused`]);
      expect((await pool.query("SELECT count(*)::int AS n FROM published")).rows[0]).toEqual({ n: 0 });
      expect((await pool.query("SELECT count(*)::int AS n FROM s_outbox WHERE sent_at IS NULL")).rows[0]).toEqual({ n: 10 });

      // A target that does not check the token: the publish goes out, but the marking is fenced.
      await pool.query("UPDATE s_relay_partitions SET owner = NULL, lease_until = 0");
      await pool.query("TRUNCATE s_relay_members");
      let stolen = false;
      const unfenced = createPostgresRelay(pool, {
        tablePrefix: "s_",
        partitions: 4,
        leaseMs: 30_000,
        owner: "slow-2",
        publish: async () => {
          if (!stolen) {
            stolen = true;
            await pool.query("UPDATE s_relay_partitions SET owner = 'intruder', fence = fence + 1 WHERE owner = 'slow-2'");
          }
        },
      });
      const second = (await unfenced.runOnce())._unsafeUnwrap();
      expect(second).toMatchObject({ published: 0, fencedOff: 10 });
      expect((await pool.query("SELECT count(*)::int AS n FROM s_outbox WHERE sent_at IS NULL")).rows[0]).toEqual({ n: 10 });
    });

    it("refuses to start with another partition count than the outbox's relays", async () => {
      const relay = createPostgresRelay(pool, { tablePrefix: "s_", partitions: 5, publish: async () => undefined });
      const result = await relay.runOnce();
      expect(result.isErr() && result.error.message).toMatch(/partitions 5 does not match the 4 partitions of s_relay_partitions/);
    });
  });
});
