// Exactly-once through a Redis Cluster failover. A primary is SIGKILLed while events flow through
// the inbox; its replica is promoted; every event is delivered again (as a broker does after the
// consumer reconnects); effects are counted at the peers: an external effect in PostgreSQL (a row
// per application, written by the handler before the commit) and a Redis effect queued on the
// commit's transaction. What the tests measure is logged as one `redis-failover` JSON line per trial.
import pg from "pg";
import { createCluster } from "redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createInbox, inboxKey, type IdempotencyStore } from "../../src/index.js";
import { createRedisClusterStore, type RedisStoreOptions, type RedisTransaction } from "../../src/redis.js";
import { workOrderEvent } from "../fixtures.js";
import { createTestDatabase, pgSettings, uniqueSuffix } from "../services.js";
import { keySlot, startRedisCluster, type RedisClusterHarness } from "./redis-cluster-harness.js";

type Event = ReturnType<typeof workOrderEvent>;
const newCluster = (ports: number[]) =>
  createCluster({ rootNodes: ports.map((port) => ({ url: `redis://127.0.0.1:${port}` })), defaults: { socket: { connectTimeout: 1000, reconnectStrategy: () => 100 } } });
type Cluster = ReturnType<typeof newCluster>;

let harness: RedisClusterHarness;
let cluster: Cluster;
let database: Awaited<ReturnType<typeof createTestDatabase>>;
let pool: pg.Pool;

beforeAll(async () => {
  database = await createTestDatabase();
  pool = new pg.Pool({ ...pgSettings, database: database.name, max: 16 });
  pool.on("error", () => undefined);
  await pool.query("CREATE TABLE effects (trial text NOT NULL, event_id text NOT NULL)");
  harness = await startRedisCluster();
  cluster = newCluster(harness.nodes.map((n) => n.port));
  cluster.on("error", () => undefined);
  await cluster.connect();
}, 60_000);

afterAll(async () => {
  cluster?.destroy();
  await harness?.stop();
  await pool?.end();
  await database?.drop();
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs `work` over the items with `width` workers at a time. */
async function pooled<T>(items: readonly T[], width: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) {
        const i = next++;
        await work(items[i]!, i);
      }
    }),
  );
}

interface Trial {
  readonly name: string;
  readonly events: number;
  /**
   * Stalls the victim's replica (SIGSTOP) and drops its replication link this many ms before the
   * kill: the primary goes on acknowledging writes no replica has. The replica resumes (SIGCONT)
   * right after the kill and takes over.
   */
  readonly stallMs?: number;
  readonly replicaAcks?: RedisStoreOptions["replicaAcks"];
}

interface TrialReport {
  readonly trial: string;
  readonly events: number;
  readonly victim: number;
  readonly promoted: number;
  readonly failoverMs: number;
  /** First-pass deliveries the inbox answered `processed`. */
  readonly acknowledged: number;
  /** First-pass deliveries that ended in a StoreError (the broker would not ack them). */
  readonly unacknowledged: number;
  /** Acknowledged `processed` entries missing after the failover: writes the promoted replica never had. */
  readonly lostAcknowledged: number;
  /** Longest time from a lost acknowledgement to the kill, ms. */
  readonly windowMs: number;
  /** Events whose PostgreSQL effect was applied twice, of them acknowledged on the first pass. */
  readonly duplicatedEffects: number;
  readonly duplicatedAcknowledged: number;
  /** Events acknowledged `processed` on the first pass whose handler ran again on redelivery: the exactly-once misses the failover caused. */
  readonly reappliedAfterAck: number;
  /** Events whose handler ran more than once within the first pass (a commit stuck on the dead primary outlived the lease; the inbox retried). */
  readonly retriedInFirstPass: number;
  readonly missingEffects: number;
  readonly redisEffectsNotOnce: number;
  /** When each phase ended, ms from the start. */
  readonly phases: readonly string[];
}

/** Waits until the victim's replica says ROLE master and sees the victim as failed; the ms it took. */
async function promotion(replica: number, victimId: string, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const role = await harness.cli(replica, "ROLE").catch(() => "");
    const rows = await harness.clusterNodes(replica).catch(() => []);
    const self = rows.find((r) => r.flags.includes("myself"));
    if (role.startsWith("master") && self?.flags.includes("master") === true && self.slots.length > 0 && rows.find((r) => r.id === victimId)?.flags.includes("fail") === true) return;
    if (Date.now() > end) throw new Error(`the replica on ${replica} was not promoted within ${timeoutMs} ms`);
    await sleep(50);
  }
}

