// One worker process of the PostgreSQL scaling runs (test/cluster/pg-scale.test.ts, bench/pg-scaling.ts).
//  inbox: processes its share of N events through the PostgreSQL inbox, the effect (a row in
//         `effects`) written in the inbox's transaction; every fifth event is also delivered to the
//         next worker, so that duplicates race between processes.
//  relay: runs the partitioned relay (createPostgresRelay) into the fenced target table
//         `published` until the outbox is empty; `publishDelayMs` slows each publish down.
// Config (JSON in SCALE_CONFIG): see `Config`. Protocol: pg-scale-harness.ts.
import { performance } from "node:perf_hooks";
import pg from "pg";
import { createInbox } from "../../src/index.js";
import { createPostgresRelay, createPostgresStore } from "../../src/postgres.js";
import { workOrderEvent } from "../fixtures.js";
import { readyAndWaitForGo } from "./pg-scale-harness.js";

interface Config {
  readonly mode: "inbox" | "relay";
  readonly pg: pg.PoolConfig;
  readonly tablePrefix: string;
  readonly name: string;
  readonly worker: number;
  readonly workers: number;
  /** Connections of this process's pool. */
  readonly poolSize: number;
  /** inbox: how many events in all, and deliveries in flight in this process. */
  readonly events?: number;
  readonly concurrency?: number;
  /** relay: partitions, lease, per-publish delay. */
  readonly partitions?: number;
  readonly leaseMs?: number;
  readonly publishDelayMs?: number;
  readonly batchSize?: number;
}

const config = JSON.parse(process.env["SCALE_CONFIG"] ?? "{}") as Config;
const pool = new pg.Pool({ ...config.pg, max: config.poolSize, application_name: config.name });
pool.on("error", () => undefined);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** When the parent said go (epoch ms), and this process's CPU time then. */
let goAt = 0;
let cpuAtGo: NodeJS.CpuUsage = process.cpuUsage();

async function inbox(): Promise<Record<string, number>> {
  const store = createPostgresStore(pool, { tablePrefix: config.tablePrefix });
  const inboxOf = createInbox(store, { leaseMs: 10_000, busyPollMs: 10 });
  const total = config.events ?? 0;
  const mine: number[] = [];
  for (let i = 0; i < total; i++) {
    if (i % config.workers === config.worker) mine.push(i);
    // Every fifth event is delivered to the next worker as well: a duplicate racing the original.
    else if (i % 5 === 0 && (i + 1) % config.workers === config.worker) mine.push(i);
  }
  const events = mine.map((i) => workOrderEvent(i));
  // Warm the pool before `go`, so connecting is not measured.
  await Promise.all(Array.from({ length: config.poolSize }, () => pool.query("SELECT 1")));
  goAt = await readyAndWaitForGo();
  cpuAtGo = process.cpuUsage();
  const counts: Record<string, number> = {};
  let next = 0;
  const lane = async (): Promise<void> => {
    for (;;) {
      const event = events[next++];
      if (event === undefined) return;
      for (;;) {
        const result = await inboxOf.process(event, async (e, { tx }) => void (await tx.query("INSERT INTO effects (event_id, worker) VALUES ($1, $2)", [e.id, config.worker])));
        const key = result.isErr() ? "store_failed" : result.value.outcome === "failed" ? result.value.code : result.value.outcome;
        counts[key] = (counts[key] ?? 0) + 1;
        if (result.isOk() && result.value.outcome !== "failed") break;
        await sleep(20);
      }
    }
  };
  await Promise.all(Array.from({ length: config.concurrency ?? 4 }, lane));
  return { deliveries: events.length, ...counts };
}

async function relay(): Promise<Record<string, number>> {
  let published = 0;
  let rejected = 0;
  const relayOf = createPostgresRelay(pool, {
    tablePrefix: config.tablePrefix,
    partitions: config.partitions ?? 16,
    leaseMs: config.leaseMs ?? 2000,
    batchSize: config.batchSize ?? 200,
    owner: config.name,
    publish: async (record, lease) => {
      if ((config.publishDelayMs ?? 0) > 0) await sleep(config.publishDelayMs ?? 0);
      // The target refuses a fencing token lower than the highest it has seen for the partition.
      const result = await pool.query(
        `WITH f AS (INSERT INTO target_fences (partition, fence) VALUES ($1, $2) ON CONFLICT (partition) DO UPDATE SET fence = EXCLUDED.fence
                    WHERE target_fences.fence <= EXCLUDED.fence RETURNING fence)
         INSERT INTO published (record_id, partition_key, seq, partition, fence, relay, at) SELECT $3, $4, $5, $1, $2, $6, $7 FROM f`,
        [lease.partition, lease.fence, record.id, record.partitionKey, record.seq, config.name, performance.timeOrigin + performance.now()],
      );
      if (result.rowCount !== 1) {
        rejected += 1;
        throw new Error(`the target refused fence ${lease.fence} of partition ${lease.partition}`);
      }
      if (++published % 100 === 0) process.stdout.write(`published ${published}\n`);
    },
  });
  await pool.query("SELECT 1");
  goAt = await readyAndWaitForGo();
  cpuAtGo = process.cpuUsage();
  const controller = new AbortController();
  const watch = setInterval(() => {
    void pool
      .query(`SELECT count(*)::int AS n FROM ${config.tablePrefix}outbox WHERE sent_at IS NULL`)
      .then((r) => {
        if ((r.rows[0] as { n: number }).n === 0) controller.abort();
      })
      .catch(() => undefined);
  }, 100);
  await relayOf.run({ signal: controller.signal, idleMs: 20 });
  clearInterval(watch);
  return { published, rejected };
}

const counts = config.mode === "inbox" ? await inbox() : await relay();
const cpu = process.cpuUsage(cpuAtGo);
process.stdout.write(`done ${JSON.stringify({ ...counts, cpuMs: Math.round((cpu.user + cpu.system) / 1000), startedAt: goAt, endedAt: Date.now() })}\n`);
await pool.end();
