// The PostgreSQL outbox relay that scales out: the outbox's partition keys hash into a fixed number
// of partitions, and each relay process publishes only the partitions it holds a lease on. Public
// through `@millwright/idempotency/postgres`.
import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import { ResultAsync } from "neverthrow";
import { systemClock, timerSleep, type Clock, type Sleep } from "./clock.js";
import { describeValue, toStoreError, type StoreError } from "./errors.js";
import { withPgTransaction, type PgPool, type PgQueryable, usePgClient } from "./pg-pool.js";
import { backoffDelay, createRetryPolicy, type RetryPolicy } from "./retry.js";
import type { OutboxRecord } from "./store.js";
import { outboxRecordOf } from "./stores/sql.js";

/** What a partitioned relay tells its publisher about the lease it publishes under. */
export interface PartitionLease {
  /** The partition of the record: `hashtext(partitionKey)` mod the partition count, 0-based. */
  readonly partition: number;
  /**
   * The fencing token of the lease: it grows by one each time a relay takes the partition over.
   * A publish target that remembers the highest token per partition and refuses lower ones makes
   * a relay whose lease expired unable to publish after its successor.
   */
  readonly fence: number;
  /** Aborted when this relay's lease is about to end: stop the publish (a failed publish is not marked sent). */
  readonly signal: AbortSignal;
}

/** Publishes one record under a partition lease; resolving (or an ok Result) means the target has it. */
export type PartitionedPublisher = (record: OutboxRecord, lease: PartitionLease) => PromiseLike<unknown>;

/** How a partitioned relay behaves. */
export interface PostgresRelayOptions {
  /** Sends one record to the broker; gets the partition, the fencing token and an abort signal. */
  readonly publish: PartitionedPublisher;
  /** Prefix of the store's tables, as given to `migratePostgres`. Default `millwright_`. */
  readonly tablePrefix?: string;
  /**
   * How many partitions the partition keys hash into: the unit of ownership, and so the most
   * relays that can share the work. Every relay of one outbox must use the same number; a relay
   * given another one refuses to start (`runOnce` fails). Default 16.
   */
  readonly partitions?: number;
  /** Records read per round, over all partitions this relay holds. Default 200. */
  readonly batchSize?: number;
  /** Partition and membership lease. A crashed relay's partitions are taken over after it. Default 10 s. */
  readonly leaseMs?: number;
  /**
   * How long before the end of its lease (measured on this host's monotonic clock from the moment
   * the renewal was sent) a relay starts no more publishes and aborts the one in flight. Keep it
   * above the longest publish and the largest pause (GC, scheduling) you expect. Default leaseMs / 4.
   */
  readonly safetyMarginMs?: number;
  /** Backoff of a partition key whose publish failed; the relay never gives up on it. */
  readonly retry?: RetryPolicy;
  /** Identifies this relay in the lease tables. Default a random UUID. */
  readonly owner?: string;
  /** Wall clock of `sentAt` and of the backoff; leases use the server's clock and this host's monotonic one. */
  readonly clock?: Clock;
  /** Waits between rounds and after errors. */
  readonly sleep?: Sleep;
  /** Uniform numbers in [0, 1) for the backoff's jitter. */
  readonly random?: () => number;
}

/** What one round of a partitioned relay did. */
export interface PostgresRelayReport {
  /** The partitions this relay held during the round, ascending. */
  readonly owned: readonly number[];
  /** Records published and marked sent. */
  readonly published: number;
  /**
   * Records published whose marking was refused because the partition had meanwhile passed to
   * another relay (the lease ended): that relay publishes them again (at-least-once).
   */
  readonly fencedOff: number;
  /** Partition keys stopped by a failed publish this round; their later records wait. */
  readonly failed: readonly { readonly partitionKey: string; readonly id: string; readonly message: string }[];
}

