// Throughput of the PostgreSQL paths with 1, 2, 4 and 8 worker processes on one database: the
// inbox (effect in the inbox's transaction), the partitioned outbox relay (into a fenced target
// table), the alignment monitors (one partition of the orders each) and the workflow runtime
// (3-step workflow). Each run has a database of its own; during each, pg_stat_activity and pg_locks
// are sampled every 50 ms (wait events, ungranted locks) and the CPU time of the workers and of
// their server processes is taken, to tell a lock convoy from a CPU limit.
// Run: node --import tsx bench/pg-scaling.ts [--workers 1,2,4,8] [--only inbox,relay,alignment,workflows] [--scale 1]
//   [--synchronous-commit off]
// Writes bench/results/pg-scaling.json (pg-scaling-async-commit.json with --synchronous-commit off:
// each run's database then commits without waiting for the WAL flush, which shows the CPU-bound
// curve). Settings: MILLWRIGHT_PG_* as in test/services.ts.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { runAlignmentScale } from "../../alignment/test/pg-scale-runs.js";
import { runWorkflowScale } from "../../workflows/test/pg-scale-runs.js";
import { killAll, type WaitSamples } from "../test/cluster/pg-scale-harness.js";
import { checkOrder, runInboxScale, runRelayScale } from "../test/cluster/pg-scale-runs.js";

const args = process.argv.slice(2);
const arg = (name: string, fallback: string): string => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? fallback : (args[i + 1] ?? fallback);
};
const workerCounts = arg("workers", "1,2,4,8").split(",").map(Number);
const only = new Set(arg("only", "inbox,relay,alignment,workflows").split(","));
const scale = Number(arg("scale", "1"));
const synchronousCommit = arg("synchronous-commit", "on");
if (synchronousCommit === "off") process.env["MILLWRIGHT_PG_SYNCHRONOUS_COMMIT"] = "off";

/** One row of the results: a path at a worker count. */
interface Row {
  readonly path: string;
  readonly workers: number;
  readonly items: number;
  readonly unit: string;
  readonly wallMs: number;
  readonly perSecond: number;
  /** CPU ms per item: the workers' (client) and their server processes'. */
  readonly clientCpuMsPerItem: number;
  readonly serverCpuMsPerItem: number;
  /** The shares of sampled active sessions on CPU, waiting on a lock, on WAL (LWLock:WALWrite, IO:WALSync). */
  readonly activeShare: { readonly cpu: number; readonly lock: number; readonly wal: number; readonly other: number };
  /** Sessions idle or idle in transaction, waiting for their client (the Node process) — a client-side limit. */
  readonly waitingForClientShare: number;
  readonly maxSessions: number;
  readonly maxUngrantedLocks: number;
  /** 1-minute load average of the host when the run started (the machine is shared). */
  readonly loadAverage: number;
  readonly correct: boolean;
  /** What the correctness check found, when it counts something (relay: the order check). */
  readonly check?: Readonly<Record<string, number>>;
  readonly waits: WaitSamples;
}

function shares(w: WaitSamples): Pick<Row, "activeShare" | "waitingForClientShare"> {
  let cpu = 0;
  let lock = 0;
  let wal = 0;
  let client = 0;
  let all = 0;
  for (const [key, n] of Object.entries(w.sessions)) {
    all += n;
    const [state, wait] = key.split("/") as [string, string];
    if (state !== "active") {
      if (wait === "Client:ClientRead" || wait === "CPU") client += n;
      continue;
    }
    if (wait === "CPU") cpu += n;
    else if (wait.startsWith("Lock:")) lock += n;
    else if (wait === "LWLock:WALWrite" || wait.startsWith("IO:WAL")) wal += n;
  }
  const r = (n: number, d: number) => (d === 0 ? 0 : Math.round((n / d) * 1000) / 1000);
  return { activeShare: { cpu: r(cpu, w.active), lock: r(lock, w.active), wal: r(wal, w.active), other: r(w.active - cpu - lock - wal, w.active) }, waitingForClientShare: r(client, all) };
}