async function runTrial(trial: Trial): Promise<TrialReport> {
  await harness.waitHealthy(30_000);
  const prefix = `mw:${trial.name}:`;
  const store: IdempotencyStore<RedisTransaction> = createRedisClusterStore(cluster, { keyPrefix: prefix, ...(trial.replicaAcks === undefined ? {} : { replicaAcks: trial.replicaAcks }) });
  // Event slots: no revision guard (see docs/clusters/redis.md); a short lease, so redelivery takes over a claim whose commit was lost.
  const inbox = createInbox<RedisTransaction, Event>(store, { entityKey: () => undefined, leaseMs: 2000, busyPollMs: 50 });
  const events = Array.from({ length: trial.events }, (_, i) => workOrderEvent(100_000 * (trial.name.length + 1) + i));
  // Handler runs per event in each pass: a run in the redelivery pass for an event acknowledged in the first is a second effect.
  const runs = [new Map<string, number>(), new Map<string, number>()];
  let pass = 0;
  const handler = async (e: Event, { tx }: { tx: RedisTransaction }): Promise<void> => {
    runs[pass]!.set(e.id, (runs[pass]!.get(e.id) ?? 0) + 1);
    await pool.query("INSERT INTO effects (trial, event_id) VALUES ($1, $2)", [trial.name, e.id]);
    tx.call("INCR", `${prefix}n:${tx.hashTag}`);
  };

  // The victim: the primary of the first event's slot; its replica is the one that must take over.
  const rows = await harness.clusterNodes();
  const victim = await harness.primaryOfSlot(keySlot(`{${inboxKey(events[0]!.source, events[0]!.id)}}`));
  const victimId = rows.find((r) => r.port === victim)!.id;
  const replica = rows.find((r) => r.primaryId === victimId)!;

  const ackedAt = new Map<number, number>();
  const started = Date.now();
  const phases: string[] = [];
  const log = (what: string): void => {
    phases.push(`${what} ${Date.now() - started}`);
    console.log(`redis-failover ${trial.name}: ${what} at ${Date.now() - started} ms`);
  };
  let failoverMs = 0;
  let unacknowledged = 0;
  let killedAt = 0;
  let killing: Promise<void> | undefined;
  await pooled(events, 32, async (e, i) => {
    const outcome = await inbox.process(e, handler);
    if (outcome.isOk() && outcome.value.outcome === "processed") ackedAt.set(i, Date.now());
    else unacknowledged += 1;
    if (killing === undefined && ackedAt.size >= trial.events / 2) {
      killing = (async () => {
        if (trial.stallMs !== undefined) {
          harness.freeze(replica.port, true);
          await harness.cli(victim, "CLIENT", "KILL", "TYPE", "replica");
          log("stalled the replica");
          await sleep(trial.stallMs);
        }
        killedAt = Date.now();
        await harness.kill(victim);
        if (trial.stallMs !== undefined) harness.freeze(replica.port, false);
        log(`killed ${victim}`);
        await promotion(replica.port, victimId, 30_000);
        failoverMs = Date.now() - killedAt;
        log(`promoted ${replica.port}`);
        // Operations restore the node: it rejoins as a replica of its successor (and drops what it
        // had), so the shard has a replica again, as WAIT needs, and the next trial has 3 + 3.
        await harness.restart(victim);
        const end = Date.now() + 30_000;
        while (!(await harness.cli(victim, "INFO", "replication")).includes("master_link_status:up")) {
          if (Date.now() > end) throw new Error(`the restarted ${victim} did not sync as a replica`);
          await sleep(100);
        }
        log(`restarted ${victim} as a replica`);
      })();
      killing.catch(() => undefined); // awaited below; this only keeps an early failure from being "unhandled"
    }
  });
  log("first pass");
  await killing;
  expect(killedAt, "the victim was killed mid-run").toBeGreaterThan(0);
  const promoted = replica.port;
  expect((await harness.clusterNodes(promoted)).find((r) => r.port === victim)?.primaryId, "the old primary follows the promoted replica").toBe((await harness.clusterNodes(promoted)).find((r) => r.flags.includes("myself"))?.id);
  await harness.waitHealthy(30_000);

  // Before anything is delivered again: which acknowledged entries did the failover lose?
  const lost: number[] = [];
  await pooled([...ackedAt.keys()], 32, async (i) => {
    const e = events[i]!;
    for (;;) {
      try {
        const status = await store.inboxStatus(inboxKey(e.source, e.id));
        if (status?.status !== "processed") lost.push(i);
        return;
      } catch {
        await sleep(100); // the client is still learning the new slot map
      }
    }
  });

  log("checked");
  // At-least-once delivery: everything again, until every delivery has an answer.
  pass = 1;
  await pooled(events, 32, async (e) => {
    for (let attempt = 0; ; attempt++) {
      const outcome = await inbox.process(e, handler);
      if (outcome.isOk() && (outcome.value.outcome === "processed" || outcome.value.outcome === "duplicate")) return;
      if (attempt > 100) throw new Error(`event ${e.id} never settled: ${JSON.stringify(outcome.isOk() ? outcome.value : outcome.error)}`);
      await sleep(100);
    }
  });

  log("redelivered");
  const counts = new Map((await pool.query("SELECT event_id, count(*)::int AS n FROM effects WHERE trial = $1 GROUP BY event_id", [trial.name])).rows.map((r: { event_id: string; n: number }) => [r.event_id, r.n]));
  let duplicatedEffects = 0;
  let duplicatedAcknowledged = 0;
  let missingEffects = 0;
  events.forEach((e, i) => {
    const n = counts.get(e.id) ?? 0;
    if (n === 0) missingEffects += 1;
    if (n > 1) {
      duplicatedEffects += 1;
      if (ackedAt.has(i)) duplicatedAcknowledged += 1;
    }
  });
  const reappliedAfterAck = [...ackedAt.keys()].filter((i) => runs[1]!.has(events[i]!.id)).length;
  const retriedInFirstPass = [...runs[0]!.values()].filter((n) => n > 1).length;
  let redisEffectsNotOnce = 0;
  await pooled(events, 32, async (e) => {
    const key = `${prefix}n:{${inboxKey(e.source, e.id)}}`;
    if (Number(await cluster.sendCommand(key, false, ["GET", key])) !== 1) redisEffectsNotOnce += 1;
  });
  const report: TrialReport = {
    trial: trial.name,
    events: trial.events,
    victim,
    promoted,
    failoverMs,
    acknowledged: ackedAt.size,
    unacknowledged,
    lostAcknowledged: lost.length,
    windowMs: lost.length === 0 ? 0 : Math.max(...lost.map((i) => killedAt - ackedAt.get(i)!)),
    duplicatedEffects,
    duplicatedAcknowledged,
    reappliedAfterAck,
    retriedInFirstPass,
    missingEffects,
    redisEffectsNotOnce,
    phases,
  };
  console.log(`redis-failover ${JSON.stringify(report)}`);

  // Whatever happened, nothing is lost and the effect in Redis (atomic with "processed") is once.
  expect(missingEffects).toBe(0);
  expect(redisEffectsNotOnce).toBe(0);
  // An acknowledged event runs again on redelivery exactly when the failover lost its "processed".
  expect(reappliedAfterAck).toBe(lost.length);

  return report;
}

