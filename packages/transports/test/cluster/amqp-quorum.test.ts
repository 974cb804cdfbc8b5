import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CanonicalEvent } from "@millwright/events";
import amqplib from "amqplib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAmqpPublisher, subscribeAmqp } from "../../src/amqp.js";
import type { DeliveryInfo, DeliveryOutcome, Subscription } from "../../src/core.js";
import type { TransportError } from "../../src/errors.js";
import type { Result } from "neverthrow";
import { uniqueName, waitFor, workOrderEvents } from "../fixtures.js";
import { startRabbitNode, type RabbitNode } from "./amqp-node.js";
import { openEffectPeer, type EffectPeer } from "./nats-cluster.js";

// A RabbitMQ node of this test's own on free loopback ports (the system broker is never touched):
// a missing rabbitmq-server fails beforeAll, these tests never skip.
let node: RabbitNode;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "mw-amqp-peer-"));
  node = await startRabbitNode();
}, 120_000);

afterAll(async () => {
  try {
    // Bounded: a subscription of a failed test may wait on a broker that is down.
    await Promise.race([Promise.all([...open].map((s) => s.close())), new Promise((r) => setTimeout(r, 5000))]);
  } finally {
    await node?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}, 40_000);

/** The order of a {@link workOrderEvents} event: 0 … partitions − 1. */
const orderOf = (e: CanonicalEvent): number => Number((e.data as { readonly orderId: string }).orderId) - 1_000_000;

/** Each order's effects, as publish positions, in the order they committed at the peer. */
function appliedByOrder(peer: EffectPeer, events: readonly CanonicalEvent[], partitions: number): number[][] {
  const position = new Map(events.map((e, i) => [e.id, i]));
  const out: number[][] = Array.from({ length: partitions }, () => []);
  for (const { eventId } of peer.log()) out[position.get(eventId)! % partitions]!.push(position.get(eventId)!);
  return out;
}

/** Subscriptions still open when a test fails: afterAll closes them. */
const open = new Set<Subscription>();

function track(subscribed: Result<Subscription, TransportError>): Subscription {
  const subscription = subscribed._unsafeUnwrap();
  open.add(subscription);
  return subscription;
}

/** Whether the broker refuses to redeclare the single-active-consumer `queue` as a classic queue: it is a quorum queue. */
/** Bounds one phase of a test, so that a hang names the phase instead of the test's timeout. */
async function within<T>(ms: number, phase: string | (() => string), work: PromiseLike<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${typeof phase === "string" ? phase : phase()}: still pending after ${ms} ms`)), ms)));
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function isQuorum(queue: string): Promise<boolean> {
  const connection = await amqplib.connect(node.url);
  connection.on("error", () => undefined);
  const channel = await connection.createChannel();
  channel.on("error", () => undefined);
  try {
    await channel.assertQueue(queue, { durable: true, arguments: { "x-queue-type": "classic", "x-single-active-consumer": true } });
    return false;
  } catch (error) {
    return /inequivalent arg 'x-queue-type'/.test(String(error));
  } finally {
    await connection.close().catch(() => undefined);
  }
}

describe("AMQP quorum queues on a RabbitMQ node of the test's own", () => {
  it("single active consumer: of two consumers of a partition queue one receives, the other takes over when it leaves; each effect once, each order in order", async () => {
    const base = uniqueName("mw");
    const exchange = `${base}.x`;
    const queue = `${base}.p0`;
    const peer = openEffectPeer(join(dir, "sac.db"), "sac");
    const partitions = 20;
    const events = workOrderEvents(2000, { partitions });
    const received = [0, 0];
    const consumer = async (i: number): Promise<Subscription> =>
      track(
        await subscribeAmqp(
          { url: node.url, exchange, queue, bindingKeys: ["#"], queueType: "quorum", singleActiveConsumer: true, inbox: peer.inbox, concurrency: 8, onOutcome: () => void received[i]!++ },
          peer.handler,
        ),
      );
    const a = await consumer(0);
    const b = await consumer(1);
    expect(await isQuorum(queue)).toBe(true);
    const pub = (await createAmqpPublisher({ url: node.url, exchange }))._unsafeUnwrap();
    expect((await pub.publish(events.slice(0, 1000)))._unsafeUnwrap().filter((o) => o.outcome !== "published")).toEqual([]);
    await waitFor(() => peer.counts().size === 1000, 30_000, () => `1000 effects (have ${peer.counts().size})`);
    // One consumer got every message, the other none.
    const first = received[0]! > 0 ? 0 : 1;
    expect(received[first]).toBe(1000);
    expect(received[1 - first]).toBe(0);
    // The active one leaves (idle, everything acknowledged); the broker activates the other.
    await waitFor(() => [a, b][first]!.stats().inFlight === 0, 5000, () => "the active consumer idle");
    (await [a, b][first]!.close())._unsafeUnwrap();
    expect((await pub.publish(events.slice(1000)))._unsafeUnwrap().filter((o) => o.outcome !== "published")).toEqual([]);
    await waitFor(() => peer.counts().size === 2000, 30_000, () => `2000 effects (have ${peer.counts().size})`);
    expect(received[1 - first]).toBe(1000);
    expect([...peer.counts().values()].filter((n) => n !== 1)).toEqual([]);
    for (const applied of appliedByOrder(peer, events, partitions)) expect(applied).toEqual([...applied].sort((x, y) => x - y));
    (await [a, b][1 - first]!.close())._unsafeUnwrap();
    (await pub.close())._unsafeUnwrap();
    peer.close();
  }, 60_000);

  // Opt-in (MILLWRIGHT_AMQP_CRASH_TEST=1), and the test command says so: on 2026-12-07 Debian's
  // RabbitMQ 3.10.8, SIGKILLed and restarted, left one of the four quorum queues without a leader
  // for minutes ("leader call - leader not known" in the node's log, publishes to it nacked) in 7
  // of 10 runs on a quiet machine, with the committed transport code and with the new one alike;
  // it passed in 3 runs under load. docs/clusters/amqp.md has the details.
  it.runIf(process.env["MILLWRIGHT_AMQP_CRASH_TEST"] === "1")("publisher confirms through a broker crash and restart: every effect once, none lost, each order in order across four partition queues", async () => {
    const base = uniqueName("mw");
    const exchange = `${base}.x`;
    const queues = 4;
    const partitions = 40;
    const peer = openEffectPeer(join(dir, "restart.db"), "restart");
    let redelivered = 0;
    const onOutcome = (_o: DeliveryOutcome, delivery: DeliveryInfo): void => void (delivery.redelivered === true && redelivered++);
    // One quorum queue per partition (order k → queue k mod 4), one consumer each, single active.
    const subs: Subscription[] = [];
    for (let q = 0; q < queues; q++) {
      subs.push(
        track(
          await subscribeAmqp(
            { url: node.url, exchange, queue: `${base}.p${q}`, bindingKeys: [`p${q}`], queueType: "quorum", singleActiveConsumer: true, inbox: peer.inbox, concurrency: 8, reconnectDelayMs: 200, onOutcome },
            peer.handler,
          ),
        ),
      );
    }
    const pub = (
      await createAmqpPublisher({ url: node.url, exchange, routingKeyOf: (e) => `p${orderOf(e) % queues}`, maxAttempts: 240, retryDelayMs: 100, maxRetryDelayMs: 500 })
    )._unsafeUnwrap();
    const events = workOrderEvents(4000, { partitions });
    const groupBefore = node.processGroup();
    let restart: Promise<{ downMs: number }> | undefined;
    let restartState = "before the broker kill";
    let retriedPublishes = 0;
    let maxAttempts = 0;
    // One revision of every order per round, the next round once the broker confirmed this one:
    // a retried publish can never overtake a newer revision of its order.
    for (let i = 0; i < events.length; i += partitions) {
      if (i === 1000) {
        restartState = "broker killing";
        restart = (async () => {
          const killedAt = Date.now();
          await node.kill();
          restartState = "broker killed, starting";
          await node.start();
          restartState = `broker back after ${Date.now() - killedAt} ms`;
          return { downMs: Date.now() - killedAt };
        })();
        restart.catch((e: unknown) => void (restartState = `broker restart failed: ${String(e)}`));
      }
      const outcomes = (await within(130_000, () => `publish of round ${i / partitions} (${restartState}; the node says: ${node.output().slice(-1500)})`, pub.publish(events.slice(i, i + partitions))))._unsafeUnwrap();
      expect(outcomes.filter((o) => o.outcome !== "published")).toEqual([]);
      retriedPublishes += outcomes.filter((o) => o.attempts > 1).length;
      maxAttempts = Math.max(maxAttempts, ...outcomes.map((o) => o.attempts));
    }
    expect(restart).toBeDefined();
    const { downMs } = await within(60_000, "broker kill and restart", restart!);
    await waitFor(() => peer.counts().size === 4000, 60_000, () => `4000 effects (have ${peer.counts().size}, ${JSON.stringify(subs.map((s) => s.stats()))})`);
    await waitFor(() => subs.every((s) => s.stats().inFlight === 0), 10_000, () => "idle subscribers");
    // The fault happened: the node's processes were killed and a new one serves the queues, and
    // publishes in flight at the crash were retried until the restarted broker confirmed them.
    expect(node.processGroup()).not.toBe(groupBefore);
    expect(retriedPublishes).toBeGreaterThan(0);
    for (let q = 0; q < queues; q++) expect(await isQuorum(`${base}.p${q}`)).toBe(true);
    // Counted at the peer: each of the 4,000 effects once, each order's effects in revision order.
    const counts = peer.counts();
    expect(counts.size).toBe(4000);
    expect([...counts.values()].filter((n) => n !== 1)).toEqual([]);
    for (const applied of appliedByOrder(peer, events, partitions)) expect(applied).toEqual([...applied].sort((x, y) => x - y));
    const stats = subs.map((s) => s.stats());
    expect(stats.reduce((n, s) => n + s.stale, 0)).toBe(0);
    const duplicates = stats.reduce((n, s) => n + s.duplicates, 0);
    expect(stats.reduce((n, s) => n + s.processed, 0)).toBe(4000);
    for (const s of subs) (await within(20_000, "subscriber close", s.close()))._unsafeUnwrap();
    (await within(20_000, "publisher close", pub.close()))._unsafeUnwrap();
    peer.close();
    console.log(`amqp restart figures: ${JSON.stringify({ downMs, retriedPublishes, maxAttempts, redelivered, duplicates, received: stats.reduce((n, s) => n + s.received, 0) })}`);
  }, 180_000);
});