/** A relay that publishes the partitions it holds, in order per partition key, fenced by lease. */
export interface PostgresRelay {
  /** One round: heartbeat, renew and balance the partition leases, read, publish in order, mark sent (fenced). */
  runOnce(): ResultAsync<PostgresRelayReport, StoreError>;
  /** Rounds until `signal` aborts, then gives its partitions up at once (no waiting for the lease). */
  run(options: { readonly signal: AbortSignal; readonly idleMs?: number }): Promise<void>;
}

const NOW_MS = "(extract(epoch from clock_timestamp()) * 1000)::bigint";

function isErrResult(value: unknown): value is { isErr(): true; error: unknown } {
  return typeof value === "object" && value !== null && "isErr" in value && typeof value.isErr === "function" && value.isErr() === true;
}

/**
 * The DDL of the partition leases and relay membership, run by `migratePostgres`.
 *
 * @param prefix - the store's table prefix
 * @returns the statements
 */
export function relayPartitionDdl(prefix: string): string {
  return `
    CREATE TABLE IF NOT EXISTS ${prefix}relay_partitions (partition integer PRIMARY KEY, owner text, lease_until bigint NOT NULL DEFAULT 0, fence bigint NOT NULL DEFAULT 0);
    CREATE TABLE IF NOT EXISTS ${prefix}relay_members (owner text PRIMARY KEY, lease_until bigint NOT NULL);
  `;
}

/**
 * The SQL expression of a record's partition: a stable hash of its partition key modulo the
 * partition count (`hashtext`, computed by the server, so every relay agrees).
 *
 * @param column - the partition key column
 * @param countParam - the placeholder of the partition count
 * @returns the expression
 */
function partitionOf(column: string, countParam: string): string {
  return `mod(hashtext(${column})::bigint + 2147483648, ${countParam})::integer`;
}

/**
 * Creates an outbox relay for PostgreSQL that runs in many processes at once. The partition keys
 * hash into `partitions` partitions; each relay leases a fair share of them
 * (`ceil(partitions / live relays)`), renews its leases every round and publishes only what it
 * holds, each partition key strictly in order. A crashed relay's partitions pass to the others
 * when its lease expires; each takeover increments the partition's fencing token, and marking
 * records sent is fenced by it, so a relay whose lease ended marks nothing and its successor
 * publishes those records again (at-least-once; consumers absorb repeats with the inbox). The
 * token is handed to the publisher too: a target that refuses lower tokens per partition makes
 * a late publish of the old owner impossible. Run `migratePostgres` before.
 *
 * @param pool - a `pg.Pool`
 * @param options - the publisher, table prefix, partition count and tuning
 * @returns the relay
 * @example
 * const relay = createPostgresRelay(pool, { publish: (record, { fence }) => broker.send(record.payload, { fence }) });
 * await relay.run({ signal: controller.signal });
 */
