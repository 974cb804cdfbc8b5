// The scaled runs of the PostgreSQL inbox and partitioned relay, each in a database of its own,
// with what the peer holds afterwards: shared by test/cluster/pg-scale.test.ts (asserts) and
// bench/pg-scaling.ts (records the throughput curve).
import { join } from "node:path";
import pg from "pg";
import { migratePostgres } from "../../src/postgres.js";
import { createScaleDatabase, runScaled, type ScaleDatabase, type WaitSamples } from "./pg-scale-harness.js";

const WORKER = join(import.meta.dirname, "pg-scale-worker.ts");

/** What an inbox run measured and what the peer holds. */
export interface InboxScaleResult {
  readonly workers: number;
  readonly events: number;
  readonly deliveries: number;
  readonly wallMs: number;
  /** Distinct events given their effect per second. */
  readonly eventsPerSecond: number;
  readonly outcomes: Readonly<Record<string, number>>;
  /** CPU time of the worker processes during the run, summed, ms. */
  readonly clientCpuMs: number;
  /** Effects at the peer: rows, distinct event ids, and ids with more than one row. */
  readonly effects: { readonly rows: number; readonly distinct: number; readonly repeated: number };
  /** Inbox entries by status. */
  readonly statuses: Readonly<Record<string, number>>;
  readonly waits: WaitSamples;
}

async function withDatabase<T>(label: string, work: (db: ScaleDatabase, pool: pg.Pool) => Promise<T>): Promise<T> {
  const db = await createScaleDatabase(label);
  const pool = new pg.Pool({ ...db.config, max: 2 });
  pool.on("error", () => undefined);
  try {
    return await work(db, pool);
  } finally {
    await pool.end();
    await db.drop();
  }
}

/**
 * `workers` inbox processes share `events` events (every fifth delivered twice, to two processes).
 *
 * @param options - worker count, event count, deliveries in flight per process, pool size
 * @returns the measurement and the peer's state
 */
export function runInboxScale(options: { readonly workers: number; readonly events: number; readonly concurrency: number; readonly poolSize: number }): Promise<InboxScaleResult> {
  return withDatabase("inbox", async (db, pool) => {
    await migratePostgres(pool, "s_");
    await pool.query("CREATE TABLE effects (event_id text NOT NULL, worker integer NOT NULL)");
    const configs = Array.from({ length: options.workers }, (_, worker) => ({
      mode: "inbox",
      pg: db.config,
      tablePrefix: "s_",
      name: `scale-inbox-${worker}`,
      worker,
      workers: options.workers,
      poolSize: options.poolSize,
      events: options.events,
      concurrency: options.concurrency,
    }));
    const run = await runScaled<Record<string, number>>({ script: WORKER, configs, database: db.name, timeoutMs: 600_000 });
    const outcomes: Record<string, number> = {};
    for (const s of run.summaries) for (const [k, v] of Object.entries(s)) if (k !== "startedAt" && k !== "endedAt" && k !== "cpuMs") outcomes[k] = (outcomes[k] ?? 0) + v;
    const effects = (
      await pool.query<{ rows: number; distinct: number; repeated: number }>(
        `SELECT count(*)::int AS rows, count(DISTINCT event_id)::int AS distinct,
                (SELECT count(*)::int FROM (SELECT event_id FROM effects GROUP BY event_id HAVING count(*) > 1) x) AS repeated FROM effects`,
      )
    ).rows[0]!;
    const statuses = Object.fromEntries((await pool.query<{ status: string; n: number }>("SELECT status, count(*)::int AS n FROM s_inbox GROUP BY status")).rows.map((r) => [r.status, r.n]));
    return {
      workers: options.workers,
      events: options.events,
      deliveries: outcomes["deliveries"] ?? 0,
      wallMs: run.wallMs,
      eventsPerSecond: Math.round((options.events / run.wallMs) * 1000),
      outcomes,
      clientCpuMs: run.summaries.reduce((sum, s) => sum + (s["cpuMs"] ?? 0), 0),
      effects,
      statuses,
      waits: run.waits,
    };
  });
}

/** One delivery at the fenced target. */
export interface Delivery {
  readonly recordId: string;
  readonly partitionKey: string;
  readonly seq: number;
  readonly partition: number;
  readonly fence: number;
  readonly relay: string;
}

/** What a relay run measured and what the target holds. */
export interface RelayScaleResult {
  readonly relays: number;
  readonly records: number;
  readonly wallMs: number;
  /** Records published and marked sent per second, from `go` to the last mark. */
  readonly recordsPerSecond: number;
  readonly summaries: readonly Record<string, number>[];
  /** CPU time of the relay processes during the run, summed, ms. */
  readonly clientCpuMs: number;
  /** Every delivery at the target, in the order the target took them. */
  readonly deliveries: readonly Delivery[];
  readonly unsent: number;
  readonly waits: WaitSamples;
}

/** The target's tables: deliveries, and the highest fencing token seen per partition. */
export const TARGET_TABLES = `
  CREATE TABLE published (n bigserial PRIMARY KEY, record_id text NOT NULL, partition_key text NOT NULL, seq bigint NOT NULL, partition integer NOT NULL,
    fence bigint NOT NULL, relay text NOT NULL, at double precision NOT NULL);
  CREATE TABLE target_fences (partition integer PRIMARY KEY, fence bigint NOT NULL);
`;

/**
 * Fills the outbox of prefix `s_` with `records` records over `keys` partition keys, round robin,
 * in one statement (the rows `outbox.add` writes).
 *
 * @param pool - the database
 * @param records - how many
 * @param keys - how many partition keys
 * @returns when written
 */
