// A JetStream cluster of three `nats-server` processes on loopback, started and stopped by the
// test, and the SQLite peer where the cluster tests count effects. Run as a script (with
// MW_NATS_WORKER=1) this module is one consumer process of a shared durable.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { CanonicalEvent } from "@millwright/events";
import { createInbox, type Inbox } from "@millwright/idempotency";
import { createSqliteStore, openSqliteDatabase, type OpenedSqliteDatabase } from "@millwright/idempotency/sqlite";
import { jetstreamManager, type StreamInfo } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { subscribeNats } from "../../src/nats.js";

/** Debian's server binary; `MILLWRIGHT_NATS_SERVER` overrides it. */
const NATS_SERVER = process.env["MILLWRIGHT_NATS_SERVER"] ?? "/usr/sbin/nats-server";

/** A free TCP port on 127.0.0.1 (the OS picks it; closed again before the server binds it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
    socket.connect(port, "127.0.0.1");
  });
}

async function until<T>(probe: () => Promise<T | undefined>, ms: number, what: () => string): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** One server of the cluster. */
interface NatsNode {
  readonly name: string;
  readonly clientPort: number;
  readonly routePort: number;
  readonly url: string;
  readonly storeDir: string;
}

/** The cluster a test started; every process it starts, `stop` ends. */
export interface NatsCluster {
  readonly clusterName: string;
  readonly nodes: readonly NatsNode[];
  /** The client URLs of every server. */
  readonly urls: readonly string[];
  /** The server that logged itself meta leader first. */
  readonly metaLeader: string;
  /** SIGKILLs one server and waits until its process is gone. */
  readonly kill: (name: string) => Promise<void>;
  /** Starts a killed server again on its ports and store; resolves when it accepts clients. */
  readonly restart: (name: string) => Promise<void>;
  /** Whether the server's process runs. */
  readonly running: (name: string) => boolean;
  /** The server's recent log (stderr). */
  readonly log: (name: string) => string;
  /** Ends every server (SIGTERM, SIGKILL after 3 s) and removes the stores. */
  readonly stop: () => Promise<void>;
}

const everyChild = new Set<ChildProcess>();
process.once("exit", () => {
  for (const c of everyChild) c.kill("SIGKILL");
});

/**
 * Starts `size` servers with JetStream, each with its own store, routes between all, a cluster
 * name unique to this run, and waits until they elected a meta leader.
 */
