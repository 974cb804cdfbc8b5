// 100,000 instances waiting in SQLite — half on a 2 h timer, half on an event that does not come —
// then 2,000 more with timers due 15–35 s later, run by the background worker while the others
// wait: the process's RSS (issue 14's target < 200 MB: memory follows the working set, not the
// number waiting) and how late each due timer fired (target ≤ 1 s).
// Instances are created with runtime.startMany, 1,000 per transaction.
// Run: node --expose-gc --conditions=@millwright/source --import tsx bench/waiting.ts [--quick] [--instances 100000] [--timers 2000]
//   --quick: 10,000 waiting and 500 timers (about a tenth of the time), unless given explicitly.
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createWorkflowRuntime, defineWorkflow, type HistoryEntry } from "../src/index.js";
import { createSqliteWorkflowStore, openSqliteDatabase } from "../src/sqlite.js";

const args = process.argv.slice(2);
const arg = (name: string, fallback: number): number => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(args[i + 1] ?? fallback);
};
const quick = args.includes("--quick");
const waiting = arg("instances", quick ? 10_000 : 100_000);
const timers = arg("timers", quick ? 500 : 2000);
const BATCH = 1000;
const TYPE = "dev.millwright.batch.created.v1";
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);

interface Input {
  readonly kind: "timer" | "event";
  readonly sleepMs: number;
  readonly batch: string;
}
const workflow = defineWorkflow({
  name: "bench-waiting",
  version: 1,
  run: async (wf, input: Input) => {
    if (input.kind === "timer") await wf.sleep(input.sleepMs);
    else await wf.waitFor(TYPE, (e) => (e.data as { batch?: unknown }).batch === input.batch, { timeout: "2h" });
    return null;
  },
});

const dir = mkdtempSync(join(tmpdir(), "millwright-waiting-"));
const file = join(dir, "workflows.db");
const opened = openSqliteDatabase(file);
if (opened.isErr()) throw new Error(opened.error.message);
const db = opened.value;
try {
  const store = createSqliteWorkflowStore(db);
  const runtime = createWorkflowRuntime({ store, workflows: [workflow], workerId: "bench", concurrency: 32 });
  gc();
  const rssStart = process.memoryUsage().rss;
  console.log(`waiting: ${waiting} waiting + ${timers} timers, node ${process.version}, RSS at start ${mb(rssStart)}`);

  let t = performance.now();
  for (let from = 0; from < waiting; from += BATCH) {
    const items: { key: string; input: Input }[] = [];
    for (let n = from; n < Math.min(waiting, from + BATCH); n++) {
      items.push({ key: `wait-${n}`, input: n % 2 === 0 ? { kind: "timer", sleepMs: 2 * 3_600_000, batch: "" } : { kind: "event", sleepMs: 0, batch: `B-${n}` } });
    }
    (await runtime.startMany(workflow, items))._unsafeUnwrap();
  }
  const startS = (performance.now() - t) / 1000;
  t = performance.now();
  for (;;) if ((await runtime.runDue())._unsafeUnwrap() === 0) break;
  const parkS = (performance.now() - t) / 1000;
  const counts = await store.countByState();
  if (counts.waiting !== waiting) throw new Error(`expected ${waiting} waiting, got ${JSON.stringify(counts)}`);
  gc();
  const rssParked = process.memoryUsage().rss;
  console.log(`started ${waiting} in ${startS.toFixed(1)} s, parked in ${parkS.toFixed(1)} s; RSS with ${waiting} waiting ${mb(rssParked)} (heap ${mb(process.memoryUsage().heapUsed)}), database ${mb(statSync(file).size)}`);

  // The background worker runs the short timers while the others keep waiting.
  let rssMax = 0;
  const sampler = setInterval(() => (rssMax = Math.max(rssMax, process.memoryUsage().rss)), 250);
  runtime.startWorker();
  const ids: string[] = [];
  const timerItems = Array.from({ length: timers }, (_, n) => ({ key: `timer-${n}`, input: { kind: "timer", sleepMs: 15_000 + ((n * 7919) % 20_000), batch: "" } satisfies Input }));
  for (let from = 0; from < timers; from += BATCH) ids.push(...(await runtime.startMany(workflow, timerItems.slice(from, from + BATCH)))._unsafeUnwrap().map((ref) => ref.id));
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const now = await store.countByState();
    if ((now.completed ?? 0) >= timers) break;
  }
  await runtime.stop();
  clearInterval(sampler);

  const lateness: number[] = [];
  for (const id of ids) {
    const history = (await store.load(id))!.history;
    const started = history.find((e): e is Extract<HistoryEntry, { type: "wait-started" }> => e.type === "wait-started");
    const ended = history.find((e): e is Extract<HistoryEntry, { type: "wait-ended" }> => e.type === "wait-ended");
    if (started?.dueAt === undefined || ended === undefined) throw new Error(`instance ${id}: no wait in its history`);
    lateness.push(ended.at - started.dueAt);
  }
  lateness.sort((a, b) => a - b);
  const q = (p: number) => lateness[Math.min(lateness.length - 1, Math.floor(p * lateness.length))]!;
  const final = await store.countByState();
  console.log(`after the timers: ${JSON.stringify(final)}; RSS max while running ${mb(rssMax)} (target < 200 MB)`);
  console.log(`timer lateness over ${timers} timers: p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, max ${lateness.at(-1)} ms, min ${lateness[0]} ms (target ≤ 1000 ms)`);
} finally {
  (db as unknown as { close(): void }).close();
  rmSync(dir, { recursive: true, force: true });
}
