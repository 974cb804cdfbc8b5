// @millwright/idempotency/postgres: the store over node-postgres (`pg`, an optional peer dependency).
import { createHash } from "node:crypto";
import type { IdempotencyStore } from "./store.js";
import { createSqlStore, tablesFor, type Row, type SqlDriver, type SqlSession } from "./stores/sql.js";
import { guardPgPool, usePgClient, withPgTransaction, type PgPool, type PgPoolClient, type PgQueryable } from "./pg-pool.js";
import { relayPartitionDdl } from "./pg-relay.js";

export { guardPgPool, usePgClient, withPgTransaction, type PgPool, type PgPoolClient, type PgQueryable } from "./pg-pool.js";
export {
  createPostgresRelay,
  type PartitionLease,
  type PartitionedPublisher,
  type PostgresRelay,
  type PostgresRelayOptions,
  type PostgresRelayReport,
} from "./pg-relay.js";

/** How the PostgreSQL store is set up. */
export interface PostgresStoreOptions {
  /** Prefix of the store's tables (in the connection's search_path). Default `millwright_`. */
  readonly tablePrefix?: string;
}

/** A query on a client of the pool, checked out, guarded and released (destroyed when it failed). */
function queryOnPool(pool: PgPool, text: string, values?: unknown[]): ReturnType<PgQueryable["query"]> {
  return usePgClient(pool, (client) => prepare(client, text, values ?? []));
}

/**
 * Ends the server process of a checked-out client from another connection of the pool, while
 * the client's own connection is still open (so the process id cannot belong to anyone else yet).
 * Best effort: when no other connection is to be had in time, destroying the client ends the
 * transaction once the server notices the closed socket.
 */
async function terminate(pool: PgPool, client: PgPoolClient): Promise<void> {
  const pid = client.processID;
  if (typeof pid !== "number") return;
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    queryOnPool(pool, "SELECT pg_terminate_backend($1)", [pid]).catch(() => undefined),
    new Promise((resolve) => (timer = setTimeout(resolve, 5000))),
  ]);
  clearTimeout(timer);
}

// Statement names by text: each connection parses a statement once and then only binds it.
const names = new Map<string, string>();

function nameOf(text: string): string {
  let name = names.get(text);
  if (name === undefined) names.set(text, (name = `millwright_${createHash("sha1").update(text).digest("hex").slice(0, 24)}`));
  return name;
}

/** A query as a named (prepared) statement where the client takes query configs (`pg`); as text otherwise. */
function prepare(client: PgQueryable, text: string, values: unknown[]): ReturnType<PgQueryable["query"]> {
  if (values.length === 0 || typeof (client as { connection?: unknown }).connection !== "object") return client.query(text, values);
  return (client as unknown as { query(config: { name: string; text: string; values: unknown[] }): ReturnType<PgQueryable["query"]> }).query({ name: nameOf(text), text, values });
}

function sessionOver(client: PgQueryable): SqlSession {
  return {
    all: async (sql, params) => (await prepare(client, sql, params as unknown[])).rows as Row[],
    run: async (sql, params) => (await prepare(client, sql, params as unknown[])).rowCount ?? 0,
  };
}

/**
 * Creates the tables of the PostgreSQL store if they are missing. Safe to run from many
 * processes at once (an advisory lock serializes it).
 *
 * @param pool - a `pg.Pool`
 * @param tablePrefix - the prefix of the table names
 * @returns a promise that rejects when the database does
 * @example
 * await migratePostgres(pool);
 */
