import type { CanonicalEvent } from "@millwright/events";
import amqplib, { type Channel, type ChannelModel } from "amqplib";
import { errAsync } from "neverthrow";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { effects, positionsByPartition, uniqueName, waitFor, workOrderEvents } from "../test/fixtures.js";
import { hostPort, startTcpProxy } from "../test/tcp-proxy.js";
import { createAmqpPublisher, defaultAmqpUrl, subscribeAmqp } from "./amqp.js";
import type { DeliveryInfo, DeliveryOutcome } from "./core.js";

// A missing broker fails these tests in beforeAll: they never skip.
const url = defaultAmqpUrl();
let admin: ChannelModel;
let channel: Channel;
const queues: string[] = [];
const exchanges: string[] = [];

beforeAll(async () => {
  admin = await amqplib.connect(url);
  channel = await admin.createChannel();
});

afterAll(async () => {
  for (const q of queues) await channel.deleteQueue(q);
  for (const e of exchanges) await channel.deleteExchange(e);
  await admin.close();
});

function names(): { exchange: string; queue: string; dlx: string } {
  const base = uniqueName("mw");
  const n = { exchange: `${base}.x`, queue: `${base}.q`, dlx: `${base}.dlx` };
  exchanges.push(n.exchange, n.dlx);
  queues.push(n.queue, `${n.dlx}.queue`);
  return n;
}

