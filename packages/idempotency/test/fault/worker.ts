// A consumer process for the fault tests: reads its deliveries (JSON lines), processes each through
// the PostgreSQL or Redis inbox with an effect written in the inbox's transaction, and never drops a
// delivery: a store error (a dropped connection) is retried until it goes through.
import { readFileSync } from "node:fs";
import pg from "pg";
import { createClient } from "redis";
import { createInbox, type IdempotencyStore, type InboxEvent } from "../../src/index.js";
import { createPostgresStore, type PgPoolClient } from "../../src/postgres.js";
import { createRedisStore, type RedisTransaction } from "../../src/redis.js";

interface Config {
  readonly store: "postgres" | "redis";
  readonly pg?: pg.PoolConfig;
  readonly tablePrefix?: string;
  readonly redisUrl?: string;
  readonly keyPrefix?: string;
  readonly deliveries: string;
  readonly leaseMs: number;
  readonly concurrency: number;
  readonly name: string;
  /** The inbox option: false takes the lease path for every event (the handler is not async). Default true. */
  readonly claimInTransaction?: boolean;
}

const config = JSON.parse(process.env["FAULT_CONFIG"] ?? "{}") as Config;
const deliveries = readFileSync(config.deliveries, "utf8").trim().split("\n").map((line) => JSON.parse(line) as InboxEvent);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Effect<TTx> = (tx: TTx, id: string) => Promise<void> | void;
let close: () => Promise<void>;

async function consume<TTx>(store: IdempotencyStore<TTx>, effect: Effect<TTx>): Promise<void> {
  const inbox = createInbox(store, { leaseMs: config.leaseMs, busyPollMs: 20, claimInTransaction: config.claimInTransaction ?? true });
  const counts: Record<string, number> = {};
  let next = 0;
  let finished = 0;
  const lane = async () => {
    for (;;) {
      const i = next++;
      const event = deliveries[i];
      if (event === undefined) return;
      for (;;) {
        const result = await inbox.process(event, (e, { tx }) => effect(tx, e.id));
        if (result.isOk() && (result.value.outcome !== "failed" || result.value.code === "dead_lettered")) {
          const key = result.value.outcome === "failed" ? "failed" : result.value.outcome;
          counts[key] = (counts[key] ?? 0) + 1;
          break;
        }
        // Not settled (the store is unreachable, or another worker still holds the claim): the
        // delivery is not acknowledged, so it is tried again, as a broker would redeliver it.
        const why = result.isErr() ? "store_failed" : result.value.outcome === "failed" ? result.value.code : result.value.outcome;
        counts[why] = (counts[why] ?? 0) + 1;
        counts["retried"] = (counts["retried"] ?? 0) + 1;
        await sleep(50);
      }
      if (++finished % 100 === 0) process.stdout.write(`progress ${finished}\n`);
    }
  };
  await Promise.all(Array.from({ length: config.concurrency }, lane));
  process.stdout.write(`done ${JSON.stringify(counts)}\n`);
}

if (config.store === "postgres") {
  const pool = new pg.Pool({ ...config.pg, max: config.concurrency + 2, application_name: config.name });
  pool.on("error", () => undefined);
  close = () => pool.end();
  await consume<PgPoolClient>(createPostgresStore(pool, { tablePrefix: config.tablePrefix ?? "millwright_" }), async (tx, id) => {
    await tx.query("INSERT INTO effects (event_id) VALUES ($1)", [id]);
  });
} else {
  const client = createClient({ url: config.redisUrl ?? "redis://127.0.0.1:6379", name: config.name, socket: { reconnectStrategy: () => 100 } });
  client.on("error", () => undefined);
  await client.connect();
  close = async () => void client.destroy();
  await consume<RedisTransaction>(createRedisStore(client, { keyPrefix: config.keyPrefix ?? "millwright:" }), (tx, id) => tx.call("HINCRBY", `${config.keyPrefix}effects`, id, "1"));
}
await close();
