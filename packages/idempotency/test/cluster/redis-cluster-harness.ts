// A Redis Cluster on loopback for the cluster tests: six `redis-server` processes (three primaries,
// three replicas) on free ports, created with `redis-cli --cluster create`, every process stopped
// and every file removed by stop(). It never touches the system Redis on 6379.
import { spawn, execFile, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const REDIS_SERVER = process.env["MILLWRIGHT_REDIS_SERVER"] ?? "/usr/bin/redis-server";
const REDIS_CLI = process.env["MILLWRIGHT_REDIS_CLI"] ?? "redis-cli";

/** One `redis-server` of the cluster. */
interface ClusterNode {
  readonly port: number;
  readonly busPort: number;
  process: ChildProcess | undefined;
}

/** A row of CLUSTER NODES. */
interface NodeRow {
  readonly id: string;
  readonly port: number;
  readonly flags: readonly string[];
  /** The primary's id for a replica, "-" for a primary. */
  readonly primaryId: string;
  readonly slots: readonly string[];
}

/** A running cluster. */
export interface RedisClusterHarness {
  readonly nodes: readonly ClusterNode[];
  readonly dir: string;
  /** Runs redis-cli against one node, returns stdout. */
  cli(port: number, ...args: string[]): Promise<string>;
  /** CLUSTER NODES as seen by a live node. */
  clusterNodes(fromPort?: number): Promise<NodeRow[]>;
  /** The port of the primary serving a slot, as a live node sees it. */
  primaryOfSlot(slot: number, fromPort?: number): Promise<number>;
  /** SIGKILLs a node; resolves when the process is gone. */
  kill(port: number): Promise<void>;
  /** SIGSTOPs (true) or SIGCONTs (false) a node: a stalled process, as in a VM freeze. */
  freeze(port: number, frozen: boolean): void;
  /** Starts a killed node again with its nodes.conf (it rejoins, as a replica of its successor). */
  restart(port: number): Promise<void>;
  /** Waits until every live node reports cluster_state:ok and the same view of primaries. */
  waitHealthy(timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const address = s.address();
      s.close(() => (typeof address === "object" && address !== null ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

/** Whether a node's process is running (a killed one has a signalCode, not an exitCode). */
function alive(node: ClusterNode): boolean {
  return node.process !== undefined && node.process.exitCode === null && node.process.signalCode === null;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const live = new Set<ChildProcess>();
// Last resort: a test runner that exits without afterAll still leaves no redis-server behind.
process.once("exit", () => {
  for (const child of live) child.kill("SIGKILL");
});

function startNode(node: ClusterNode, dir: string): Promise<void> {
  const child = spawn(
    REDIS_SERVER,
    [
      "--port", String(node.port),
      "--cluster-port", String(node.busPort),
      "--bind", "127.0.0.1",
      "--cluster-enabled", "yes",
      "--cluster-config-file", join(dir, `nodes-${node.port}.conf`),
      "--cluster-node-timeout", "1000",
      "--save", "",
      "--appendonly", "no",
      "--dir", dir,
      "--dbfilename", `dump-${node.port}.rdb`,
      "--logfile", join(dir, `redis-${node.port}.log`),
      "--protected-mode", "no",
    ],
    { stdio: "ignore" },
  );
  node.process = child;
  live.add(child);
  child.once("exit", () => live.delete(child));
  return new Promise((resolve, reject) => {
    const end = Date.now() + 10_000;
    const probe = async (): Promise<void> => {
      if (child.exitCode !== null) return reject(new Error(`redis-server on ${node.port} exited with ${child.exitCode} (log in ${dir})`));
      try {
        const { stdout } = await run(REDIS_CLI, ["-p", String(node.port), "PING"], { timeout: 2000 });
        if (stdout.trim() === "PONG") return resolve();
      } catch {
        // not up yet
      }
      if (Date.now() > end) return reject(new Error(`redis-server on ${node.port} did not answer PING within 10 s`));
      setTimeout(() => void probe(), 50);
    };
    void probe();
  });
}

/** Starts six nodes and creates the cluster (3 primaries, 1 replica each); waits for cluster_state:ok. */
export async function startRedisCluster(): Promise<RedisClusterHarness> {
  const dir = mkdtempSync(join(tmpdir(), "millwright-redis-cluster-"));
  const nodes: ClusterNode[] = [];
  const harness: RedisClusterHarness = {
    nodes,
    dir,
    cli: async (port, ...args) => (await run(REDIS_CLI, ["-p", String(port), ...args], { timeout: 10_000 })).stdout,
    clusterNodes: async (fromPort) => {
      const from = fromPort ?? nodes.find(alive)!.port;
      const text = await harness.cli(from, "CLUSTER", "NODES");
      return text
        .trim()
        .split("\n")
        .map((line) => {
          const f = line.split(" ");
          return { id: f[0]!, port: Number(f[1]!.split(":")[1]!.split("@")[0]), flags: f[2]!.split(","), primaryId: f[3]!, slots: f.slice(8) };
        });
    },
    primaryOfSlot: async (slot, fromPort) => {
      const rows = await harness.clusterNodes(fromPort);
      for (const row of rows) {
        if (!row.flags.includes("master") || row.flags.includes("fail")) continue;
        for (const range of row.slots) {
          if (range.startsWith("[")) continue;
          const [a, b] = range.split("-").map(Number) as [number, number | undefined];
          if (slot >= a && slot <= (b ?? a)) return row.port;
        }
      }
      throw new Error(`no live primary serves slot ${slot}`);
    },
    kill: async (port) => {
      const child = nodes.find((n) => n.port === port)?.process;
      if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise((r) => child.once("exit", r));
      child.kill("SIGKILL");
      await gone;
    },
    freeze: (port, frozen) => void nodes.find((n) => n.port === port)?.process?.kill(frozen ? "SIGSTOP" : "SIGCONT"),
    restart: async (port) => startNode(nodes.find((n) => n.port === port)!, dir),
    waitHealthy: async (timeoutMs) => {
      const end = Date.now() + timeoutMs;
      for (;;) {
        let ok = true;
        for (const n of nodes) {
          if (!alive(n)) continue;
          const info = await harness.cli(n.port, "CLUSTER", "INFO").catch(() => "");
          if (!info.includes("cluster_state:ok")) ok = false;
        }
        if (ok) return;
        if (Date.now() > end) throw new Error(`the cluster did not reach cluster_state:ok within ${timeoutMs} ms`);
        await sleep(100);
      }
    },
    stop: async () => {
      try {
        await Promise.all(nodes.map((n) => harness.kill(n.port)));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
  try {
    for (let i = 0; i < 6; i++) nodes.push({ port: await freePort(), busPort: await freePort(), process: undefined });
    await Promise.all(nodes.map((n) => startNode(n, dir)));
    await run(REDIS_CLI, ["--cluster", "create", ...nodes.map((n) => `127.0.0.1:${n.port}`), "--cluster-replicas", "1", "--cluster-yes"], { timeout: 30_000 });
    await harness.waitHealthy(20_000);
    // Every replica has finished its first sync before the tests write.
    const end = Date.now() + 20_000;
    for (;;) {
      const rows = await harness.clusterNodes();
      const replicas = rows.filter((r) => r.flags.includes("slave"));
      const synced = await Promise.all(replicas.map(async (r) => (await harness.cli(r.port, "INFO", "replication")).includes("master_link_status:up")));
      if (replicas.length === 3 && synced.every(Boolean)) break;
      if (Date.now() > end) throw new Error("the replicas did not sync within 20 s");
      await sleep(100);
    }
    return harness;
  } catch (cause) {
    await harness.stop();
    throw cause;
  }
}

/** CRC16 (XMODEM) slot of a key, with hash tags, as Redis Cluster computes it. */
export function keySlot(key: string): number {
  const open = key.indexOf("{");
  if (open >= 0) {
    const close = key.indexOf("}", open + 1);
    if (close > open + 1) key = key.slice(open + 1, close);
  }
  let crc = 0;
  for (const byte of Buffer.from(key, "utf8")) {
    crc ^= byte << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % 16384;
}
