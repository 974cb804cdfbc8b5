// Fault tests with real processes and real services: 4 consumer processes share 10,000 events
// (20% delivered twice, shuffled) through the PostgreSQL and the Redis inbox; a worker is
// SIGKILLed mid-batch and restarted; connections are cut for a few seconds; the outbox relay is
// SIGKILLed mid-publish and restarted. Effects are rows / counters keyed by event id, counted at
// the end: each must be exactly 1.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createInbox, createOutbox, type InboxEvent } from "../src/index.js";
import { createPostgresStore, migratePostgres } from "../src/postgres.js";
import { openSqliteDatabase } from "../src/sqlite.js";
import { workOrderEvent } from "./fixtures.js";
import { connectRedis, createTestDatabase, deletePrefix, pgSettings, redisUrl, uniqueSuffix } from "./services.js";

const PACKAGE = join(import.meta.dirname, "..");
const dir = mkdtempSync(join(tmpdir(), "millwright-fault-"));
const suffix = uniqueSuffix();
const children = new Set<ChildProcess>();

/** Seeded PRNG (mulberry32), so a failing shuffle can be reproduced. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` events, 20% of them delivered twice, shuffled, dealt to `workers` files. */
function deal(count: number, workers: number, seed: number, tag: string): { ids: string[]; files: string[] } {
  const random = seeded(seed);
  const events: InboxEvent[] = Array.from({ length: count }, (_, i) => workOrderEvent(seed * 100_000 + i));
  const deliveries = [...events, ...Array.from({ length: count / 5 }, () => events[Math.floor(random() * count)]!)];
  for (let i = deliveries.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [deliveries[i], deliveries[j]] = [deliveries[j]!, deliveries[i]!];
  }
  const files = Array.from({ length: workers }, (_, w) => {
    const file = join(dir, `${tag}-${w}.jsonl`);
    writeFileSync(file, deliveries.filter((_, i) => i % workers === w).map((e) => JSON.stringify(e)).join("\n"));
    return file;
  });
  return { ids: events.map((e) => e.id), files };
}

interface Worker {
  readonly progress: () => number;
  /** Whether the process has written a line starting with `prefix`. */
  readonly said: (prefix: string) => boolean;
  readonly done: Promise<{ code: number | null; signal: NodeJS.Signals | null; summary: string }>;
  readonly kill: () => void;
}

