// PostgreSQL throughput side by side: the same 3-step workflow (each step inserts one row) on
// DBOS Transact and on the Millwright runtime's PostgreSQL store, 4 worker processes each, one
// database, rounds alternating the engines so that both see the same machine. Prints instances/s
// per round and the ratio Millwright / DBOS (issue 14: at least 1).
// Both engines get the same pools per process (engine 8, steps 4) and step retries (5 attempts).
// Run: node --conditions=@millwright/source --import tsx bench/dbos-compare.ts [--instances 2000] [--workers 4] [--rounds 2] [--concurrency 8] [--engine-pool 8] [--app-pool 4]
// Settings: MILLWRIGHT_PG_* as in test/pg-services.ts; the database is created and dropped.
import { spawn, type ChildProcess } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { DBOS } from "@dbos-inc/dbos-sdk";
import pg from "pg";
import { migrateWorkflowPostgres } from "../src/postgres.js";
import { createTestDatabase } from "../test/pg-services.js";
import { ROWS_TABLE } from "./three-steps.js";

const args = process.argv.slice(2);
const arg = (name: string, fallback: number): number => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(args[i + 1] ?? fallback);
};
const instances = arg("instances", 2000);
const workers = arg("workers", 4);
const rounds = arg("rounds", 2);
const concurrency = arg("concurrency", 8);
// Per process: 4 × (8 + 4) connections stay well under PostgreSQL's default max_connections of 100.
const enginePool = arg("engine-pool", 8);
const appPool = arg("app-pool", 4);
const HERE = dirname(fileURLToPath(import.meta.url));
type Engine = "dbos" | "millwright";

interface Worker {
  readonly child: ChildProcess;
  readonly lines: string[];
  readonly stderr: string[];
  waitLine(word: string): Promise<void>;
}

function spawnWorker(engine: Engine, url: string, workerId: string, run: string, share: number): Worker {
  const child = spawn(process.execPath, ["--conditions=@millwright/source", "--import", "tsx", join(HERE, "dbos-compare-worker.ts")], {
    env: { ...process.env, ENGINE: engine, DATABASE_URL: url, WORKER_ID: workerId, RUN: run, SHARE: String(share), CONCURRENCY: String(concurrency), ENGINE_POOL: String(enginePool), APP_POOL: String(appPool) },
    stdio: ["pipe", "pipe", "pipe"],
  });
  const lines: string[] = [];
  const stderr: string[] = [];
  const waiters: { word: string; resolve: () => void }[] = [];
  let buffer = "";
  child.stdout!.on("data", (chunk: Buffer) => {
    buffer += chunk.toString();
    for (let nl = buffer.indexOf("\n"); nl !== -1; nl = buffer.indexOf("\n")) {
      const line = buffer.slice(0, nl).trim();
      buffer = buffer.slice(nl + 1);
      lines.push(line);
      for (const w of waiters.filter((w) => w.word === line)) w.resolve();
    }
  });
  child.stderr!.on("data", (chunk: Buffer) => stderr.push(chunk.toString()));
  const exited = new Promise<never>((_, reject) => child.on("exit", (code) => reject(new Error(`${engine} worker ${workerId} exited with ${code}: ${stderr.join("").slice(-2000)}`))));
  exited.catch(() => undefined);
  return {
    child,
    lines,
    stderr,
    waitLine: (word) => (lines.includes(word) ? Promise.resolve() : Promise.race([new Promise<void>((resolve) => waiters.push({ word, resolve })), exited])),
  };
}

/** Instances of the round that finished, and how many of them did not succeed. */
async function finished(pool: pg.Pool, engine: Engine, run: string): Promise<{ done: number; failed: number }> {
  const sql =
    engine === "dbos"
      ? `SELECT COUNT(*) FILTER (WHERE status IN ('SUCCESS', 'ERROR', 'CANCELLED', 'MAX_RECOVERY_ATTEMPTS_EXCEEDED')) AS done, COUNT(*) FILTER (WHERE status <> 'SUCCESS' AND status NOT IN ('PENDING', 'ENQUEUED')) AS failed
         FROM dbos.workflow_status WHERE workflow_uuid LIKE $1`
      : `SELECT COUNT(*) FILTER (WHERE state IN ('completed', 'compensated', 'failed', 'cancelled')) AS done, COUNT(*) FILTER (WHERE state IN ('compensated', 'failed', 'cancelled')) AS failed
         FROM millwright_wf_instances WHERE key LIKE $1`;
  const row = (await pool.query<{ done: string; failed: string }>(sql, [`${run}-%`])).rows[0]!;
  return { done: Number(row.done), failed: Number(row.failed) };
}

