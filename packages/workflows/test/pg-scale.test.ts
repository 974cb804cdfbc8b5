// The PostgreSQL workflow runtime with 8 worker processes on one database (pg-workers.test.ts runs
// 4 and checks the same at the peer): each instance completed once, each step's effect once, never
// two workers on one instance at once, and the sampled wait events of the run. The sweep over
// 1, 2, 4, 8 processes is packages/idempotency/bench/pg-scaling.ts.
import { afterAll, expect, it } from "vitest";
import { killAll } from "../../idempotency/test/cluster/pg-scale-harness.js";
import { runWorkflowScale } from "./pg-scale-runs.js";

afterAll(() => killAll());

it("8 worker processes × 200 instances: each completed once, each effect once, no instance on two workers at once", { timeout: 180_000 }, async () => {
  const instances = 200;
  const result = await runWorkflowScale({ workers: 8, instances, concurrency: 4, poolSize: 4 });
  console.log(`pg-scale workflows ×8: ${result.instancesPerSecond} instances/s, per worker ${JSON.stringify(result.perWorker)}, client CPU ${result.clientCpuMs} ms, waits ${JSON.stringify(result.waits)}`);
  expect(result.states).toEqual({ completed: instances });
  expect(result.completedEntries).toBe(instances);
  expect(result.peer).toEqual({ effects: 3 * instances, attempts: 3 * instances, keys: 3 * instances, maxAttempts: 1 });
  expect(result.overlaps).toBe(0);
  expect(result.perWorker.reduce((a, b) => a + b, 0)).toBe(3 * instances);
  expect(result.perWorker.filter((n) => n > 0).length, "the work was shared by the workers").toBeGreaterThan(1);
});
