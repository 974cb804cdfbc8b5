// Peers of the MQTT cluster tests: a database of their own on the local PostgreSQL (the shared
// inbox and an effects table every member writes to in the inbox's transaction), Mosquitto
// processes of their own on free loopback ports, and member processes of a share group.
import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CanonicalEvent } from "@millwright/events";
import { createPostgresStore, migratePostgres, type PgPoolClient } from "@millwright/idempotency/postgres";
import type { IdempotencyStore } from "@millwright/idempotency";
import pg from "pg";
import { uniqueName } from "../fixtures.js";

const PACKAGE = join(import.meta.dirname, "..", "..");
const PG = { host: "127.0.0.1", port: 5432, user: "postgres" } as const;

/** One effect row: which member applied which event of which partition, in commit order (`id`). */
export interface EffectRow {
  readonly id: number;
  readonly event_id: string;
  readonly member: string;
  readonly partition: string;
  readonly revision: string;
}

/** A database of one test: the PostgreSQL inbox tables and `effects`. */
export interface EffectsDb {
  readonly database: string;
  readonly pool: pg.Pool;
  readonly store: IdempotencyStore<PgPoolClient>;
  /** Rows of `effects`, in commit order. */
  readonly rows: () => Promise<EffectRow[]>;
  readonly count: () => Promise<number>;
  /** Inbox entries by final status (processed, stale: an older revision after a newer one, skipped by the revision guard). */
  readonly settled: () => Promise<Record<string, number>>;
  readonly drop: () => Promise<void>;
}