async function round(pool: pg.Pool, url: string, engine: Engine, run: string): Promise<{ seconds: number; perSecond: number; failed: number }> {
  const share = Math.ceil(instances / workers);
  const total = share * workers;
  const procs = Array.from({ length: workers }, (_, i) => spawnWorker(engine, url, `w${i + 1}`, run, share));
  await Promise.all(procs.map((p) => p.waitLine("ready")));
  const t0 = performance.now();
  for (const p of procs) p.child.stdin!.write("go\n");
  // Done when every instance of the round is finished in the engine's own status table.
  let failed = 0;
  for (;;) {
    const now = await finished(pool, engine, run);
    failed = now.failed;
    if (now.done >= total) break;
    const dead = procs.find((p) => p.child.exitCode !== null);
    if (dead !== undefined) throw new Error(`${engine} round ${run}: a worker exited early (${dead.child.exitCode}): ${dead.stderr.join("").slice(-3000)}`);
    if (performance.now() - t0 > 600_000) throw new Error(`${engine} round ${run} did not finish in 10 min (${now.done} of ${total}): ${procs.map((p) => p.stderr.join("")).join("").slice(-3000)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const seconds = (performance.now() - t0) / 1000;
  for (const p of procs) p.child.stdin!.write("stop\n");
  await Promise.all(procs.map((p) => new Promise((resolve) => (p.child.exitCode !== null ? resolve(null) : p.child.on("exit", resolve)))));
  const rows = Number((await pool.query<{ n: string }>("SELECT COUNT(*) AS n FROM bench_rows WHERE engine = $1 AND instance LIKE $2", [engine, `${run}-%`])).rows[0]!.n);
  if (failed > 0) console.log(`${engine} round ${run}: ${failed} of ${total} instances failed; ${procs.map((p) => p.stderr.join("")).join("").slice(0, 3000)}`);
  else if (rows !== 3 * total) throw new Error(`${engine} round ${run}: ${rows} step rows, expected ${3 * total}`);
  return { seconds, perSecond: (total - failed) / seconds, failed };
}

const db = await createTestDatabase("wf_bench");
const pool = new pg.Pool({ connectionString: db.url, max: 4 });
pool.on("error", () => undefined);
try {
  await pool.query(ROWS_TABLE);
  await migrateWorkflowPostgres(pool);
  // DBOS migrates its schema at launch, and 4 processes launching at once on a fresh database fail
  // ("tuple concurrently updated"): migrate once here, as for the Millwright store.
  await DBOS.migrate(db.url);
  console.log(`dbos-compare: ${instances} instances × 3 steps, ${workers} worker processes, ${concurrency} in flight and pools of ${enginePool} + ${appPool} per process, ${rounds} rounds, node ${process.version}, database ${db.name}`);
  // A warm-up round of both (connections, JIT), not counted.
  await round(pool, db.url, "dbos", "warmup-dbos");
  await round(pool, db.url, "millwright", "warmup-millwright");
  const results: Record<Engine, number[]> = { dbos: [], millwright: [] };
  for (let r = 1; r <= rounds; r++) {
    const order: Engine[] = r % 2 === 1 ? ["dbos", "millwright"] : ["millwright", "dbos"];
    for (const engine of order) {
      const result = await round(pool, db.url, engine, `r${r}-${engine}`);
      results[engine].push(result.perSecond);
      console.log(`round ${r} ${engine.padEnd(10)} ${result.seconds.toFixed(2)} s  ${result.perSecond.toFixed(1)} instances/s${result.failed > 0 ? `  (${result.failed} failed, not counted)` : ""}`);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
  const ratios = results.dbos.map((d, i) => results.millwright[i]! / d);
  console.log(`median  dbos ${median(results.dbos).toFixed(1)} instances/s, millwright ${median(results.millwright).toFixed(1)} instances/s`);
  console.log(`ratio millwright/dbos per round: ${ratios.map((x) => x.toFixed(2)).join(", ")}; of medians ${(median(results.millwright) / median(results.dbos)).toFixed(2)} (target ≥ 1)`);
} finally {
  await pool.end();
  await db.drop();
}