export function createPostgresRelay(pool: PgPool, options: PostgresRelayOptions): PostgresRelay {
  const prefix = options.tablePrefix ?? "millwright_";
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(prefix) && prefix !== "") throw new TypeError(`tablePrefix ${JSON.stringify(prefix)} is letters, digits and underscores`);
  const count = options.partitions ?? 16;
  if (!Number.isInteger(count) || count < 1 || count > 65_536) throw new RangeError(`partitions ${String(count)} is an integer from 1 to 65536`);
  const batchSize = options.batchSize ?? 200;
  const leaseMs = options.leaseMs ?? 10_000;
  const marginMs = options.safetyMarginMs ?? Math.floor(leaseMs / 4);
  if (!(marginMs >= 0 && marginMs < leaseMs)) throw new RangeError(`safetyMarginMs ${String(marginMs)} is at least 0 and less than leaseMs ${String(leaseMs)}`);
  const retry = options.retry ?? createRetryPolicy({ baseDelayMs: 100, maxDelayMs: 10_000 });
  const owner = options.owner ?? randomUUID();
  const clock = options.clock ?? systemClock;
  const sleep = options.sleep ?? timerSleep;
  const random = options.random ?? Math.random;
  const partitions = `${prefix}relay_partitions`;
  const members = `${prefix}relay_members`;
  const outbox = `${prefix}outbox`;
  /** Partition → fencing token of the leases this relay holds. */
  const held = new Map<number, number>();
  const backoff = new Map<string, { failures: number; until: number }>();
  let prepared = false;

  const query = (text: string, values: unknown[]) => usePgClient(pool, (client) => client.query(text, values));

  async function prepare(): Promise<void> {
    await withPgTransaction(pool, "BEGIN", async (client: PgQueryable) => {
      await client.query("SELECT pg_advisory_xact_lock(hashtext($1))", [`millwright-relay-partitions:${prefix}`]);
      const existing = Number(((await client.query(`SELECT count(*)::int AS n FROM ${partitions}`)).rows[0] as { n: number }).n);
      if (existing === 0) await client.query(`INSERT INTO ${partitions} (partition) SELECT generate_series(0, $1::int - 1)`, [count]);
      else if (existing !== count) {
        throw new Error(`partitions ${count} does not match the ${existing} partitions of ${partitions}; every relay of one outbox must use the same count (stop them all to change it)`);
      }
    });
    prepared = true;
  }

  /** Heartbeat, renew (fenced), give up surplus, take free or expired partitions. Returns the local deadline. */
  async function lease(): Promise<number> {
    const sentAt = performance.now();
    const live = await query(
      `WITH beat AS (INSERT INTO ${members} (owner, lease_until) VALUES ($1, ${NOW_MS} + $2) ON CONFLICT (owner) DO UPDATE SET lease_until = EXCLUDED.lease_until)
       SELECT count(*)::int AS n FROM ${members} WHERE lease_until > ${NOW_MS} AND owner <> $1`,
      [owner, leaseMs],
    );
    const relays = 1 + Number((live.rows[0] as { n: number }).n);
    const share = Math.ceil(count / relays);
    const mine = [...held.entries()];
    held.clear();
    if (mine.length > 0) {
      const renewed = await query(
        `UPDATE ${partitions} AS p SET lease_until = ${NOW_MS} + $3 FROM unnest($1::int[], $2::bigint[]) AS u(partition, fence)
         WHERE p.partition = u.partition AND p.fence = u.fence AND p.owner = $4 RETURNING p.partition, p.fence`,
        [mine.map(([p]) => p), mine.map(([, f]) => f), leaseMs, owner],
      );
      for (const row of renewed.rows as { partition: number; fence: string }[]) held.set(row.partition, Number(row.fence));
    }
    if (held.size > share) {
      // Give the highest-numbered surplus back so that a newly started relay gets its share now.
      const surplus = [...held.keys()].sort((a, b) => a - b).slice(share);
      await query(`UPDATE ${partitions} SET owner = NULL, lease_until = 0 WHERE partition = ANY($1::int[]) AND owner = $2`, [surplus, owner]);
      for (const p of surplus) held.delete(p);
    } else if (held.size < share) {
      const taken = await query(
        `UPDATE ${partitions} AS p SET owner = $1, lease_until = ${NOW_MS} + $2, fence = p.fence + 1
         FROM (SELECT partition FROM ${partitions} WHERE lease_until <= ${NOW_MS} ORDER BY partition LIMIT $3 FOR UPDATE SKIP LOCKED) AS free
         WHERE p.partition = free.partition RETURNING p.partition, p.fence`,
        [owner, leaseMs, share - held.size],
      );
      for (const row of taken.rows as { partition: number; fence: string }[]) held.set(row.partition, Number(row.fence));
    }
    return sentAt + leaseMs - marginMs;
  }

  async function publishKey(records: readonly (OutboxRecord & { readonly partition: number })[], deadline: number, signal: AbortSignal, failed: PostgresRelayReport["failed"][number][]): Promise<(OutboxRecord & { readonly partition: number })[]> {
    const sent: (OutboxRecord & { readonly partition: number })[] = [];
    for (const record of records) {
      const fence = held.get(record.partition);
      if (fence === undefined || performance.now() >= deadline) break;
      let problem: string | undefined;
      try {
        const value = await options.publish(record, { partition: record.partition, fence, signal });
        if (isErrResult(value)) problem = typeof value.error === "object" && value.error !== null && "message" in value.error ? describeValue(value.error.message) : describeValue(value.error);
      } catch (cause) {
        problem = describeValue(cause);
      }
      // A publish that settled late still counts: the fenced marking decides whether it stays sent
      // (the lease held) or is published again by the relay that took the partition over.
      if (problem !== undefined) {
        const b = backoff.get(record.partitionKey) ?? { failures: 0, until: 0 };
        b.failures += 1;
        b.until = clock.now() + backoffDelay(retry, b.failures, random);
        backoff.set(record.partitionKey, b);
        failed.push({ partitionKey: record.partitionKey, id: record.id, message: problem });
        break;
      }
      backoff.delete(record.partitionKey);
      sent.push(record);
    }
    return sent;
  }

  async function round(): Promise<PostgresRelayReport> {
    if (!prepared) await prepare();
    const deadline = await lease();
    const owned = [...held.keys()].sort((a, b) => a - b);
    if (owned.length === 0) return { owned, published: 0, fencedOff: 0, failed: [] };
    const rows = await query(
      `SELECT seq, id, source, event_id, partition_key, payload, created_at, ${partitionOf("partition_key", "$1")} AS partition
       FROM ${outbox} WHERE sent_at IS NULL AND ${partitionOf("partition_key", "$1")} = ANY($2::int[]) ORDER BY seq LIMIT $3`,
      [count, owned, batchSize],
    );
    const byKey = new Map<string, (OutboxRecord & { readonly partition: number })[]>();
    const now = clock.now();
    for (const row of rows.rows as Record<string, unknown>[]) {
      const record = { ...outboxRecordOf(row), partition: Number(row["partition"]) };
      const b = backoff.get(record.partitionKey);
      if (b !== undefined && b.until > now) continue;
      let list = byKey.get(record.partitionKey);
      if (list === undefined) byKey.set(record.partitionKey, (list = []));
      list.push(record);
    }
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), Math.max(0, deadline - performance.now()));
    const failed: PostgresRelayReport["failed"][number][] = [];
    let sent: (OutboxRecord & { readonly partition: number })[];
    try {
      sent = (await Promise.all([...byKey.values()].map((list) => publishKey(list, deadline, controller.signal, failed)))).flat();
    } finally {
      clearTimeout(timer);
    }
    let marked = 0;
    if (sent.length > 0) {
      // Fenced: only rows of partitions this relay still holds with the same token are marked.
      const result = await query(
        `UPDATE ${outbox} AS o SET sent_at = $1 FROM unnest($2::text[], $3::int[], $4::bigint[]) AS u(id, partition, fence), ${partitions} AS p
         WHERE o.id = u.id AND p.partition = u.partition AND p.fence = u.fence AND p.owner = $5`,
        [clock.now(), sent.map((r) => r.id), sent.map((r) => r.partition), sent.map((r) => held.get(r.partition) ?? -1), owner],
      );
      marked = result.rowCount ?? 0;
    }
    return { owned, published: marked, fencedOff: sent.length - marked, failed };
  }

  const runOnce = (): ResultAsync<PostgresRelayReport, StoreError> => ResultAsync.fromPromise(round(), toStoreError("outbox.relay"));

  return {
    runOnce,
    run: async ({ signal, idleMs = 200 }) => {
      let failures = 0;
      while (!signal.aborted) {
        const report = await runOnce();
        if (report.isErr()) {
          failures += 1;
          await sleep(backoffDelay(retry, failures, random) + 1);
          continue;
        }
        failures = 0;
        if (report.value.published === 0) await sleep(idleMs);
      }
      const mine = [...held.keys()];
      held.clear();
      await query(`UPDATE ${partitions} SET owner = NULL, lease_until = 0 WHERE partition = ANY($1::int[]) AND owner = $2`, [mine, owner]).catch(() => undefined);
      await query(`DELETE FROM ${members} WHERE owner = $1`, [owner]).catch(() => undefined);
    },
  };
}
