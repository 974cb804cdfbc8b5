// Engine overhead per step on SQLite: the runtime with the SQLite store running a 3-step workflow,
// against a bare loop that calls the same step functions and records each step's result as one
// row in one transaction (the least a durable loop can do). Rounds alternate, in one process, on
// the same pragmas (WAL, synchronous=NORMAL). Issue 14's target: engine ≤ 3× bare per step.
// Run: node --conditions=@millwright/source --import tsx bench/sqlite-overhead.ts [--instances 2000] [--rounds 3]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createWorkflowRuntime, defineWorkflow, type WorkflowStore } from "../src/index.js";
import { createSqliteWorkflowStore, openSqliteDatabase, type OpenedSqliteDatabase } from "../src/sqlite.js";

const args = process.argv.slice(2);
const arg = (name: string, fallback: number): number => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(args[i + 1] ?? fallback);
};
const instances = arg("instances", 2000);
const rounds = arg("rounds", 3);
const driver = args.includes("--node-sqlite") ? ("node:sqlite" as const) : undefined;

// The step functions both sides call: small pure work returning a JSON result.
const stepFunctions = [
  (n: number) => ({ reserved: n * 2, at: "A-01" }),
  (n: number) => ({ dispatched: `order-${n}`, lines: [n, n + 1] }),
  (n: number) => ({ staged: true, quantity: { value: String(n), unit: "H87" } }),
] as const;

const dir = mkdtempSync(join(tmpdir(), "millwright-sqlite-overhead-"));
let files = 0;
function open(): OpenedSqliteDatabase {
  const opened = openSqliteDatabase(join(dir, `db-${files++}.sqlite`), driver === undefined ? {} : { driver });
  if (opened.isErr()) throw new Error(opened.error.message);
  opened.value.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL");
  return opened.value;
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

async function bare(): Promise<number> {
  const db = open();
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
  (db as unknown as { close(): void }).close();
  return ms;
}

// Store calls by method in the last engine round, to show where the engine's time goes.
let calls: Record<string, number> = {};
function countCalls(store: WorkflowStore): WorkflowStore {
  calls = {};
  return new Proxy(store, {
    get(target, key: string) {
      const value = target[key as keyof WorkflowStore] as unknown;
      if (typeof value !== "function") return value;
      return (...params: unknown[]) => {
        calls[key] = (calls[key] ?? 0) + 1;
        return (value as (...p: unknown[]) => unknown).apply(target, params);
      };
    },
  });
}

async function engine(): Promise<{ ms: number; startMs: number }> {
  const db = open();
  const store = countCalls(createSqliteWorkflowStore(db));
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
  const runtime = createWorkflowRuntime({ store, workflows: [workflow], workerId: "bench" });
  const t0 = performance.now();
  for (let n = 0; n < instances; n++) (await runtime.start(workflow, `order-${n}`, { n }))._unsafeUnwrap();
  const startMs = performance.now() - t0;
  const runs = (await runtime.runDue())._unsafeUnwrap();
  const ms = performance.now() - t0;
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
  const bareCpu: number[] = [];
  const engineCpu: number[] = [];
  for (let r = 1; r <= rounds; r++) {
    const b = await cpu(bare);
    bareCpu.push(cpuUs / (instances * 3));
    const e = await cpu(engine);
    engineCpu.push(cpuUs / (instances * 3));
    bareUs.push((b * 1000) / (instances * 3));
    engineUs.push((e.ms * 1000) / (instances * 3));
    console.log(
      `round ${r}: bare ${bareUs.at(-1)!.toFixed(1)} µs/step (cpu ${bareCpu.at(-1)!.toFixed(1)}); engine ${engineUs.at(-1)!.toFixed(1)} µs/step (cpu ${engineCpu.at(-1)!.toFixed(1)}; start ${((e.startMs * 1000) / instances).toFixed(1)} µs/instance); ratio ${(engineUs.at(-1)! / bareUs.at(-1)!).toFixed(2)} wall, ${(engineCpu.at(-1)! / bareCpu.at(-1)!).toFixed(2)} cpu`,
    );
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
  console.log(`store calls per instance (engine): ${Object.entries(calls).map(([k, v]) => `${k} ${(v / instances).toFixed(2)}`).join(", ")}`);
  console.log(`median: bare ${median(bareUs).toFixed(1)} µs/step, engine ${median(engineUs).toFixed(1)} µs/step, ratio ${(median(engineUs) / median(bareUs)).toFixed(2)} (target ≤ 3)`);
  console.log(`median cpu: bare ${median(bareCpu).toFixed(1)} µs/step, engine ${median(engineCpu).toFixed(1)} µs/step, ratio ${(median(engineCpu) / median(bareCpu)).toFixed(2)}; load average ${(await import("node:os")).loadavg().map((l) => l.toFixed(1)).join(" ")}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
