// Engine overhead per step on SQLite: the runtime with the SQLite store running a 3-step workflow,
// against a bare loop that calls the same step functions and records each step's result as one
// row in one transaction (the least a durable loop can do). Rounds alternate, in one process, on
// the same pragmas (WAL, synchronous=NORMAL, read back from both connections and printed).
// Issue 14's target: engine ≤ 3× bare per step. The engine runs with the runtime's default
// concurrency (8 instances in flight, whose step records share commits: group commit) and, as a
// second figure, one instance at a time (concurrency 1: a commit per step, as the bare loop).
// A last, untimed pass per side counts the pages each commit writes, from the WAL file itself
// (checkpoints off): every commit appends one frame per page it changed.
// Run: node --conditions=@millwright/source --import tsx bench/sqlite-overhead.ts [--instances 2000] [--rounds 3]
// Quick (the bench gate): ... bench/sqlite-overhead.ts --quick --out <file.json> (500 instances,
// 3 rounds), writing { "sqliteOverheadVsBare": <median wall ratio>, ... } to the file.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createWorkflowRuntime, defineWorkflow, type WorkflowStore } from "../src/index.js";
import { createSqliteWorkflowStore, openSqliteDatabase, type OpenedSqliteDatabase } from "../src/sqlite.js";

const args = process.argv.slice(2);
const arg = (name: string, fallback: number): number => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(args[i + 1] ?? fallback);
};
const quick = args.includes("--quick");
const instances = arg("instances", quick ? 500 : 2000);
const rounds = arg("rounds", 3);
const outIndex = args.indexOf("--out");
const out = outIndex === -1 ? undefined : args[outIndex + 1];
if (outIndex !== -1 && (out === undefined || out.startsWith("--"))) throw new Error("sqlite-overhead: --out needs a file name");
const driver = args.includes("--node-sqlite") ? ("node:sqlite" as const) : undefined;

// The step functions both sides call: small pure work returning a JSON result.
const stepFunctions = [
  (n: number) => ({ reserved: n * 2, at: "A-01" }),
  (n: number) => ({ dispatched: `order-${n}`, lines: [n, n + 1] }),
  (n: number) => ({ staged: true, quantity: { value: String(n), unit: "H87" } }),
] as const;

const dir = mkdtempSync(join(tmpdir(), "millwright-sqlite-overhead-"));
let files = 0;
let walFile: string | undefined;
let countWal = false;
function open(): OpenedSqliteDatabase {
  const file = join(dir, `db-${files++}.sqlite`);
  const opened = openSqliteDatabase(file, driver === undefined ? {} : { driver });
  if (opened.isErr()) throw new Error(opened.error.message);
  // The store sets these itself (its default `wal: true`); the bare loop gets the same.
  opened.value.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL");
  if (countWal) opened.value.exec("PRAGMA wal_autocheckpoint = 0");
  walFile = `${file}-wal`;
  return opened.value;
}

/** Frames and commit frames in the WAL file (header 32 bytes; per frame a 24-byte header, whose second word is non-zero on a commit's last frame, and the page). */
function walFrames(): { frames: number; commits: number } {
  const wal = readFileSync(walFile!);
  if (wal.length < 32) return { frames: 0, commits: 0 };
  const pageSize = wal.readUInt32BE(8);
  let frames = 0;
  let commits = 0;
  for (let at = 32; at + 24 + pageSize <= wal.length; at += 24 + pageSize) {
    frames += 1;
    if (wal.readUInt32BE(at + 4) !== 0) commits += 1;
  }
  return { frames, commits };
}

// CPU time (user + system) of this process over a measurement: on a loaded machine the wall time
// includes waiting for a core; the CPU time shows the work itself.
let cpuUs = 0;
async function cpu<T>(work: () => Promise<T>): Promise<T> {
  const before = process.cpuUsage();
  const value = await work();
  const used = process.cpuUsage(before);
  cpuUs = used.user + used.system;
  return value;
}

/** journal_mode and synchronous as the connection reports them (synchronous: 0 OFF, 1 NORMAL, 2 FULL). */
const pragmas: { bare?: string; engine?: string } = {};
function pragmasOf(db: OpenedSqliteDatabase): string {
  const mode = (db.prepare("PRAGMA journal_mode").all() as { journal_mode: string }[])[0]?.journal_mode;
  const sync = (db.prepare("PRAGMA synchronous").all() as { synchronous: number }[])[0]?.synchronous;
  return `journal_mode=${mode} synchronous=${["OFF", "NORMAL", "FULL", "EXTRA"][Number(sync)] ?? sync}`;
}

