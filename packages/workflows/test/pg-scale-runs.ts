// Workflow workers scaled out over processes on one PostgreSQL database: the 3-step `pg-effects`
// workflow of pg-workers.test.ts, N instances started up front, then 1, 2, 4 or 8 worker processes
// told to go at once. Shared by test/pg-scale.test.ts (asserts) and
// packages/idempotency/bench/pg-scaling.ts (records the curve).
import { join } from "node:path";
import pg from "pg";
import { createScaleDatabase, runScaled, type WaitSamples } from "../../idempotency/test/cluster/pg-scale-harness.js";
import { createWorkflowRuntime } from "../src/index.js";
import { createPostgresWorkflowStore, migrateWorkflowPostgres } from "../src/postgres.js";
import { EFFECT_TABLES, pgEffectsWorkflow } from "./fixtures/pg-effects-workflow.js";

/** What a scaled workflow run measured, and what the peer holds. */
export interface WorkflowScaleResult {
  readonly workers: number;
  readonly instances: number;
  /** From `go` to the end of the last step at the peer. */
  readonly wallMs: number;
  readonly instancesPerSecond: number;
  readonly clientCpuMs: number;
  /** Instances by state. */
  readonly states: Readonly<Record<string, number>>;
  /** `completed` entries in the history, and distinct instances with one. */
  readonly completedEntries: number;
  /** At the peer: effects, attempts, distinct (instance, step) keys, the most attempts of one key. */
  readonly peer: { readonly effects: number; readonly attempts: number; readonly keys: number; readonly maxAttempts: number };
  /** Pairs of step intervals of one instance run by two workers at overlapping times. */
  readonly overlaps: number;
  /** Steps run per worker. */
  readonly perWorker: readonly number[];
  readonly waits: WaitSamples;
}

/**
 * Starts `instances` instances, then runs `workers` worker processes until all are completed.
 *
 * @param options - worker count, instance count, concurrency and pool size per worker
 * @returns the measurement and the peer's state
 */
export async function runWorkflowScale(options: { readonly workers: number; readonly instances: number; readonly concurrency: number; readonly poolSize: number }): Promise<WorkflowScaleResult> {
  const db = await createScaleDatabase("wf");
  const pool = new pg.Pool({ ...db.config, max: 4 });
  pool.on("error", () => undefined);
  try {
    await migrateWorkflowPostgres(pool);
    await pool.query(EFFECT_TABLES);
    const workflow = pgEffectsWorkflow(pool, "starter");
    const starter = createWorkflowRuntime({ store: createPostgresWorkflowStore(pool), workflows: [workflow], workerId: "starter" });
    for (let n = 0; n < options.instances; n++) (await starter.start(workflow, `order-${n}`, { n }))._unsafeUnwrap();
    const configs = Array.from({ length: options.workers }, (_, i) => ({ pg: db.config, workerId: `worker-${i + 1}`, concurrency: options.concurrency, poolSize: options.poolSize }));
    const run = await runScaled<{ cpuMs: number }>({ script: join(import.meta.dirname, "pg-scale-worker.ts"), configs, database: db.name, timeoutMs: 600_000 });
    const last = (await pool.query<{ last: number }>("SELECT max(ended_at) AS last FROM peer_intervals")).rows[0]!.last;
    const wallMs = Math.round(last - Math.min(...run.summaries.map((s) => s.startedAt)));
    const states = await createPostgresWorkflowStore(pool).countByState();
    const completed = (await pool.query<{ n: number }>("SELECT count(*)::int AS n FROM millwright_wf_history WHERE entry::json->>'type' = 'completed'")).rows[0]!.n;
    const peer = (
      await pool.query<{ effects: number; attempts: number; keys: number; maxAttempts: number }>(
        `SELECT (SELECT count(*)::int FROM peer_effects) AS effects, (SELECT sum(attempts)::int FROM peer_attempts) AS attempts,
                (SELECT count(DISTINCT (instance_id, step))::int FROM peer_effects) AS keys, (SELECT max(attempts)::int FROM peer_attempts) AS "maxAttempts"`,
      )
    ).rows[0]!;
    const overlaps = (
      await pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM peer_intervals a JOIN peer_intervals b
           ON a.instance_id = b.instance_id AND a.worker <> b.worker AND a.started_at < b.ended_at AND b.started_at < a.ended_at`,
      )
    ).rows[0]!.n;
    const byWorker = new Map((await pool.query<{ worker: string; n: number }>("SELECT worker, count(*)::int AS n FROM peer_effects GROUP BY worker")).rows.map((r) => [r.worker, r.n]));
    return {
      workers: options.workers,
      instances: options.instances,
      wallMs,
      instancesPerSecond: Math.round((options.instances / wallMs) * 1000),
      clientCpuMs: run.summaries.reduce((sum, s) => sum + s.cpuMs, 0),
      states,
      completedEntries: completed,
      peer,
      overlaps,
      perWorker: configs.map((c) => byWorker.get(c.workerId) ?? 0),
      waits: run.waits,
    };
  } finally {
    await pool.end();
    await db.drop();
  }
}
