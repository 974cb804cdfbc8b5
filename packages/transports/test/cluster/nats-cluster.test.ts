import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DeliveryInfo, DeliveryOutcome } from "../../src/core.js";
import { createNatsPublisher, ensureNatsStream, subscribeNats } from "../../src/nats.js";
import { uniqueName, waitFor, workOrderEvents } from "../fixtures.js";
import { NATS_WORKER_SCRIPT, openEffectPeer, startNatsCluster, streamInfo, type NatsCluster, type WorkerReport } from "./nats-cluster.js";

// Three nats-server processes on loopback ports, started here and stopped in afterAll (a missing
// binary fails beforeAll: these tests never skip).
let cluster: NatsCluster;
let dir: string;
const connections: NatsConnection[] = [];
const workers: ChildProcess[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "mw-nats-peer-"));
  cluster = await startNatsCluster(3);
}, 30_000);

afterAll(async () => {
  for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill("SIGKILL");
  for (const c of connections) await c.close().catch(() => undefined);
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
}, 30_000);

async function open(servers: readonly string[]): Promise<NatsConnection> {
  // noRandomize: the first URL is the server the client connects to first.
  const nc = await connect({ servers: [...servers], noRandomize: true, reconnectTimeWait: 100, maxReconnectAttempts: -1, timeout: 5000 });
  connections.push(nc);
  return nc;
}

