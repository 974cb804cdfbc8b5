// @millwright/workflows/postgres: the workflow store for several worker processes and hosts, over
// node-postgres (`pg`, an optional peer dependency) through @millwright/idempotency/postgres.
import { guardPgPool, usePgClient, withPgTransaction, type PgPool, type PgQueryable } from "@millwright/idempotency/postgres";
import type {
  AppendOutcome,
  Claim,
  InstanceFilter,
  InstanceRecord,
  InstanceSnapshot,
  InstanceUpdate,
  Lease,
  NewInstance,
  PendingSignal,
  SignalOutcome,
  StoredEvent,
  WorkflowDeadLetter,
  WorkflowStore,
} from "./store.js";
import { FINISHED_SQL, isFinishedState } from "./store.js";
import type { HistoryEntry, HistoryEntryInput, InstanceState, JsonValue } from "./types.js";

export { guardPgPool, type PgPool } from "@millwright/idempotency/postgres";

/** How the PostgreSQL workflow store is set up. */
export interface PostgresWorkflowStoreOptions {
  /** Prefix of the store's tables (in the connection's search_path). Default `millwright_wf_`. */
  readonly tablePrefix?: string;
}

const PREFIX_PATTERN = /^[a-z_][a-z0-9_]{0,40}$/;

function checkPrefix(where: string, tablePrefix: string): string {
  if (!PREFIX_PATTERN.test(tablePrefix)) {
    throw new TypeError(`${where}: tablePrefix is ${JSON.stringify(tablePrefix)}: a prefix is [a-z_][a-z0-9_]*, at most 41 characters`);
  }
  return tablePrefix;
}

interface InstanceRow {
  id: string;
  workflow: string;
  version: number;
  key: string;
  input: string;
  state: string;
  output: string | null;
  failure: string | null;
  trace: string | null;
  wake_at: string | number | null;
  woken_at: string | number | null;
  deadline_at: string | number | null;
  waiting_for: string;
  lease_owner: string | null;
  lease_until: string | number;
  lease_token: string | number;
  created_at: string | number;
  updated_at: string | number;
}

// bigint columns arrive as strings from pg: every time is ms since the epoch, well inside 2^53.
const num = (value: string | number): number => Number(value);
const numOrNull = (value: string | number | null): number | null => (value === null ? null : Number(value));

function toRecord(row: InstanceRow): InstanceRecord {
  return {
    id: row.id,
    workflow: row.workflow,
    version: Number(row.version),
    key: row.key,
    input: JSON.parse(row.input) as JsonValue,
    state: row.state as InstanceState,
    ...(row.output === null ? {} : { output: JSON.parse(row.output) as JsonValue }),
    ...(row.failure === null ? {} : { failure: JSON.parse(row.failure) as InstanceRecord["failure"] & object }),
    ...(row.trace === null ? {} : { trace: JSON.parse(row.trace) as InstanceRecord["trace"] & object }),
    wakeAt: numOrNull(row.wake_at),
    wokenAt: numOrNull(row.woken_at),
    deadlineAt: numOrNull(row.deadline_at),
    waitingFor: JSON.parse(row.waiting_for) as string[],
    leaseOwner: row.lease_owner,
    leaseUntil: num(row.lease_until),
    leaseToken: num(row.lease_token),
    createdAt: num(row.created_at),
    updatedAt: num(row.updated_at),
  };
}

/**
 * Creates the tables of the PostgreSQL workflow store if they are missing. Run it once before
 * {@link createPostgresWorkflowStore} (a deployment step, not something every worker does at
 * start); safe to run from many processes at once (an advisory lock serializes it).
 *
 * @param pool - a `pg.Pool`
 * @param tablePrefix - the prefix of the table names, `[a-z_][a-z0-9_]*` (default `millwright_wf_`)
 * @returns a promise that rejects when the database does; throws a TypeError for an invalid prefix
 * @example
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * await migrateWorkflowPostgres(pool);
 */
