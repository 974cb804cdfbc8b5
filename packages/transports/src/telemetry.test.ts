// The transports' metrics read through the OpenTelemetry SDK, on the local brokers: every count is
// checked against what the broker and the inbox did.
import { nats as natsBinding, type CanonicalEvent } from "@millwright/events";
import { createInbox, createMemoryStore, IDEMPOTENCY_METRICS, type MemoryTransaction } from "@millwright/idempotency";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { Meter } from "@opentelemetry/api";
import amqplib, { type ChannelModel } from "amqplib";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { uniqueName, waitFor, workOrderEvents } from "../test/fixtures.js";
import { createTestSdk, type TestSdk } from "../test/metrics.js";
import { createAmqpPublisher, defaultAmqpUrl, subscribeAmqp } from "./amqp.js";
import { createMqttPublisher, defaultMqttUrl, subscribeMqtt } from "./mqtt.js";
import { createWebhookReceiver, createWebhookSecret, createWebhookSender } from "./http.js";
import { createNatsPublisher, defaultNatsUrl, ensureNatsStream, subscribeNats } from "./nats.js";
import { createTransportInstruments, TRANSPORT_METRICS as T } from "./telemetry.js";

const M = IDEMPOTENCY_METRICS;
const sdks: TestSdk[] = [];
afterAll(async () => {
  for (const sdk of sdks.splice(0)) await sdk.shutdown();
});

