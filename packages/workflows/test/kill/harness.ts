// What the kill tests share: worker processes (spawned, driven by lines on stdin and stdout, killed
// with SIGKILL), a store per test (a SQLite file, or a fresh PostgreSQL database dropped after),
// and the peers (the test SAP system and the test WMS on loopback) with their counters.
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { openSqliteDatabase } from "@millwright/idempotency/sqlite";
import pg from "pg";
import type { WorkflowStore } from "../../src/index.js";
import { createPostgresWorkflowStore, migrateWorkflowPostgres } from "../../src/postgres.js";
import { createSqliteWorkflowStore } from "../../src/sqlite.js";
import type { HistoryEntry } from "../../src/types.js";
import { MATDOC, postedDocuments, startPeers, type Peers } from "../builtin/peers.js";
import { createTestDatabase } from "../pg-services.js";

const WORKER = join(dirname(fileURLToPath(import.meta.url)), "worker.ts");

/** A worker process of a kill test. */
export interface Worker {
  readonly id: string;
  /** How long the process took from spawn to `LOADED`, in ms. */
  loadMs: number;
  /** Resolves with the first stdout line starting with `prefix` (already printed or to come). */
  line(prefix: string, timeoutMs?: number): Promise<string>;
  /** Tells the worker to start its runtime. */
  go(): void;
  /** Sends SIGKILL and resolves with how the process ended. */
  kill(): Promise<{ readonly code: number | null; readonly signal: NodeJS.Signals | null }>;
  /** How the process ended. */
  readonly exited: Promise<{ readonly code: number | null; readonly signal: NodeJS.Signals | null }>;
  stderr(): string;
}

const running = new Set<ChildProcessWithoutNullStreams>();

/**
 * Spawns a worker (`node --conditions=@millwright/source --import tsx worker.ts`) and waits until it has loaded.
 *
 * @param id - its worker id
 * @param env - its settings (see worker.ts)
 * @returns the worker, loaded and waiting for `go()`
 * @example
 * const worker = await spawnWorker("w1", { ...backend.env, ...peerEnv, LEASE_MS: "2000", WATCH: id });
 * worker.go();
 */
export async function spawnWorker(id: string, env: Record<string, string>): Promise<Worker> {
  const spawnedAt = Date.now();
  const child = spawn(process.execPath, ["--conditions=@millwright/source", "--import", "tsx", WORKER], {
    env: { ...process.env, WORKER_ID: id, ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  running.add(child);
  const lines: string[] = [];
  const waiters: { prefix: string; resolve: (line: string) => void }[] = [];
  let stderr = "";
  let buffered = "";
  child.stdout.on("data", (chunk: Buffer) => {
    buffered += chunk.toString();
    let nl: number;
    while ((nl = buffered.indexOf("\n")) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      lines.push(line);
      for (const w of waiters.splice(0)) {
        if (line.startsWith(w.prefix)) w.resolve(line);
        else waiters.push(w);
      }
    }
  });
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    }),
  );
  const worker: Worker = {
    id,
    loadMs: 0,
    line: (prefix, timeoutMs = 20_000) => {
      const found = lines.find((l) => l.startsWith(prefix));
      if (found !== undefined) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`worker ${id}: no line "${prefix}…" within ${timeoutMs} ms; stdout: ${lines.join(" | ")}; stderr: ${stderr}`)), timeoutMs);
        const done = (line: string) => {
          clearTimeout(timer);
          resolve(line);
        };
        waiters.push({ prefix, resolve: done });
        void exited.then(({ code, signal }) => {
          clearTimeout(timer);
          reject(new Error(`worker ${id} exited (code ${String(code)}, signal ${String(signal)}) before "${prefix}…"; stdout: ${lines.join(" | ")}; stderr: ${stderr}`));
        });
      });
    },
    go: () => void child.stdin.write("GO\n"),
    kill: () => {
      child.kill("SIGKILL");
      return exited;
    },
    exited,
    stderr: () => stderr,
  };
  await worker.line("LOADED");
  worker.loadMs = Date.now() - spawnedAt;
  return worker;
}

/**
 * Kills every worker still running (after a failed test).
 *
 * @example
 * afterEach(killAll);
 */
