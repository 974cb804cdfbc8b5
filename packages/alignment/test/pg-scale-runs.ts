// Alignment monitors scaled out over processes on one PostgreSQL database: orders are partitioned
// by order id (as a broker partitions by the event's partition key), each process owns one
// partition and keeps its durable state under a table prefix of its own. Shared by
// test/pg-scale.test.ts (asserts) and packages/idempotency/bench/pg-scaling.ts (records the curve).
import { join } from "node:path";
import { createEvent, type CanonicalEvent } from "@millwright/events";
import { buildWorkOrder } from "@millwright/testing";
import pg from "pg";
import { createScaleDatabase, runScaled, type WaitSamples } from "../../idempotency/test/cluster/pg-scale-harness.js";
import { builtInRules, createEngine, type AlignmentRule, type Finding } from "../src/index.js";

const T0 = Date.parse("2026-03-02T06:00:00Z");
const MINUTE = 60_000;
const SAP = "urn:millwright:sap:S4PCLNT100";
const MES = "urn:millwright:mes:line-fab";
/** When the last evaluation happens: after every event and every deadline, within the day tombstones are kept. */
const END_MS = T0 + 1000 * MINUTE;

/**
 * The rules every monitor runs: work orders must start within 120 minutes of release.
 *
 * @returns the rules
 */
export function scaleRules(): readonly AlignmentRule[] {
  return builtInRules({ workOrderStarted: { deadlineMs: 120 * MINUTE } });
}

function event(type: "dev.millwright.workorder.released.v1" | "dev.millwright.workorder.started.v1", orderId: string, minutes: number, source: string): CanonicalEvent {
  const status = type === "dev.millwright.workorder.released.v1" ? "released" : "in_progress";
  const revision = String(20260302000000 + Math.round(minutes * 100));
  const created = createEvent({ type, source, time: new Date(T0 + minutes * MINUTE).toISOString(), data: buildWorkOrder({ orderId, status, revision }) });
  if (created.isErr()) throw new Error(`pg-scale ${type}: ${created.error.message}`);
  return created.value as CanonicalEvent;
}

/**
 * The events of one partition, in time order: each order of it released, then started 5 minutes
 * later, or 200 minutes later (a breach) for every fourth order.
 *
 * @param orders - orders in all partitions
 * @param partition - this partition
 * @param partitions - how many partitions
 * @returns the events
 */
export function partitionEvents(orders: number, partition: number, partitions: number): CanonicalEvent[] {
  const timed: { minutes: number; event: CanonicalEvent }[] = [];
  for (let i = partition; i < orders; i += partitions) {
    const orderId = String(5_000_000 + i);
    const releasedAt = i * 0.05;
    const startedAt = releasedAt + (i % 4 === 0 ? 200 : 5);
    timed.push({ minutes: releasedAt, event: event("dev.millwright.workorder.released.v1", orderId, releasedAt, SAP) });
    timed.push({ minutes: startedAt, event: event("dev.millwright.workorder.started.v1", orderId, startedAt, MES) });
  }
  return timed.sort((a, b) => a.minutes - b.minutes).map((t) => t.event);
}

/**
 * Ingests events in batches, evaluating at the last event's time after each, and at `END_MS` last.
 *
 * @param ingest - takes one event
 * @param evaluate - evaluates at a time and returns the findings
 * @param events - the events in time order
 * @param batch - events per batch
 * @param afterBatch - called after each evaluation (a flush)
 * @returns every finding
 */
export async function monitor(
  ingest: (e: CanonicalEvent) => void,
  evaluate: (atMs: number) => readonly Finding[],
  events: readonly CanonicalEvent[],
  batch: number,
  afterBatch: () => Promise<void>,
): Promise<Finding[]> {
  const findings: Finding[] = [];
  for (let i = 0; i < events.length; i += batch) {
    const part = events.slice(i, i + batch);
    for (const e of part) ingest(e);
    findings.push(...evaluate(Date.parse(part.at(-1)!.time ?? "")));
    await afterBatch();
  }
  findings.push(...evaluate(END_MS));
  await afterBatch();
  return findings;
}