function start(script: string, config: object): Worker {
  const child = spawn(process.execPath, ["--conditions=@millwright/source", "--import", "tsx", join(PACKAGE, "test", "fault", script)], {
    cwd: PACKAGE,
    env: { ...process.env, FAULT_CONFIG: JSON.stringify(config) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  let progress = 0;
  let summary = "";
  const lines: string[] = [];
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    for (const line of chunk.split("\n")) {
      lines.push(line);
      const m = /^(progress|published) (\d+)/.exec(line);
      if (m) progress = Number(m[2]);
      if (line.startsWith("done ")) summary = line.slice(5);
    }
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => void (stderr += chunk));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; summary: string }>((resolve) =>
    child.on("exit", (code, signal) => {
      children.delete(child);
      if (code !== 0 && signal === null) process.stderr.write(`${script} failed:\n${stderr}\n`);
      resolve({ code, signal, summary });
    }),
  );
  return { progress: () => progress, said: (prefix) => lines.some((l) => l.startsWith(prefix)), done, kill: () => child.kill("SIGKILL") };
}

async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The sum of one count over the workers' summaries. */
function total(summaries: readonly string[], name: string): number {
  return summaries.map((s) => (JSON.parse(s) as Record<string, number>)[name] ?? 0).reduce((a, b) => a + b, 0);
}

async function allExitCleanly(workers: Worker[]): Promise<string[]> {
  const results = await Promise.all(workers.map((w) => w.done));
  for (const r of results) expect(r).toMatchObject({ code: 0, signal: null });
  return results.map((r) => r.summary);
}

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let pool: pg.Pool;
let admin: pg.Pool;
const pgConfig = (): pg.PoolConfig => ({ ...pgSettings, database: database.name });

beforeAll(async () => {
  database = await createTestDatabase();
  pool = new pg.Pool({ ...pgConfig(), max: 4 });
  pool.on("error", () => undefined);
  admin = new pg.Pool({ ...pgSettings, max: 1 });
  admin.on("error", () => undefined);
});

afterAll(async () => {
  for (const child of children) child.kill("SIGKILL");
  await pool?.end();
  await admin?.end();
  await database?.drop();
  rmSync(dir, { recursive: true, force: true });
});

// Each test runs thousands of deliveries through child processes: generous bounds for a loaded machine.
const FAULT_TIMEOUT = { timeout: 300_000 };

describe("PostgreSQL inbox, 4 worker processes", FAULT_TIMEOUT, () => {
  async function prepare(prefix: string): Promise<void> {
    await migratePostgres(pool, prefix);
    await pool.query("CREATE TABLE IF NOT EXISTS effects (event_id text NOT NULL)");
    await pool.query("TRUNCATE effects");
  }

  async function check(ids: string[], prefix: string): Promise<void> {
    const wrong = await pool.query("SELECT event_id, count(*)::int AS n FROM effects GROUP BY event_id HAVING count(*) <> 1");
    expect(wrong.rows).toEqual([]);
    const applied = new Set((await pool.query("SELECT event_id FROM effects")).rows.map((r: { event_id: string }) => r.event_id));
    expect(applied.size).toBe(ids.length);
    expect(ids.every((id) => applied.has(id))).toBe(true);
    const statuses = await pool.query(`SELECT status, count(*)::int AS n FROM ${prefix}inbox GROUP BY status`);
    expect(statuses.rows).toEqual([{ status: "processed", n: ids.length }]);
  }

  const workers = (files: string[], prefix: string, name: string, claimInTransaction = true) =>
    files.map((deliveries, i) => ({ store: "postgres", pg: pgConfig(), tablePrefix: prefix, deliveries, leaseMs: 1500, concurrency: 6, name: `${name}-${i}`, claimInTransaction }));

  it("applies each of 10,000 events exactly once (20% duplicates, shuffled)", async () => {
    const prefix = "a_";
    await prepare(prefix);
    const { ids, files } = deal(10_000, 4, 1, "pg-a");
    const summaries = await allExitCleanly(workers(files, prefix, `fault-${suffix}-a`).map((c) => start("worker.ts", c)));
    const processed = summaries.map((s) => (JSON.parse(s) as Record<string, number>)["processed"] ?? 0).reduce((a, b) => a + b, 0);
    expect(processed).toBe(10_000);
    await check(ids, prefix);
  });

  it("lease path: loses nothing and applies nothing twice when a worker is SIGKILLed mid-batch and restarted", async () => {
    const prefix = "b_";
    await prepare(prefix);
    const { ids, files } = deal(4_000, 4, 2, "pg-b");
    const configs = workers(files, prefix, `fault-${suffix}-b`, false);
    const running = configs.map((c) => start("worker.ts", c));
    await until(() => running[0]!.progress() >= 200, 60_000, "worker 0 to get going");
    running[0]!.kill();
    expect((await running[0]!.done).signal).toBe("SIGKILL");
    // The restarted worker gets its deliveries again (nothing was acknowledged for it).
    running[0] = start("worker.ts", configs[0]!);
    const summaries = await allExitCleanly(running);
    const restarted = JSON.parse(summaries[0]!) as Record<string, number>;
    expect(restarted["duplicate"] ?? 0, `the redelivered events the killed worker had finished are absorbed as duplicates: ${summaries[0]}`).toBeGreaterThan(0);
    const takenOver = (await pool.query(`SELECT count(*)::int AS n FROM ${prefix}inbox WHERE attempts > 1`)).rows[0] as { n: number };
    expect(takenOver.n, "claims the killed worker held were taken over after their lease (attempt 2)").toBeGreaterThan(0);
    await check(ids, prefix);
  });

  it("one-transaction path: loses nothing and applies nothing twice when a worker is SIGKILLed mid-batch and restarted", async () => {
    const prefix = "e_";
    await prepare(prefix);
    const { ids, files } = deal(4_000, 4, 2, "pg-e");
    const configs = workers(files, prefix, `fault-${suffix}-e`);
    const running = configs.map((c) => start("worker.ts", c));
    await until(() => running[0]!.progress() >= 200, 60_000, "worker 0 to get going");
    running[0]!.kill();
    expect((await running[0]!.done).signal).toBe("SIGKILL");
    running[0] = start("worker.ts", configs[0]!);
    const summaries = await allExitCleanly(running);
    const restarted = JSON.parse(summaries[0]!) as Record<string, number>;
    expect(restarted["duplicate"] ?? 0, `the redelivered events the killed worker had finished are absorbed as duplicates: ${summaries[0]}`).toBeGreaterThan(0);
    // The killed worker's open transactions rolled back with their claims: no entry waited for a
    // lease to run out, each was processed at its first attempt.
    const takenOver = (await pool.query(`SELECT count(*)::int AS n FROM ${prefix}inbox WHERE attempts > 1`)).rows[0] as { n: number };
    expect(takenOver.n).toBe(0);
    await check(ids, prefix);
  });

  it("resumes without help when the workers' connections are cut for 3 seconds", async () => {
    const prefix = "c_";
    await prepare(prefix);
    // Enough events that the workers are still busy for the whole 3-second cut, even on a fast machine.
    const { ids, files } = deal(8_000, 4, 3, "pg-c");
    const name = `fault-${suffix}-c`;
    const running = workers(files, prefix, name).map((c) => start("worker.ts", c));
    await until(() => running.some((w) => w.progress() >= 50), 60_000, "a worker to get going");
    const end = Date.now() + 3000;
    let terminated = 0;
    while (Date.now() < end) {
      const r = await admin.query("SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name LIKE $1", [`${name}-%`]);
      terminated += (r.rows[0] as { n: number }).n;
      await new Promise((res) => setTimeout(res, 100));
    }
    expect(terminated, "the cut must have hit the workers' connections, or this test proves nothing").toBeGreaterThan(0);
    const summaries = await allExitCleanly(running);
    expect(
      summaries.some((s) => (JSON.parse(s) as Record<string, number>)["retried"] !== undefined),
      `some worker must have retried after its connection was cut: ${summaries.join(" ")}`,
    ).toBe(true);
    await check(ids, prefix);
  });

  it("outbox relay SIGKILLed mid-publish: every event delivered at least once, in order per partition; the consumer applies each once", async () => {
    const prefix = "d_";
    await migratePostgres(pool, prefix);
    await pool.query("CREATE TABLE broker (n bigserial PRIMARY KEY, event_id text NOT NULL, partition_key text NOT NULL, payload text NOT NULL)");
    await pool.query("CREATE TABLE IF NOT EXISTS effects (event_id text NOT NULL)");
    await pool.query("TRUNCATE effects");
    const store = createPostgresStore(pool, { tablePrefix: prefix });
    const outbox = createOutbox(store);
    // 200 orders with 10 revisions each, added in revision order, 10 events per transaction.
    const events = Array.from({ length: 10 }, (_, r) => Array.from({ length: 200 }, (_, o) => workOrderEvent(900_000 + o, r + 1))).flat();
    for (let i = 0; i < events.length; i += 10) {
      await store.transaction(async (tx) => (await outbox.add(tx, events.slice(i, i + 10)))._unsafeUnwrap());
    }
    const config = { pg: pgConfig(), tablePrefix: prefix, leaseMs: 1000 };
    // Eight batches of 50 published and marked sent, then 25 of the ninth published and not marked.
    const first = start("relay.ts", { ...config, pauseAfter: 425 });
    await until(() => first.said("paused 425"), 60_000, "the relay to publish 425 and pause");
    const count = async (sql: string): Promise<number> => ((await pool.query(sql)).rows[0] as { n: number }).n;
    const atKill = { published: await count("SELECT count(*)::int AS n FROM broker"), sent: await count(`SELECT count(*)::int AS n FROM ${prefix}outbox WHERE sent_at IS NOT NULL`) };
    expect(atKill, "the kill lands between publishing records and marking them sent").toEqual({ published: 425, sent: 400 });
    first.kill();
    expect((await first.done).signal).toBe("SIGKILL");
    const second = start("relay.ts", config);
    await allExitCleanly([second]);

    const broker = (await pool.query("SELECT event_id, partition_key, payload FROM broker ORDER BY n")).rows as { event_id: string; partition_key: string; payload: string }[];
    const delivered = new Set(broker.map((r) => r.event_id));
    expect(delivered.size).toBe(events.length);
    // The 25 published but unmarked records went out again after the restart.
    expect(broker.length - events.length, "records published again after the restart").toBeGreaterThanOrEqual(atKill.published - atKill.sent);
    // Order per partition: the first delivery of each event comes in ascending revision.
    const seen = new Set<string>();
    const last = new Map<string, number>();
    for (const row of broker) {
      if (seen.has(row.event_id)) continue;
      seen.add(row.event_id);
      const revision = Number((JSON.parse(row.payload) as { data: { revision: string } }).data.revision);
      expect(revision).toBeGreaterThan(last.get(row.partition_key) ?? 0);
      last.set(row.partition_key, revision);
    }
    // The consumer takes every delivery, duplicates included, through the inbox.
    const inbox = createInbox(store);
    const outcomes: Record<string, number> = {};
    for (const row of broker) {
      const outcome = (await inbox.process(JSON.parse(row.payload) as InboxEvent, async (e, { tx }) => void (await tx.query("INSERT INTO effects (event_id) VALUES ($1)", [e.id]))))._unsafeUnwrap();
      outcomes[outcome.outcome] = (outcomes[outcome.outcome] ?? 0) + 1;
    }
    expect(outcomes["processed"]).toBe(events.length);
    // Every repeat publication was absorbed by the consumer's inbox.
    expect(outcomes["duplicate"] ?? 0).toBe(broker.length - events.length);
    expect(outcomes["duplicate"] ?? 0).toBeGreaterThanOrEqual(atKill.published - atKill.sent);
    const wrong = await pool.query("SELECT event_id FROM effects GROUP BY event_id HAVING count(*) <> 1");
    expect(wrong.rows).toEqual([]);
    expect((await pool.query("SELECT count(*)::int AS n FROM effects")).rows[0]).toEqual({ n: events.length });
  });
});

describe("SQLite inbox.processBatch, one worker process", FAULT_TIMEOUT, () => {
  it("keeps nothing of a batch whose process is SIGKILLed before its COMMIT; redelivered, each event takes effect once", async () => {
    const file = join(dir, "batch.db");
    const events: InboxEvent[] = Array.from({ length: 200 }, (_, i) => workOrderEvent(900_000 + i));
    // Each event twice: within a batch (the first 10) and across batches.
    const deliveries = [...events, ...events.slice(0, 10), ...events.slice(150)];
    const list = join(dir, "batch-deliveries.jsonl");
    writeFileSync(list, deliveries.map((e) => JSON.stringify(e)).join("\n"));
    // Killed in the 20th delivery of the 4th batch of 32: three batches committed, the 4th not.
    const killed = start("sqlite-batch.ts", { file, deliveries: list, batch: 32, killAt: 3 * 32 + 19 });
    expect(await killed.done).toMatchObject({ signal: "SIGKILL" });
    expect(killed.said(`killing ${3 * 32 + 19}`)).toBe(true);
    const count = (sql: string): number => {
      const db = openSqliteDatabase(file)._unsafeUnwrap();
      try {
        return Number((db.prepare(sql).get() as { n: number }).n);
      } finally {
        db.close();
      }
    };
    expect(count("SELECT count(*) AS n FROM effects"), "the effects of the three committed batches, none of the 4th").toBe(3 * 32);
    expect(count("SELECT count(*) AS n FROM millwright_inbox"), "the entries of the three committed batches, none of the 4th").toBe(3 * 32);
    // The whole stream delivered again, after the restart.
    const again = start("sqlite-batch.ts", { file, deliveries: list, batch: 32 });
    const summary = (await allExitCleanly([again]))[0]!;
    expect(JSON.parse(summary)).toEqual({ duplicate: 3 * 32 + 10 + 50, processed: 200 - 3 * 32 });
    expect(count("SELECT count(*) AS n FROM effects")).toBe(200);
    expect(count("SELECT count(DISTINCT event_id) AS n FROM effects")).toBe(200);
  });
});

describe("Redis inbox, 4 worker processes", FAULT_TIMEOUT, () => {
  let client: Awaited<ReturnType<typeof connectRedis>>;
  const prefixes: string[] = [];
  beforeAll(async () => {
    client = await connectRedis();
  });
  afterAll(async () => {
    for (const p of prefixes) await deletePrefix(client, p);
    client?.destroy();
  });

  async function check(ids: string[], prefix: string): Promise<void> {
    const raw = (await client.sendCommand(["HGETALL", `${prefix}effects`])) as string[] | Record<string, string>;
    const counts = new Map(Array.isArray(raw) ? raw.flatMap((v, i) => (i % 2 === 0 ? [[v, Number(raw[i + 1])] as const] : [])) : Object.entries(raw).map(([k, v]) => [k, Number(v)] as const));
    expect([...counts.values()].filter((n) => n !== 1)).toEqual([]);
    expect(counts.size).toBe(ids.length);
    expect(ids.every((id) => counts.get(id) === 1)).toBe(true);
  }

  /** Inbox entries that needed more than one attempt. */
  async function retriedEntries(prefix: string): Promise<number> {
    let cursor = "0";
    let retried = 0;
    do {
      const [next, keys] = (await client.sendCommand(["SCAN", cursor, "MATCH", `${prefix}inbox:*`, "COUNT", "1000"])) as [string, string[]];
      cursor = next;
      const attempts = await Promise.all(keys.map((k) => client.sendCommand(["HGET", k, "attempts"])));
      retried += attempts.filter((a) => Number(a) > 1).length;
    } while (cursor !== "0");
    return retried;
  }

  const workers = (files: string[], prefix: string, name: string) =>
    files.map((deliveries, i) => ({ store: "redis", redisUrl, keyPrefix: prefix, deliveries, leaseMs: 1500, concurrency: 8, name: `${name}-${i}` }));

  it("applies each of 10,000 events exactly once, with a worker SIGKILLed mid-batch and restarted", async () => {
    const prefix = `millwright-fault:${suffix}:a:`;
    prefixes.push(prefix);
    const { ids, files } = deal(10_000, 4, 4, "redis-a");
    const configs = workers(files, prefix, `fault-${suffix}-ra`);
    const running = configs.map((c) => start("worker.ts", c));
    await until(() => running[0]!.progress() >= 500, 60_000, "worker 0 to get going");
    running[0]!.kill();
    expect((await running[0]!.done).signal).toBe("SIGKILL");
    running[0] = start("worker.ts", configs[0]!);
    const summaries = await allExitCleanly(running);
    const restarted = JSON.parse(summaries[0]!) as Record<string, number>;
    expect(restarted["duplicate"] ?? 0, `the redelivered events the killed worker had finished are absorbed as duplicates: ${summaries[0]}`).toBeGreaterThan(0);
    expect(await retriedEntries(prefix), "claims the killed worker held were taken over after their lease (attempt 2)").toBeGreaterThan(0);
    await check(ids, prefix);
  });

  it("resumes without help when the workers' connections are killed for 3 seconds", async () => {
    const prefix = `millwright-fault:${suffix}:b:`;
    prefixes.push(prefix);
    const { ids, files } = deal(4_000, 4, 5, "redis-b");
    const name = `fault-${suffix}-rb`;
    const running = workers(files, prefix, name).map((c) => start("worker.ts", c));
    await until(() => running.some((w) => w.progress() >= 200), 60_000, "a worker to get going");
    const end = Date.now() + 3000;
    let killed = 0;
    while (Date.now() < end) {
      const list = String(await client.sendCommand(["CLIENT", "LIST"]));
      for (const line of list.split("\n")) {
        const id = /\bid=(\d+)/.exec(line)?.[1];
        if (id !== undefined && line.includes(` name=${name}-`)) killed += Number(await client.sendCommand(["CLIENT", "KILL", "ID", id]));
      }
      await new Promise((res) => setTimeout(res, 100));
    }
    expect(killed, "the kill must have hit the workers' connections, or this test proves nothing").toBeGreaterThan(0);
    const summaries = await allExitCleanly(running);
    // A command in flight when its connection was killed fails the delivery with a store error;
    // the worker retries the delivery, and the inbox keeps the effect to one.
    const failures = total(summaries, "store_failed");
    expect(failures, `some deliveries must have failed on a killed connection: ${summaries.join(" ")}`).toBeGreaterThan(0);
    expect(total(summaries, "retried"), "every failed delivery was tried again").toBeGreaterThanOrEqual(failures);
    await check(ids, prefix);
  });
});