async function bare(): Promise<number> {
  const db = open();
  pragmas.bare = pragmasOf(db);
  db.exec("CREATE TABLE steps (instance TEXT NOT NULL, step INTEGER NOT NULL, result TEXT NOT NULL, PRIMARY KEY (instance, step))");
  const insert = db.prepare("INSERT INTO steps (instance, step, result) VALUES (?, ?, ?)");
  const t0 = performance.now();
  for (let n = 0; n < instances; n++) {
    for (let s = 0; s < 3; s++) {
      const result = await stepFunctions[s]!(n);
      db.exec("BEGIN IMMEDIATE");
      insert.run(`order-${n}`, s + 1, JSON.stringify(result));
      db.exec("COMMIT");
    }
  }
  const ms = performance.now() - t0;
  if (countWal) wal.bare = walFrames();
  (db as unknown as { close(): void }).close();
  return ms;
}

const wal: { bare?: { frames: number; commits: number }; engine?: { frames: number; commits: number } } = {};

// Store calls by method in the last engine round, and the time spent inside them (the SQLite
// store does its work synchronously in the call), to show where the engine's time goes.
let calls: Record<string, number> = {};
let storeMs = 0;
function countCalls(store: WorkflowStore): WorkflowStore {
  calls = {};
  storeMs = 0;
  return new Proxy(store, {
    get(target, key: string) {
      const value = target[key as keyof WorkflowStore] as unknown;
      if (typeof value !== "function") return value;
      return (...params: unknown[]) => {
        calls[key] = (calls[key] ?? 0) + 1;
        const t0 = performance.now();
        const result = (value as (...p: unknown[]) => unknown).apply(target, params);
        storeMs += performance.now() - t0;
        return result;
      };
    },
  });
}

async function engine(concurrency = 8): Promise<{ ms: number; startMs: number }> {
  const db = open();
  const store = countCalls(createSqliteWorkflowStore(db));
  pragmas.engine = pragmasOf(db);
  const workflow = defineWorkflow({
    name: "bench-overhead",
    version: 1,
    run: async (wf, input: { n: number }) => {
      await wf.step("reserve", () => stepFunctions[0](input.n));
      await wf.step("dispatch", () => stepFunctions[1](input.n));
      await wf.step("stage", () => stepFunctions[2](input.n));
      return null;
    },
  });
  const runtime = createWorkflowRuntime({ store, workflows: [workflow], workerId: "bench", concurrency });
  const t0 = performance.now();
  for (let n = 0; n < instances; n++) (await runtime.start(workflow, `order-${n}`, { n }))._unsafeUnwrap();
  const startMs = performance.now() - t0;
  const runs = (await runtime.runDue())._unsafeUnwrap();
  const ms = performance.now() - t0;
  if (countWal) wal.engine = walFrames();
  const counts = await store.countByState();
  if (counts.completed !== instances) throw new Error(`engine: ${JSON.stringify(counts)} after ${runs} runs, expected ${instances} completed`);
  (db as unknown as { close(): void }).close();
  return { ms, startMs };
}

