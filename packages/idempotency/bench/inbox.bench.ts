// Inbox throughput with 20% duplicate deliveries, p99 latency per delivery, and memory over a long
// run, for each store, each against a bare baseline on the same service:
//   SQLite (1 process) vs INSERT … ON CONFLICT DO NOTHING; PostgreSQL (4 worker processes) vs the
//   same insert; Redis (4 worker processes) vs SET NX; memory (1 process) vs a Set.
// Run: node --expose-gc --import tsx bench/inbox.bench.ts [--events N] [--long N] [--only sqlite,postgres,redis,memory] [--batch N]
// --quick [--out FILE]: the short run of the test command's gate (bench/src/gate.ts): SQLite,
// PostgreSQL and Redis with 8,000 deliveries (PostgreSQL 2,400), the ratios written to FILE as
// { sqlite, postgres, redis }, per delivery (inbox.process), plus { sqliteBatch, redisBatch }:
// inbox.processBatch over batches of --batch N consecutive deliveries (default 32) against the same
// per-delivery bare side, and, for information, sqliteBareBatch: the SQLite batch inbox against the
// bare insert with one transaction per batch. The full run writes bench/results/inbox.json, here
// and at the root.
// Settings: MILLWRIGHT_PG_* and MILLWRIGHT_REDIS_URL as in test/services.ts.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import Database from "better-sqlite3";
import pg from "pg";
import { createClient } from "redis";
import { createInbox, createMemoryStore, type IdempotencyStore, type InboxEvent } from "../src/index.js";
import { createPostgresStore, migratePostgres } from "../src/postgres.js";
import { createRedisStore } from "../src/redis.js";
import { createSqliteStore } from "../src/sqlite.js";
import { createTestDatabase, pgSettings, redisUrl, uniqueSuffix, deletePrefix } from "../test/services.js";

const args = process.argv.slice(2);
const arg = (name: string, fallback: string): string => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? fallback : (args[i + 1] ?? fallback);
};

/** Delivery d of a stream where every fifth delivery repeats a recent event (20% duplicates). */
function delivery(d: number, offset: number): InboxEvent {
  let n = d - Math.floor(d / 5) + offset;
  if (d % 5 === 4) n = Math.max(offset, n - 1 - ((d * 7919) % 997));
  return {
    id: `evt-${n}`,
    source: "urn:millwright:bench",
    type: "dev.millwright.workorder.released.v1",
    subject: `order-${n}`,
    sequence: "00000000000000000001",
    data: { orderId: `order-${n}`, revision: "1", plannedQuantity: { value: "200", unit: "H87" } },
  };
}

interface Measure {
  deliveries: number;
  seconds: number;
  latencies: Float64Array;
}

/**
 * Like {@link drive}, a lane taking the next `size` consecutive deliveries at a time; each
 * delivery's latency is its batch's.
 */
