// One worker process of the kill tests. It loads, prints `LOADED`, and waits for `GO` on stdin
// before it starts its runtime (so a replacement can be loaded while the worker it replaces still
// runs, and start the moment that one is dead). Then it runs the `kill-hold` workflow from the
// shared store until every instance in WATCH is finished, printing:
//   STARTED <ms>            its runtime started polling
//   AT <point> <ms>         a step reached the boundary KILL_AT (the step then hangs; the lease stays renewed)
//   AT waiting <id> <ms>    an instance in WATCH_WAITING suspended in a durable wait
//   DONE <ms>               every watched instance finished; the process exits 0
// Env: STORE (sqlite | pg), SQLITE_FILE or DATABASE_URL, WORKER_ID, LEASE_MS, SAP_URL, WMS_URL,
// WATCH (instance ids, comma-separated), KILL_AT, WATCH_WAITING (instance ids), CLOCK_FILE (a file
// holding the clock's offset in ms, read at every reading of the clock: the test jumps the clock by writing it).
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { openSqliteDatabase } from "@millwright/idempotency/sqlite";
import pg from "pg";
import { createWorkflowRuntime, type WorkflowStore } from "../../src/index.js";
import { createPostgresWorkflowStore } from "../../src/postgres.js";
import { createSqliteWorkflowStore } from "../../src/sqlite.js";
import { killWorkflow } from "./kill-workflow.js";

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined || value === "") throw new Error(`kill worker: ${name} is required`);
  return value;
};
const say = (line: string): void => void process.stdout.write(`${line}\n`);
const list = (name: string): string[] => (process.env[name] ?? "").split(",").filter((s) => s !== "");

let store: WorkflowStore;
let close: () => Promise<void>;
if (env("STORE") === "sqlite") {
  const db = openSqliteDatabase(env("SQLITE_FILE"))._unsafeUnwrap();
  store = createSqliteWorkflowStore(db);
  close = async () => db.close();
} else {
  const pool = new pg.Pool({ connectionString: env("DATABASE_URL"), max: 4 });
  pool.on("error", () => undefined);
  store = createPostgresWorkflowStore(pool);
  close = () => pool.end();
}

const clockFile = process.env["CLOCK_FILE"];
const clock = { now: () => Date.now() + (clockFile === undefined ? 0 : Number(readFileSync(clockFile, "utf8").trim() || "0")) };

const killAt = process.env["KILL_AT"];
const hook = async (point: string): Promise<void> => {
  if (point !== killAt) return;
  say(`AT ${point} ${Date.now()}`);
  await new Promise<never>(() => {});
};

const runtime = createWorkflowRuntime({
  store,
  workflows: [killWorkflow({ sapUrl: env("SAP_URL"), wmsUrl: env("WMS_URL"), hook })],
  workerId: env("WORKER_ID"),
  leaseMs: Number(env("LEASE_MS")),
  pollMs: 20,
  clock,
  logger: { info: () => {}, warn: (m, f) => console.error(`warn ${m} ${JSON.stringify(f ?? {})}`), error: (m, f) => console.error(`error ${m} ${JSON.stringify(f ?? {})}`) },
});

say("LOADED");
const lines = createInterface({ input: process.stdin });
await new Promise<void>((resolve) => lines.on("line", (line) => line.trim() === "GO" && resolve()));
lines.close();
runtime.startWorker();
say(`STARTED ${Date.now()}`);

const watch = list("WATCH");
const waiting = new Set(list("WATCH_WAITING"));
const finished = new Set(["completed", "compensated", "failed", "cancelled"]);
for (;;) {
  await new Promise((resolve) => setTimeout(resolve, 20));
  let open = 0;
  for (const id of watch) {
    const snapshot = await store.load(id);
    const state = snapshot?.instance.state;
    if (state === undefined || !finished.has(state)) open += 1;
    if (state === "waiting" && waiting.delete(id)) say(`AT waiting ${id} ${Date.now()}`);
  }
  if (open === 0) break;
}
await runtime.stop();
say(`DONE ${Date.now()}`);
await close();
process.exit(0);