/** A stream with three replicas; retried while the meta group settles after the cluster started. */
async function replicatedStream(nc: NatsConnection): Promise<{ name: string; prefix: string; leader: string }> {
  const name = uniqueName("MW").replace(/-/g, "_").toUpperCase();
  const prefix = name.toLowerCase();
  const deadline = Date.now() + 15_000;
  for (;;) {
    const made = await ensureNatsStream(nc, { name, subjects: [`${prefix}.>`], replicas: 3 });
    if (made.isOk()) break;
    if (Date.now() > deadline) throw new Error(`stream ${name}: ${made.error.message}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  let leader = "";
  await waitFor(
    () => {
      void streamInfo(nc, name).then((i) => {
        if (i?.cluster?.leader !== undefined && (i.cluster.replicas ?? []).filter((r) => r.current).length === 2) leader = i.cluster.leader;
      });
      return leader !== "";
    },
    15_000,
    () => `a leader and two current replicas of ${name}`,
  );
  const info = await streamInfo(nc, name);
  expect(info?.config.num_replicas).toBe(3);
  return { name, prefix, leader };
}

interface Failover {
  readonly killed: string;
  readonly newLeader: string;
  readonly electionMs: number;
  readonly rejoinMs: number;
  readonly consumerLeaderBefore: string | undefined;
  readonly consumerLeaderAfter: string | undefined;
}

/** SIGKILLs the stream's leader, waits for another leader, restarts the killed server and waits until its replica is current again. */
async function killLeader(nc: NatsConnection, stream: string, durable: string): Promise<Failover> {
  const jsm = await jetstreamManager(nc);
  const before = await streamInfo(nc, stream);
  const killed = before?.cluster?.leader;
  if (killed === undefined) throw new Error(`${stream} has no leader to kill`);
  const consumerLeaderBefore = (await jsm.consumers.info(stream, durable).catch(() => undefined))?.cluster?.leader;
  const killedAt = Date.now();
  await cluster.kill(killed);
  expect(cluster.running(killed)).toBe(false);
  let newLeader: string | undefined;
  while (newLeader === undefined) {
    if (Date.now() - killedAt > 30_000) throw new Error(`no new leader of ${stream} within 30 s`);
    const leader = (await streamInfo(nc, stream, 500))?.cluster?.leader;
    if (leader !== undefined && leader !== killed) newLeader = leader;
    else await new Promise((r) => setTimeout(r, 25));
  }
  const electionMs = Date.now() - killedAt;
  const consumerLeaderAfter = (await jsm.consumers.info(stream, durable).catch(() => undefined))?.cluster?.leader;
  const restartedAt = Date.now();
  await cluster.restart(killed);
  let current = false;
  while (!current) {
    if (Date.now() - restartedAt > 30_000) throw new Error(`${killed} did not catch up within 30 s`);
    current = ((await streamInfo(nc, stream, 500))?.cluster?.replicas ?? []).some((r) => r.name === killed && r.current && !r.offline);
    if (!current) await new Promise((r) => setTimeout(r, 50));
  }
  return { killed, newLeader, electionMs, rejoinMs: Date.now() - restartedAt, consumerLeaderBefore, consumerLeaderAfter };
}

describe("NATS JetStream on a three-server cluster", () => {
  it("kill the stream leader while 10,000 events flow, restart it: no loss, each effect once at the peer, each partition in order", async () => {
    const admin = await open(cluster.urls);
    const { name, prefix, leader } = await replicatedStream(admin);
    // Publisher and subscriber connect to the leader first, so the kill also cuts their connections.
    const leaderUrl = cluster.nodes.find((n) => n.name === leader)!.url;
    const others = cluster.urls.filter((u) => u !== leaderUrl);
    const pubConn = await open([leaderUrl, ...others]);
    const subConn = await open([leaderUrl, ...others]);
    const peer = openEffectPeer(join(dir, "failover.db"), "main");
    const partitions = 100;
    const events = workOrderEvents(10_000, { partitions });
    const position = new Map(events.map((e, i) => [e.id, i]));
    const log: { readonly at: number; readonly outcome: string; readonly redelivered: boolean }[] = [];
    const settled = new Set<number>();
    let processed = 0;
    let failover: Promise<Failover> | undefined;
    const onOutcome = (o: DeliveryOutcome, delivery: DeliveryInfo): void => {
      const outcome = o.action === "retry" ? "retry" : "rejected" in o ? "rejected" : o.outcome.outcome;
      const at = o.id === undefined ? -1 : (position.get(o.id) ?? -1);
      log.push({ at, outcome, redelivered: delivery.redelivered === true });
      if (outcome === "processed" || outcome === "stale") settled.add(at);
      if (outcome === "processed" && ++processed === 3000) failover = killLeader(admin, name, "mes");
    };
    const startedAt = Date.now();
    const sub = (await subscribeNats(subConn, { stream: name, durable: "mes", inbox: peer.inbox, concurrency: 16, ackWaitMs: 2000, nakDelayMs: 100, onOutcome }, peer.handler))._unsafeUnwrap();
    const publisher = createNatsPublisher(pubConn, { subjectOf: () => `${prefix}.workorder.completed.1710`, timeoutMs: 2000, maxAttempts: 8, retryDelayMs: 100 });
    // One revision of every order per round, the next round once the stream stored this one: the
    // stream holds each order's revisions in order, also across a publish retried during the election.
    let retriedPublishes = 0;
    for (let i = 0; i < events.length; i += partitions) {
      const outcomes = (await publisher.publish(events.slice(i, i + partitions)))._unsafeUnwrap();
      expect(outcomes.filter((o) => o.outcome !== "published")).toEqual([]);
      retriedPublishes += outcomes.filter((o) => o.attempts > 1).length;
    }
    await waitFor(() => settled.size === 10_000, 60_000, () => `10000 events settled (have ${settled.size}, ${JSON.stringify(sub.stats())})`);
    const flowMs = Date.now() - startedAt;
    expect(failover).toBeDefined();
    const f = await failover!;
    (await sub.close())._unsafeUnwrap();
    (await publisher.close())._unsafeUnwrap();

    // The failover happened: the leader's process was killed, another server leads, and the killed one caught up.
    expect(f.killed).toBe(leader);
    expect(f.newLeader).not.toBe(f.killed);
    expect(cluster.running(f.killed)).toBe(true);
    // The stream's dedupe held across publish retries on the new leader: 10,000 messages, no copy.
    expect((await streamInfo(admin, name, 5000))?.state.messages).toBe(10_000);

    // Replaying the settlements: applied only above the last applied revision of its order; stale
    // only as a redelivery below it; a duplicate only as a redelivery of what was settled. A
    // redelivery is recognised by the log (seen before), not only by the broker's flag: after the
    // consumer's leader moves, JetStream can deliver again a message whose delivery the old leader
    // had not replicated, with a delivery count of 1. Those are counted (`unflaggedRedeliveries`).
    const lastApplied = Array.from({ length: partitions }, () => -1);
    const seen = new Set<number>();
    const wrong: string[] = [];
    let unflaggedRedeliveries = 0;
    for (const e of log) {
      const order = e.at % partitions;
      if (e.outcome === "processed") {
        if (e.at <= lastApplied[order]!) wrong.push(`${e.at} applied after ${lastApplied[order]}`);
        lastApplied[order] = e.at;
      } else if (e.outcome === "stale") {
        if (!e.redelivered && !seen.has(e.at)) wrong.push(`${e.at} stale on its first delivery`);
        if (!e.redelivered && seen.has(e.at)) unflaggedRedeliveries++;
        if (e.at >= lastApplied[order]!) wrong.push(`${e.at} stale although ${lastApplied[order]} is the last applied`);
      } else if (e.outcome === "duplicate") {
        if (!seen.has(e.at)) wrong.push(`${e.at} duplicate of nothing delivered before`);
        else if (!e.redelivered) unflaggedRedeliveries++;
      } else if (e.outcome !== "retry") {
        wrong.push(`${e.at}: ${e.outcome}`);
      }
      seen.add(e.at);
    }
    expect(wrong).toEqual([]);

    // Counted at the peer: every effect once; what was not applied was superseded (stale), never lost.
    const counts = peer.counts();
    const stale = new Set(log.filter((e) => e.outcome === "stale").map((e) => e.at));
    expect([...counts.values()].filter((n) => n !== 1)).toEqual([]);
    expect(counts.size + stale.size).toBe(10_000);
    expect([...stale].filter((at) => counts.has(events[at]!.id))).toEqual([]);
    // Each order's effects committed in revision order.
    const applied: number[][] = Array.from({ length: partitions }, () => []);
    for (const { eventId } of peer.log()) applied[position.get(eventId)! % partitions]!.push(position.get(eventId)!);
    for (const a of applied) expect(a).toEqual([...a].sort((x, y) => x - y));
    peer.close();

    const redelivered = log.filter((e) => e.redelivered).length;
    const figures = {
      ...f,
      flowMs,
      retriedPublishes,
      redelivered,
      duplicates: log.filter((e) => e.outcome === "duplicate").length,
      stale: stale.size,
      retries: log.filter((e) => e.outcome === "retry").length,
      unflaggedRedeliveries,
      effects: counts.size,
    };
    console.log(`nats failover figures: ${JSON.stringify(figures)}`);
  }, 90_000);

  it("three consumer processes share one durable; one is SIGKILLed mid-flow: each of 2,000 effects once at the peer, none lost", async () => {
    const admin = await open(cluster.urls);
    const { name, prefix } = await replicatedStream(admin);
    const db = join(dir, "shared.db");
    const peer = openEffectPeer(db, "parent");
    const jsm = await jetstreamManager(admin);
    // The durable exists before the workers start, so all three bind the same consumer.
    const seed = openEffectPeer(db, "seed");
    const created = (await subscribeNats(admin, { stream: name, durable: "shared", inbox: seed.inbox, concurrency: 8, ackWaitMs: 2000, nakDelayMs: 100 }, seed.handler))._unsafeUnwrap();
    (await created.close())._unsafeUnwrap();
    seed.close();
    const reports = new Map<string, WorkerReport>();
    const start = (worker: string): Promise<ChildProcess> =>
      new Promise((resolve, reject) => {
        const child = spawn(process.execPath, ["--conditions=@millwright/source", "--import", "tsx", NATS_WORKER_SCRIPT], {
          env: { ...process.env, MW_NATS_WORKER: "1", MW_WORKER: worker, MW_DB: db, MW_SERVERS: cluster.urls.join(","), MW_STREAM: name, MW_DURABLE: "shared" },
          stdio: ["ignore", "pipe", "pipe"],
        });
        workers.push(child);
        let out = "";
        let err = "";
        child.stderr!.on("data", (c: Buffer) => void (err += c.toString()));
        child.stdout!.on("data", (c: Buffer) => {
          out += c.toString();
          if (out.startsWith("ready\n")) resolve(child);
          for (const line of out.split("\n").slice(1)) if (line.startsWith("{")) reports.set(worker, JSON.parse(line) as WorkerReport);
        });
        child.once("exit", (code) => reject(new Error(`worker ${worker} exited (${code}) before it was ready: ${err.slice(-1000)}`)));
      });
    const spawnedAt = Date.now();
    const children = await Promise.all(["w1", "w2", "w3"].map(start));
    const readyMs = Date.now() - spawnedAt;
    const publisher = createNatsPublisher(admin, { subjectOf: () => `${prefix}.workorder.completed.1710` });
    // Every event its own order: a shared durable promises no order between processes.
    const events = workOrderEvents(2000);
    expect((await publisher.publish(events))._unsafeUnwrap().filter((o) => o.outcome !== "published")).toEqual([]);
    (await publisher.close())._unsafeUnwrap();
    await waitFor(() => peer.size() >= 700, 30_000, () => "700 effects");
    const victim = children[0]!;
    const gone = new Promise<void>((resolve) => victim.once("exit", () => resolve()));
    victim.kill("SIGKILL");
    await gone;
    expect(victim.signalCode).toBe("SIGKILL");
    await waitFor(() => peer.size() === 2000, 45_000, () => `2000 effects (have ${peer.size()})`);
    const flowMs = Date.now() - spawnedAt - readyMs;
    // Everything acknowledged: nothing pending on the durable, then the survivors stop and report.
    let pending = -1;
    await waitFor(
      () => {
        void jsm.consumers.info(name, "shared").then((i) => (pending = i.num_pending + i.num_ack_pending));
        return pending === 0;
      },
      15_000,
      () => `no pending message (have ${pending})`,
    );
    await Promise.all(
      children.slice(1).map(async (c) => {
        const exited = new Promise<void>((resolve) => c.once("exit", () => resolve()));
        c.kill("SIGTERM");
        await exited;
      }),
    );
    const counts = peer.counts();
    expect(counts.size).toBe(2000);
    expect([...counts.values()].filter((n) => n !== 1)).toEqual([]);
    const byWorker = new Map<string, number>();
    for (const { worker } of peer.log()) byWorker.set(worker, (byWorker.get(worker) ?? 0) + 1);
    // The durable was shared: every process applied effects, the killed one before it died.
    expect([...byWorker.keys()].sort()).toEqual(["w1", "w2", "w3"]);
    const survivors = [...reports.values()];
    expect(survivors.map((r) => r.worker).sort()).toEqual(["w2", "w3"]);
    peer.close();
    const figures = {
      readyMs,
      flowMs,
      effectsPerWorker: Object.fromEntries(byWorker),
      redeliveredToSurvivors: survivors.reduce((n, r) => n + r.redelivered, 0),
      duplicatesAbsorbed: survivors.reduce((n, r) => n + r.duplicates, 0),
      retried: survivors.reduce((n, r) => n + r.retried, 0),
    };
    console.log(`nats shared durable figures: ${JSON.stringify(figures)}`);
  }, 90_000);
});