try {
  console.log(`sqlite-overhead: ${instances} instances × 3 steps, ${rounds} rounds, driver ${driver ?? "default (better-sqlite3, else node:sqlite)"}, node ${process.version}`);
  await bare();
  await engine(); // warm-up, not counted
  const bareUs: number[] = [];
  const engineUs: number[] = [];
  const serialUs: number[] = [];
  const bareCpu: number[] = [];
  const engineCpu: number[] = [];
  const serialCpu: number[] = [];
  const steps = instances * 3;
  for (let r = 1; r <= rounds; r++) {
    // The order alternates per round, so a drift of the machine's load does not favour one side.
    const sides = r % 2 === 1 ? (["bare", "engine", "serial"] as const) : (["serial", "engine", "bare"] as const);
    let startUs = 0;
    for (const side of sides) {
      if (side === "bare") {
        const b = await cpu(bare);
        bareCpu.push(cpuUs / steps);
        bareUs.push((b * 1000) / steps);
      } else {
        const e = await cpu(() => engine(side === "engine" ? 8 : 1));
        (side === "engine" ? engineCpu : serialCpu).push(cpuUs / steps);
        (side === "engine" ? engineUs : serialUs).push((e.ms * 1000) / steps);
        if (side === "engine") startUs = (e.startMs * 1000) / instances;
      }
    }
    console.log(
      `round ${r}: bare ${bareUs.at(-1)!.toFixed(1)} µs/step (cpu ${bareCpu.at(-1)!.toFixed(1)}); engine ${engineUs.at(-1)!.toFixed(1)} µs/step (cpu ${engineCpu.at(-1)!.toFixed(1)}; start ${startUs.toFixed(1)} µs/instance), ratio ${(engineUs.at(-1)! / bareUs.at(-1)!).toFixed(2)} wall, ${(engineCpu.at(-1)! / bareCpu.at(-1)!).toFixed(2)} cpu; one at a time ${serialUs.at(-1)!.toFixed(1)} µs/step (cpu ${serialCpu.at(-1)!.toFixed(1)}), ratio ${(serialUs.at(-1)! / bareUs.at(-1)!).toFixed(2)} wall, ${(serialCpu.at(-1)! / bareCpu.at(-1)!).toFixed(2)} cpu`,
    );
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
  console.log(
    `store calls per instance (last engine run): ${Object.entries(calls).map(([k, v]) => `${k} ${(v / instances).toFixed(2)}`).join(", ")}; inside the store ${((storeMs * 1000) / (instances * 3)).toFixed(1)} µs/step of ${engineUs.at(-1)!.toFixed(1)}`,
  );
  countWal = true;
  await bare();
  await engine();
  const perCommit = (w: { frames: number; commits: number } | undefined) => (w === undefined || w.commits === 0 ? "?" : `${(w.frames / w.commits).toFixed(2)} pages/commit, ${(w.commits / instances).toFixed(2)} commits/instance, ${(w.frames / (instances * 3)).toFixed(2)} pages/step`);
  console.log(`WAL (untimed pass, checkpoints off): bare ${perCommit(wal.bare)}; engine ${perCommit(wal.engine)}`);
  const ratio = (a: number[], b: number[]) => median(a) / median(b);
  const range = (a: number[], b: number[]) => {
    const each = a.map((x, i) => x / b[i]!);
    return `${Math.min(...each).toFixed(2)}–${Math.max(...each).toFixed(2)}`;
  };
  const load = (await import("node:os")).loadavg().map((l) => Number(l.toFixed(1)));
  console.log(`pragmas: bare ${pragmas.bare}; engine ${pragmas.engine}`);
  console.log(`median: bare ${median(bareUs).toFixed(1)} µs/step, engine ${median(engineUs).toFixed(1)} µs/step, ratio ${ratio(engineUs, bareUs).toFixed(2)} (rounds ${range(engineUs, bareUs)}; target ≤ 3); one at a time ${median(serialUs).toFixed(1)} µs/step, ratio ${ratio(serialUs, bareUs).toFixed(2)} (rounds ${range(serialUs, bareUs)})`);
  console.log(`median cpu: bare ${median(bareCpu).toFixed(1)} µs/step, engine ${median(engineCpu).toFixed(1)} µs/step, ratio ${ratio(engineCpu, bareCpu).toFixed(2)}; one at a time ${median(serialCpu).toFixed(1)} µs/step, ratio ${ratio(serialCpu, bareCpu).toFixed(2)}; load average ${load.join(" ")}`);
  if (out !== undefined) {
    const round3 = (x: number) => Number(x.toFixed(3));
    const result = {
      bench: "workflows.sqlite-overhead",
      date: new Date().toISOString(),
      node: process.version,
      instances,
      rounds,
      pragmas,
      /** Engine (8 in flight) wall time per step over the bare loop's, medians of the rounds. Target ≤ 3. */
      sqliteOverheadVsBare: round3(ratio(engineUs, bareUs)),
      sqliteOverheadVsBareCpu: round3(ratio(engineCpu, bareCpu)),
      /** The engine one instance at a time (no group commit): a commit per step, as the bare loop. */
      sqliteOverheadVsBareSerial: round3(ratio(serialUs, bareUs)),
      sqliteOverheadVsBareSerialCpu: round3(ratio(serialCpu, bareCpu)),
      usPerStep: { bare: round3(median(bareUs)), engine: round3(median(engineUs)), serial: round3(median(serialUs)) },
      cpuUsPerStep: { bare: round3(median(bareCpu)), engine: round3(median(engineCpu)), serial: round3(median(serialCpu)) },
      loadAverage: load,
    };
    writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
    console.log(`wrote ${out}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
