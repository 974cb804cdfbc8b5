// @millwright/idempotency/postgres: the store over node-postgres (`pg`, an optional peer dependency).
import type { IdempotencyStore } from "./store.js";
import { createSqlStore, tablesFor, type Row, type SqlDriver, type SqlSession } from "./stores/sql.js";

/** The part of a `pg` client the store uses (`pg.PoolClient`, `pg.Client`). */
export interface PgQueryable {
  query(text: string, values?: unknown[]): Promise<{ readonly rows: unknown[]; readonly rowCount: number | null }>;
}

/** A client checked out of a pool. */
export interface PgPoolClient extends PgQueryable {
  release(destroy?: boolean | Error): void;
  /** The server process of this connection (`pg` sets it once connected). */
  readonly processID?: number | null;
  on(event: "error", listener: (error: Error) => void): unknown;
  removeListener(event: "error", listener: (error: Error) => void): unknown;
}

/** The part of a `pg.Pool` the store uses; pass the pool itself. */
export interface PgPool extends PgQueryable {
  connect(): Promise<PgPoolClient>;
  /** `pg.Pool` emits `connect` for each new client; the store listens to guard it (see below). */
  on?(event: "connect", listener: (client: PgPoolClient) => void): unknown;
}

/** How the PostgreSQL store is set up. */
export interface PostgresStoreOptions {
  /** Prefix of the store's tables (in the connection's search_path). Default `millwright_`. */
  readonly tablePrefix?: string;
}

// pg emits `error` on a client whose connection is cut; unlistened, it ends the process. The pool
// listens only while a client is idle, and stops as it hands a client out: when the server's FATAL
// message (pg_terminate_backend, a restart) is parsed from the same socket read that completed the
// checkout, it is emitted before the caller's `await pool.connect()` resumes, with nobody
// listening (seen in the fault test under load). So every client keeps one listener for life,
// attached when the pool creates it (its `connect` event) or, for clients created earlier, at
// checkout.
const guarded = new WeakSet<PgPoolClient>();
// Pools whose `connect` event is already listened to: one listener per pool, however many stores.
const watchedPools = new WeakSet<PgPool>();
const ignore = (): void => undefined;
function guard(client: PgPoolClient): PgPoolClient {
  if (!guarded.has(client)) {
    guarded.add(client);
    client.on("error", ignore);
  }
  return client;
}

/** A query on a client of the pool, checked out, guarded and released (destroyed when it failed). */
async function queryOnPool(pool: PgPool, text: string, values?: unknown[]): ReturnType<PgQueryable["query"]> {
  const client = guard(await pool.connect());
  try {
    const result = await client.query(text, values);
    client.release();
    return result;
  } catch (cause) {
    client.release(true);
    throw cause;
  }
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

function sessionOver(client: PgQueryable): SqlSession {
  return {
    all: async (sql, params) => (await client.query(sql, params as unknown[])).rows as Row[],
    run: async (sql, params) => (await client.query(sql, params as unknown[])).rowCount ?? 0,
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
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
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
    `);
    await client.query("COMMIT");
    client.release();
  } catch (cause) {
    client.release(true);
    throw cause;
  }
}

/**
 * Creates the store over a `pg.Pool`: for many processes and hosts. Run {@link migratePostgres}
 * once before. The handler's and `outbox.add`'s transaction is a pool client inside BEGIN.
 * Give the pool an `error` listener: pg emits one when an idle connection drops, and an
 * unlistened `error` event ends the process. An attempt abandoned at the end of its lease ends
 * its connection's server process (`pg_terminate_backend`), so its row locks go at once.
 *
 * @param pool - a `pg.Pool` (or anything with its `query` and `connect`)
 * @param options - table prefix
 * @returns the store
 * @example
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * pool.on("error", () => {}); // dropped idle connections are replaced on the next connect
 * await migratePostgres(pool);
 * const inbox = createInbox(createPostgresStore(pool));
 */
export function createPostgresStore(pool: PgPool, options: PostgresStoreOptions = {}): IdempotencyStore<PgPoolClient> {
  if (!watchedPools.has(pool)) {
    watchedPools.add(pool);
    pool.on?.("connect", guard);
  }
  const driver: SqlDriver<PgPoolClient> = {
    name: "postgres",
    session: sessionOver({ query: (text, values) => queryOnPool(pool, text, values) }),
    transaction: async (work) => {
      const client = guard(await pool.connect());
      let broken = false;
      // pg listens for errors only on idle clients: a connection cut while checked out would emit
      // an unhandled `error` and end the process. Listen, and destroy the client afterwards.
      const onError = (): void => void (broken = true);
      client.on("error", onError);
      try {
        await client.query("BEGIN");
        const outcome = await work(sessionOver(client), client);
        if (outcome.abandon === true && !outcome.commit) {
          // A handler may still be running a statement on this connection, and a ROLLBACK would
          // queue behind it. End the server process instead (the server rolls back and drops the
          // row locks at once, even mid-statement), then the connection, so that nothing the
          // handler sends later reaches the database.
          broken = true;
          await terminate(pool, client);
          return outcome.value;
        }
        await client.query(outcome.commit ? "COMMIT" : "ROLLBACK");
        return outcome.value;
      } catch (cause) {
        broken = true;
        await client.query("ROLLBACK").catch(() => undefined);
        throw cause;
      } finally {
        // A client that failed mid-transaction may be dead or in an unknown state: destroy it.
        client.removeListener("error", onError);
        client.release(broken);
      }
    },
    sessionOf: sessionOver,
    forUpdate: "FOR UPDATE",
    lockPartitions: true,
    inArray: (column, first, values) => ({ sql: `${column} = ANY($${first})`, params: [values] }),
  };
  return createSqlStore(driver, tablesFor(options.tablePrefix ?? "millwright_"));
}
