// @millwright/alignment/postgres: durable alignment state in PostgreSQL over node-postgres (`pg`,
// an optional peer dependency).
import { guardPgPool, withPgTransaction, type PgPool } from "@millwright/idempotency/postgres";
import { err, ok, type Result } from "neverthrow";
import { backendTables, parseSnapshot, serializeKeyState, storeClosed, toStoreFailed, type AlignmentBackend, type AlignmentChanges, type AlignmentSnapshot, type AlignmentStoreError } from "./durable.js";

export type { PgPool, PgPoolClient, PgQueryable } from "@millwright/idempotency/postgres";

/** How the PostgreSQL backend is set up. */
export interface PostgresBackendOptions {
  /** Prefix of the backend's tables (in the connection's search_path): letters, digits and `_`. Default `millwright_alignment_`. */
  readonly tablePrefix?: string;
  /** Create the tables on the first `load` when they are missing (needs the right to create tables). Default true. */
  readonly migrate?: boolean;
}

/** Rows per statement: a batch of any size goes in a few array-valued statements, not one per key. */
const CHUNK = 5_000;

function ddl(tablePrefix: string): string {
  const t = backendTables("migratePostgresBackend", tablePrefix);
  // `json`, not `jsonb`: the state is read back whole, and json keeps its text as written.
  // Closing times are `double precision`: any JS number the engine was given round-trips exactly.
  return `
    CREATE TABLE IF NOT EXISTS ${t.states} (rule text NOT NULL, key text NOT NULL, state json NOT NULL, PRIMARY KEY (rule, key));
    CREATE TABLE IF NOT EXISTS ${t.tombstones} (rule text NOT NULL, key text NOT NULL, closed_at_ms double precision NOT NULL, PRIMARY KEY (rule, key));
    CREATE INDEX IF NOT EXISTS ${t.tombstones}_closed_at ON ${t.tombstones} (closed_at_ms);
  `;
}

async function migrate(pool: PgPool, tablePrefix: string): Promise<void> {
  const sql = ddl(tablePrefix);
  await withPgTransaction(pool, "BEGIN", async (client) => {
    // Concurrent CREATE TABLE IF NOT EXISTS can still collide in the catalog: one at a time.
    await client.query("SELECT pg_advisory_xact_lock(hashtext($1))", [`millwright-alignment:${tablePrefix}`]);
    await client.query(sql);
  });
}

/**
 * Creates the backend's tables if they are missing; running it again, or from many processes at
 * once, changes nothing (an advisory lock serializes it).
 *
 * @param pool - a `pg.Pool`
 * @param options - the table prefix (default `millwright_alignment_`)
 * @returns nothing, or why the database refused
 * @example
 * const migrated = await migratePostgresBackend(pool, { tablePrefix: "plant1710_alignment_" });
 */
export async function migratePostgresBackend(pool: PgPool, options: { readonly tablePrefix?: string } = {}): Promise<Result<void, AlignmentStoreError>> {
  const prefix = options.tablePrefix ?? "millwright_alignment_";
  backendTables("migratePostgresBackend", prefix);
  try {
    await migrate(pool, prefix);
    return ok(undefined);
  } catch (cause) {
    return err(toStoreFailed("postgres.migrate")(cause));
  }
}

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}

/**
 * Creates the durable alignment backend over a `pg.Pool`. Its first `load` creates the tables
 * unless `migrate: false` (then run {@link migratePostgresBackend} beforehand). Each `apply` is
 * one transaction on one pooled client with a handful of array-valued statements, whatever the
 * size of the batch. Give the pool an `error` listener: pg emits one when an idle connection
 * drops, and an unlistened `error` event ends the process. The pool stays the caller's to end.
 *
 * @param pool - a `pg.Pool` (or anything with its `connect`)
 * @param options - table prefix, migration
 * @returns the backend, for `openDurableStore`
 * @example
 * import pg from "pg";
 * import { openDurableStore } from "@millwright/alignment";
 * import { createPostgresBackend } from "@millwright/alignment/postgres";
 *
 * const pool = new pg.Pool({ connectionString: process.env["DATABASE_URL"] });
 * pool.on("error", () => {}); // dropped idle connections are replaced on the next connect
 * const opened = await openDurableStore(createPostgresBackend(pool));
 */