export async function killAll(): Promise<void> {
  for (const child of running) child.kill("SIGKILL");
  running.clear();
}

/**
 * The number at the end of a worker's line (`AT … <ms>`, `STARTED <ms>`).
 *
 * @example
 * msOf("STARTED 1765086000000"); // 1765086000000
 */
export const msOf = (line: string): number => Number(line.split(" ").at(-1));

/** A store of one test: the parent's view and the workers' settings. */
export interface Backend {
  readonly kind: "sqlite" | "pg";
  readonly store: WorkflowStore;
  readonly env: Record<string, string>;
  close(): Promise<void>;
}

/**
 * A SQLite file in a new temporary folder, or a fresh PostgreSQL database (dropped by `close`).
 *
 * @param kind - which store
 * @returns the backend
 * @example
 * const backend = await openBackend("pg");
 * await backend.close(); // drops the database
 */
export async function openBackend(kind: "sqlite" | "pg"): Promise<Backend> {
  if (kind === "sqlite") {
    const dir = mkdtempSync(join(tmpdir(), "millwright-kill-"));
    const file = join(dir, "workflows.db");
    const db = openSqliteDatabase(file)._unsafeUnwrap();
    return {
      kind,
      store: createSqliteWorkflowStore(db),
      env: { STORE: "sqlite", SQLITE_FILE: file },
      close: async () => {
        db.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const db = await createTestDatabase("wf_kill");
  const pool = new pg.Pool({ connectionString: db.url, max: 4 });
  pool.on("error", () => undefined);
  await migrateWorkflowPostgres(pool);
  return {
    kind,
    store: createPostgresWorkflowStore(pool),
    env: { STORE: "pg", DATABASE_URL: db.url },
    close: async () => {
      await pool.end();
      await db.drop();
    },
  };
}

/**
 * Starts the peers of one test, and gives the workers' settings to reach them.
 *
 * @returns the peers and `SAP_URL`, `WMS_URL`
 * @example
 * const { peers, env } = await openPeers();
 */
export async function openPeers(): Promise<{ readonly peers: Peers; readonly env: Record<string, string> }> {
  const peers = await startPeers({ confirmHoldRequests: false });
  return { peers, env: { SAP_URL: peers.sap.serviceUrl(MATDOC), WMS_URL: `${peers.wms.url}/requests` } };
}

/** What the peers saw: SAP's material documents (movement types), POSTs and GETs; WMS requests received and applied. */
export interface PeerCounts {
  readonly sapDocuments: readonly string[];
  readonly sapPosts: number;
  readonly sapGets: number;
  /** WMS request bodies received, as `<type>:<requestId>`. */
  readonly wmsReceived: readonly string[];
  /** WMS requests applied, as `<type>:<requestId>`. */
  readonly wmsApplied: readonly string[];
}

/**
 * Counts what the peers saw so far.
 *
 * @param peers - the peers
 * @returns the counts
 * @example
 * expect(countAtPeers(peers)).toMatchObject({ sapPosts: 1, sapGets: 2 });
 */
export function countAtPeers(peers: Peers): PeerCounts {
  return {
    sapDocuments: postedDocuments(peers.sap).map((d) => d.movementTypes.join("+")),
    sapPosts: peers.sap.posts.length,
    sapGets: peers.sap.requestCount["GET"] ?? 0,
    wmsReceived: peers.wms.received.map((r) => `${String((r as { type?: unknown }).type)}:${String((r as { requestId?: unknown }).requestId)}`),
    wmsApplied: peers.wms.applied.map((a) => `${a.type}:${a.requestId}`),
  };
}

/**
 * The history entries as `<type>[:<step or wait>][#attempt]`, for readable assertions.
 *
 * @param history - an instance's history
 * @returns one string per entry
 * @example
 * timeline(history); // ["started", "step-started:block-in-erp#1", …]
 */
export function timeline(history: readonly HistoryEntry[]): string[] {
  return history.map((h) => {
    const e = h as HistoryEntry & { step?: string; wait?: string; attempt?: number };
    const name = e.step ?? e.wait;
    return `${h.type}${name === undefined ? "" : `:${name}`}${e.attempt === undefined ? "" : `#${e.attempt}`}`;
  });
}
