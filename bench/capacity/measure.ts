// Per-core costs of each Millwright path, measured with the real code against real local services:
// CPU microseconds per message of this process (process.cpuUsage) and, where the server is a
// process of this script (its own Mosquitto, nats-server and Redis on free loopback ports) or a
// PostgreSQL backend of its own connections, of the server too (/proc/<pid>/stat). Fixed counts,
// about a minute in all. Writes bench/results/capacity.json, which bench/capacity/simulate.ts reads.
// Run: node --conditions=@millwright/source --import tsx bench/capacity/measure.ts [--scale 0.5]
// (about a minute on a quiet 2-core machine; 256 s at load average 30).
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, Socket } from "node:net";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { builtInRules, createEngine } from "@millwright/alignment";
import { createEvent, parseEvent, serializeEvent, type CanonicalEvent } from "@millwright/events";
import { createInbox, createMemoryStore, type IdempotencyStore, type MemoryTransaction } from "@millwright/idempotency";
import { createPostgresStore, migratePostgres, type PgPoolClient } from "@millwright/idempotency/postgres";
import { createRedisStore } from "@millwright/idempotency/redis";
import { createSqliteStore, migrateSqlite, openSqliteDatabase } from "@millwright/idempotency/sqlite";
import type { Publisher, Subscription } from "@millwright/transports";
import { createAmqpPublisher, subscribeAmqp } from "@millwright/transports/amqp";
import { createMqttPublisher, subscribeMqtt } from "@millwright/transports/mqtt";
import { createNatsPublisher, ensureNatsStream, subscribeNats } from "@millwright/transports/nats";
import { createWorkflowRuntime, defineWorkflow, type WorkflowStore } from "@millwright/workflows";
import { createPostgresWorkflowStore, migrateWorkflowPostgres } from "@millwright/workflows/postgres";
import { createSqliteWorkflowStore } from "@millwright/workflows/sqlite";
import { connect as natsConnect } from "@nats-io/transport-node";
import amqplib from "amqplib";
import pg from "pg";
import { createClient } from "redis";

const args = process.argv.slice(2);
const scaleAt = args.indexOf("--scale");
const SCALE = scaleAt >= 0 ? Number(args[scaleAt + 1]) : 1;
const n = (count: number): number => Math.max(50, Math.round(count * SCALE));
const RUN = `${process.pid}${Date.now().toString(36)}`;
const ROOT = join(import.meta.dirname, "..", "..");
const PG = { host: "127.0.0.1", port: 5432, user: "postgres" } as const;
const TICK_US = 10_000; // /proc/<pid>/stat counts in clock ticks of 10 ms (CLK_TCK 100)

const workOrder = JSON.parse(readFileSync(join(ROOT, "schemas/examples/work-order/completed-order-with-confirmed-yield-and-scrap.json"), "utf8")) as Record<string, unknown>;

/** `count` distinct work-order events (about 1 KB of JSON each), each order its own entity. */
function events(count: number, tag: string): CanonicalEvent[] {
  return Array.from({ length: count }, (_, i) =>
    createEvent({ type: "dev.millwright.workorder.completed.v1", source: `urn:millwright:capacity:${RUN}:${tag}`, data: { ...workOrder, orderId: String(3_000_000 + i) } as never, time: "2026-02-25T20:05:12+01:00" })._unsafeUnwrap(),
  );
}

/** CPU time of a process in µs from /proc (user + system, all threads); undefined when unreadable. */
function procCpuUs(pids: readonly number[]): number | undefined {
  let total = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      total += (Number(fields[11]) + Number(fields[12])) * TICK_US;
    } catch {
      return undefined;
    }
  }
  return total;
}

/** One measured path: CPU µs per message in this process and in the server processes named. */
interface Cost {
  readonly count: number;
  /** CPU µs per message of the client process (user + system). */
  readonly clientUs: number;
  /** CPU µs per message of the server (broker or database backend), when it could be measured. */
  readonly serverUs: number | null;
  /** Wall µs per message (sequential paths) — on a loaded machine, includes waiting for a core. */
  readonly wallUs: number;
  readonly note?: string;
}

