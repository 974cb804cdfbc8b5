// The one node-postgres layer of Millwright: the pool shape every PostgreSQL store takes, and the
// checkout that keeps a pooled client from ending the process. Public through
// `@millwright/idempotency/postgres`.

/** The part of a `pg` client the stores use (`pg.PoolClient`, `pg.Client`). */
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

/** The part of a `pg.Pool` the stores use; pass the pool itself. */
export interface PgPool {
  connect(): Promise<PgPoolClient>;
  /** `pg.Pool` emits `connect` for each new client; {@link guardPgPool} listens to guard it. */
  on?(event: "connect", listener: (client: PgPoolClient) => void): unknown;
}

// pg emits `error` on a client whose connection is cut; unlistened, it ends the process. The pool
// listens only while a client is idle, and stops as it hands a client out: when the server's FATAL
// message (pg_terminate_backend, a restart) is parsed from the same socket read that completed the
// checkout, it is emitted before the caller's `await pool.connect()` resumes, with nobody
// listening. So every client keeps one listener for life, attached when the pool creates it (its
// `connect` event) or, for clients created earlier, at checkout.
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

/**
 * Guards every client the pool creates from now on against an unlistened `error` event (one
 * listener per pool, however often it is called). Clients created earlier are guarded when
 * {@link usePgClient} checks them out.
 *
 * @param pool - a `pg.Pool`
 * @returns the pool
 * @example
 * guardPgPool(pool);
 */
export function guardPgPool<TPool extends PgPool>(pool: TPool): TPool {
  if (!watchedPools.has(pool)) {
    watchedPools.add(pool);
    pool.on?.("connect", guard);
  }
  return pool;
}

/**
 * Runs `work` on one client checked out of the pool and releases it afterwards. The client is
 * guarded against `error` events, and destroyed instead of returned to the pool when `work`
 * throws, when its connection fails while it is out, or when `work` calls `discard`: a client in
 * an unknown state is never reused.
 *
 * @param pool - a `pg.Pool`
 * @param work - what to do with the client; `discard` marks it for destruction
 * @returns what `work` returns; rejects as `work` or the checkout does
 * @example
 * const { rows } = await usePgClient(pool, (client) => client.query("SELECT 1 AS one"));
 */
export async function usePgClient<T>(pool: PgPool, work: (client: PgPoolClient, discard: () => void) => Promise<T>): Promise<T> {
  const client = guard(await pool.connect());
  let broken = false;
  const onError = (): void => void (broken = true);
  client.on("error", onError);
  try {
    return await work(client, onError);
  } catch (cause) {
    broken = true;
    throw cause;
  } finally {
    client.removeListener("error", onError);
    client.release(broken);
  }
}

/**
 * Runs `work` inside one transaction on one client of the pool ({@link usePgClient}): `begin`,
 * then `work`, then COMMIT; ROLLBACK (and the client destroyed) when anything fails.
 *
 * @param pool - a `pg.Pool`
 * @param begin - the statement that opens the transaction, such as `BEGIN` or `BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY`
 * @param work - the statements of the transaction, one at a time (pg 8 deprecates overlapping queries on one client)
 * @returns what `work` returns, once committed
 * @example
 * await withPgTransaction(pool, "BEGIN", async (client) => {
 *   await client.query("UPDATE stock SET quantity = quantity - 1 WHERE id = $1", ["B-1"]);
 * });
 */
export function withPgTransaction<T>(pool: PgPool, begin: string, work: (client: PgQueryable) => Promise<T>): Promise<T> {
  return usePgClient(pool, async (client) => {
    try {
      await client.query(begin);
      const value = await work(client);
      await client.query("COMMIT");
      return value;
    } catch (cause) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw cause;
    }
  });
}