export async function startNatsCluster(size = 3): Promise<NatsCluster> {
  const root = mkdtempSync(join(tmpdir(), "mw-nats-cluster-"));
  const clusterName = `mw-${process.pid}-${Date.now().toString(36)}`;
  const nodes: NatsNode[] = [];
  for (let i = 1; i <= size; i++) {
    const clientPort = await freePort();
    const routePort = await freePort();
    const storeDir = join(root, `n${i}`);
    mkdirSync(storeDir);
    nodes.push({ name: `${clusterName}-n${i}`, clientPort, routePort, url: `nats://127.0.0.1:${clientPort}`, storeDir });
  }
  const routes = nodes.map((n) => `nats-route://127.0.0.1:${n.routePort}`).join(",");
  const children = new Map<string, ChildProcess>();
  const logs = new Map<string, string>();
  let metaLeader: string | undefined;

  const launch = (node: NatsNode): void => {
    const args = ["-a", "127.0.0.1", "-p", String(node.clientPort), "-n", node.name, "-js", "-sd", node.storeDir, "--cluster_name", clusterName, "--cluster", `nats://127.0.0.1:${node.routePort}`, "--routes", routes];
    const child = spawn(NATS_SERVER, args, { stdio: ["ignore", "ignore", "pipe"] });
    everyChild.add(child);
    children.set(node.name, child);
    child.once("exit", () => {
      everyChild.delete(child);
      if (children.get(node.name) === child) children.delete(node.name);
    });
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (chunk: string) => {
      logs.set(node.name, ((logs.get(node.name) ?? "") + chunk).slice(-20_000));
      if (metaLeader === undefined) {
        if (chunk.includes("Self is new JetStream cluster metadata leader")) metaLeader = node.name;
        const named = /JetStream cluster new metadata leader: ([^/\s]+)\//.exec(chunk);
        if (named !== null) metaLeader = named[1];
      }
    });
  };

  const kill = async (name: string): Promise<void> => {
    const child = children.get(name);
    if (child === undefined) return;
    const gone = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGKILL");
    await gone;
  };

  const stop = async (): Promise<void> => {
    await Promise.all(
      [...children.values()].map(async (child) => {
        const gone = new Promise<void>((resolve) => child.once("exit", () => resolve()));
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
        await gone;
        clearTimeout(timer);
      }),
    );
    rmSync(root, { recursive: true, force: true });
  };

  try {
    for (const node of nodes) launch(node);
    for (const node of nodes) await until(async () => ((await portOpen(node.clientPort)) ? true : undefined), 10_000, () => `${node.name} on port ${node.clientPort}`);
    const leader = await until(async () => metaLeader, 15_000, () => `a meta leader (logs: ${[...logs.values()].join("\n").slice(-2000)})`);
    const node = (name: string): NatsNode => {
      const found = nodes.find((n) => n.name === name);
      if (found === undefined) throw new Error(`no server ${name} in ${clusterName}`);
      return found;
    };
    return {
      clusterName,
      nodes,
      urls: nodes.map((n) => n.url),
      metaLeader: leader,
      kill,
      restart: async (name) => {
        const n = node(name);
        if (children.has(name)) throw new Error(`${name} still runs`);
        launch(n);
        await until(async () => ((await portOpen(n.clientPort)) ? true : undefined), 10_000, () => `${name} back on port ${n.clientPort}`);
      },
      running: (name) => children.has(name),
      log: (name) => logs.get(name) ?? "",
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * The stream's info from whichever server answers within `timeoutMs`, or undefined while the
 * stream has no leader (the request times out or the API answers with an error).
 */
export async function streamInfo(nc: NatsConnection, stream: string, timeoutMs = 1000): Promise<StreamInfo | undefined> {
  try {
    const jsm = await jetstreamManager(nc, { timeout: timeoutMs });
    return await jsm.streams.info(stream);
  } catch {
    return undefined;
  }
}

/** Where the cluster tests count effects: a SQLite file shared by every consumer process. */
export interface EffectPeer {
  readonly inbox: Inbox<CanonicalEvent, OpenedSqliteDatabase>;
  /** Counts one effect of the event in the inbox's transaction: `effect.n` per event id and a row of `effect_log` in the order applied. */
  readonly handler: (event: CanonicalEvent, context: { readonly tx: OpenedSqliteDatabase }) => void;
  /** How many events have an effect (one cheap query, for polling). */
  readonly size: () => number;
  /** Effects per event id, read from the table. */
  readonly counts: () => Map<string, number>;
  /** Event ids in the order their effects committed, with the process that applied each. */
  readonly log: () => { readonly eventId: string; readonly worker: string }[];
  readonly close: () => void;
}

/** Opens (and creates) the effect tables and the inbox's store in one SQLite file. */
export function openEffectPeer(file: string, worker: string): EffectPeer {
  const opened = openSqliteDatabase(file);
  if (opened.isErr()) throw new Error(`cannot open ${file}: ${opened.error.message}`);
  const db = opened.value;
  const inbox = createInbox<OpenedSqliteDatabase, CanonicalEvent>(createSqliteStore(db, { busyTimeoutMs: 10_000 }));
  db.exec("CREATE TABLE IF NOT EXISTS effect (event_id TEXT PRIMARY KEY, n INTEGER NOT NULL, worker TEXT NOT NULL); CREATE TABLE IF NOT EXISTS effect_log (seq INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL, worker TEXT NOT NULL)");
  return {
    inbox,
    handler: (event, { tx }) => {
      tx.prepare("INSERT INTO effect (event_id, n, worker) VALUES (?, 1, ?) ON CONFLICT (event_id) DO UPDATE SET n = n + 1").run(event.id, worker);
      tx.prepare("INSERT INTO effect_log (event_id, worker) VALUES (?, ?)").run(event.id, worker);
    },
    size: () => Number((db.prepare("SELECT count(*) AS n FROM effect").get() as { n: number | bigint }).n),
    counts: () => new Map((db.prepare("SELECT event_id, n FROM effect").all() as { event_id: string; n: number }[]).map((r) => [r.event_id, Number(r.n)])),
    log: () => (db.prepare("SELECT event_id, worker FROM effect_log ORDER BY seq").all() as { event_id: string; worker: string }[]).map((r) => ({ eventId: r.event_id, worker: r.worker })),
    close: () => db.close(),
  };
}

/** What a worker process prints when it stops gracefully (one JSON line after "ready"). */
export interface WorkerReport {
  readonly worker: string;
  readonly received: number;
  readonly processed: number;
  readonly duplicates: number;
  readonly stale: number;
  readonly retried: number;
  readonly redelivered: number;
}

/** One consumer process of a shared durable: subscribes, prints "ready", and reports on SIGTERM. */
async function runWorker(): Promise<void> {
  const env = (name: string): string => {
    const value = process.env[name];
    if (value === undefined || value === "") throw new Error(`${name} is not set`);
    return value;
  };
  const worker = env("MW_WORKER");
  const peer = openEffectPeer(env("MW_DB"), worker);
  const nc = await connect({ servers: env("MW_SERVERS").split(","), reconnectTimeWait: 100, maxReconnectAttempts: -1 });
  let redelivered = 0;
  const subscribed = await subscribeNats(
    nc,
    { stream: env("MW_STREAM"), durable: env("MW_DURABLE"), inbox: peer.inbox, concurrency: 8, ackWaitMs: 2000, nakDelayMs: 100, onOutcome: (_o, d) => void (d.redelivered === true && redelivered++) },
    peer.handler,
  );
  if (subscribed.isErr()) throw new Error(subscribed.error.message);
  const sub = subscribed.value;
  process.stdout.write("ready\n");
  process.once("SIGTERM", () => {
    void (async () => {
      await sub.close();
      const s = sub.stats();
      const report: WorkerReport = { worker, received: s.received, processed: s.processed, duplicates: s.duplicates, stale: s.stale, retried: s.retried, redelivered };
      process.stdout.write(`${JSON.stringify(report)}\n`);
      await nc.close();
      peer.close();
      process.exit(0);
    })();
  });
}

/** This module's path, to spawn it as a worker process. */
export const NATS_WORKER_SCRIPT = fileURLToPath(import.meta.url);

if (process.env["MW_NATS_WORKER"] === "1" && process.argv[1] === NATS_WORKER_SCRIPT) {
  runWorker().catch((error: unknown) => {
    process.stderr.write(`worker failed: ${String(error)}\n`);
    process.exit(1);
  });
}