async function driveBatches(count: number, lanes: number, offset: number, size: number, work: (events: InboxEvent[]) => Promise<unknown>): Promise<Measure> {
  const latencies = new Float64Array(count);
  let next = 0;
  const start = performance.now();
  const lane = async () => {
    for (;;) {
      const first = next;
      if (first >= count) return;
      next = Math.min(count, first + size);
      const events: InboxEvent[] = [];
      for (let d = first; d < next; d++) events.push(delivery(d, offset));
      const t = performance.now();
      await work(events);
      latencies.fill(performance.now() - t, first, first + events.length);
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  return { deliveries: count, seconds: (performance.now() - start) / 1000, latencies };
}

async function drive(count: number, lanes: number, offset: number, work: (e: InboxEvent) => Promise<unknown>, onProgress?: (done: number) => void): Promise<Measure> {
  const latencies = new Float64Array(count);
  let next = 0;
  const start = performance.now();
  const lane = async () => {
    for (;;) {
      const d = next++;
      if (d >= count) return;
      const t = performance.now();
      await work(delivery(d, offset));
      latencies[d] = performance.now() - t;
      if (onProgress !== undefined && d % 100_000 === 0) onProgress(d);
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  return { deliveries: count, seconds: (performance.now() - start) / 1000, latencies };
}

function p99(latencies: Float64Array): number {
  const sorted = Float64Array.from(latencies).sort();
  return sorted[Math.floor(sorted.length * 0.99)] ?? 0;
}

/** The inbox side of batch mode: one processBatch per batch; every outcome must be settled. */
function processedInBatches(store: IdempotencyStore<unknown>) {
  const inbox = createInbox(store, { leaseMs: 30_000 });
  return async (events: InboxEvent[]) => {
    const r = await inbox.processBatch(events, () => undefined);
    if (r.isErr()) throw new Error(r.error.message);
    const failed = r.value.find((o) => o.outcome === "failed");
    if (failed !== undefined) throw new Error(`inbox bench: a delivery failed: ${JSON.stringify(failed)}`);
  };
}

function processed(store: IdempotencyStore<unknown>) {
  const inbox = createInbox(store, { leaseMs: 30_000 });
  return async (e: InboxEvent) => {
    const r = await inbox.process(e, () => undefined);
    if (r.isErr()) throw new Error(r.error.message);
  };
}

// ---- worker mode: one of 4 processes against PostgreSQL or Redis --------------------------------
// A worker runs each of its modes in turn (bare, then inbox), on the same connections' process:
// for each, it warms up, says "ready", waits for "go" on stdin and prints its result as a JSON line.
if (args[0] === "--worker") {
  const config = JSON.parse(args[1]!) as { store: "postgres" | "redis"; modes: Mode[]; database: string; prefix: string; count: number; offset: number; lanes: number; batch: number };
  const input: string[] = [];
  let wake: () => void = () => undefined;
  process.stdin.on("data", (c: Buffer) => {
    input.push(c.toString());
    wake();
  });
  const go = async (): Promise<void> => {
    while (input.length === 0) await new Promise<void>((resolve) => (wake = resolve));
    input.shift();
  };
  let close: () => Promise<void>;
  let workOf: (mode: "inbox" | "bare") => (e: InboxEvent) => Promise<unknown>;
  let batchOf: () => (events: InboxEvent[]) => Promise<unknown> = () => {
    throw new Error(`inbox bench: no batch mode for ${config.store}`);
  };
  if (config.store === "postgres") {
    const pool = new pg.Pool({ ...pgSettings, database: config.database, max: config.lanes });
    pool.on("error", () => undefined);
    close = () => pool.end();
    workOf = (mode) => (mode === "inbox" ? processed(createPostgresStore(pool, { tablePrefix: config.prefix }) as IdempotencyStore<unknown>) : (e) => pool.query(`INSERT INTO bare (key) VALUES ($1) ON CONFLICT DO NOTHING`, [`${e.source}\n${e.id}`]));
  } else {
    const client = createClient({ url: redisUrl });
    await client.connect();
    close = async () => void client.destroy();
    workOf = (mode) => (mode === "inbox" ? processed(createRedisStore(client, { keyPrefix: config.prefix }) as IdempotencyStore<unknown>) : (e) => client.sendCommand(["SET", `${config.prefix}bare:${e.source}:${e.id}`, "1", "NX"]));
    batchOf = () => processedInBatches(createRedisStore(client, { keyPrefix: config.prefix }) as IdempotencyStore<unknown>);
  }
  for (const mode of config.modes) {
    // Warm up connections and scripts outside the measurement. Batch mode streams its own events
    // (offset + 5,000,000), so it claims as many new events as the per-delivery inbox did.
    let m: Measure;
    if (mode === "batch") {
      const work = batchOf();
      await driveBatches(200, config.lanes, 900_000_000 + config.offset, config.batch, work);
      process.stdout.write("ready\n");
      await go();
      m = await driveBatches(config.count, config.lanes, config.offset + 5_000_000, config.batch, work);
    } else {
      const work = workOf(mode);
      await drive(200, config.lanes, 900_000_000 + config.offset, work);
      process.stdout.write("ready\n");
      await go();
      m = await drive(config.count, config.lanes, config.offset, work);
    }
    process.stdout.write(`${JSON.stringify({ seconds: m.seconds, p99: p99(m.latencies) })}\n`);
  }
  await close();
  process.exit(0);
}

// ---- main ----------------------------------------------------------------------------------------
/** What a worker measures: the bare insert-if-absent, inbox.process per delivery, or inbox.processBatch. */
type Mode = "bare" | "inbox" | "batch";
interface Row {
  store: string;
  mode: string;
  processes: number;
  deliveries: number;
  perSecond: number;
  p99Ms: number;
}
const rows: Row[] = [];
const report = (store: string, mode: string, processes: number, m: { deliveries: number; seconds: number; p99: number }): void => {
  const row = { store, mode, processes, deliveries: m.deliveries, perSecond: Math.round(m.deliveries / m.seconds), p99Ms: Number(m.p99.toFixed(3)) };
  rows.push(row);
  console.log(`${store.padEnd(9)} ${mode.padEnd(6)} ×${processes}  ${String(row.perSecond).padStart(8)} deliveries/s  p99 ${row.p99Ms.toFixed(3)} ms  (${m.deliveries} deliveries)`);
};

/** Runs 4 worker processes through each mode in turn (bare, then inbox), all workers at once per mode. */
async function multi(store: "postgres" | "redis", modes: Mode[], database: string, prefix: string, total: number, lanes: number): Promise<void> {
  const workers = 4;
  const procs = Array.from({ length: workers }, (_, w) => {
    // Each worker streams its own events; duplicates within a worker's stream and across none.
    const config = { store, modes, database, prefix, count: Math.floor(total / workers), offset: w * 10_000_000, lanes, batch };
    // bench/src/profile.ts profiles the workers too: Node 20 takes no --cpu-prof in NODE_OPTIONS.
    const profile = process.env["BENCH_CPU_PROF_DIR"] === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${process.env["BENCH_CPU_PROF_DIR"]}`];
    const child = spawn(process.execPath, [...profile, "--conditions=@millwright/source", "--import", "tsx", import.meta.filename, "--worker", JSON.stringify(config)], { stdio: ["pipe", "pipe", "inherit"] });
    const lines: string[] = [];
    const waiting: { resolve: (line: string) => void; reject: (error: Error) => void }[] = [];
    let buffered = "";
    let gone: Error | undefined;
    child.stdout.on("data", (c: Buffer) => {
      buffered += c.toString();
      for (let nl = buffered.indexOf("\n"); nl !== -1; nl = buffered.indexOf("\n")) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        const next = waiting.shift();
        if (next === undefined) lines.push(line);
        else next.resolve(line);
      }
    });
    // A worker that dies fails the bench instead of leaving it waiting for a line that never comes.
    const exited = new Promise<void>((resolve) =>
      child.on("exit", (code) => {
        gone = new Error(`inbox bench: a ${store} worker exited with code ${code}`);
        for (const w of waiting.splice(0)) w.reject(gone);
        resolve();
      }),
    );
    const line = (): Promise<string> =>
      lines.length > 0 ? Promise.resolve(lines.shift()!) : gone !== undefined ? Promise.reject(gone) : new Promise((resolve, reject) => waiting.push({ resolve, reject }));
    return { child, line, exited };
  });
  const stopAll = () => procs.forEach((p) => p.child.kill());
  for (const mode of modes) {
    await Promise.all(procs.map(async (p) => expectLine(await p.line(), "ready"))).catch((error: unknown) => {
      stopAll();
      throw error;
    });
    const start = performance.now();
    for (const p of procs) p.child.stdin.write("go\n");
    const results = await Promise.all(procs.map(async (p) => JSON.parse(await p.line()) as { seconds: number; p99: number }));
    const seconds = (performance.now() - start) / 1000;
    report(store, mode, workers, { deliveries: Math.floor(total / workers) * workers, seconds, p99: Math.max(...results.map((r) => r.p99)) });
  }
  await Promise.all(procs.map((p) => p.exited));
}

function expectLine(line: string, expected: string): void {
  if (line !== expected) throw new Error(`inbox bench: a worker said ${JSON.stringify(line)} where ${JSON.stringify(expected)} was expected`);
}

const quick = args.includes("--quick");
const only = new Set(arg("only", quick ? "sqlite,postgres,redis" : "memory,sqlite,postgres,redis").split(","));
const events = Number(arg("events", quick ? "8000" : "200000"));
const long = Number(arg("long", "0"));
// 32: a transport's prefetch-sized batch; about 200 µs of work per batch on SQLite, so the
// BEGIN/COMMIT pair (a WAL append) is spread thin while one batch still holds the write lock briefly.
const batch = Number(arg("batch", "32"));
if (!Number.isInteger(batch) || batch < 1) throw new Error(`inbox bench: --batch ${arg("batch", "")} is a whole number of deliveries per batch, 1 or more`);
const dir = mkdtempSync(join(tmpdir(), "millwright-bench-"));
const memory: Record<string, unknown> = {};
const gc = (globalThis as { gc?: () => void }).gc;
const heapMb = (): number => {
  gc?.();
  return Number((process.memoryUsage().heapUsed / 2 ** 20).toFixed(1));
};

try {
  if (only.has("memory")) {
    const seen = new Set<string>();
    const m = await drive(events, 1, 0, async (e) => void seen.add(`${e.source}\n${e.id}`));
    report("memory", "bare", 1, { ...m, p99: p99(m.latencies) });
    const i = await drive(events, 1, 0, processed(createMemoryStore() as IdempotencyStore<unknown>));
    report("memory", "inbox", 1, { ...i, p99: p99(i.latencies) });
  }
  if (only.has("sqlite")) {
    const bareDb = new Database(join(dir, "bare.db"));
    bareDb.pragma("journal_mode = WAL");
    bareDb.pragma("synchronous = NORMAL");
    bareDb.exec("CREATE TABLE bare (key TEXT PRIMARY KEY) WITHOUT ROWID");
    const insert = bareDb.prepare("INSERT INTO bare (key) VALUES (?) ON CONFLICT DO NOTHING");
    const b = await drive(events, 1, 0, async (e) => insert.run(`${e.source}\n${e.id}`));
    report("sqlite", "bare", 1, { ...b, p99: p99(b.latencies) });
    const db = new Database(join(dir, "inbox.db"));
    const i = await drive(events, 1, 0, processed(createSqliteStore(db) as IdempotencyStore<unknown>));
    report("sqlite", "inbox", 1, { ...i, p99: p99(i.latencies) });
    // Batch mode, each on its own file: the inbox through processBatch, and (for information) the
    // bare insert with one transaction per batch.
    const batchDb = new Database(join(dir, "inbox-batch.db"));
    const ib = await driveBatches(events, 1, 0, batch, processedInBatches(createSqliteStore(batchDb) as IdempotencyStore<unknown>));
    report("sqlite", "batch", 1, { ...ib, p99: p99(ib.latencies) });
    const bareBatchDb = new Database(join(dir, "bare-batch.db"));
    bareBatchDb.pragma("journal_mode = WAL");
    bareBatchDb.pragma("synchronous = NORMAL");
    bareBatchDb.exec("CREATE TABLE bare (key TEXT PRIMARY KEY) WITHOUT ROWID");
    const insertInBatch = bareBatchDb.prepare("INSERT INTO bare (key) VALUES (?) ON CONFLICT DO NOTHING");
    const inOneTransaction = bareBatchDb.transaction((keys: readonly InboxEvent[]) => {
      for (const e of keys) insertInBatch.run(`${e.source}\n${e.id}`);
    });
    const bb = await driveBatches(events, 1, 0, batch, async (es) => inOneTransaction.immediate(es));
    report("sqlite", "bare-batch", 1, { ...bb, p99: p99(bb.latencies) });
    if (long > 0) {
      // Memory over a long run: heap after GC every 100,000 deliveries.
      const longDb = new Database(join(dir, "long.db"));
      const samples: number[] = [heapMb()];
      const l = await drive(long, 1, 50_000_000, processed(createSqliteStore(longDb) as IdempotencyStore<unknown>), () => samples.push(heapMb()));
      samples.push(heapMb());
      memory["sqlite"] = { deliveries: long, heapMbEvery100k: samples };
      report("sqlite", "inbox", 1, { ...l, p99: p99(l.latencies) });
      console.log(`sqlite heap MB after GC, every 100k deliveries: ${samples.join(" ")}`);
    }
  }
  if (only.has("postgres")) {
    const database = await createTestDatabase();
    try {
      const pool = new pg.Pool({ ...pgSettings, database: database.name, max: 2 });
      await migratePostgres(pool, "bench_");
      await pool.query("CREATE TABLE bare (key text PRIMARY KEY)");
      await pool.end();
      const total = quick ? Math.min(events, 2_400) : Math.min(events, 100_000);
      await multi("postgres", ["bare", "inbox"], database.name, "bench_", total, 8);
    } finally {
      await database.drop();
    }
  }
  if (only.has("redis")) {
    const prefix = `millwright-bench:${uniqueSuffix()}:`;
    const client = createClient({ url: redisUrl });
    await client.connect();
    try {
      await multi("redis", ["bare", "inbox", "batch"], "", prefix, events, 16);
    } finally {
      await deletePrefix(client, prefix);
      client.destroy();
    }
  }
  const ratio = (store: string) => {
    const bare = rows.find((r) => r.store === store && r.mode === "bare");
    const inbox = rows.find((r) => r.store === store && r.mode === "inbox");
    return bare && inbox ? Number((inbox.perSecond / bare.perSecond).toFixed(3)) : undefined;
  };
  const ratioOf = (store: string, mode: string, baseline: string) => {
    const base = rows.find((r) => r.store === store && r.mode === baseline);
    const row = rows.find((r) => r.store === store && r.mode === mode);
    return base && row ? Number((row.perSecond / base.perSecond).toFixed(3)) : undefined;
  };
  const ratios = Object.fromEntries(
    [
      ...["memory", "sqlite", "postgres", "redis"].map((s) => [s, ratio(s)] as const),
      // Batch mode against the same per-delivery bare side; sqliteBareBatch against the bare side in one transaction per batch.
      ["sqliteBatch", ratioOf("sqlite", "batch", "bare")] as const,
      ["redisBatch", ratioOf("redis", "batch", "bare")] as const,
      ["sqliteBareBatch", ratioOf("sqlite", "batch", "bare-batch")] as const,
    ].filter(([, r]) => r !== undefined),
  );
  console.log("inbox / bare throughput:", ratios);
  const record = `${JSON.stringify({ node: process.version, cpus: (await import("node:os")).cpus().length, date: new Date().toISOString(), quick, batch, rows, ratios, ...ratios, memory }, null, 2)}\n`;
  const out = arg("out", "");
  if (out !== "") writeFileSync(out, record);
  if (!quick) {
    mkdirSync(join(import.meta.dirname, "results"), { recursive: true });
    writeFileSync(join(import.meta.dirname, "results", "inbox.json"), record);
    writeFileSync(join(import.meta.dirname, "..", "..", "..", "bench", "results", "inbox.json"), record);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
