/**
 * Durable alignment state: events/s through JSON.parse + engine + a flush every 1,000 events, and
 * the flush latency, for SQLite (each driver this Node loads) and PostgreSQL, against the engine
 * on the plain memory store and on a durable store whose backend writes nothing.
 * Run: `node --conditions=@millwright/source --import tsx bench/durable.bench.ts [events] [flushEvery]`.
 * PostgreSQL: MILLWRIGHT_PG_HOST, _PORT, _USER, _PASSWORD, _DATABASE (the admin database); the
 * bench creates its own database and drops it at the end.
 */
import type { CanonicalEvent } from "@millwright/events";
import { ok } from "neverthrow";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { builtInRules, createEngine, createMemoryStore, openDurableStore, type AlignmentBackend, type AlignmentStore, type DurableAlignmentStore } from "../src/index.js";
import { createPostgresBackend } from "../src/postgres.js";
import { findSqliteDrivers, openSqliteDatabase } from "@millwright/idempotency/sqlite";
import { createSqliteBackend } from "../src/sqlite.js";
import { completed, confirmed, counted, holdEnded, holdPlaced, MINUTE, released, started, T0 } from "../test/fixtures.js";

const TOTAL = Number(process.argv[2] ?? 100_000);
const FLUSH_EVERY = Number(process.argv[3] ?? 1_000);
const EVALUATE_EVERY = 10_000;
const ROUNDS = 3;