/** An SDK for one test, an inbox that records to it, and the effects the handler applied. */
function instrumented(): { sdk: TestSdk; meter: Meter; inbox: ReturnType<typeof createInbox<MemoryTransaction, CanonicalEvent>>; applied: Map<string, number>; handler: (e: CanonicalEvent, c: { tx: MemoryTransaction }) => void } {
  const sdk = createTestSdk();
  sdks.push(sdk);
  const meter = sdk.provider.getMeter("test");
  const applied = new Map<string, number>();
  return {
    sdk,
    meter,
    inbox: createInbox<MemoryTransaction, CanonicalEvent>(createMemoryStore(), { meter }),
    applied,
    handler: (e, { tx }) => tx.defer(() => applied.set(e.id, (applied.get(e.id) ?? 0) + 1)),
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe("without an SDK", () => {
  it("every transport gets the one shared set of empty instruments, whose clock is never read", () => {
    const a = createTransportInstruments({ system: "nats" });
    const b = createTransportInstruments({ system: "rabbitmq", attributes: { "messaging.consumer.group.name": "mes" } });
    expect(a).toBe(b);
    expect(a.now()).toBe(0);
  });
});

describe("NATS JetStream", () => {
  let nc: NatsConnection;
  const streams: string[] = [];
  beforeAll(async () => {
    nc = await connect({ servers: defaultNatsUrl(), timeout: 5000 });
  });
  afterAll(async () => {
    const jsm = await jetstreamManager(nc);
    for (const s of streams) await jsm.streams.delete(s).catch(() => undefined);
    await nc.close();
  });
  async function stream(duplicateWindowMs?: number): Promise<{ name: string; prefix: string }> {
    const name = uniqueName("MW").replace(/-/g, "_").toUpperCase();
    const prefix = name.toLowerCase();
    (await ensureNatsStream(nc, { name, subjects: [`${prefix}.>`], ...(duplicateWindowMs === undefined ? {} : { duplicateWindowMs }) }))._unsafeUnwrap();
    streams.push(name);
    return { name, prefix };
  }

  it("counts sends, deliveries, duplicates and contract rejections as the stream and the inbox saw them", async () => {
    // A short duplicate window: a publish of the same event after it is stored again, so the
    // inbox, not the server, meets the repeat.
    const { name, prefix } = await stream(100);
    const subject = `${prefix}.workorder.completed.1710`;
    const x = instrumented();
    const publisher = createNatsPublisher(nc, { subjectOf: () => subject, meter: x.meter });
    const events = workOrderEvents(5);
    expect((await publisher.publish(events))._unsafeUnwrap().every((o) => o.outcome === "published")).toBe(true);
    await sleep(300);
    (await publisher.publish(events.slice(0, 3)))._unsafeUnwrap();
    // A message that is no event of the contract (no CloudEvents headers, no JSON).
    await jetstream(nc).publish(subject, "not an event", { msgID: "junk-1" });
    const jsm = await jetstreamManager(nc);
    const stored = (await jsm.streams.info(name)).state.messages;
    expect(stored).toBe(9);
    const expectedCode = natsBinding.toEvent({ headers: {}, data: new TextEncoder().encode("not an event") })._unsafeUnwrapErr().code;

    const sub = (await subscribeNats(nc, { stream: name, durable: "mes", inbox: x.inbox, concurrency: 4, meter: x.meter }, x.handler))._unsafeUnwrap();
    await waitFor(() => sub.stats().received === stored && sub.stats().inFlight === 0, 10_000, () => `${stored} settled deliveries (have ${JSON.stringify(sub.stats())})`);
    (await sub.close())._unsafeUnwrap();
    (await publisher.close())._unsafeUnwrap();

    const m = await x.sdk.collect();
    const system = { "messaging.system": "nats" };
    expect(x.sdk.total(m, T.sent, { ...system, "messaging.destination.name": subject, "messaging.operation.name": "publish" })).toBe(8);
    expect(x.sdk.total(m, T.operationDuration, system)).toBe(8);
    expect(x.sdk.total(m, T.consumed, { ...system, "messaging.destination.name": subject, "messaging.consumer.group.name": "mes", "messaging.operation.name": "receive" })).toBe(stored);
    expect(x.sdk.total(m, T.processDuration, system)).toBe(stored);
    expect(x.sdk.total(m, T.processDuration, { ...system, "error.type": expectedCode })).toBe(1);
    expect(m.get(T.contractRejections)?.map((p) => [p.attributes["error.type"], p.value])).toEqual([[expectedCode, 1]]);
    expect(x.sdk.total(m, M.processed)).toBe(x.applied.size);
    expect(x.sdk.total(m, M.processed)).toBe(5);
    expect([...x.applied.values()].every((n) => n === 1)).toBe(true);
    expect(x.sdk.total(m, M.duplicates, { "millwright.inbox.reason": "already_processed" })).toBe(3);
    expect(x.sdk.total(m, M.deadLetters, { "millwright.dead_letter.kind": "raw", "error.type": expectedCode })).toBe(1);
    expect(sub.stats()).toMatchObject({ processed: 5, duplicates: 3, rejected: 1 });
    expect(m.get(T.redeliveries)).toBeUndefined();
  });

  it("reports the consumer lag as the server counts it, and 0 once the consumer caught up", async () => {
    const { name, prefix } = await stream();
    const x = instrumented();
    const publisher = createNatsPublisher(nc, { subjectOf: () => `${prefix}.workorder.completed.1710` });
    (await publisher.publish(workOrderEvents(10)))._unsafeUnwrap();
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const sub = (
      await subscribeNats(nc, { stream: name, durable: "mes", inbox: x.inbox, concurrency: 1, meter: x.meter }, async (e, ctx) => {
        await gate;
        x.handler(e, ctx);
      })
    )._unsafeUnwrap();
    await waitFor(() => sub.stats().received >= 1, 5000, () => "a first delivery");
    const jsm = await jetstreamManager(nc);
    const lagWhileBlocked = (await x.sdk.collect()).get(T.consumerLag);
    const pending = (await jsm.consumers.info(name, "mes")).num_pending;
    expect(lagWhileBlocked).toEqual([{ attributes: { "messaging.system": "nats", "messaging.consumer.group.name": "mes", "messaging.destination.name": name }, value: pending }]);
    // One message in the handler and at most a pull batch held by the client: the rest is the lag.
    expect(pending).toBeGreaterThanOrEqual(10 - 4);
    expect(pending).toBeLessThan(10);
    open();
    await waitFor(() => x.applied.size === 10, 10_000, () => `10 effects (have ${x.applied.size})`);
    expect((await x.sdk.collect()).get(T.consumerLag)?.[0]?.value).toBe(0);
    (await sub.close())._unsafeUnwrap();
    (await publisher.close())._unsafeUnwrap();
  });
});

describe("AMQP 0-9-1 (RabbitMQ)", () => {
  const url = defaultAmqpUrl();
  let admin: ChannelModel;
  const queues: string[] = [];
  const exchanges: string[] = [];
  beforeAll(async () => {
    admin = await amqplib.connect(url);
  });
  afterAll(async () => {
    const channel = await admin.createChannel();
    for (const q of queues) await channel.deleteQueue(q);
    for (const e of exchanges) await channel.deleteExchange(e);
    await admin.close();
  });

  it("counts sends, deliveries and duplicates, and reports the ready messages of the queue as the lag", async () => {
    const base = uniqueName("mw");
    const exchange = `${base}.x`;
    const queue = `${base}.q`;
    queues.push(queue);
    exchanges.push(exchange);
    const x = instrumented();
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const sub = (
      await subscribeAmqp({ url, exchange, queue, bindingKeys: ["workorder.#"], inbox: x.inbox, concurrency: 1, prefetch: 1, meter: x.meter }, async (e, ctx) => {
        await gate;
        x.handler(e, ctx);
      })
    )._unsafeUnwrap();
    const pub = (await createAmqpPublisher({ url, exchange, meter: x.meter }))._unsafeUnwrap();
    const events = workOrderEvents(6);
    expect((await pub.publish(events))._unsafeUnwrap().every((o) => o.outcome === "published")).toBe(true);
    (await pub.publish(events.slice(0, 4)))._unsafeUnwrap();
    await waitFor(() => sub.stats().received === 1, 5000, () => "the first delivery");
    // Prefetch 1: one message is with the consumer, the other nine wait in the queue.
    const check = await admin.createChannel();
    const ready = (await check.checkQueue(queue)).messageCount;
    await check.close();
    expect(ready).toBe(9);
    expect((await x.sdk.collect()).get(T.consumerLag)).toEqual([
      { attributes: { "messaging.system": "rabbitmq", "messaging.destination.subscription.name": queue, "messaging.destination.name": queue }, value: 9 },
    ]);
    open();
    await waitFor(() => sub.stats().received === 10 && sub.stats().inFlight === 0, 10_000, () => `10 settled deliveries (have ${JSON.stringify(sub.stats())})`);
    const m = await x.sdk.collect();
    expect(m.get(T.consumerLag)?.[0]?.value).toBe(0);
    (await sub.close())._unsafeUnwrap();
    (await pub.close())._unsafeUnwrap();
    const system = { "messaging.system": "rabbitmq" };
    expect(x.sdk.total(m, T.sent, { ...system, "messaging.destination.name": exchange, "messaging.operation.name": "publish" })).toBe(10);
    expect(x.sdk.total(m, T.consumed, { ...system, "messaging.destination.name": exchange })).toBe(10);
    expect(x.sdk.total(m, T.processDuration, system)).toBe(10);
    expect(x.sdk.total(m, M.processed)).toBe(x.applied.size);
    expect(x.applied.size).toBe(6);
    expect(x.sdk.total(m, M.duplicates)).toBe(4);
  });
});

describe("MQTT 5", () => {
  const url = defaultMqttUrl();
  it("counts sends, deliveries and duplicates; MQTT has no consumer lag to report", async () => {
    const enterprise = uniqueName("mw");
    const clientId = uniqueName("mw-sub");
    const x = instrumented();
    const sub = (await subscribeMqtt({ url, clientId, sessionExpirySeconds: 0, topics: [`${enterprise}/#`], inbox: x.inbox, meter: x.meter }, x.handler))._unsafeUnwrap();
    const pub = (await createMqttPublisher({ url, enterprise, meter: x.meter }))._unsafeUnwrap();
    const events = workOrderEvents(4);
    expect((await pub.publish(events))._unsafeUnwrap().every((o) => o.outcome === "published")).toBe(true);
    (await pub.publish(events.slice(0, 3)))._unsafeUnwrap();
    await waitFor(() => sub.stats().received === 7 && sub.stats().inFlight === 0, 10_000, () => `7 settled deliveries (have ${JSON.stringify(sub.stats())})`);
    (await sub.close())._unsafeUnwrap();
    (await pub.close())._unsafeUnwrap();
    const m = await x.sdk.collect();
    const system = { "messaging.system": "mqtt" };
    expect(x.sdk.total(m, T.sent, { ...system, "messaging.operation.name": "publish" })).toBe(7);
    expect(x.sdk.total(m, T.consumed, system)).toBe(7);
    expect((m.get(T.consumed) ?? []).every((p) => String(p.attributes["messaging.destination.name"]).startsWith(`${enterprise}/`))).toBe(true);
    expect(x.sdk.total(m, T.processDuration, system)).toBe(7);
    expect(x.sdk.total(m, M.processed)).toBe(x.applied.size);
    expect(x.applied.size).toBe(4);
    expect(x.sdk.total(m, M.duplicates)).toBe(3);
    expect(m.get(T.consumerLag)).toBeUndefined();
  });
});

describe("HTTP webhooks", () => {
  it("counts sends and deliveries, and the requests refused before the inbox by the code of the reply", async () => {
    const x = instrumented();
    const secret = createWebhookSecret();
    const receiver = createWebhookReceiver({ secrets: [secret], inbox: x.inbox, meter: x.meter }, x.handler);
    const server = createServer(receiver.listener);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/millwright`;
      const sender = createWebhookSender({ url, secret, meter: x.meter });
      const events = workOrderEvents(3);
      expect((await sender.publish(events))._unsafeUnwrap().map((o) => o.outcome)).toEqual(["published", "published", "published"]);
      (await sender.publish(events.slice(0, 1)))._unsafeUnwrap();
      // Refused before the inbox: a GET (405), an unsigned POST (401), a POST signed with another secret (401).
      expect((await fetch(url)).status).toBe(405);
      expect((await fetch(url, { method: "POST", body: "{}" })).status).toBe(401);
      const stranger = createWebhookSender({ url, secret: createWebhookSecret(), retry: { maxAttempts: 1 } });
      expect((await stranger.publish(events.slice(0, 1)))._unsafeUnwrap()[0]?.outcome).toBe("failed");
      const m = await x.sdk.collect();
      const system = { "messaging.system": "webhook" };
      expect(x.sdk.total(m, T.sent, system)).toBe(4);
      expect(x.sdk.total(m, T.consumed, system)).toBe(4);
      expect(x.sdk.total(m, M.processed)).toBe(3);
      expect(x.applied.size).toBe(3);
      expect(x.sdk.total(m, M.duplicates)).toBe(1);
      expect(x.sdk.total(m, T.webhookRejections, { "millwright.webhook.reason": "method_not_allowed" })).toBe(1);
      expect(x.sdk.total(m, T.webhookRejections, { "millwright.webhook.reason": "signature_missing" })).toBe(1);
      expect(x.sdk.total(m, T.webhookRejections)).toBe(3);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