const rows: Row[] = [];
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    killAll();
    process.exit(130);
  });
}
function record(row: Omit<Row, keyof ReturnType<typeof shares> | "maxSessions" | "maxUngrantedLocks" | "serverCpuMsPerItem" | "clientCpuMsPerItem"> & { clientCpuMs: number }): void {
  const { clientCpuMs, ...rest } = row;
  const full: Row = {
    ...rest,
    ...shares(row.waits),
    clientCpuMsPerItem: Math.round((clientCpuMs / row.items) * 100) / 100,
    serverCpuMsPerItem: Math.round((row.waits.serverCpuMs / row.items) * 100) / 100,
    maxSessions: row.waits.maxSessions,
    maxUngrantedLocks: row.waits.maxUngranted,
  };
  rows.push(full);
  process.stdout.write(
    `${full.path.padEnd(10)} ×${full.workers}: ${String(full.perSecond).padStart(6)} ${full.unit}/s  client ${full.clientCpuMsPerItem} ms/${full.unit}  server ${full.serverCpuMsPerItem} ms/${full.unit}  ` +
      `active ${JSON.stringify(full.activeShare)}  waiting-for-client ${full.waitingForClientShare}  load ${full.loadAverage}  ${full.correct ? "ok" : "WRONG"}\n`,
  );
}

try {
  for (const workers of workerCounts) {
    if (only.has("inbox")) {
      const loadAverage = Math.round(loadavg()[0]! * 10) / 10;
      const r = await runInboxScale({ workers, events: 8000 * scale, concurrency: 4, poolSize: 4 });
      const correct = r.effects.rows === r.events && r.effects.distinct === r.events && r.effects.repeated === 0;
      record({ path: "inbox", workers, items: r.events, unit: "event", wallMs: r.wallMs, perSecond: r.eventsPerSecond, clientCpuMs: r.clientCpuMs, loadAverage, correct, waits: r.waits });
    }
    if (only.has("relay")) {
      const loadAverage = Math.round(loadavg()[0]! * 10) / 10;
      const r = await runRelayScale({ relays: workers, records: 8000 * scale, keys: 200, partitions: 16, poolSize: 4 });
      const o = checkOrder(r.deliveries);
      const correct = r.unsent === 0 && o.distinct === r.records && o.outOfOrderWithinLease + o.fenceRegressions + o.firstDeliveriesOutOfOrder + o.duplicatesWithoutTakeover === 0;
      record({ path: "relay", workers, items: r.records, unit: "record", wallMs: r.wallMs, perSecond: r.recordsPerSecond, clientCpuMs: r.clientCpuMs, loadAverage, correct, check: { ...o, unsent: r.unsent }, waits: r.waits });
    }
    if (only.has("alignment")) {
      const loadAverage = Math.round(loadavg()[0]! * 10) / 10;
      const r = await runAlignmentScale({ workers, orders: 20_000 * scale, batch: 200 });
      const correct = r.keys.rows === r.orders && r.keys.inSeveralPartitions === 0 && r.findings["breached/workorder-started"] === r.orders / 4;
      record({ path: "alignment", workers, items: r.events, unit: "event", wallMs: r.wallMs, perSecond: r.eventsPerSecond, clientCpuMs: r.clientCpuMs, loadAverage, correct, waits: r.waits });
    }
    if (only.has("workflows")) {
      const loadAverage = Math.round(loadavg()[0]! * 10) / 10;
      const r = await runWorkflowScale({ workers, instances: 400 * scale, concurrency: 4, poolSize: 4 });
      const correct = r.states["completed"] === r.instances && r.peer.effects === 3 * r.instances && r.peer.maxAttempts === 1 && r.overlaps === 0;
      record({ path: "workflows", workers, items: r.instances, unit: "instance", wallMs: r.wallMs, perSecond: r.instancesPerSecond, clientCpuMs: r.clientCpuMs, loadAverage, correct, waits: r.waits });
    }
  }
} finally {
  killAll();
}

const out = join(import.meta.dirname, "results");
mkdirSync(out, { recursive: true });
const file = join(out, synchronousCommit === "off" ? "pg-scaling-async-commit.json" : "pg-scaling.json");
// Rows of paths and worker counts not run this time are kept from the file (runs of one scale only).
const kept = existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as { scale: number; rows: Row[] }) : undefined;
const merged = [...(kept?.scale === scale ? kept.rows.filter((k) => !rows.some((r) => r.path === k.path && r.workers === k.workers)) : []), ...rows];
const order = ["inbox", "relay", "alignment", "workflows"];
merged.sort((a, b) => order.indexOf(a.path) - order.indexOf(b.path) || a.workers - b.workers);
writeFileSync(file, `${JSON.stringify({ node: process.version, cpus: cpus().length, date: new Date().toISOString(), scale, synchronousCommit, rows: merged }, null, 2)}\n`);
process.stdout.write(`wrote ${file}\n`);
