// Engine overhead per step on SQLite: a 3-step workflow run by the runtime, against a bare loop
// that calls the same step functions and writes one row per step in one transaction each.
// Also: memory and claim latency with many instances waiting on timers.
// Run: node --conditions=@millwright/source --import tsx --expose-gc bench/overhead.bench.ts [instances] [waiting]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openSqliteDatabase } from "@millwright/idempotency/sqlite";
import { defineWorkflow } from "../src/define.js";
import { createWorkflowRuntime } from "../src/runtime.js";
import { createSqliteWorkflowStore } from "../src/sqlite.js";

const instances = Number(process.argv[2] ?? 500);
const waiting = Number(process.argv[3] ?? 20_000);
const dir = mkdtempSync(join(tmpdir(), "millwright-wf-bench-"));
const quiet = { info: () => {}, warn: () => {}, error: (m: string) => console.error(m) };
const work = (i: number) => ({ n: i * 2 });

try {
  // Bare loop: same step functions, one row per step, one transaction per row.
  const bareDb = openSqliteDatabase(join(dir, "bare.db"))._unsafeUnwrap();
  bareDb.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; CREATE TABLE steps (instance TEXT, step TEXT, result TEXT, PRIMARY KEY (instance, step))");
  const insert = bareDb.prepare("INSERT INTO steps VALUES (?, ?, ?)");
  let t = performance.now();
  for (let i = 0; i < instances; i++) {
    for (const step of ["a", "b", "c"]) {
      const result = await Promise.resolve(work(i));
      bareDb.exec("BEGIN IMMEDIATE");
      insert.run(`k${i}`, step, JSON.stringify(result));
      bareDb.exec("COMMIT");
    }
  }
  const bareMs = performance.now() - t;
  bareDb.close();

  const wf = defineWorkflow({
    name: "bench",
    version: 1,
    run: async (wf, input: { i: number }) => {
      await wf.step("a", () => work(input.i));
      await wf.step("b", () => work(input.i));
      return wf.step("c", () => work(input.i));
    },
  });
  const db = openSqliteDatabase(join(dir, "engine.db"))._unsafeUnwrap();
  const runtime = createWorkflowRuntime({ store: createSqliteWorkflowStore(db), workflows: [wf], logger: quiet, concurrency: 8 });
  t = performance.now();
  for (let i = 0; i < instances; i++) await runtime.start(wf, `k${i}`, { i });
  const ran = (await runtime.runDue())._unsafeUnwrap();
  const engineMs = performance.now() - t;
  console.log(`steps: ${instances * 3}; bare loop ${(bareMs / (instances * 3)).toFixed(3)} ms/step; engine ${(engineMs / (instances * 3)).toFixed(3)} ms/step (start included, ${ran} runs); ratio ${(engineMs / bareMs).toFixed(2)}×`);

  // Many instances waiting on a timer: rows, not memory.
  const sleeper = defineWorkflow({ name: "sleeper", version: 1, run: async (wf, input: { at: number }) => { await wf.sleep(input.at); return null; } });
  const sdb = openSqliteDatabase(join(dir, "waiting.db"))._unsafeUnwrap();
  let now = Date.now();
  const clock = { now: () => now };
  const waitingRuntime = createWorkflowRuntime({ store: createSqliteWorkflowStore(sdb), workflows: [sleeper], logger: quiet, clock, concurrency: 64 });
  t = performance.now();
  for (let i = 0; i < waiting; i++) await waitingRuntime.start(sleeper, `s${i}`, { at: 3_600_000 + i });
  await waitingRuntime.runDue();
  const parkMs = performance.now() - t;
  globalThis.gc?.();
  const rss = process.memoryUsage().rss / 2 ** 20;
  now += 3_600_000 + 10;
  t = performance.now();
  const fired = (await waitingRuntime.runDue())._unsafeUnwrap();
  console.log(`${waiting} instances waiting on timers: parked in ${(parkMs / 1000).toFixed(1)} s; RSS ${rss.toFixed(0)} MB; a clock jump fired ${fired} due timers in ${(performance.now() - t).toFixed(0)} ms`);
  db.close();
  sdb.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