// The log of bench/align.bench.ts: orders one minute apart, 10 events each (one in 10 with a
// quality hold), some late, never confirmed or with a wrong yield, shuffled within 64 lines.
const tpl = {
  released: released("T", 0),
  started: started("T", 0),
  completed: completed("T", 0),
  counted: counted("T", "10", 0),
  partial: confirmed({ orderId: "T", n: 1, yieldValue: "20", isFinal: false, minutes: 0 }),
  final: confirmed({ orderId: "T", n: 2, yieldValue: "30", isFinal: true, minutes: 0 }),
  wrong: confirmed({ orderId: "T", n: 2, yieldValue: "31", isFinal: true, minutes: 0 }),
  placed: holdPlaced("T", 0),
  ended: holdEnded("T", 0),
};
type Data = Record<string, unknown>;
const withOrder = (e: CanonicalEvent, id: string, order: string, minutes: number, nested: boolean): string => {
  const data = e.data as unknown as Data;
  return JSON.stringify({
    ...e,
    id,
    time: new Date(T0 + minutes * MINUTE).toISOString(),
    data: nested ? { ...data, order: { ...(data["order"] as Data), orderId: order } } : { ...data, orderId: order },
  });
};
const lines: string[] = [];
for (let i = 0; lines.length < TOTAL; i++) {
  const order = `9${String(i).padStart(7, "0")}`;
  lines.push(withOrder(tpl.released, `r${i}`, order, i, false));
  lines.push(withOrder(tpl.started, `s${i}`, order, i + (i % 20 === 0 ? 300 : 30), false));
  for (let k = 0; k < 5; k++) lines.push(withOrder(tpl.counted, `c${i}-${k}`, order, i + 40 + k * 10, true));
  lines.push(withOrder(tpl.completed, `d${i}`, order, i + 100, false));
  lines.push(withOrder(tpl.partial, `p${i}`, order, i + 110, true));
  if (i % 50 !== 0) lines.push(withOrder(i % 7 === 0 ? tpl.wrong : tpl.final, `f${i}`, order, i + 120, true));
  if (i % 10 === 0) {
    lines.push(withOrder(tpl.placed, `h${i}`, order, i + 60, false).replace('"holdId":"T"', `"holdId":"H${i}"`));
    lines.push(withOrder(tpl.ended, `e${i}`, order, i + 600, false).replace('"holdId":"T"', `"holdId":"H${i}"`));
  }
}
lines.length = TOTAL;
let seed = 42;
const rand = (): number => (seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648;
for (let w = 0; w < lines.length; w += 64) {
  for (let j = Math.min(w + 63, lines.length - 1); j > w; j--) {
    const k = w + Math.floor(rand() * (j - w + 1));
    [lines[j], lines[k]] = [lines[k] as string, lines[j] as string];
  }
}

interface RunResult {
  readonly ms: number;
  readonly flushMs: number[];
  readonly written: number;
  readonly findings: number;
}

/**
 * One pass over the log: parse, ingest, evaluate every 10,000 events, flush every FLUSH_EVERY.
 * Pipelined: the flush runs while ingestion goes on (at most one in flight; a batch that finds
 * one in flight waits for the next boundary, so batches grow when the database is slower).
 */
async function run(store: AlignmentStore, flush: (() => Promise<number>) | undefined, pipelined = false): Promise<RunResult> {
  const engine = createEngine({ rules: builtInRules(), retentionMs: 60 * MINUTE, store });
  const flushMs: number[] = [];
  let written = 0;
  let findings = 0;
  let clock = 0;
  let inFlight: Promise<void> | undefined;
  const start = performance.now();
  for (let i = 0; i < lines.length; i++) {
    const event = JSON.parse(lines[i] as string) as CanonicalEvent;
    engine.ingest(event);
    const ms = Date.parse(event.time as string);
    if (ms > clock) clock = ms;
    if (i % EVALUATE_EVERY === EVALUATE_EVERY - 1) findings += engine.evaluate(clock).length;
    if (flush !== undefined && i % FLUSH_EVERY === FLUSH_EVERY - 1) {
      const t = performance.now();
      if (!pipelined) {
        written += await flush();
        flushMs.push(performance.now() - t);
      } else {
        if (inFlight === undefined) {
          inFlight = flush().then((n) => {
            written += n;
            flushMs.push(performance.now() - t);
            inFlight = undefined;
          });
        }
        // Let the database's replies in: the ingest loop itself never yields.
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
  }
  findings += engine.evaluate(clock + 24 * 60 * MINUTE).length;
  await inFlight;
  if (flush !== undefined) written += await flush();
  return { ms: performance.now() - start, flushMs, written, findings };
}

const flusher = (store: DurableAlignmentStore) => async (): Promise<number> => {
  const r = await store.flush();
  if (r.isErr()) throw new Error(r.error.message);
  return r.value.written;
};

async function durable(backend: AlignmentBackend): Promise<DurableAlignmentStore> {
  const opened = await openDurableStore(backend);
  if (opened.isErr()) throw new Error(opened.error.message);
  return opened.value;
}

const quantile = (xs: readonly number[], q: number): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
};
const median = (xs: readonly number[]): number => quantile(xs, 0.5);
const rate = (ms: number): string => `${Math.round(TOTAL / (ms / 1000)).toLocaleString("en")} events/s`;

interface Variant {
  readonly name: string;
  /** A fresh store for one round, its flush, and what to report about the database afterwards. */
  readonly round: (n: number) => Promise<{ store: AlignmentStore; flush?: () => Promise<number>; reopen?: () => Promise<DurableAlignmentStore>; after?: () => string }>;
  readonly pipelined?: boolean;
  readonly done?: () => Promise<void>;
}

const variants: Variant[] = [
  { name: "memory store (no flush)", round: async () => ({ store: createMemoryStore() }) },
  {
    name: "durable store, backend writes nothing",
    round: async () => {
      const store = await durable({ load: async () => ok({ states: [], tombstones: [] }), apply: async () => ok(undefined), close: async () => undefined });
      return { store, flush: flusher(store) };
    },
  },
];

const dir = mkdtempSync(join(tmpdir(), "millwright-alignment-bench-"));
// Every SQLite driver that loads on this Node, opened through the one shared helper.
const sqliteDrivers = findSqliteDrivers().map((name) => ({ name, open: async (file: string) => openSqliteDatabase(file, { driver: name })._unsafeUnwrap() }));
for (const driver of sqliteDrivers) {
  let file = "";
  const opened: { close(): void }[] = [];
  variants.push({
    name: `SQLite (${driver.name}, file, WAL, synchronous=FULL)`,
    round: async (n) => {
      file = join(dir, `${driver.name}-${n}.db`);
      const db = await driver.open(file);
      opened.push(db);
      const store = await durable(createSqliteBackend(db));
      return {
        store,
        flush: flusher(store),
        reopen: async () => {
          const again = await driver.open(file);
          opened.push(again);
          return durable(createSqliteBackend(again));
        },
        after: () => `database file ${(statSync(file).size / 1_048_576).toFixed(1)} MB (+ WAL)`,
      };
    },
    done: async () => opened.forEach((db) => db.close()),
  });
}

const pgSettings = {
  host: process.env["MILLWRIGHT_PG_HOST"] ?? "127.0.0.1",
  port: Number(process.env["MILLWRIGHT_PG_PORT"] ?? 5432),
  user: process.env["MILLWRIGHT_PG_USER"] ?? "postgres",
  password: process.env["MILLWRIGHT_PG_PASSWORD"] ?? "",
  database: process.env["MILLWRIGHT_PG_DATABASE"] ?? "postgres",
};
const pgDatabase = `millwright_bench_${randomBytes(4).toString("hex")}`;
const admin = async (sql: string): Promise<void> => {
  const client = new pg.Client({ ...pgSettings, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
};
await admin(`CREATE DATABASE ${pgDatabase}`);
const pool = new pg.Pool({ ...pgSettings, database: pgDatabase, max: 4 });
pool.on("error", () => undefined);
const postgresRound = async (n: number) => {
  const prefix = `bench${n}_`;
  const store = await durable(createPostgresBackend(pool, { tablePrefix: prefix }));
  return { store, flush: flusher(store), reopen: () => durable(createPostgresBackend(pool, { tablePrefix: prefix })) };
};
variants.push({ name: "PostgreSQL (pg Pool, localhost)", round: postgresRound });
variants.push({
  name: "PostgreSQL, flushing while ingesting (one flush in flight)",
  pipelined: true,
  round: postgresRound,
  done: async () => {
    await pool.end();
    await admin(`DROP DATABASE IF EXISTS ${pgDatabase} WITH (FORCE)`);
  },
});

// Warm the JIT up on the whole pipeline first, so that the first variant is not the slow one.
await run(createMemoryStore(), undefined);
console.log(`log: ${TOTAL.toLocaleString("en")} events; evaluate every ${EVALUATE_EVERY.toLocaleString("en")}, flush every ${FLUSH_EVERY.toLocaleString("en")}; median of ${ROUNDS} rounds; Node ${process.versions.node}`);
let round = 0;
try {
  for (const variant of variants) {
    const times: number[] = [];
    const flushes: number[] = [];
    let last: RunResult | undefined;
    let reloadMs = Number.NaN;
    let reloaded = "";
    let after = "";
    for (let r = 0; r < ROUNDS; r++) {
      const setup = await variant.round(++round);
      last = await run(setup.store, setup.flush, variant.pipelined);
      times.push(last.ms);
      flushes.push(...last.flushMs);
      if (setup.reopen !== undefined) {
        const t = performance.now();
        const again = await setup.reopen();
        reloadMs = performance.now() - t;
        const size = again.size();
        reloaded = `reopen ${reloadMs.toFixed(0)} ms (${size.open} open keys, ${size.closed} tombstones)`;
      }
      after = setup.after?.() ?? "";
    }
    const ms = median(times);
    const flushPart = flushes.length === 0 ? "" : `; flush p50 ${quantile(flushes, 0.5).toFixed(2)} ms, p99 ${quantile(flushes, 0.99).toFixed(2)} ms, max ${Math.max(...flushes).toFixed(2)} ms; ${Math.round((last?.written ?? 0) / Math.max(1, last?.flushMs.length ?? 1))} keys/flush`;
    console.log(`${variant.name}: ${ms.toFixed(0)} ms, ${rate(ms)}${flushPart}; ${last?.findings} findings${reloaded === "" ? "" : `; ${reloaded}`}${after === "" ? "" : `; ${after}`}`);
  }
} finally {
  for (const variant of variants) await variant.done?.();
  rmSync(dir, { recursive: true, force: true });
}
