// Inbox throughput with 20% duplicate deliveries, p99 latency per delivery, and memory over a long
// run, for each store, each against a bare baseline on the same service:
//   SQLite (1 process) vs INSERT … ON CONFLICT DO NOTHING; PostgreSQL (4 worker processes) vs the
//   same insert; Redis (4 worker processes) vs SET NX; memory (1 process) vs a Set.
// Run: node --expose-gc --import tsx bench/inbox.bench.ts [--events N] [--long N] [--only sqlite,postgres,redis,memory]
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

function processed(store: IdempotencyStore<unknown>) {
  const inbox = createInbox(store, { leaseMs: 30_000 });
  return async (e: InboxEvent) => {
    const r = await inbox.process(e, () => undefined);
    if (r.isErr()) throw new Error(r.error.message);
  };
}

// ---- worker mode: one of 4 processes against PostgreSQL or Redis --------------------------------
if (args[0] === "--worker") {
  const config = JSON.parse(args[1]!) as { store: "postgres" | "redis"; mode: "inbox" | "bare"; database: string; prefix: string; count: number; offset: number; lanes: number };
  let work: (e: InboxEvent) => Promise<unknown>;
  let close: () => Promise<void>;
  if (config.store === "postgres") {
    const pool = new pg.Pool({ ...pgSettings, database: config.database, max: config.lanes });
    pool.on("error", () => undefined);
    close = () => pool.end();
    work = config.mode === "inbox" ? processed(createPostgresStore(pool, { tablePrefix: config.prefix }) as IdempotencyStore<unknown>) : (e) => pool.query(`INSERT INTO bare (key) VALUES ($1) ON CONFLICT DO NOTHING`, [`${e.source}\n${e.id}`]);
  } else {
    const client = createClient({ url: redisUrl });
    await client.connect();
    close = async () => void client.destroy();
    work = config.mode === "inbox" ? processed(createRedisStore(client, { keyPrefix: config.prefix }) as IdempotencyStore<unknown>) : (e) => client.sendCommand(["SET", `${config.prefix}bare:${e.source}:${e.id}`, "1", "NX"]);
  }
  // Warm up connections and scripts outside the measurement.
  await drive(200, config.lanes, 900_000_000 + config.offset, work);
  process.stdout.write("ready\n");
  await new Promise<void>((resolve) => process.stdin.once("data", () => resolve()));
  const m = await drive(config.count, config.lanes, config.offset, work);
  process.stdout.write(`${JSON.stringify({ seconds: m.seconds, p99: p99(m.latencies) })}\n`);
  await close();
  process.exit(0);
}

// ---- main ----------------------------------------------------------------------------------------
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

async function multi(store: "postgres" | "redis", mode: "inbox" | "bare", database: string, prefix: string, total: number, lanes: number): Promise<void> {
  const workers = 4;
  const procs = Array.from({ length: workers }, (_, w) => {
    // Each worker streams its own events; duplicates within a worker's stream and across none.
    const config = { store, mode, database, prefix, count: Math.floor(total / workers), offset: w * 10_000_000, lanes };
    const child = spawn(process.execPath, ["--import", "tsx", import.meta.filename, "--worker", JSON.stringify(config)], { stdio: ["pipe", "pipe", "inherit"] });
    let out = "";
    const ready = new Promise<void>((resolve) => child.stdout.on("data", (c: Buffer) => ((out += c.toString()), out.includes("ready\n") && resolve())));
    const done = new Promise<{ seconds: number; p99: number }>((resolve) => child.on("exit", () => resolve(JSON.parse(out.split("\n").filter(Boolean).at(-1)!))));
    return { child, ready, done };
  });
  await Promise.all(procs.map((p) => p.ready));
  const start = performance.now();
  for (const p of procs) p.child.stdin.write("go\n");
  const results = await Promise.all(procs.map((p) => p.done));
  const seconds = (performance.now() - start) / 1000;
  report(store, mode, workers, { deliveries: Math.floor(total / workers) * workers, seconds, p99: Math.max(...results.map((r) => r.p99)) });
}

const only = new Set(arg("only", "memory,sqlite,postgres,redis").split(","));
const events = Number(arg("events", "200000"));
const long = Number(arg("long", "0"));
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
      const total = Math.min(events, 100_000);
      await multi("postgres", "bare", database.name, "bench_", total, 8);
      await multi("postgres", "inbox", database.name, "bench_", total, 8);
    } finally {
      await database.drop();
    }
  }
  if (only.has("redis")) {
    const prefix = `millwright-bench:${uniqueSuffix()}:`;
    const client = createClient({ url: redisUrl });
    await client.connect();
    try {
      await multi("redis", "bare", "", prefix, events, 16);
      await multi("redis", "inbox", "", prefix, events, 16);
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
  const ratios = Object.fromEntries(["memory", "sqlite", "postgres", "redis"].map((s) => [s, ratio(s)]).filter(([, r]) => r !== undefined));
  console.log("inbox / bare throughput:", ratios);
  mkdirSync(join(import.meta.dirname, "results"), { recursive: true });
  writeFileSync(
    join(import.meta.dirname, "results", "inbox.json"),
    `${JSON.stringify({ node: process.version, cpus: (await import("node:os")).cpus().length, date: new Date().toISOString(), rows, ratios, memory }, null, 2)}\n`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