export function createPostgresBackend(pool: PgPool, options: PostgresBackendOptions = {}): AlignmentBackend {
  const prefix = options.tablePrefix ?? "millwright_alignment_";
  const t = backendTables("createPostgresBackend", prefix);
  guardPgPool(pool);
  let closed = false;
  let migrated = !(options.migrate ?? true);
  const inFlight = new Set<Promise<unknown>>();
  const track = <T>(work: Promise<T>): Promise<T> => {
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work)).catch(() => undefined);
    return work;
  };
  // PostgreSQL text cannot hold NUL: the key columns get U+FFFD instead (the state's JSON keeps the exact key).
  const text = (s: string): string => (s.includes("\u0000") ? s.replaceAll("\u0000", "\ufffd") : s);
  const pairs = (rows: readonly { readonly rule: string; readonly key: string }[]): [string[], string[]] => [rows.map((r) => text(r.rule)), rows.map((r) => text(r.key))];
  const sql = {
    purge: `DELETE FROM ${t.tombstones} WHERE closed_at_ms < $1`,
    // The states travel as one JSON array (json_array_elements keeps each element's text as is):
    // about half the time of a text[] of JSON strings, whose every quote would be escaped twice.
    upsertStates: `INSERT INTO ${t.states} (rule, key, state)
      SELECT u.rule, u.key, e.state FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS u(rule, key, n)
      JOIN json_array_elements($3::json) WITH ORDINALITY AS e(state, n) USING (n)
      ON CONFLICT (rule, key) DO UPDATE SET state = EXCLUDED.state`,
    deleteStates: `DELETE FROM ${t.states} AS s USING unnest($1::text[], $2::text[]) AS u(rule, key) WHERE s.rule = u.rule AND s.key = u.key`,
    upsertTombstones: `INSERT INTO ${t.tombstones} (rule, key, closed_at_ms) SELECT * FROM unnest($1::text[], $2::text[], $3::float8[])
      ON CONFLICT (rule, key) DO UPDATE SET closed_at_ms = EXCLUDED.closed_at_ms`,
    deleteTombstones: `DELETE FROM ${t.tombstones} AS s USING unnest($1::text[], $2::text[]) AS u(rule, key) WHERE s.rule = u.rule AND s.key = u.key`,
    states: `SELECT rule, key, state::text AS state FROM ${t.states}`,
    tombstones: `SELECT rule, key, closed_at_ms FROM ${t.tombstones}`,
  };

  const load = async (): Promise<Result<AlignmentSnapshot, AlignmentStoreError>> => {
    const operation = "postgres.load";
    let rows: { states: unknown[]; tombstones: unknown[] };
    try {
      if (!migrated) {
        await migrate(pool, prefix);
        migrated = true;
      }
      // One snapshot for both tables.
      rows = await withPgTransaction(pool, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", async (client) => {
        const states = (await client.query(sql.states)).rows;
        const tombstones = (await client.query(sql.tombstones)).rows;
        return { states, tombstones };
      });
    } catch (cause) {
      return err(toStoreFailed(operation)(cause));
    }
    return parseSnapshot({ operation, states: rows.states, tombstones: rows.tombstones });
  };

  const apply = async (changes: AlignmentChanges): Promise<Result<void, AlignmentStoreError>> => {
    const operation = "postgres.apply";
    const { upserts, closes, drops } = changes;
    // Serialize before taking a connection: a state JSON.stringify cannot write fails nothing on the server.
    let texts: string[];
    try {
      texts = upserts.map(serializeKeyState);
    } catch (cause) {
      return err(toStoreFailed(operation)(cause));
    }
    try {
      await withPgTransaction(pool, "BEGIN", async (client) => {
        if (changes.purgeBeforeMs !== undefined) await client.query(sql.purge, [changes.purgeBeforeMs]);
        for (let i = 0; i < upserts.length; i += CHUNK) {
          const part = upserts.slice(i, i + CHUNK);
          const [rules, keys] = pairs(part);
          await client.query(sql.upsertStates, [rules, keys, `[${texts.slice(i, i + CHUNK).join(",")}]`]);
        }
        // The keys whose tombstone goes (upserts, drops) and whose state goes (closes, drops).
        for (const part of chunks([...upserts, ...drops])) await client.query(sql.deleteTombstones, pairs(part));
        for (const part of chunks([...closes, ...drops])) await client.query(sql.deleteStates, pairs(part));
        for (const part of chunks(closes)) await client.query(sql.upsertTombstones, [...pairs(part), part.map((c) => c.closedAtMs)]);
      });
      return ok(undefined);
    } catch (cause) {
      const failed = toStoreFailed(operation)(cause);
      return err({ ...failed, message: `${failed.message} (batch of ${upserts.length} upserts, ${closes.length} closes, ${drops.length} drops; nothing was written)` });
    }
  };

  return {
    load: () => (closed ? Promise.resolve(err(storeClosed("postgres.load"))) : track(load())),
    apply: (changes) => (closed ? Promise.resolve(err(storeClosed("postgres.apply"))) : track(apply(changes))),
    close: async () => {
      closed = true;
      await Promise.allSettled([...inFlight]);
    },
  };
}