export async function migratePostgres(pool: PgPool, tablePrefix = "millwright_"): Promise<void> {
  const t = tablesFor(tablePrefix);
  await withPgTransaction(pool, "BEGIN", async (client) => {
    await client.query("SELECT pg_advisory_xact_lock(hashtext($1))", [`millwright-idempotency:${tablePrefix}`]);
    await client.query(`
      CREATE TABLE IF NOT EXISTS ${t.inbox} (key text PRIMARY KEY, source text NOT NULL, event_id text NOT NULL, status text NOT NULL, token text,
        lease_until bigint NOT NULL, attempts integer NOT NULL, errors text NOT NULL, first_seen bigint NOT NULL);
      CREATE TABLE IF NOT EXISTS ${t.revisions} (entity_key text PRIMARY KEY, revision text NOT NULL, fingerprint text NOT NULL);
      CREATE TABLE IF NOT EXISTS ${t.deadLetters} (id text PRIMARY KEY, kind text NOT NULL, source text, event_id text, payload text NOT NULL,
        errors text NOT NULL, attempts integer NOT NULL, first_seen bigint NOT NULL, last_seen bigint NOT NULL);
      CREATE INDEX IF NOT EXISTS ${t.deadLetters}_first_seen ON ${t.deadLetters} (first_seen, id);
      CREATE TABLE IF NOT EXISTS ${t.outbox} (seq bigserial PRIMARY KEY, id text NOT NULL UNIQUE, source text NOT NULL, event_id text NOT NULL,
        partition_key text NOT NULL, payload text NOT NULL, created_at bigint NOT NULL, sent_at bigint);
      CREATE INDEX IF NOT EXISTS ${t.outbox}_unsent ON ${t.outbox} (seq) WHERE sent_at IS NULL;
      CREATE TABLE IF NOT EXISTS ${t.partitions} (partition_key text PRIMARY KEY);
      CREATE TABLE IF NOT EXISTS ${t.relayLease} (name text PRIMARY KEY, owner text NOT NULL, lease_until bigint NOT NULL);
      ${relayPartitionDdl(tablePrefix)}
    `);
  });
}

/**
 * Creates the store over a `pg.Pool`: for many processes and hosts. Run {@link migratePostgres}
 * once before. The handler's and `outbox.add`'s transaction is a pool client inside BEGIN.
 * Give the pool an `error` listener: pg emits one when an idle connection drops, and an
 * unlistened `error` event ends the process. An attempt abandoned at the end of its lease ends
 * its connection's server process (`pg_terminate_backend`), so its row locks go at once.
 *
 * @param pool - a `pg.Pool` (or anything with its `connect`)
 * @param options - table prefix
 * @returns the store
 * @example
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * pool.on("error", () => {}); // dropped idle connections are replaced on the next connect
 * await migratePostgres(pool);
 * const inbox = createInbox(createPostgresStore(pool));
 */
export function createPostgresStore(pool: PgPool, options: PostgresStoreOptions = {}): IdempotencyStore<PgPoolClient> {
  guardPgPool(pool);
  const driver: SqlDriver<PgPoolClient> = {
    name: "postgres",
    session: sessionOver({ query: (text, values) => queryOnPool(pool, text, values) }),
    transaction: (work) =>
      // The client is destroyed afterwards when anything failed or the connection was cut while it was out.
      usePgClient(pool, async (client, discard) => {
        try {
          await client.query("BEGIN");
          const outcome = await work(sessionOver(client), () => client);
          if (outcome.abandon === true && !outcome.commit) {
            // A handler may still be running a statement on this connection, and a ROLLBACK would
            // queue behind it. End the server process instead (the server rolls back and drops the
            // row locks at once, even mid-statement), then the connection, so that nothing the
            // handler sends later reaches the database.
            discard();
            await terminate(pool, client);
            return outcome.value;
          }
          await client.query(outcome.commit ? "COMMIT" : "ROLLBACK");
          return outcome.value;
        } catch (cause) {
          await client.query("ROLLBACK").catch(() => undefined);
          throw cause;
        }
      }),
    sessionOf: sessionOver,
    claimStatement: true,
    forUpdate: "FOR UPDATE",
    lockPartitions: true,
    inArray: (column, first, values) => ({ sql: `${column} = ANY($${first})`, params: [values] }),
  };
  return createSqlStore(driver, tablesFor(options.tablePrefix ?? "millwright_"));
}