/** Creates a database with a unique name, migrated for the inbox, with an `effects` table. */
export async function createEffectsDb(): Promise<EffectsDb> {
  const database = uniqueName("mw_mqtt").replace(/-/g, "_");
  const admin = new pg.Client({ ...PG, database: "postgres" });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  await admin.end();
  const pool = new pg.Pool({ ...PG, database, max: 4 });
  pool.on("error", () => undefined);
  await migratePostgres(pool);
  await pool.query("CREATE TABLE effects (id bigserial PRIMARY KEY, event_id text NOT NULL, member text NOT NULL, partition text NOT NULL, revision text NOT NULL)");
  return {
    database,
    pool,
    store: createPostgresStore(pool),
    rows: async () => (await pool.query<EffectRow>("SELECT id::int AS id, event_id, member, partition, revision FROM effects ORDER BY id")).rows,
    count: async () => Number((await pool.query<{ n: string }>("SELECT count(*) AS n FROM effects")).rows[0]!.n),
    settled: async () => {
      const r = await pool.query<{ status: string; n: string }>("SELECT status, count(*) AS n FROM millwright_inbox WHERE status IN ('processed', 'duplicate', 'stale', 'dead') GROUP BY status");
      return Object.fromEntries(r.rows.map((x) => [x.status, Number(x.n)]));
    },
    drop: async () => {
      await pool.end();
      const c = new pg.Client({ ...PG, database: "postgres" });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** The effect every member applies: one row, written in the inbox's transaction. */
export async function applyEffect(tx: PgPoolClient, member: string, event: CanonicalEvent): Promise<void> {
  const data = event.data as { orderId: string; revision: string };
  await tx.query("INSERT INTO effects (event_id, member, partition, revision) VALUES ($1, $2, $3, $4)", [event.id, member, data.orderId, data.revision]);
}

/** A free loopback port (the OS picks it; the listener is closed before it is returned). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const address = s.address();
      s.close(() => (typeof address === "object" && address !== null ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

/** A Mosquitto of one test on a loopback port, with its own config and persistence directory. */
export interface Broker {
  readonly url: string;
  readonly port: number;
  /** The process id of the running broker. */
  readonly pid: () => number;
  /** SIGKILL: no chance to write its persistence file. */
  readonly kill9: () => Promise<void>;
  /** SIGTERM: Mosquitto writes its persistence file on the way out. */
  readonly stop: () => Promise<void>;
  /** Starts it again on the same port, with the same config and directory. */
  readonly start: () => Promise<void>;
  /** Whether its persistence file (mosquitto.db) exists. */
  readonly saved: () => boolean;
  /** When its persistence file was last written (ms since the epoch), 0 when there is none. */
  readonly savedAt: () => number;
  /** Stops it (if running) and removes its directory. */
  readonly remove: () => Promise<void>;
}

/**
 * Starts `/usr/sbin/mosquitto` on a free loopback port. `persistence` writes sessions and queued
 * messages to a temp directory: at shutdown and every `autosaveSeconds` (Mosquitto's default 1800).
 */
export async function startBroker(options: { readonly persistence: boolean; readonly autosaveSeconds?: number }): Promise<Broker> {
  const dir = mkdtempSync(join(tmpdir(), "mw-mosquitto-"));
  // Started as root, Mosquitto drops to the user `mosquitto`, which must be able to write its persistence file here.
  chmodSync(dir, 0o777);
  const port = await freePort();
  const lines = [`listener ${port} 127.0.0.1`, "allow_anonymous true", `persistence ${options.persistence}`, "max_queued_messages 100000"];
  if (options.persistence) lines.push(`persistence_location ${dir}/`, `autosave_interval ${options.autosaveSeconds ?? 1800}`);
  writeFileSync(join(dir, "mosquitto.conf"), `${lines.join("\n")}\n`);
  let child: ChildProcess | undefined;
  const exited = (c: ChildProcess) => new Promise<void>((resolve) => (c.exitCode !== null || c.signalCode !== null ? resolve() : c.once("exit", () => resolve())));
  const start = async (): Promise<void> => {
    const c = spawn("/usr/sbin/mosquitto", ["-c", join(dir, "mosquitto.conf")], { stdio: ["ignore", "ignore", "pipe"] });
    let log = "";
    c.stderr!.setEncoding("utf8").on("data", (s: string) => (log += s));
    child = c;
    // Ready when the port accepts a connection.
    const until = Date.now() + 10_000;
    for (;;) {
      if (c.exitCode !== null) throw new Error(`mosquitto exited with ${c.exitCode}: ${log}`);
      const open = await new Promise<boolean>((resolve) => {
        const s = new Socket();
        s.once("connect", () => (s.destroy(), resolve(true)));
        s.once("error", () => resolve(false));
        s.connect(port, "127.0.0.1");
      });
      if (open) return;
      if (Date.now() > until) throw new Error(`mosquitto did not listen on ${port} within 10 s: ${log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const signal = async (sig: NodeJS.Signals): Promise<void> => {
    const c = child;
    if (c === undefined || c.exitCode !== null || c.signalCode !== null) return;
    c.kill(sig);
    await exited(c);
  };
  await start();
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    pid: () => child?.pid ?? -1,
    kill9: () => signal("SIGKILL"),
    stop: () => signal("SIGTERM"),
    start,
    saved: () => existsSync(join(dir, "mosquitto.db")),
    savedAt: () => (existsSync(join(dir, "mosquitto.db")) ? statSync(join(dir, "mosquitto.db")).mtimeMs : 0),
    remove: async () => {
      await signal("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** What a member process is told: see mqtt-member.ts. */
export interface MemberConfig {
  readonly name: string;
  readonly url: string;
  readonly clientId: string;
  readonly topics: readonly string[];
  readonly shareGroup?: string;
  readonly database: string;
}

/** A member process of a share group (or a plain subscriber): its lines, its exit, SIGKILL. */
export interface Member {
  readonly name: string;
  readonly pid: number;
  readonly ready: Promise<void>;
  /** Tells it to stop (on stdin); the stats line it wrote on the way out, parsed. */
  readonly stop: () => Promise<{ received: number; processed: number; duplicates: number }>;
  readonly kill9: () => Promise<void>;
}

const members = new Set<ChildProcess>();

/** Starts a member: `node --import tsx test/cluster/mqtt-member.ts` with its config in the environment. */
export function startMember(config: MemberConfig): Member {
  const child = spawn(process.execPath, ["--conditions=@millwright/source", "--import", "tsx", join(PACKAGE, "test", "cluster", "mqtt-member.ts")], {
    cwd: PACKAGE,
    env: { ...process.env, MQTT_MEMBER: JSON.stringify(config) },
    stdio: ["pipe", "pipe", "pipe"],
  });
  members.add(child);
  let out = "";
  let err = "";
  child.stderr!.setEncoding("utf8").on("data", (s: string) => (err += s));
  const exited = new Promise<void>((resolve) => child.once("exit", () => (members.delete(child), resolve())));
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout!.setEncoding("utf8").on("data", (s: string) => {
      out += s;
      if (out.includes("ready\n")) resolve();
    });
    void exited.then(() => reject(new Error(`member ${config.name} exited before it was ready: ${err}${out}`)));
  });
  ready.catch(() => undefined);
  return {
    name: config.name,
    pid: child.pid ?? -1,
    ready,
    stop: async () => {
      child.stdin!.write("stop\n");
      await exited;
      const line = out.split("\n").find((l) => l.startsWith("stats "));
      if (line === undefined) throw new Error(`member ${config.name} wrote no stats: ${err}${out}`);
      return JSON.parse(line.slice(6)) as { received: number; processed: number; duplicates: number };
    },
    kill9: async () => {
      child.kill("SIGKILL");
      await exited;
    },
  };
}

/** SIGKILLs every member still running (a failed test's leftovers). */
export async function killAllMembers(): Promise<void> {
  await Promise.all([...members].map((c) => new Promise<void>((resolve) => (c.exitCode !== null || c.signalCode !== null ? resolve() : (c.once("exit", () => resolve()), c.kill("SIGKILL"))))));
}
