// One worker process of the scaled workflow runs (pg-scale-runs.ts): like fixtures/pg-worker.ts,
// but it connects and prepares first, says `ready`, and starts its worker only on `go`, so that
// all workers start together. Config (JSON in SCALE_CONFIG): pg, workerId, concurrency, poolSize.
import pg from "pg";
import { readyAndWaitForGo } from "../../idempotency/test/cluster/pg-scale-harness.js";
import { createWorkflowRuntime } from "../src/index.js";
import { createPostgresWorkflowStore } from "../src/postgres.js";
import { pgEffectsWorkflow } from "./fixtures/pg-effects-workflow.js";

const config = JSON.parse(process.env["SCALE_CONFIG"] ?? "{}") as { pg: pg.PoolConfig; workerId: string; concurrency: number; poolSize: number };
const pool = new pg.Pool({ ...config.pg, max: config.poolSize, application_name: `scale-wf-${config.workerId}` });
pool.on("error", () => undefined);
const store = createPostgresWorkflowStore(pool);
const runtime = createWorkflowRuntime({ store, workflows: [pgEffectsWorkflow(pool, config.workerId)], workerId: config.workerId, pollMs: 20, concurrency: config.concurrency });
await Promise.all(Array.from({ length: config.poolSize }, () => pool.query("SELECT 1")));
const startedAt = await readyAndWaitForGo();
const cpu = process.cpuUsage();
runtime.startWorker();
for (;;) {
  await new Promise((resolve) => setTimeout(resolve, 100));
  const counts = await store.countByState();
  if ((counts.running ?? 0) + (counts.waiting ?? 0) + (counts.compensating ?? 0) === 0) break;
}
await runtime.stop();
const used = process.cpuUsage(cpu);
process.stdout.write(`done ${JSON.stringify({ cpuMs: Math.round((used.user + used.system) / 1000), startedAt, endedAt: Date.now() })}\n`);
await pool.end();
