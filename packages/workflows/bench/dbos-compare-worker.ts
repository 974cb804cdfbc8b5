// One worker process of bench/dbos-compare.ts. ENGINE=dbos|millwright, DATABASE_URL, WORKER_ID,
// RUN (a prefix of this round's ids), SHARE (instances this worker starts), CONCURRENCY, ENGINE_POOL, APP_POOL.
// Prints `ready` once connected, starts on a `go` line on stdin, stops on a `stop` line.
import { createInterface } from "node:readline";
import { DBOS } from "@dbos-inc/dbos-sdk";
import pg from "pg";
import { createWorkflowRuntime } from "../src/index.js";
import { createPostgresWorkflowStore } from "../src/postgres.js";
import { threeStepWorkflow, writeStepRow } from "./three-steps.js";

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`dbos-compare-worker: ${name} is required`);
  return value;
};
const engine = env("ENGINE");
const url = env("DATABASE_URL");
const workerId = env("WORKER_ID");
const run = env("RUN");
const share = Number(env("SHARE"));
const concurrency = Number(env("CONCURRENCY"));

const lines = createInterface({ input: process.stdin });
const waitFor = (word: string) => new Promise<void>((resolve) => lines.on("line", (line) => line.trim() === word && resolve()));
const go = waitFor("go");
const stop = waitFor("stop");
// The same pools for both engines: ENGINE_POOL connections for the engine, APP_POOL for the steps' rows.
const enginePool = Number(env("ENGINE_POOL"));
const app = new pg.Pool({ connectionString: url, max: Number(env("APP_POOL")) });
app.on("error", () => undefined);

async function lanes(count: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: count }, async () => {
      for (let i = next++; i < share; i = next++) await work(i);
    }),
  );
}

if (engine === "dbos") {
  const system = new pg.Pool({ connectionString: url, max: enginePool });
  system.on("error", () => undefined);
  const workflow = DBOS.registerWorkflow(
    async (id: string) => {
      // Retried like the Millwright runtime's steps are by default (DBOS steps are not, by default).
      const retry = { retriesAllowed: true, intervalSeconds: 0.1, backoffRate: 2, maxAttempts: 5 };
      for (let step = 1; step <= 3; step++) await DBOS.runStep(() => writeStepRow(app, "dbos", id, step), { name: `step${step}`, ...retry });
      return 3;
    },
    { name: "benchThreeSteps" },
  );
  DBOS.setConfig({ name: "millwright-bench", systemDatabaseUrl: url, systemDatabasePool: system, executorID: workerId, logLevel: "error" });
  await DBOS.launch();
  process.stdout.write("ready\n");
  await go;
  // `concurrency` workflows in flight per process, each started, then awaited.
  let failures = 0;
  await lanes(concurrency, async (i) => {
    const id = `${run}-${workerId}-${i}`;
    try {
      const handle = await DBOS.startWorkflow(workflow, { workflowID: id })(id);
      await handle.getResult();
    } catch (cause) {
      // Counted by the orchestrator from DBOS's status table; shown here for the why.
      failures++;
      if (failures <= 3) process.stderr.write(`dbos workflow ${id} failed: ${cause instanceof Error ? (cause.stack ?? cause.message) : String(cause)}\n`);
    }
  });
  process.stdout.write("done\n");
  await stop;
  await DBOS.shutdown();
  await system.end();
} else if (engine === "millwright") {
  const system = new pg.Pool({ connectionString: url, max: enginePool });
  system.on("error", () => undefined);
  const workflow = threeStepWorkflow(app);
  const runtime = createWorkflowRuntime({ store: createPostgresWorkflowStore(system), workflows: [workflow], workerId, concurrency, pollMs: 20 });
  process.stdout.write("ready\n");
  await go;
  runtime.startWorker();
  // Instances are started here and run by whichever worker claims them first.
  await lanes(4, async (i) => {
    (await runtime.start(workflow, `${run}-${workerId}-${i}`, null)).match(
      () => undefined,
      (error) => {
        throw new Error(error.message);
      },
    );
  });
  process.stdout.write("started\n");
  await stop;
  await runtime.stop();
  await system.end();
} else throw new Error(`dbos-compare-worker: ENGINE is ${JSON.stringify(engine)}: dbos or millwright`);
await app.end();
lines.close();