async function measure(count: number, serverPids: () => readonly number[] | Promise<readonly number[]>, work: () => Promise<void>, note?: string): Promise<Cost> {
  // Server processes before and after: one that appeared during the run (a new backend) counts from zero.
  const pidsBefore = await serverPids();
  const serverBefore = new Map(pidsBefore.map((pid) => [pid, procCpuUs([pid])]));
  const before = process.cpuUsage();
  const t0 = performance.now();
  await work();
  const wall = performance.now() - t0;
  const used = process.cpuUsage(before);
  const pidsAfter = await serverPids();
  let serverUs: number | undefined = pidsAfter.length === 0 ? undefined : 0;
  for (const pid of pidsAfter) {
    const after = procCpuUs([pid]);
    const was = serverBefore.has(pid) ? serverBefore.get(pid) : 0;
    if (after === undefined || was === undefined || serverUs === undefined) serverUs = undefined;
    else serverUs += after - was;
  }
  const server = serverUs === undefined ? null : serverUs / count;
  const r = (x: number) => Math.round(x * 10) / 10;
  return { count, clientUs: r((used.user + used.system) / count), serverUs: server === null ? null : r(server), wallUs: r((wall * 1000) / count), ...(note === undefined ? {} : { note }) };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      s.close(() => (typeof a === "object" && a !== null ? resolve(a.port) : reject(new Error("no port"))));
    });
  });
}

const children: ChildProcess[] = [];
const dirs: string[] = [];
/** Starts a server of this script on a free loopback port and waits until it accepts connections. */
async function server(command: string, argv: (port: number, dir: string) => string[]): Promise<{ port: number; pid: number }> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "mw-capacity-"));
  dirs.push(dir);
  const child = spawn(command, argv(port, dir), { stdio: "ignore", cwd: dir });
  children.push(child);
  const until = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${command} exited with ${child.exitCode}`);
    const open = await new Promise<boolean>((resolve) => {
      const s = new Socket();
      s.once("connect", () => (s.destroy(), resolve(true)));
      s.once("error", () => resolve(false));
      s.connect(port, "127.0.0.1");
    });
    if (open) return { port, pid: child.pid! };
    if (Date.now() > until) throw new Error(`${command} did not listen on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A database of its own on the local PostgreSQL, and the backend pids of a pool's connections. */