export async function migrateWorkflowPostgres(pool: PgPool, tablePrefix = "millwright_wf_"): Promise<void> {
  const p = checkPrefix("migrateWorkflowPostgres", tablePrefix);
  guardPgPool(pool);
  await withPgTransaction(pool, "BEGIN", async (client) => {
    await client.query("SELECT pg_advisory_xact_lock(hashtext($1))", [`millwright-workflows:${p}`]);
    await client.query(`
      CREATE TABLE IF NOT EXISTS ${p}instances (id text PRIMARY KEY, workflow text NOT NULL, version integer NOT NULL, key text NOT NULL,
        input text NOT NULL, state text NOT NULL, output text, failure text, trace text, wake_at bigint, woken_at bigint, deadline_at bigint,
        waiting_for text NOT NULL DEFAULT '[]', lease_owner text, lease_until bigint NOT NULL DEFAULT 0, lease_token bigint NOT NULL DEFAULT 0,
        last_seq integer NOT NULL DEFAULT 0, created_at bigint NOT NULL, updated_at bigint NOT NULL);
      CREATE INDEX IF NOT EXISTS ${p}instances_wake ON ${p}instances (wake_at, id) WHERE wake_at IS NOT NULL;
      CREATE INDEX IF NOT EXISTS ${p}instances_created ON ${p}instances (created_at DESC, id);
      CREATE INDEX IF NOT EXISTS ${p}instances_state ON ${p}instances (state);
      CREATE TABLE IF NOT EXISTS ${p}history (instance_id text NOT NULL, seq integer NOT NULL, entry text NOT NULL, PRIMARY KEY (instance_id, seq));
      CREATE TABLE IF NOT EXISTS ${p}signals (seq bigserial PRIMARY KEY, instance_id text NOT NULL, name text NOT NULL, payload text NOT NULL, delivered_at bigint NOT NULL);
      CREATE INDEX IF NOT EXISTS ${p}signals_instance ON ${p}signals (instance_id, seq);
      CREATE TABLE IF NOT EXISTS ${p}events (seq bigserial PRIMARY KEY, source text NOT NULL, id text NOT NULL, type text NOT NULL,
        event text NOT NULL, received_at bigint NOT NULL, UNIQUE (source, id));
      CREATE INDEX IF NOT EXISTS ${p}events_type ON ${p}events (type, received_at);
      CREATE TABLE IF NOT EXISTS ${p}waits (event_type text NOT NULL, instance_id text NOT NULL, PRIMARY KEY (event_type, instance_id));
      CREATE INDEX IF NOT EXISTS ${p}waits_instance ON ${p}waits (instance_id);
      CREATE TABLE IF NOT EXISTS ${p}dead_letters (instance_id text PRIMARY KEY, at bigint NOT NULL, letter text NOT NULL);
    `);
  });
}

/**
 * Creates the workflow store over a `pg.Pool`: for several worker processes and hosts on one
 * database. Run {@link migrateWorkflowPostgres} once before. Claims take due rows with
 * `FOR UPDATE SKIP LOCKED`, so concurrent workers never claim the same instance and never wait
 * for each other; every write of a worker is fenced by its lease (owner and token), so a worker
 * whose lease expired and was taken over writes nothing. Timers are an indexed `wake_at` column.
 * Give the pool an `error` listener: pg emits one when an idle connection drops.
 *
 * @param pool - a `pg.Pool` (or anything with its `connect`)
 * @param options - table prefix
 * @returns the store
 * @example
 * import pg from "pg";
 * import { createPostgresWorkflowStore, migrateWorkflowPostgres } from "@millwright/workflows/postgres";
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * pool.on("error", () => {}); // dropped idle connections are replaced on the next connect
 * await migrateWorkflowPostgres(pool);
 * const store = createPostgresWorkflowStore(pool);
 */
