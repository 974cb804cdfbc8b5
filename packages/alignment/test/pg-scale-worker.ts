// One monitor process of the scaled alignment runs (pg-scale-runs.ts): owns one partition of the
// orders, keeps its durable state in PostgreSQL under the prefix `p<partition>_`, ingests its
// events in batches, evaluates and flushes after each. Config (JSON in SCALE_CONFIG): pg,
// partition, partitions, orders, batch.
import pg from "pg";
import { readyAndWaitForGo } from "../../idempotency/test/cluster/pg-scale-harness.js";
import { createEngine, openDurableStore } from "../src/index.js";
import { createPostgresBackend } from "../src/postgres.js";
import { monitor, partitionEvents, scaleRules } from "./pg-scale-runs.js";

const config = JSON.parse(process.env["SCALE_CONFIG"] ?? "{}") as { pg: pg.PoolConfig; partition: number; partitions: number; orders: number; batch: number };
const pool = new pg.Pool({ ...config.pg, max: 2, application_name: `scale-align-${config.partition}` });
pool.on("error", () => undefined);
const opened = await openDurableStore(createPostgresBackend(pool, { tablePrefix: `p${config.partition}_` }));
if (opened.isErr()) throw new Error(`alignment store: ${opened.error.message}`);
const store = opened.value;
const engine = createEngine({ rules: scaleRules(), store });
const events = partitionEvents(config.orders, config.partition, config.partitions);
const startedAt = await readyAndWaitForGo();
const cpu = process.cpuUsage();
let flushes = 0;
const findings = await monitor(
  (e) => void engine.ingest(e)._unsafeUnwrap(),
  (at) => engine.evaluate(at),
  events,
  config.batch,
  async () => {
    (await store.flush())._unsafeUnwrap();
    flushes += 1;
  },
);
const counts: Record<string, number> = {};
for (const f of findings) counts[`${f.kind}/${f.rule}`] = (counts[`${f.kind}/${f.rule}`] ?? 0) + 1;
const used = process.cpuUsage(cpu);
process.stdout.write(`done ${JSON.stringify({ findings: counts, flushes, events: events.length, cpuMs: Math.round((used.user + used.system) / 1000), startedAt, endedAt: Date.now() })}\n`);
await pool.end();