describe("Redis Cluster: a primary killed mid-run (event slots, 3 primaries + 3 replicas)", () => {
  it("a plain SIGKILL: a replica is promoted; redelivery applies every Redis effect once; external duplicates only where an acknowledgement was lost", async () => {
    const report = await runTrial({ name: "plain", events: 5000 });
    expect(report.acknowledged).toBeGreaterThanOrEqual(2500);
    expect(report.lostAcknowledged, "measured, not assumed: see docs/clusters/redis.md").toBeGreaterThanOrEqual(0);
  }, 120_000);

  it("a replica stalled and cut off 300 ms before the SIGKILL: acknowledged writes are lost, and those events' external effects apply twice", async () => {
    const report = await runTrial({ name: "stall", events: 3000, stallMs: 300 });
    expect(report.lostAcknowledged, "the promoted replica lacks writes the old primary acknowledged").toBeGreaterThan(0);
    expect(report.reappliedAfterAck).toBe(report.lostAcknowledged);
  }, 120_000);

  it("replicaAcks (WAIT 1 100): the same stall and SIGKILL lose no acknowledged write", async () => {
    const report = await runTrial({ name: "wait", events: 2000, stallMs: 300, replicaAcks: { replicas: 1, timeoutMs: 100 } });
    expect(report.lostAcknowledged).toBe(0);
    expect(report.reappliedAfterAck).toBe(0);
  }, 120_000);
});