export function createPostgresWorkflowStore(pool: PgPool, options: PostgresWorkflowStoreOptions = {}): WorkflowStore {
  const p = checkPrefix("createPostgresWorkflowStore", options.tablePrefix ?? "millwright_wf_");
  guardPgPool(pool);
  const query = <T>(text: string, values?: unknown[]): Promise<T[]> =>
    usePgClient(pool, async (client) => (await client.query(text, values)).rows as T[]);
  const json = (value: unknown): string => JSON.stringify(value);
  // Serializes `deliverEvent` of a type with the writes that start waiting for it (see there).
  const eventLock = (type: string): string => `millwright-workflows:${p}:event:${type}`;

  // The fenced update of the instance with its history entries, as one statement: the UPDATE
  // matches only while the lease holds, and the INSERT of the entries reads its seq from it.
  async function fencedWrite(client: PgQueryable, lease: Lease, entries: readonly HistoryEntryInput[], update: InstanceUpdate, now: number): Promise<number | undefined> {
    const values: unknown[] = [lease.instanceId, lease.workerId, lease.token, now, entries.length, entries.map(json)];
    const param = (value: unknown): string => `$${values.push(value)}`;
    const sets = ["updated_at = $4", "last_seq = last_seq + $5"];
    if (update.state !== undefined) sets.push(`state = ${param(update.state)}`);
    if (update.wakeAt !== undefined) {
      // A signal or event that arrived during the lease (woken_at) keeps an unfinished instance due.
      const state = update.state === undefined ? "state" : `${param(update.state)}::text`;
      const wake = param(update.wakeAt);
      sets.push(`wake_at = CASE WHEN ${state} IN ${FINISHED_SQL} OR woken_at IS NULL THEN ${wake}::bigint ELSE LEAST(COALESCE(${wake}::bigint, woken_at), woken_at) END`);
    }
    if (update.waitingFor !== undefined) sets.push(`waiting_for = ${param(json(update.waitingFor))}`);
    if (update.output !== undefined) sets.push(`output = ${param(json(update.output))}`);
    if (update.failure !== undefined) sets.push(`failure = ${param(update.failure === null ? null : json(update.failure))}`);
    if (update.release === true) sets.push("lease_owner = NULL", "lease_until = 0");
    const { rows } = await client.query(
      `WITH u AS (UPDATE ${p}instances SET ${sets.join(", ")} WHERE id = $1 AND lease_owner = $2 AND lease_token = $3 RETURNING last_seq),
            h AS (INSERT INTO ${p}history (instance_id, seq, entry)
                  SELECT $1, u.last_seq - $5 + e.ord, e.entry FROM u, unnest($6::text[]) WITH ORDINALITY AS e(entry, ord))
       SELECT last_seq FROM u`,
      values,
    );
    const row = rows[0] as { last_seq: number } | undefined;
    return row === undefined ? undefined : Number(row.last_seq);
  }

  async function leaseLost(instanceId: string): Promise<AppendOutcome> {
    const rows = await query<{ lease_owner: string | null }>(`SELECT lease_owner FROM ${p}instances WHERE id = $1`, [instanceId]);
    return { ok: false, code: "lease_lost", owner: rows[0]?.lease_owner ?? null };
  }

  return {
    async createInstance(input: NewInstance) {
      const started: HistoryEntryInput = { type: "started", at: input.now, version: input.version, input: input.input, ...(input.trace === undefined ? {} : { trace: input.trace }) };
      const created = await query<InstanceRow>(
        `WITH i AS (INSERT INTO ${p}instances (id, workflow, version, key, input, state, trace, wake_at, deadline_at, waiting_for, last_seq, created_at, updated_at, lease_owner, lease_until, lease_token)
                    VALUES ($1, $2, $3, $4, $5, 'running', $6, $7, $8, '[]', 1, $7, $7, $10, $11, $12) ON CONFLICT (id) DO NOTHING RETURNING *),
              h AS (INSERT INTO ${p}history (instance_id, seq, entry) SELECT id, 1, $9 FROM i)
         SELECT * FROM i`,
        [
          input.id,
          input.workflow,
          input.version,
          input.key,
          json(input.input),
          input.trace === undefined ? null : json(input.trace),
          input.now,
          input.deadlineAt,
          json(started),
          input.lease?.workerId ?? null,
          input.lease?.until ?? 0,
          input.lease === undefined ? 0 : 1,
        ],
      );
      if (created[0] !== undefined) {
        const instance = toRecord(created[0]);
        if (input.lease === undefined) return { instance, created: true };
        return { instance, created: true, lease: { instanceId: instance.id, workerId: input.lease.workerId, token: 1, until: input.lease.until } };
      }
      const existing = await query<InstanceRow>(`SELECT * FROM ${p}instances WHERE id = $1`, [input.id]);
      if (existing[0] === undefined) throw new Error(`createInstance: instance ${input.id} neither inserted nor found (deleted concurrently)`);
      return { instance: toRecord(existing[0]), created: false };
    },

    async claimDue({ workerId, now, leaseMs, limit }) {
      const rows = await query<InstanceRow & { previous_owner: string | null }>(
        `WITH due AS (SELECT id, lease_owner AS previous_owner FROM ${p}instances
                      WHERE wake_at IS NOT NULL AND wake_at <= $1 AND (lease_owner IS NULL OR lease_until <= $1)
                      ORDER BY wake_at, id LIMIT $3 FOR UPDATE SKIP LOCKED)
         UPDATE ${p}instances i SET lease_owner = $2, lease_until = $4, lease_token = i.lease_token + 1, woken_at = NULL
         FROM due WHERE i.id = due.id RETURNING i.*, due.previous_owner`,
        [now, workerId, Math.max(0, Math.floor(limit)), now + leaseMs],
      );
      return rows
        .map((row): Claim => {
          const instance = toRecord(row);
          return { lease: { instanceId: instance.id, workerId, token: instance.leaseToken, until: instance.leaseUntil }, instance, recovered: row.previous_owner !== null };
        })
        .sort((a, b) => (a.instance.wakeAt ?? 0) - (b.instance.wakeAt ?? 0) || (a.instance.id < b.instance.id ? -1 : a.instance.id > b.instance.id ? 1 : 0));
    },

    async renewLease(lease: Lease, now, leaseMs) {
      const rows = await query(`UPDATE ${p}instances SET lease_until = $1 WHERE id = $2 AND lease_owner = $3 AND lease_token = $4 RETURNING id`, [
        now + leaseMs,
        lease.instanceId,
        lease.workerId,
        lease.token,
      ]);
      return rows.length === 1 ? { ...lease, until: now + leaseMs } : undefined;
    },

    async appendHistory(lease, entries, update: InstanceUpdate, now): Promise<AppendOutcome> {
      const simple = update.waitingFor === undefined && (update.consumedSignals ?? []).length === 0 && update.deadLetter === undefined;
      if (simple) {
        // One statement: the common case (a step's record, a release) costs one round trip.
        const lastSeq = await usePgClient(pool, (client) => fencedWrite(client, lease, entries, update, now));
        return lastSeq === undefined ? leaseLost(lease.instanceId) : { ok: true, lastSeq };
      }
      const lastSeq = await withPgTransaction(pool, "BEGIN", async (client) => {
        if (update.waitingFor !== undefined) {
          // Shared per-type locks, taken before the row lock and in one order: a concurrent
          // deliverEvent of the type either committed before (and the runtime's next eventsFor
          // sees its event) or runs after this commits (and sees these waits).
          for (const type of [...new Set(update.waitingFor)].sort()) await client.query("SELECT pg_advisory_xact_lock_shared(hashtext($1))", [eventLock(type)]);
        }
        const seq = await fencedWrite(client, lease, entries, update, now);
        if (seq === undefined) return undefined;
        const seen = Object.entries(update.eventsSeen ?? {});
        if (seen.length > 0) {
          // An event that arrived after the run read the events, before this write (its
          // deliverEvent committed before the shared lock above was granted): due now.
          await client.query(
            `UPDATE ${p}instances i SET wake_at = LEAST(COALESCE(i.wake_at, $2::bigint), $2::bigint)
              WHERE i.id = $1 AND i.state NOT IN ${FINISHED_SQL}
                AND EXISTS (SELECT 1 FROM unnest($3::text[], $4::bigint[]) AS s(type, seen)
                            JOIN ${p}events e ON e.type = s.type AND e.seq > s.seen
                            WHERE e.received_at >= i.created_at)`,
            [lease.instanceId, now, seen.map(([type]) => type), seen.map(([, seq]) => seq)],
          );
        }
        if (update.waitingFor !== undefined) {
          await client.query(`DELETE FROM ${p}waits WHERE instance_id = $1`, [lease.instanceId]);
          const types = [...new Set(update.waitingFor)];
          if (types.length > 0) await client.query(`INSERT INTO ${p}waits (event_type, instance_id) SELECT t, $1 FROM unnest($2::text[]) AS t`, [lease.instanceId, types]);
        }
        const consumed = update.consumedSignals ?? [];
        if (consumed.length > 0) await client.query(`DELETE FROM ${p}signals WHERE instance_id = $1 AND seq = ANY($2::bigint[])`, [lease.instanceId, consumed]);
        if (update.deadLetter === null) await client.query(`DELETE FROM ${p}dead_letters WHERE instance_id = $1`, [lease.instanceId]);
        else if (update.deadLetter !== undefined) {
          await client.query(
            `INSERT INTO ${p}dead_letters (instance_id, at, letter) VALUES ($1, $2, $3) ON CONFLICT (instance_id) DO UPDATE SET at = EXCLUDED.at, letter = EXCLUDED.letter`,
            [lease.instanceId, update.deadLetter.at, json(update.deadLetter)],
          );
        }
        return seq;
      });
      return lastSeq === undefined ? leaseLost(lease.instanceId) : { ok: true, lastSeq };
    },

    async load(instanceId): Promise<InstanceSnapshot | undefined> {
      // One snapshot for the three reads: the history matches the instance row.
      return withPgTransaction(pool, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", async (client) => {
        const row = (await client.query(`SELECT * FROM ${p}instances WHERE id = $1`, [instanceId])).rows[0] as InstanceRow | undefined;
        if (row === undefined) return undefined;
        const history = ((await client.query(`SELECT seq, entry FROM ${p}history WHERE instance_id = $1 ORDER BY seq`, [instanceId])).rows as { seq: number; entry: string }[]).map(
          (h) => ({ ...(JSON.parse(h.entry) as HistoryEntryInput), seq: Number(h.seq) }) as HistoryEntry,
        );
        const signals = (
          (await client.query(`SELECT seq, name, payload, delivered_at FROM ${p}signals WHERE instance_id = $1 ORDER BY seq`, [instanceId])).rows as {
            seq: string;
            name: string;
            payload: string;
            delivered_at: string;
          }[]
        ).map((s): PendingSignal => ({ seq: Number(s.seq), instanceId, name: s.name, payload: JSON.parse(s.payload) as JsonValue, deliveredAt: Number(s.delivered_at) }));
        return { instance: toRecord(row), history, signals };
      });
    },

    async list(filter: InstanceFilter = {}) {
      const where: string[] = [];
      const values: unknown[] = [];
      if (filter.state !== undefined) where.push(`state = $${values.push(filter.state)}`);
      if (filter.workflow !== undefined) where.push(`workflow = $${values.push(filter.workflow)}`);
      const clause = where.length === 0 ? "" : `WHERE ${where.join(" AND ")}`;
      const rows = await query<InstanceRow>(`SELECT * FROM ${p}instances ${clause} ORDER BY created_at DESC, id LIMIT $${values.push(filter.limit ?? 100)}`, values);
      return rows.map(toRecord);
    },

    async countByState() {
      const counts: Partial<Record<InstanceState, number>> = {};
      for (const row of await query<{ state: InstanceState; n: string }>(`SELECT state, COUNT(*) AS n FROM ${p}instances GROUP BY state`)) counts[row.state] = Number(row.n);
      return counts;
    },

    async deliverSignal({ instanceId, name, payload }, now): Promise<SignalOutcome> {
      return withPgTransaction(pool, "BEGIN", async (client): Promise<SignalOutcome> => {
        const row = (await client.query(`SELECT state FROM ${p}instances WHERE id = $1 FOR UPDATE`, [instanceId])).rows[0] as { state: string } | undefined;
        if (row === undefined) return "not_found";
        const finished = isFinishedState(row.state);
        if (finished && !(row.state === "failed" && name === "$retry")) return "finished";
        await client.query(`INSERT INTO ${p}signals (instance_id, name, payload, delivered_at) VALUES ($1, $2, $3, $4)`, [instanceId, name, json(payload), now]);
        await client.query(`UPDATE ${p}instances SET wake_at = LEAST(COALESCE(wake_at, $2), $2), woken_at = LEAST(COALESCE(woken_at, $2), $2) WHERE id = $1`, [instanceId, now]);
        return "delivered";
      });
    },

    async deliverEvent(event: { readonly source: string; readonly id: string; readonly type: string; readonly event: JsonValue }, now) {
      return withPgTransaction(pool, "BEGIN", async (client) => {
        await client.query("SELECT pg_advisory_xact_lock(hashtext($1))", [eventLock(event.type)]);
        const stored = await client.query(
          `INSERT INTO ${p}events (source, id, type, event, received_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (source, id) DO NOTHING RETURNING seq`,
          [event.source, event.id, event.type, json(event.event), now],
        );
        if (stored.rows.length === 0) return { stored: false, woken: 0 };
        const woken = await client.query(
          `UPDATE ${p}instances SET wake_at = LEAST(COALESCE(wake_at, $1), $1), woken_at = LEAST(COALESCE(woken_at, $1), $1)
           WHERE id IN (SELECT instance_id FROM ${p}waits WHERE event_type = $2) AND state NOT IN ${FINISHED_SQL}`,
          [now, event.type],
        );
        return { stored: true, woken: woken.rowCount ?? 0 };
      });
    },

    async eventsFor(instanceId, type) {
      const rows = await query<{ seq: string; source: string; id: string; type: string; event: string; received_at: string }>(
        `SELECT e.seq, e.source, e.id, e.type, e.event, e.received_at FROM ${p}events e JOIN ${p}instances i ON i.id = $1
         WHERE e.type = $2 AND e.received_at >= i.created_at ORDER BY e.seq`,
        [instanceId, type],
      );
      return rows.map((e): StoredEvent => ({ seq: Number(e.seq), source: e.source, id: e.id, type: e.type, event: JSON.parse(e.event) as JsonValue, receivedAt: Number(e.received_at) }));
    },

    async pruneEvents(before) {
      const rows = await query<{ n: string }>(
        `WITH gone AS (DELETE FROM ${p}events WHERE received_at < LEAST($1::bigint, (SELECT MIN(created_at) FROM ${p}instances WHERE state NOT IN ${FINISHED_SQL})) RETURNING 1)
         SELECT COUNT(*) AS n FROM gone`,
        [before],
      );
      return Number(rows[0]?.n ?? 0);
    },

    async deadLetters(limit = 100) {
      const rows = await query<{ letter: string }>(`SELECT letter FROM ${p}dead_letters ORDER BY at, instance_id LIMIT $1`, [limit]);
      return rows.map((r) => JSON.parse(r.letter) as WorkflowDeadLetter);
    },
  };
}
