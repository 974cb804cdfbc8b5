// Runs N worker processes against one PostgreSQL database and measures them together: each worker
// sets up (connects, prepares), prints `ready`, waits for `go` on stdin, works, and prints
// `done <json>` with its `startedAt`/`endedAt` (epoch ms, comparable across processes of one
// host) and its counts. Meanwhile the database's sessions are sampled every 50 ms from
// pg_stat_activity and pg_locks, so that a lock convoy (sessions queued on `Lock` waits) shows.
// Used by the pg-scale tests of idempotency, alignment and workflows and by bench/pg-scaling.ts.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import pg from "pg";

/** PostgreSQL settings of the admin connection: MILLWRIGHT_PG_HOST, _PORT, _USER, _PASSWORD, _DATABASE. */
const pgAdminSettings = {
  host: process.env["MILLWRIGHT_PG_HOST"] ?? "127.0.0.1",
  port: Number(process.env["MILLWRIGHT_PG_PORT"] ?? 5432),
  user: process.env["MILLWRIGHT_PG_USER"] ?? "postgres",
  password: process.env["MILLWRIGHT_PG_PASSWORD"] ?? "",
  database: process.env["MILLWRIGHT_PG_DATABASE"] ?? "postgres",
};

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ ...pgAdminSettings, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
  } catch (cause) {
    throw new Error(`PostgreSQL is not reachable at ${pgAdminSettings.user}@${pgAdminSettings.host}:${pgAdminSettings.port} (set MILLWRIGHT_PG_*): ${String(cause)}`);
  }
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** A fresh database (`mw_scale_<label>_<random>`) and how to drop it. */
export interface ScaleDatabase {
  readonly name: string;
  readonly config: pg.PoolConfig;
  drop(): Promise<void>;
}

/**
 * Creates a database with a unique name.
 *
 * @param label - a short tag in the name (`[a-z0-9_]`)
 * @returns the database
 */
export async function createScaleDatabase(label: string): Promise<ScaleDatabase> {
  const name = `mw_scale_${label}_${Date.now().toString(36)}_${randomBytes(3).toString("hex")}`;
  await admin(`CREATE DATABASE ${name}`);
  // MILLWRIGHT_PG_SYNCHRONOUS_COMMIT=off: commits do not wait for the WAL flush (bench/pg-scaling.ts --synchronous-commit off).
  const synchronousCommit = process.env["MILLWRIGHT_PG_SYNCHRONOUS_COMMIT"];
  if (synchronousCommit === "off") await admin(`ALTER DATABASE ${name} SET synchronous_commit = off`);
  return { name, config: { ...pgAdminSettings, database: name }, drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

/** What the sampler saw: how many session samples were in each state and wait event. */
export interface WaitSamples {
  /** Samples taken (every 50 ms). */
  readonly samples: number;
  /** Session samples by `state/wait_event_type:wait_event` (`active/CPU` = running, no wait). */
  readonly sessions: Readonly<Record<string, number>>;
  /** Samples of `active` sessions waiting on a heavyweight lock (`Lock:*`), summed. */
  readonly lockWaits: number;
  /** Samples of `active` sessions, summed. */
  readonly active: number;
  /** Most ungranted locks seen in one sample of pg_locks. */
  readonly maxUngranted: number;
  /** Most sessions of the database seen at once. */
  readonly maxSessions: number;
  /**
   * CPU time of the database's server processes during the run (user + system, from /proc, the
   * server being on this host), in ms; a lower bound, read every 50 ms.
   */
  readonly serverCpuMs: number;
}

/** CPU ticks (user + system) of a process, from /proc; undefined when it is gone or not readable. */
function cpuTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined;
  }
}

/** The result of one scaled run. */
export interface ScaleRun<TSummary> {
  readonly workers: number;
  /** From the first worker's `startedAt` to the last worker's `endedAt`. */
  readonly wallMs: number;
  readonly summaries: readonly (TSummary & { readonly startedAt: number; readonly endedAt: number })[];
  readonly waits: WaitSamples;
}

/** The spawned workers still alive, killed by {@link killAll}. */
const alive = new Set<ChildProcess>();

/**
 * SIGKILLs every worker this module started that is still running.
 *
 * @returns nothing
 */
export function killAll(): void {
  for (const child of alive) child.kill("SIGKILL");
}

/** One spawned worker: its lines, and a promise of its exit. */
export interface SpawnedWorker {
  readonly child: ChildProcess;
  readonly lines: string[];
  readonly ready: Promise<void>;
  readonly exit: Promise<{ readonly code: number | null; readonly signal: NodeJS.Signals | null; readonly stderr: string }>;
}

/**
 * Spawns a TypeScript worker with tsx, its config as JSON in `SCALE_CONFIG`.
 *
 * @param script - absolute path of the worker
 * @param config - its config
 * @returns the worker
 */
