import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { errAsync } from "neverthrow";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { effects, positionsByPartition, uniqueName, waitFor, workOrderEvents } from "../test/fixtures.js";
import { hostPort, startTcpProxy } from "../test/tcp-proxy.js";
import type { DeliveryInfo, DeliveryOutcome } from "./core.js";
import { createNatsPublisher, defaultNatsUrl, ensureNatsStream, subscribeNats } from "./nats.js";

// A missing server fails these tests in beforeAll: they never skip.
const url = defaultNatsUrl();
let nc: NatsConnection;
const streams: string[] = [];

beforeAll(async () => {
  nc = await connect({ servers: url, timeout: 5000 });
});

afterAll(async () => {
  const jsm = await jetstreamManager(nc);
  for (const s of streams) await jsm.streams.delete(s).catch(() => undefined);
  await nc.close();
});

async function stream(): Promise<{ name: string; prefix: string }> {
  const name = uniqueName("MW").replace(/-/g, "_").toUpperCase();
  const prefix = name.toLowerCase();
  (await ensureNatsStream(nc, { name, subjects: [`${prefix}.>`] }))._unsafeUnwrap();
  streams.push(name);
  return { name, prefix };
}

describe("NATS JetStream over the local server", () => {
  it.each(["binary", "structured"] as const)("%s: the server drops a second publish of an event id, the inbox applies each effect once", async (mode) => {
    const { name, prefix } = await stream();
    const publisher = createNatsPublisher(nc, { mode, subjectOf: () => `${prefix}.workorder.completed.1710` });
    const events = workOrderEvents(100, { partitions: 10 });
    expect((await publisher.publish(events))._unsafeUnwrap().every((o) => o.outcome === "published")).toBe(true);
    (await publisher.publish(events))._unsafeUnwrap();
    const jsm = await jetstreamManager(nc);
    expect((await jsm.streams.info(name)).state.messages).toBe(100);
    const fx = effects();
    const sub = (await subscribeNats(nc, { stream: name, durable: "mes", inbox: fx.inbox, concurrency: 8 }, fx.handler))._unsafeUnwrap();
    await waitFor(() => fx.applied.length === 100, 10_000, () => `100 effects (have ${fx.applied.length})`);
    expect(new Set(fx.applied).size).toBe(100);
    // Each partition's events in their order.
    expect(positionsByPartition(events, fx.applied, 10)).toEqual(positionsByPartition(events, events.map((e) => e.id), 10));
    (await sub.close())._unsafeUnwrap();
    (await publisher.close())._unsafeUnwrap();
    // The acks of each batch went out (also the last batch's, on close): none is pending, none redelivered.
    await nc.flush();
    const consumer = await jsm.consumers.info(name, "mes");
    expect({ pending: consumer.num_ack_pending, redelivered: consumer.num_redelivered, acked: consumer.ack_floor.stream_seq }).toEqual({ pending: 0, redelivered: 0, acked: 100 });
  });

  it("refuses replicas outside 1–5, naming the field; sets the replicas asked for", async () => {
    for (const replicas of [0, 6, 1.5]) {
      expect((await ensureNatsStream(nc, { name: "MW_NEVER", subjects: ["mw-never.>"], replicas }))._unsafeUnwrapErr()).toMatchObject({ code: "invalid_options", path: "MW_NEVER.replicas", value: replicas });
    }
    const name = uniqueName("MW").replace(/-/g, "_").toUpperCase();
    (await ensureNatsStream(nc, { name, subjects: [`${name.toLowerCase()}.>`], replicas: 1 }))._unsafeUnwrap();
    streams.push(name);
    expect((await (await jetstreamManager(nc)).streams.info(name)).config.num_replicas).toBe(1);
  });

  it("naks with delay while the store fails, then moves the message to the dead-letter stream after max deliveries", async () => {
    const { name, prefix } = await stream();
    const dlq = await stream();
    const publisher = createNatsPublisher(nc, { subjectOf: () => `${prefix}.workorder.completed.1710` });
    const [event] = workOrderEvents(1);
    (await publisher.publish([event!]))._unsafeUnwrap();
    const fx = effects();
    const failing = { ...fx.inbox, process: () => errAsync({ code: "store_failed" as const, operation: "test", message: "the store is down" }) } as unknown as typeof fx.inbox;
    const sub = (await subscribeNats(nc, { stream: name, durable: "mes", inbox: failing, maxDeliver: 3, nakDelayMs: 50, deadLetterSubject: `${dlq.prefix}.dead` }, fx.handler))._unsafeUnwrap();
    const jsm = await jetstreamManager(nc);
    await waitFor(() => sub.stats().retried === 3, 10_000, () => `3 deliveries (have ${sub.stats().retried})`);
    let dead = 0;
    await waitFor(
      () => {
        void jsm.streams.info(dlq.name).then((i) => (dead = i.state.messages));
        return dead === 1;
      },
      5000,
      () => "the dead letter",
    );
    const stored = await jsm.streams.getMessage(dlq.name, { seq: 1 });
    expect(stored?.header.get("Millwright-Dead-Letter-Reason")).toMatch(/^delivered 3 times: /);
    expect(stored?.header.get("ce-id")).toBe(event!.id);
    expect(fx.applied).toEqual([]);
    (await sub.close())._unsafeUnwrap();
  });

  it("fault: 10,000 events, each order's revisions published in order, while the subscriber's connection is cut twice: each applied once and in order, or skipped as stale only when it was a redelivery overtaken by a newer revision", async () => {
    const { name, prefix } = await stream();
    const proxy = await startTcpProxy(hostPort(url, 4222));
    const subConn = await connect({ servers: `127.0.0.1:${proxy.port}`, reconnectTimeWait: 100, maxReconnectAttempts: -1 });
    const publisher = createNatsPublisher(nc, { subjectOf: () => `${prefix}.workorder.completed.1710` });
    const partitions = 30;
    const events = workOrderEvents(10_000, { partitions });
    const position = new Map(events.map((e, i) => [e.id, i]));
    const fx = effects();
    // Every settlement in the order the subscriber made it: the event's publish position, the
    // inbox's outcome and whether the server marked the delivery as a redelivery.
    const log: { readonly at: number; readonly outcome: string; readonly redelivered: boolean }[] = [];
    const settled = new Set<number>();
    const cutting: Promise<number>[] = [];
    let processed = 0;
    const onOutcome = (o: DeliveryOutcome, delivery: DeliveryInfo): void => {
      const outcome = o.action === "retry" ? "retry" : "rejected" in o ? "rejected" : o.outcome.outcome;
      const at = o.id === undefined ? -1 : (position.get(o.id) ?? -1);
      log.push({ at, outcome, redelivered: delivery.redelivered === true });
      if (outcome === "processed" || outcome === "stale") settled.add(at);
      if (outcome === "processed") {
        processed++;
        // Cut while deliveries are in flight to the subscriber.
        if (processed === 2000 || processed === 6000) {
          cutting.push(
            proxy.cut().then(async (destroyed) => {
              await new Promise((r) => setTimeout(r, 300));
              await proxy.reopen();
              return destroyed;
            }),
          );
        }
      }
    };
    const sub = (await subscribeNats(subConn, { stream: name, durable: "mes", inbox: fx.inbox, concurrency: 16, ackWaitMs: 2000, nakDelayMs: 100, onOutcome }, fx.handler))._unsafeUnwrap();
    // One revision of every order per round, the next round once the stream stored this one: the
    // stream holds each order's revisions in order, so a first delivery is never overtaken.
    for (let i = 0; i < events.length; i += partitions) {
      expect((await publisher.publish(events.slice(i, i + partitions)))._unsafeUnwrap().filter((o) => o.outcome !== "published")).toEqual([]);
    }
    await waitFor(() => settled.size === 10_000, 60_000, () => `10000 events settled (have ${settled.size}, ${JSON.stringify(sub.stats())})`);
    (await sub.close())._unsafeUnwrap();
    await subConn.close();
    const cut = await Promise.all(cutting);
    await proxy.close();
    // The fault happened: two cuts, each destroying the subscriber's live connection, and it reconnected.
    expect(cut).toEqual([1, 1]);
    expect(proxy.connections()).toBeGreaterThanOrEqual(3);
    // Its consequence: the server redelivered what the cuts lost, and the subscriber absorbed it.
    const redelivered = log.filter((e) => e.redelivered);
    expect(redelivered.length).toBeGreaterThan(0);
    // Replaying the settlements: an event is applied only above the last applied revision of its
    // order; it is stale only when it is a redelivery below that revision; a duplicate is a
    // redelivery of an event already settled. Nothing else happens.
    const lastApplied = Array.from({ length: partitions }, () => -1);
    const seen = new Set<number>();
    const wrong: string[] = [];
    for (const e of log) {
      const order = e.at % partitions;
      if (e.outcome === "processed") {
        if (e.at <= lastApplied[order]!) wrong.push(`${e.at} applied after ${lastApplied[order]}`);
        lastApplied[order] = e.at;
      } else if (e.outcome === "stale") {
        if (!e.redelivered) wrong.push(`${e.at} stale on its first delivery`);
        if (e.at >= lastApplied[order]!) wrong.push(`${e.at} stale although ${lastApplied[order]} is the last applied`);
      } else if (e.outcome === "duplicate") {
        if (!e.redelivered || !seen.has(e.at)) wrong.push(`${e.at} duplicate of nothing delivered before`);
      } else {
        wrong.push(`${e.at}: ${e.outcome}`);
      }
      seen.add(e.at);
    }
    expect(wrong).toEqual([]);
    const stale = new Set(log.filter((e) => e.outcome === "stale").map((e) => e.at));
    expect(stale.size).toBeLessThanOrEqual(redelivered.length);
    expect(fx.counts.size + stale.size).toBe(10_000);
    expect([...fx.counts.values()].every((n) => n === 1)).toBe(true);
    expect([...stale].filter((at) => fx.counts.has(events[at]!.id))).toEqual([]);
  }, 150_000);
});