async function database(): Promise<{ pool: pg.Pool; backends: () => Promise<number[]>; drop: () => Promise<void> }> {
  const name = `mw_capacity_${RUN}`;
  const admin = new pg.Client({ ...PG, database: "postgres" });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name}`);
  await admin.query(`CREATE DATABASE ${name}`);
  const pool = new pg.Pool({ ...PG, database: name, max: 2, idleTimeoutMillis: 0, application_name: `mw-capacity-${RUN}` });
  // DROP DATABASE … WITH (FORCE) ends connections the pool may still be closing.
  pool.on("error", () => undefined);
  return {
    pool,
    backends: async () => (await admin.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE application_name = $1", [`mw-capacity-${RUN}`])).rows.map((r) => r.pid),
    drop: async () => {
      await pool.end();
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}

/** Runs `count` events through an inbox, one at a time, each with a one-row effect in its transaction. */
async function inboxPath<TTx>(store: IdempotencyStore<TTx>, effect: (tx: TTx, e: CanonicalEvent) => unknown, all: readonly CanonicalEvent[]): Promise<void> {
  const inbox = createInbox<TTx, CanonicalEvent>(store);
  for (const e of all) {
    const r = await inbox.process(e, (ev, { tx }) => void effect(tx, ev));
    if (r.isErr() || r.value.outcome !== "processed") throw new Error(`inbox: ${JSON.stringify(r.isErr() ? r.error : r.value)}`);
  }
}

/** Publishes `all` in chunks of 100 and waits until the subscriber's inbox applied each. */
async function transportPath(make: (onEvent: () => void) => Promise<{ pub: Publisher; sub: Subscription; cleanup?: () => Promise<void> }>, all: readonly CanonicalEvent[], serverPids: () => readonly number[], note?: string): Promise<Cost> {
  let applied = 0;
  let done: () => void = () => undefined;
  const finished = new Promise<void>((r) => (done = r));
  const pair = await make(() => {
    if (++applied === all.length) done();
  });
  // Warm-up: connections and JIT before the measured run.
  const cost = await measure(all.length, serverPids, async () => {
    for (let i = 0; i < all.length; i += 100) (await pair.pub.publish(all.slice(i, i + 100)))._unsafeUnwrap();
    await finished;
  }, note);
  (await pair.pub.close())._unsafeUnwrap();
  (await pair.sub.close())._unsafeUnwrap();
  await pair.cleanup?.();
  return cost;
}

function memoryInbox(onEvent: () => void) {
  const inbox = createInbox<MemoryTransaction, CanonicalEvent>(createMemoryStore());
  return { inbox, handler: (_e: CanonicalEvent, { tx }: { tx: MemoryTransaction }) => tx.defer(onEvent) };
}

const results: Record<string, Cost> = {};
const log = (name: string) => console.log(`${name.padEnd(22)} ${JSON.stringify(results[name])}`);
const started = Date.now();
const loadBefore = loadavg();

try {
  // Parse and validate: the JSON of an event to a CanonicalEvent, schema-checked.
  {
    const lines = events(n(5000), "parse").map((e) => serializeEvent(e));
    for (const l of lines.slice(0, 500)) parseEvent(JSON.parse(l) as never);
    results["parse"] = await measure(lines.length, () => [], async () => {
      for (const l of lines) if (parseEvent(JSON.parse(l) as never).isErr()) throw new Error("parse failed");
    });
    log("parse");
  }

  // Inbox per store, one event at a time (a subscriber's sequential lane), one effect row each.
  {
    const dir = mkdtempSync(join(tmpdir(), "mw-capacity-sqlite-"));
    dirs.push(dir);
    const opened = openSqliteDatabase(join(dir, "inbox.sqlite"));
    if (opened.isErr()) throw new Error(opened.error.message);
    const db = opened.value;
    migrateSqlite(db);
    db.exec("CREATE TABLE effects (id TEXT PRIMARY KEY)");
    const insert = db.prepare("INSERT INTO effects (id) VALUES (?)");
    const store = createSqliteStore(db);
    await inboxPath(store, (_tx, e) => insert.run(e.id), events(200, "sqlite-warm"));
    results["inbox.sqlite"] = await measure(n(2000), () => [], () => inboxPath(store, (_tx, e) => insert.run(e.id), events(n(2000), "sqlite")), "embedded: the database work is in this process");
    log("inbox.sqlite");
  }
  {
    const d = await database();
    await migratePostgres(d.pool);
    await d.pool.query("CREATE TABLE effects (id text PRIMARY KEY)");
    const store = createPostgresStore(d.pool);
    const effect = (tx: PgPoolClient, e: CanonicalEvent) => tx.query("INSERT INTO effects (id) VALUES ($1)", [e.id]);
    await inboxPath(store, effect, events(200, "pg-warm"));
    results["inbox.postgresql"] = await measure(n(1000), d.backends, () => inboxPath(store, effect, events(n(1000), "pg")), "server = the pool's PostgreSQL backends");
    log("inbox.postgresql");
    await d.drop();
  }
  {
    const redis = await server("/usr/bin/redis-server", (port) => ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]);
    const client = createClient({ url: `redis://127.0.0.1:${redis.port}` });
    await client.connect();
    const store = createRedisStore(client);
    const effect = (tx: { call: (...a: string[]) => unknown }, e: CanonicalEvent) => tx.call("SET", `effect:${e.id}`, "1");
    await inboxPath(store, effect, events(200, "redis-warm"));
    results["inbox.redis"] = await measure(n(2000), () => [redis.pid], () => inboxPath(store, effect, events(n(2000), "redis")), "server = a redis-server of this run (no persistence)");
    log("inbox.redis");
    client.destroy();
  }

  // Transports: publish + consume through the broker, the subscriber's inbox in memory (the transport's own cost).
  {
    const broker = await server("/usr/sbin/mosquitto", (port, dir) => {
      writeFileSync(join(dir, "m.conf"), `listener ${port} 127.0.0.1\nallow_anonymous true\nmax_queued_messages 100000\n`);
      return ["-c", join(dir, "m.conf")];
    });
    const url = `mqtt://127.0.0.1:${broker.port}`;
    const make = async (onEvent: () => void) => {
      const { inbox, handler } = memoryInbox(onEvent);
      const sub = (await subscribeMqtt({ url, clientId: `cap-${RUN}`, sessionExpirySeconds: 0, topics: ["capacity/#"], inbox }, handler))._unsafeUnwrap();
      const pub = (await createMqttPublisher({ url, enterprise: "capacity" }))._unsafeUnwrap();
      return { pub, sub };
    };
    await transportPath(make, events(300, "mqtt-warm"), () => []);
    results["transport.mqtt"] = await transportPath(make, events(n(4000), "mqtt"), () => [broker.pid], "QoS 1; server = a mosquitto of this run");
    log("transport.mqtt");
  }
  {
    const broker = await server("/usr/sbin/nats-server", (port, dir) => ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", dir]);
    const nc = await natsConnect({ servers: `127.0.0.1:${broker.port}` });
    let round = 0;
    const make = async (onEvent: () => void) => {
      const name = `CAP_${RUN}_${round++}`.toUpperCase();
      (await ensureNatsStream(nc, { name, subjects: [`${name.toLowerCase()}.>`] }))._unsafeUnwrap();
      const { inbox, handler } = memoryInbox(onEvent);
      const sub = (await subscribeNats(nc, { stream: name, durable: "cap", inbox, concurrency: 1 }, handler))._unsafeUnwrap();
      const pub = createNatsPublisher(nc, { subjectOf: () => `${name.toLowerCase()}.x` });
      return { pub, sub };
    };
    await transportPath(make, events(300, "nats-warm"), () => []);
    results["transport.nats"] = await transportPath(make, events(n(4000), "nats"), () => [broker.pid], "JetStream file storage, one replica; server = a nats-server of this run");
    log("transport.nats");
    await nc.close();
  }
  {
    let round = 0;
    const names: string[] = [];
    const make = async (onEvent: () => void) => {
      const exchange = `cap-${RUN}-${round++}`;
      names.push(exchange);
      const { inbox, handler } = memoryInbox(onEvent);
      const sub = (await subscribeAmqp({ exchange, queue: `${exchange}.q`, bindingKeys: ["#"], inbox, concurrency: 1 }, handler))._unsafeUnwrap();
      const pub = (await createAmqpPublisher({ exchange }))._unsafeUnwrap();
      return { pub, sub };
    };
    await transportPath(make, events(300, "amqp-warm"), () => []);
    results["transport.amqp"] = await transportPath(make, events(n(4000), "amqp"), () => [], "publisher confirms, durable queue; the shared RabbitMQ's CPU is not attributable (other jobs use it)");
    log("transport.amqp");
    const c = await amqplib.connect("amqp://guest:guest@127.0.0.1:5672");
    const ch = await c.createChannel();
    for (const x of names) {
      await ch.deleteQueue(`${x}.q`);
      await ch.deleteExchange(x);
    }
    await c.close();
  }

  // Alignment: the built-in rules over an order's released (ERP) / started / completed (MES) events; each matches one rule.
  {
    const t0 = Date.parse("2026-03-02T06:00:00Z");
    const kinds = ["released", "started", "completed"] as const;
    const stream = (count: number, tag: string): CanonicalEvent[] =>
      Array.from({ length: count }, (_, i) => {
        const order = String(4_000_000 + Math.floor(i / 3));
        const kind = kinds[i % 3]!;
        const status = kind === "started" ? "in_progress" : kind;
        return createEvent({ type: `dev.millwright.workorder.${kind}.v1` as never, source: kind === "released" ? `urn:millwright:sap:${tag}` : `urn:millwright:mes:${tag}`, data: { ...workOrder, orderId: order, status, revision: String(20_260_302_000_000 + i) } as never, time: new Date(t0 + i * 1000).toISOString() })._unsafeUnwrap();
      });
    const warm = createEngine({ rules: builtInRules() });
    for (const e of stream(600, "warm")) if (warm.ingest(e)._unsafeUnwrap().matched !== 1) throw new Error("alignment: an event matched no rule");
    const all = stream(n(6000), "align");
    const engine = createEngine({ rules: builtInRules() });
    results["alignment"] = await measure(all.length, () => [], async () => {
      for (const e of all) engine.ingest(e)._unsafeUnwrap();
    }, "built-in rules, in-memory store, ingest only");
    log("alignment");
  }

  // Workflows: three-step workflows (one step ≈ one durable write) on SQLite and PostgreSQL.
  const threeSteps = defineWorkflow({
    name: "capacity-three-steps",
    version: 1,
    run: async (wf, input: { n: number }) => {
      await wf.step("reserve", () => ({ reserved: input.n }));
      await wf.step("dispatch", () => ({ dispatched: `order-${input.n}` }));
      await wf.step("stage", () => ({ staged: true }));
      return null;
    },
  });
  const runWorkflows = async (store: WorkflowStore, count: number, tag: string): Promise<void> => {
    const before = (await store.countByState()).completed ?? 0;
    const runtime = createWorkflowRuntime({ store, workflows: [threeSteps], workerId: `cap-${tag}` });
    for (let i = 0; i < count; i++) (await runtime.start(threeSteps, `${tag}-${i}`, { n: i }))._unsafeUnwrap();
    (await runtime.runDue())._unsafeUnwrap();
    const counts = await store.countByState();
    if (counts.completed !== before + count) throw new Error(`workflows ${tag}: ${JSON.stringify(counts)}`);
  };
  {
    const dir = mkdtempSync(join(tmpdir(), "mw-capacity-wf-"));
    dirs.push(dir);
    const open = (name: string) => {
      const o = openSqliteDatabase(join(dir, name));
      if (o.isErr()) throw new Error(o.error.message);
      o.value.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL");
      return o.value;
    };
    await runWorkflows(createSqliteWorkflowStore(open("warm.sqlite")), 100, "sqlite-warm");
    const count = n(500);
    const cost = await measure(count * 3, () => [], () => runWorkflows(createSqliteWorkflowStore(open("wf.sqlite")), count, "sqlite"), "per step; 3-step workflows, start + run");
    results["workflow.sqlite"] = cost;
    log("workflow.sqlite");
  }
  {
    const d = await database();
    await migrateWorkflowPostgres(d.pool);
    const store = createPostgresWorkflowStore(d.pool);
    await runWorkflows(store, 50, "pg-warm");
    const count = n(300);
    results["workflow.postgresql"] = await measure(count * 3, d.backends, () => runWorkflows(store, count, "pg"), "per step; 3-step workflows, start + run; server = the pool's PostgreSQL backends");
    log("workflow.postgresql");
    await d.drop();
  }
} finally {
  for (const c of children) c.kill("SIGKILL");
  await Promise.all(children.map((c) => new Promise<void>((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once("exit", () => r())))));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}

const record = {
  date: new Date().toISOString(),
  node: process.version,
  cpus: cpus().length,
  cpuModel: cpus()[0]?.model ?? "unknown",
  loadavgBefore: loadBefore.map((x) => Math.round(x * 100) / 100),
  loadavgAfter: loadavg().map((x) => Math.round(x * 100) / 100),
  seconds: Math.round((Date.now() - started) / 1000),
  scale: SCALE,
  unit: "CPU microseconds per message (per step for workflows), user + system",
  paths: results,
};
writeFileSync(join(ROOT, "bench/results/capacity.json"), `${JSON.stringify(record, null, 2)}\n`);
console.log(`wrote bench/results/capacity.json in ${record.seconds} s (load ${record.loadavgBefore.join(" ")} → ${record.loadavgAfter.join(" ")})`);
process.exit(0);
