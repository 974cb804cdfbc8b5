// Alignment monitors in 8 processes on one PostgreSQL database, one partition of the orders each
// (its own table prefix): the findings are those of the in-memory reference, and every order's key
// lives in exactly one partition. The sweep over 1, 2, 4, 8 processes is
// packages/idempotency/bench/pg-scaling.ts.
import { afterAll, expect, it } from "vitest";
import { killAll } from "../../idempotency/test/cluster/pg-scale-harness.js";
import { referenceFindings, runAlignmentScale } from "./pg-scale-runs.js";

afterAll(() => killAll());

it("8 monitor processes, one partition each: the reference's findings, each order's state in one partition", { timeout: 180_000 }, async () => {
  const orders = 2000;
  const result = await runAlignmentScale({ workers: 8, orders, batch: 200 });
  console.log(`pg-scale alignment ×8: ${result.eventsPerSecond} events/s, ${result.flushes} flushes, client CPU ${result.clientCpuMs} ms, waits ${JSON.stringify(result.waits)}`);
  expect(result.events).toBe(2 * orders);
  const reference = await referenceFindings(orders, 8);
  expect(reference["breached/workorder-started"], "every fourth order starts late").toBe(orders / 4);
  expect(result.findings).toEqual(reference);
  // Every order was closed (started): a tombstone in its own partition, and nowhere else.
  expect(result.keys).toEqual({ rows: orders, distinct: orders, inSeveralPartitions: 0 });
  expect(result.waits.lockWaits, "partitions share no rows: no session ever waits on a lock").toBe(0);
});
