// 4 worker processes × 1,000 instances on one fresh PostgreSQL database: every instance completes
// exactly once, every effect reaches the peer once, and no instance is ever run by two workers at once.
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createWorkflowRuntime } from "../src/index.js";
import { createPostgresWorkflowStore, migrateWorkflowPostgres } from "../src/postgres.js";
import { EFFECT_TABLES, pgEffectsWorkflow } from "./fixtures/pg-effects-workflow.js";
import { createTestDatabase, type TestDatabase } from "./pg-services.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const WORKERS = 4;
const INSTANCES = 1000;

let db: TestDatabase;
let pool: pg.Pool;
beforeAll(async () => {
  db = await createTestDatabase("wf_workers");
  pool = new pg.Pool({ connectionString: db.url, max: 8 });
  pool.on("error", () => undefined);
  await migrateWorkflowPostgres(pool);
  await pool.query(EFFECT_TABLES);
}, 30_000);
afterAll(async () => {
  await pool?.end();
  await db?.drop();
}, 30_000);

function runWorker(workerId: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--conditions=@millwright/source", "--import", "tsx", join(HERE, "fixtures", "pg-worker.ts")], {
      env: { ...process.env, DATABASE_URL: db.url, WORKER_ID: workerId },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

it(
  `${WORKERS} worker processes × ${INSTANCES} instances: each completed once, each effect once, never two workers on one instance at once`,
  async () => {
    const workflow = pgEffectsWorkflow(pool, "starter");
    const starter = createWorkflowRuntime({ store: createPostgresWorkflowStore(pool), workflows: [workflow], workerId: "starter" });
    for (let n = 0; n < INSTANCES; n++) (await starter.start(workflow, `order-${n}`, { n }))._unsafeUnwrap();

    const results = await Promise.all(Array.from({ length: WORKERS }, (_, i) => runWorker(`worker-${i + 1}`)));
    for (const result of results) expect(result.code, result.stderr).toBe(0);
    const perWorker = results.map((r) => JSON.parse(r.stdout.trim().split("\n").at(-1)!) as { workerId: string; effects: number; ms: number });

    const store = createPostgresWorkflowStore(pool);
    expect(await store.countByState()).toEqual({ completed: INSTANCES });
    // Exactly one `completed` entry and three step completions per instance in the history.
    const history = await pool.query<{ completed: string; steps: string; instances: string }>(
      `SELECT COUNT(*) FILTER (WHERE entry::json->>'type' = 'completed') AS completed,
              COUNT(*) FILTER (WHERE entry::json->>'type' = 'step-completed') AS steps,
              COUNT(DISTINCT instance_id) AS instances FROM millwright_wf_history`,
    );
    expect(history.rows[0]).toEqual({ completed: String(INSTANCES), steps: String(3 * INSTANCES), instances: String(INSTANCES) });
    // At the peer: one effect per (instance, step), and no step was even attempted twice.
    const effects = await pool.query<{ effects: string; attempts: string; keys: string; maxAttempts: number }>(
      `SELECT (SELECT COUNT(*) FROM peer_effects) AS effects, (SELECT SUM(attempts) FROM peer_attempts) AS attempts,
              (SELECT COUNT(DISTINCT (instance_id, step)) FROM peer_effects) AS keys, (SELECT MAX(attempts) FROM peer_attempts) AS "maxAttempts"`,
    );
    expect(effects.rows[0]).toEqual({ effects: String(3 * INSTANCES), attempts: String(3 * INSTANCES), keys: String(3 * INSTANCES), maxAttempts: 1 });
    // No two workers' step intervals on one instance overlap.
    const overlaps = await pool.query<{ n: string }>(
      `SELECT COUNT(*) AS n FROM peer_intervals a JOIN peer_intervals b
         ON a.instance_id = b.instance_id AND a.worker <> b.worker AND a.started_at < b.ended_at AND b.started_at < a.ended_at`,
    );
    expect(overlaps.rows[0]!.n).toBe("0");
    const intervals = await pool.query<{ n: string; workers: string }>("SELECT COUNT(*) AS n, COUNT(DISTINCT worker) AS workers FROM peer_intervals");
    expect(intervals.rows[0]).toEqual({ n: String(3 * INSTANCES), workers: String(WORKERS) });
    // The work was shared: every worker ran some of it.
    expect(perWorker.map((w) => w.effects).reduce((a, b) => a + b, 0)).toBe(3 * INSTANCES);
    for (const w of perWorker) expect(w.effects, JSON.stringify(perWorker)).toBeGreaterThan(0);
    console.log(`pg-workers: ${JSON.stringify(perWorker)}`);
  },
  240_000,
);
