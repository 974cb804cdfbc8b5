import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { errAsync } from "neverthrow";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { effects, positionsByPartition, uniqueName, waitFor, workOrderEvents } from "../test/fixtures.js";
import { hostPort, startTcpProxy } from "../test/tcp-proxy.js";
import type { DeliveryOutcome } from "./core.js";
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

  it("fault: 10,000 events while the subscriber's connection is cut twice: every effect once, none lost, never applied out of order", async () => {
    const { name, prefix } = await stream();
    const proxy = await startTcpProxy(hostPort(url, 4222));
    const subConn = await connect({ servers: `127.0.0.1:${proxy.port}`, reconnectTimeWait: 100, maxReconnectAttempts: -1 });
    const publisher = createNatsPublisher(nc, { subjectOf: () => `${prefix}.workorder.completed.1710` });
    const fx = effects();
    const stale = new Set<string>();
    const onOutcome = (o: DeliveryOutcome): void => {
      if (o.action === "ack" && "outcome" in o && o.outcome.outcome === "stale") stale.add(o.id);
    };
    const sub = (await subscribeNats(subConn, { stream: name, durable: "mes", inbox: fx.inbox, concurrency: 16, ackWaitMs: 2000, nakDelayMs: 100, onOutcome }, fx.handler))._unsafeUnwrap();
    const events = workOrderEvents(10_000, { partitions: 30 });
    const publishing = publisher.publish(events);
    for (const at of [2000, 6000]) {
      await waitFor(() => fx.applied.length >= at, 30_000, () => `${at} effects (have ${fx.applied.length})`);
      await proxy.cut();
      await new Promise((r) => setTimeout(r, 300));
      await proxy.reopen();
    }
    expect((await publishing)._unsafeUnwrap().filter((o) => o.outcome !== "published")).toEqual([]);
    // A redelivery after the cut can arrive after a newer revision of its work order: the inbox's
    // revision guard then records it as stale instead of applying it out of order.
    await waitFor(() => fx.counts.size + stale.size === 10_000, 40_000, () => `10000 distinct effects (have ${fx.counts.size}, ${JSON.stringify(sub.stats())})`);
    expect([...fx.counts.values()].every((n) => n === 1)).toBe(true);
    expect([...stale].filter((id) => fx.counts.has(id))).toEqual([]);
    for (const applied of positionsByPartition(events, fx.applied, 30)) expect(applied).toEqual([...applied].sort((a, b) => a - b));
    (await sub.close())._unsafeUnwrap();
    await subConn.close();
    // The clients really reconnected through the reopened proxy.
    expect(proxy.connections()).toBeGreaterThanOrEqual(3);
    await proxy.close();
  });
});