export async function fillOutbox(pool: pg.Pool, records: number, keys: number): Promise<void> {
  await pool.query(
    `INSERT INTO s_outbox (id, source, event_id, partition_key, payload, created_at)
     SELECT 'rec-' || i, 'urn:millwright:bench', 'evt-' || i, 'order-' || (i % $2), '{"n":' || i || '}', 0 FROM generate_series(0, $1::int - 1) AS i ORDER BY i`,
    [records, keys],
  );
}

/**
 * `relays` partitioned relay processes empty an outbox of `records` records into the fenced target.
 *
 * @param options - relay count, records, keys, partitions, pool size
 * @returns the measurement and the target's deliveries
 */
export function runRelayScale(options: { readonly relays: number; readonly records: number; readonly keys: number; readonly partitions: number; readonly poolSize: number }): Promise<RelayScaleResult> {
  return withDatabase("relay", async (db, pool) => {
    await migratePostgres(pool, "s_");
    await pool.query(TARGET_TABLES);
    await fillOutbox(pool, options.records, options.keys);
    const configs = Array.from({ length: options.relays }, (_, worker) => ({
      mode: "relay",
      pg: db.config,
      tablePrefix: "s_",
      name: `scale-relay-${worker}`,
      worker,
      workers: options.relays,
      poolSize: options.poolSize,
      partitions: options.partitions,
      leaseMs: 5000,
    }));
    const run = await runScaled<Record<string, number>>({ script: WORKER, configs, database: db.name, timeoutMs: 600_000 });
    const last = (await pool.query<{ last: string }>("SELECT max(sent_at)::text AS last FROM s_outbox")).rows[0]!;
    const wallMs = Number(last.last) - Math.min(...run.summaries.map((s) => s.startedAt));
    return {
      relays: options.relays,
      records: options.records,
      wallMs,
      recordsPerSecond: Math.round((options.records / wallMs) * 1000),
      summaries: run.summaries,
      clientCpuMs: run.summaries.reduce((sum, s) => sum + (s["cpuMs"] ?? 0), 0),
      deliveries: await readDeliveries(pool),
      unsent: (await pool.query<{ n: number }>("SELECT count(*)::int AS n FROM s_outbox WHERE sent_at IS NULL")).rows[0]!.n,
      waits: run.waits,
    };
  });
}

/**
 * Every delivery at the target, in the target's order.
 *
 * @param pool - the database
 * @returns the deliveries
 */
export async function readDeliveries(pool: pg.Pool): Promise<Delivery[]> {
  const { rows } = await pool.query<{ record_id: string; partition_key: string; seq: string; partition: number; fence: string; relay: string }>(
    "SELECT record_id, partition_key, seq, partition, fence, relay FROM published ORDER BY n",
  );
  return rows.map((r) => ({ recordId: r.record_id, partitionKey: r.partition_key, seq: Number(r.seq), partition: r.partition, fence: Number(r.fence), relay: r.relay }));
}

/** What an order check of the target's deliveries found. */
export interface OrderCheck {
  /** Distinct records delivered. */
  readonly distinct: number;
  /** Deliveries beyond the first of each record. */
  readonly duplicates: number;
  /** Deliveries whose seq is not above the previous delivery's of the key under the same fencing token. */
  readonly outOfOrderWithinLease: number;
  /** Deliveries of a key under a lower token than an earlier delivery of the key (a fenced-out relay got through). */
  readonly fenceRegressions: number;
  /** First deliveries not in seq order per key. */
  readonly firstDeliveriesOutOfOrder: number;
  /** Duplicates whose first delivery was under the same token: a repeat the docs do not allow. */
  readonly duplicatesWithoutTakeover: number;
}

/**
 * Checks the order of the deliveries per partition key: under one lease (one fencing token) seq
 * only grows; tokens never go back; a record is delivered again only under a later token (the
 * successor republishing what its predecessor published and could not mark sent).
 *
 * @param deliveries - the target's deliveries in its order
 * @returns the counts (all but `distinct` and `duplicates` must be 0)
 */
export function checkOrder(deliveries: readonly Delivery[]): OrderCheck {
  const lastByKey = new Map<string, { seq: number; fence: number }>();
  const firstSeq = new Map<string, number>();
  const firstFence = new Map<string, number>();
  let duplicates = 0;
  let outOfOrderWithinLease = 0;
  let fenceRegressions = 0;
  let firstDeliveriesOutOfOrder = 0;
  let duplicatesWithoutTakeover = 0;
  for (const d of deliveries) {
    const last = lastByKey.get(d.partitionKey);
    if (last !== undefined) {
      if (d.fence < last.fence) fenceRegressions += 1;
      else if (d.fence === last.fence && d.seq <= last.seq) outOfOrderWithinLease += 1;
    }
    lastByKey.set(d.partitionKey, { seq: d.seq, fence: d.fence });
    const fence = firstFence.get(d.recordId);
    if (fence !== undefined) {
      duplicates += 1;
      if (d.fence <= fence) duplicatesWithoutTakeover += 1;
      continue;
    }
    firstFence.set(d.recordId, d.fence);
    if (d.seq <= (firstSeq.get(d.partitionKey) ?? -1)) firstDeliveriesOutOfOrder += 1;
    firstSeq.set(d.partitionKey, d.seq);
  }
  return { distinct: firstFence.size, duplicates, outOfOrderWithinLease, fenceRegressions, firstDeliveriesOutOfOrder, duplicatesWithoutTakeover };
}
