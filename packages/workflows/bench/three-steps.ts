// The workflow the PostgreSQL comparison runs on both engines: three steps, each inserting one
// row into `bench_rows`. Shared by bench/dbos-compare.ts and its worker processes.
import { usePgClient, type PgPool } from "@millwright/idempotency/postgres";
import { defineWorkflow, type WorkflowDefinition } from "../src/index.js";

/** The rows the steps write: one per (engine, instance, step). */
export const ROWS_TABLE = "CREATE TABLE IF NOT EXISTS bench_rows (engine text NOT NULL, instance text NOT NULL, step integer NOT NULL, PRIMARY KEY (engine, instance, step))";

/**
 * Writes the row of one step.
 *
 * @param pool - the application's pool
 * @param engine - `dbos` or `millwright`
 * @param instance - the workflow id or instance key
 * @param step - 1, 2 or 3
 * @returns when the row is committed
 * @example
 * await writeStepRow(pool, "dbos", "r1-w1-7", 2);
 */
export async function writeStepRow(pool: PgPool, engine: string, instance: string, step: number): Promise<void> {
  await usePgClient(pool, (client) => client.query("INSERT INTO bench_rows (engine, instance, step) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING", [engine, instance, step]));
}

/**
 * The three-step workflow for the Millwright runtime.
 *
 * @param pool - the application's pool for the step rows
 * @returns the definition `bench-three-steps`
 * @example
 * const workflow = threeStepWorkflow(appPool);
 */
export function threeStepWorkflow(pool: PgPool): WorkflowDefinition<null, number> {
  return defineWorkflow({
    name: "bench-three-steps",
    version: 1,
    run: async (wf) => {
      for (let step = 1; step <= 3; step++) await wf.step(`step${step}`, () => writeStepRow(pool, "millwright", wf.key, step));
      return 3;
    },
  });
}