describe("AMQP 0-9-1 over the local broker", () => {
  it.each(["binary", "structured"] as const)("%s: persistent, confirmed publishes; each effect once, also when published twice, in order per partition", async (mode) => {
    const n = names();
    const fx = effects();
    const sub = (await subscribeAmqp({ url, exchange: n.exchange, queue: n.queue, bindingKeys: ["workorder.#"], deadLetterExchange: n.dlx, inbox: fx.inbox, concurrency: 8 }, fx.handler))._unsafeUnwrap();
    const pub = (await createAmqpPublisher({ url, exchange: n.exchange, mode }))._unsafeUnwrap();
    const events = workOrderEvents(100, { partitions: 10 });
    expect((await pub.publish(events))._unsafeUnwrap().every((o) => o.outcome === "published")).toBe(true);
    (await pub.publish(events))._unsafeUnwrap();
    await waitFor(() => sub.stats().received === 200, 10_000, () => `200 deliveries (have ${sub.stats().received})`);
    await waitFor(() => sub.stats().inFlight === 0, 5000, () => "idle");
    expect(sub.stats()).toMatchObject({ processed: 100, duplicates: 100 });
    expect(positionsByPartition(events, fx.applied, 10)).toEqual(positionsByPartition(events, events.map((e) => e.id), 10));
    (await pub.close())._unsafeUnwrap();
    (await sub.close())._unsafeUnwrap();
  });

  it("sends an unreadable message to the dead-letter exchange and keeps it in the inbox's dead letters", async () => {
    const n = names();
    const fx = effects();
    const sub = (await subscribeAmqp({ url, exchange: n.exchange, queue: n.queue, bindingKeys: ["#"], deadLetterExchange: n.dlx, inbox: fx.inbox }, fx.handler))._unsafeUnwrap();
    channel.publish(n.exchange, "workorder.completed.1710", Buffer.from('{"specversion":"0.3"}'), { contentType: "application/cloudevents+json", persistent: true });
    await waitFor(() => sub.stats().rejected === 1, 5000, () => "the rejection");
    await new Promise((r) => setTimeout(r, 300));
    expect((await channel.checkQueue(`${n.dlx}.queue`)).messageCount).toBe(1);
    expect((await fx.inbox.deadLetters())._unsafeUnwrap()).toHaveLength(1);
    (await sub.close())._unsafeUnwrap();
  });

  it("acknowledges per batch around messages requeued after a store failure: each acknowledged once, no channel error", async () => {
    const n = names();
    const fx = effects();
    const events = workOrderEvents(300, { partitions: 10 });
    // Two messages fail once: each is held 100 ms, then requeued, while the others settle around it
    // (single acks behind it, cumulative acks once the front of the window is settled).
    const failOnce = new Set([events[7]!.id, events[150]!.id]);
    const inbox = {
      ...fx.inbox,
      process: (event: CanonicalEvent, handler: typeof fx.handler) =>
        failOnce.delete(event.id) ? errAsync({ code: "store_failed" as const, operation: "test", message: "the store is down" }) : fx.inbox.process(event, handler),
    } as unknown as typeof fx.inbox;
    const redelivered: (string | undefined)[] = [];
    const onOutcome = (o: DeliveryOutcome, delivery: DeliveryInfo): void => {
      if (delivery.redelivered === true) redelivered.push(o.id);
    };
    const sub = (await subscribeAmqp({ url, exchange: n.exchange, queue: n.queue, bindingKeys: ["#"], inbox, concurrency: 8, requeueDelayMs: 100, onOutcome }, fx.handler))._unsafeUnwrap();
    const pub = (await createAmqpPublisher({ url, exchange: n.exchange }))._unsafeUnwrap();
    expect((await pub.publish(events))._unsafeUnwrap().every((o) => o.outcome === "published")).toBe(true);
    // A requeued message comes back after later revisions of its order: the inbox records it stale.
    await waitFor(() => sub.stats().received === 302, 15_000, () => `302 deliveries (have ${JSON.stringify(sub.stats())})`);
    await waitFor(() => sub.stats().inFlight === 0, 5000, () => "idle");
    expect(sub.stats()).toMatchObject({ retried: 2, duplicates: 0 });
    expect(sub.stats().processed + sub.stats().stale).toBe(300);
    // Only the two requeued messages came back: a refused ack would have closed the channel and
    // sent every unacknowledged message again (or stopped the deliveries).
    expect([...redelivered].sort()).toEqual([events[7]!.id, events[150]!.id].sort());
    (await pub.close())._unsafeUnwrap();
    (await sub.close())._unsafeUnwrap();
    // Every delivery was acknowledged: closing returns unacknowledged ones to the queue.
    expect((await channel.checkQueue(n.queue)).messageCount).toBe(0);
  });

  it("caps the publish backoff at maxRetryDelayMs while the broker is gone", async () => {
    const exchange = `${uniqueName("mw")}.x`;
    exchanges.push(exchange);
    const proxy = await startTcpProxy(hostPort(url, 5672));
    const target = new URL(url);
    target.port = String(proxy.port);
    target.hostname = "127.0.0.1";
    const pub = (await createAmqpPublisher({ url: target.toString(), exchange, maxAttempts: 6, retryDelayMs: 100, maxRetryDelayMs: 100 }))._unsafeUnwrap();
    expect(await proxy.cut()).toBe(1);
    const startedAt = Date.now();
    const [outcome] = (await pub.publish(workOrderEvents(1)))._unsafeUnwrap();
    const elapsed = Date.now() - startedAt;
    expect(outcome).toMatchObject({ outcome: "failed", attempts: 6, error: { code: "publish_failed" } });
    // Five waits of 100 ms; doubling without the cap would wait 100 + 200 + 400 + 800 + 1600 ms.
    expect(elapsed).toBeGreaterThanOrEqual(500);
    expect(elapsed).toBeLessThan(2500);
    (await pub.close())._unsafeUnwrap();
    await proxy.close();
  });

  it("refuses an unreachable broker loudly", async () => {
    expect((await createAmqpPublisher({ url: "amqp://guest:guest@127.0.0.1:1", exchange: "x" }))._unsafeUnwrapErr().code).toBe("connect_failed");
  });

  it("fault: 10,000 events while the subscriber's connection is cut twice: every effect exactly once, in order per partition", async () => {
    const n = names();
    const proxy = await startTcpProxy(hostPort(url, 5672));
    const target = new URL(url);
    target.port = String(proxy.port);
    target.hostname = "127.0.0.1";
    const fx = effects();
    let redelivered = 0;
    const onOutcome = (_o: DeliveryOutcome, delivery: DeliveryInfo): void => {
      if (delivery.redelivered === true) redelivered++;
    };
    const losses: { code: string; final: boolean; lost: string }[] = [];
    const onError = (e: { code: string }, info: { final: boolean; lost: string }): void => void losses.push({ code: e.code, ...info });
    const sub = (await subscribeAmqp({ url: target.toString(), exchange: n.exchange, queue: n.queue, bindingKeys: ["#"], inbox: fx.inbox, concurrency: 16, reconnectDelayMs: 100, onOutcome, onError }, fx.handler))._unsafeUnwrap();
    const pub = (await createAmqpPublisher({ url, exchange: n.exchange }))._unsafeUnwrap();
    const events = workOrderEvents(10_000, { partitions: 30 });
    const publishing = pub.publish(events);
    const cut: number[] = [];
    for (const at of [2000, 6000]) {
      await waitFor(() => fx.applied.length >= at, 30_000, () => `${at} effects (have ${fx.applied.length})`);
      cut.push(await proxy.cut());
      await new Promise((r) => setTimeout(r, 300));
      await proxy.reopen();
    }
    expect((await publishing)._unsafeUnwrap().filter((o) => o.outcome !== "published")).toEqual([]);
    await waitFor(() => fx.counts.size === 10_000, 30_000, () => `10000 distinct effects (have ${fx.counts.size}, ${JSON.stringify(sub.stats())})`);
    expect([...fx.counts.values()].every((c) => c === 1)).toBe(true);
    expect(sub.stats().stale).toBe(0);
    for (const applied of positionsByPartition(events, fx.applied, 30)) expect(applied).toEqual([...applied].sort((a, b) => a - b));
    (await pub.close())._unsafeUnwrap();
    (await sub.close())._unsafeUnwrap();
    await proxy.close();
    // The fault happened: each cut destroyed the subscriber's connection, and it reconnected.
    expect(cut).toEqual([1, 1]);
    expect(proxy.connections()).toBeGreaterThanOrEqual(3);
    // Each loss was reported as a lost connection the subscriber recovered from.
    expect(losses).toEqual([
      { code: "subscribe_failed", final: false, lost: "connection" },
      { code: "subscribe_failed", final: false, lost: "connection" },
    ]);
    // Its consequence: the broker requeued the unacknowledged messages and delivered them again
    // (redelivered), and the inbox absorbed those it had already processed.
    expect(redelivered).toBeGreaterThan(0);
    expect(sub.stats().duplicates).toBeLessThanOrEqual(redelivered);
    expect(sub.stats().received).toBe(10_000 + sub.stats().duplicates);
  });
});
