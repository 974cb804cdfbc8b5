// A relay process for the fault tests: publishes the PostgreSQL outbox to a "broker" table, one
// insert per record (so a kill mid-publish leaves records published but not marked sent).
import pg from "pg";
import { createOutboxRelay } from "../../src/index.js";
import { createPostgresStore } from "../../src/postgres.js";

// `pauseAfter`: publish that many records, then start no more and say `paused <n>`, so that the
// test kills the relay exactly between publishing records and marking them sent.
const config = JSON.parse(process.env["FAULT_CONFIG"] ?? "{}") as { pg: pg.PoolConfig; tablePrefix: string; leaseMs: number; pauseAfter?: number };
const pool = new pg.Pool({ ...config.pg, max: 4 });
pool.on("error", () => undefined);
const store = createPostgresStore(pool, { tablePrefix: config.tablePrefix });
let started = 0;
let published = 0;
const relay = createOutboxRelay(store, {
  leaseMs: config.leaseMs,
  batchSize: 50,
  publish: async (record) => {
    if (config.pauseAfter !== undefined && ++started > config.pauseAfter) await new Promise(() => undefined);
    await pool.query("INSERT INTO broker (event_id, partition_key, payload) VALUES ($1, $2, $3)", [record.eventId, record.partitionKey, record.payload]);
    if (++published % 50 === 0) process.stdout.write(`published ${published}\n`);
    if (published === config.pauseAfter) process.stdout.write(`paused ${published}\n`);
  },
});
const controller = new AbortController();
const watch = setInterval(async () => {
  const left = await pool.query(`SELECT count(*)::int AS n FROM ${config.tablePrefix}outbox WHERE sent_at IS NULL`).catch(() => undefined);
  if (left?.rows[0]?.n === 0) controller.abort();
}, 200);
await relay.run({ signal: controller.signal, idleMs: 20 });
clearInterval(watch);
process.stdout.write(`done ${published}\n`);
await pool.end();