export function spawnWorker(script: string, config: object): SpawnedWorker {
  const child = spawn(process.execPath, ["--conditions=@millwright/source", "--import", "tsx", script], {
    env: { ...process.env, SCALE_CONFIG: JSON.stringify(config) },
    stdio: ["pipe", "pipe", "pipe"],
  });
  alive.add(child);
  const lines: string[] = [];
  let stderr = "";
  let buffered = "";
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
    buffered += chunk;
    const parts = buffered.split("\n");
    buffered = parts.pop() ?? "";
    for (const line of parts) {
      lines.push(line);
      if (line === "ready") onReady();
    }
  });
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => void (stderr += chunk));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.on("exit", (code, signal) => {
      alive.delete(child);
      if (buffered !== "") lines.push(buffered);
      resolve({ code, signal, stderr });
    }),
  );
  // A worker that dies before `ready` must not hang the run.
  void exit.then(() => onReady());
  return { child, lines, ready, exit };
}

/**
 * Samples the database's sessions and ungranted locks until `stop` is called.
 *
 * @param database - the database name
 * @returns `stop`, which resolves to the samples
 */
function sampleWaits(database: string): { stop(): Promise<WaitSamples> } {
  const client = new pg.Client({ ...pgAdminSettings, application_name: "mw-scale-sampler" });
  const sessions: Record<string, number> = {};
  let samples = 0;
  let lockWaits = 0;
  let active = 0;
  let maxUngranted = 0;
  let maxSessions = 0;
  let running = true;
  /** Per server process: ticks at the first and at the latest sample. */
  const ticks = new Map<number, { first: number; last: number }>();
  const loop = (async () => {
    await client.connect();
    while (running) {
      const { rows } = await client.query<{ pid: number; state: string | null; wait: string | null }>(
        `SELECT pid, state, wait_event_type || ':' || wait_event AS wait FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() AND backend_type = 'client backend'`,
        [database],
      );
      const locks = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted AND pid IN (SELECT pid FROM pg_stat_activity WHERE datname = $1)`, [database]);
      samples += 1;
      maxSessions = Math.max(maxSessions, rows.length);
      maxUngranted = Math.max(maxUngranted, locks.rows[0]?.n ?? 0);
      for (const row of rows) {
        const t = cpuTicks(row.pid);
        if (t !== undefined) {
          const seen = ticks.get(row.pid);
          // A process first seen mid-run counts from its birth: its ticks so far are this run's.
          ticks.set(row.pid, { first: seen?.first ?? (samples === 1 ? t : 0), last: t });
        }
        const key = `${row.state ?? "unknown"}/${row.wait ?? "CPU"}`;
        sessions[key] = (sessions[key] ?? 0) + 1;
        if (row.state === "active") {
          active += 1;
          if (row.wait?.startsWith("Lock:") === true) lockWaits += 1;
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await client.end();
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      const serverCpuMs = [...ticks.values()].reduce((sum, t) => sum + (t.last - t.first), 0) * 10;
      return { samples, sessions, lockWaits, active, maxUngranted, maxSessions, serverCpuMs };
    },
  };
}

/**
 * Runs one worker process per config: waits until all are ready, says `go` to all at once,
 * samples the database until all are done, and fails when any exits badly.
 *
 * @param options - the worker script, one config per worker, the database, a time limit
 * @returns the wall time, the workers' summaries and the wait samples
 */
export async function runScaled<TSummary>(options: { readonly script: string; readonly configs: readonly object[]; readonly database: string; readonly timeoutMs: number }): Promise<ScaleRun<TSummary>> {
  const workers = options.configs.map((config) => spawnWorker(options.script, config));
  const timer = setTimeout(killAll, options.timeoutMs);
  try {
    await Promise.all(workers.map((w) => w.ready));
    const sampler = sampleWaits(options.database);
    for (const w of workers) w.child.stdin!.end("go\n");
    const exits = await Promise.all(workers.map((w) => w.exit));
    const waits = await sampler.stop();
    exits.forEach((e, i) => {
      if (e.code !== 0) throw new Error(`worker ${i} of ${options.script} exited with ${e.code ?? e.signal}: ${e.stderr.slice(-2000)}`);
    });
    const summaries = workers.map((w, i) => {
      const line = w.lines.find((l) => l.startsWith("done "));
      if (line === undefined) throw new Error(`worker ${i} of ${options.script} said no summary`);
      return JSON.parse(line.slice(5)) as TSummary & { startedAt: number; endedAt: number };
    });
    const wallMs = Math.max(...summaries.map((s) => s.endedAt)) - Math.min(...summaries.map((s) => s.startedAt));
    return { workers: workers.length, wallMs, summaries, waits };
  } finally {
    clearTimeout(timer);
    killAll();
  }
}

/**
 * The worker side: prints `ready`, resolves on `go` from the parent.
 *
 * @returns when the parent said go (epoch ms)
 */
export function readyAndWaitForGo(): Promise<number> {
  process.stdout.write("ready\n");
  return new Promise((resolve) => {
    let input = "";
    process.stdin.setEncoding("utf8").on("data", (chunk: string) => {
      input += chunk;
      if (input.includes("go")) resolve(Date.now());
    });
    // The parent is gone (its end of the pipe closed) before saying go: stop, do not linger.
    process.stdin.on("end", () => {
      if (!input.includes("go")) process.exit(1);
    });
  });
}