/**
 * The findings of all partitions computed in this process with the in-memory store: the reference.
 *
 * @param orders - orders in all
 * @param partitions - partitions
 * @returns findings counted by kind and rule
 */
export async function referenceFindings(orders: number, partitions: number): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (let p = 0; p < partitions; p++) {
    const engine = createEngine({ rules: scaleRules() });
    const findings = await monitor(
      (e) => void engine.ingest(e)._unsafeUnwrap(),
      (at) => engine.evaluate(at),
      partitionEvents(orders, p, partitions),
      200,
      async () => undefined,
    );
    for (const f of findings) counts[`${f.kind}/${f.rule}`] = (counts[`${f.kind}/${f.rule}`] ?? 0) + 1;
  }
  return counts;
}

/** What a scaled alignment run measured, and what the database holds. */
export interface AlignmentScaleResult {
  readonly workers: number;
  readonly orders: number;
  readonly events: number;
  readonly wallMs: number;
  readonly eventsPerSecond: number;
  /** Findings of all workers by kind and rule. */
  readonly findings: Readonly<Record<string, number>>;
  readonly flushes: number;
  readonly clientCpuMs: number;
  /** Order keys of the started rule across all partitions' tables: rows, and keys found in more than one partition. */
  readonly keys: { readonly rows: number; readonly distinct: number; readonly inSeveralPartitions: number };
  readonly waits: WaitSamples;
}

/**
 * Runs `workers` monitor processes, one partition each, on one fresh database.
 *
 * @param options - worker count, order count, events per flush
 * @returns the measurement and the database's keys
 */
export async function runAlignmentScale(options: { readonly workers: number; readonly orders: number; readonly batch: number }): Promise<AlignmentScaleResult> {
  const db = await createScaleDatabase("align");
  const pool = new pg.Pool({ ...db.config, max: 2 });
  pool.on("error", () => undefined);
  try {
    const configs = Array.from({ length: options.workers }, (_, partition) => ({ pg: db.config, partition, partitions: options.workers, orders: options.orders, batch: options.batch }));
    const run = await runScaled<{ findings: Record<string, number>; flushes: number; events: number; cpuMs: number }>({
      script: join(import.meta.dirname, "pg-scale-worker.ts"),
      configs,
      database: db.name,
      timeoutMs: 600_000,
    });
    const findings: Record<string, number> = {};
    for (const s of run.summaries) for (const [k, v] of Object.entries(s.findings)) findings[k] = (findings[k] ?? 0) + v;
    const union = configs.map((c) => `SELECT key, ${c.partition} AS partition FROM p${c.partition}_states WHERE rule = 'workorder-started' UNION ALL SELECT key, ${c.partition} FROM p${c.partition}_tombstones WHERE rule = 'workorder-started'`).join(" UNION ALL ");
    const keys = (
      await pool.query<{ rows: number; distinct: number; several: number }>(
        `WITH k AS (${union}) SELECT count(*)::int AS rows, count(DISTINCT key)::int AS distinct,
           (SELECT count(*)::int FROM (SELECT key FROM k GROUP BY key HAVING count(DISTINCT partition) > 1) x) AS several FROM k`,
      )
    ).rows[0]!;
    const events = run.summaries.reduce((sum, s) => sum + s.events, 0);
    return {
      workers: options.workers,
      orders: options.orders,
      events,
      wallMs: run.wallMs,
      eventsPerSecond: Math.round((events / run.wallMs) * 1000),
      findings,
      flushes: run.summaries.reduce((sum, s) => sum + s.flushes, 0),
      clientCpuMs: run.summaries.reduce((sum, s) => sum + s.cpuMs, 0),
      keys: { rows: keys.rows, distinct: keys.distinct, inSeveralPartitions: keys.several },
      waits: run.waits,
    };
  } finally {
    await pool.end();
    await db.drop();
  }
}
