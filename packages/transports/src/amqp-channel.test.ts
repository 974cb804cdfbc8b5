// Channel-level faults: the broker closes the consuming (or confirm) channel, or cancels the
// consumer, while the connection stays up. The subscriber must report it, reopen a channel and
// resume; the publisher must reopen its confirm channel on the same connection.
import type { CanonicalEvent } from "@millwright/events";
import amqplib, { type Channel, type ChannelModel, type ConsumeMessage } from "amqplib";
import { ResultAsync } from "neverthrow";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { effects, uniqueName, waitFor, workOrderEvents } from "../test/fixtures.js";
import { createAmqpPublisher, defaultAmqpUrl, subscribeAmqp, type AmqpErrorInfo } from "./amqp.js";
import type { TransportError } from "./errors.js";

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

afterEach(() => {
  vi.restoreAllMocks();
});

afterAll(async () => {
  for (const q of queues) await channel.deleteQueue(q);
  for (const e of exchanges) await channel.deleteExchange(e);
  await admin.close();
});

function names(): { exchange: string; queue: string } {
  const base = uniqueName("mw-ch");
  const n = { exchange: `${base}.x`, queue: `${base}.q` };
  exchanges.push(n.exchange);
  queues.push(n.queue);
  return n;
}

/** Records every channel the code under test opens through amqplib, and every connection. */
function spyChannels(): { connections: ChannelModel[]; channels: Channel[] } {
  const seen = { connections: [] as ChannelModel[], channels: [] as Channel[] };
  const connect = amqplib.connect.bind(amqplib);
  vi.spyOn(amqplib, "connect").mockImplementation((async (...args: Parameters<typeof amqplib.connect>) => {
    const c = await connect(...args);
    seen.connections.push(c);
    for (const method of ["createChannel", "createConfirmChannel"] as const) {
      const original = c[method].bind(c) as () => Promise<Channel>;
      (c as unknown as Record<string, unknown>)[method] = async () => {
        const ch = await original();
        seen.channels.push(ch);
        return ch;
      };
    }
    return c;
  }) as typeof amqplib.connect);
  return seen;
}

function errors(): { list: { error: TransportError; info: AmqpErrorInfo }[]; onError: (error: TransportError, info: AmqpErrorInfo) => void } {
  const list: { error: TransportError; info: AmqpErrorInfo }[] = [];
  return { list, onError: (error, info) => void list.push({ error, info }) };
}

describe("AMQP channel-level faults", () => {
  it("fault: the broker closes the consuming channel (PRECONDITION_FAILED) with messages in flight: reported, reopened, every effect once", async () => {
    const n = names();
    const pub = (await createAmqpPublisher({ url, exchange: n.exchange }))._unsafeUnwrap();
    const seen = spyChannels();
    const fx = effects();
    const errs = errors();
    // The first deliveries wait at the gate, so they are in flight when the channel dies.
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const inbox = { ...fx.inbox, process: (event: CanonicalEvent, h: typeof fx.handler) => ResultAsync.fromSafePromise(gate).andThen(() => fx.inbox.process(event, h)) } as unknown as typeof fx.inbox;
    const sub = (await subscribeAmqp({ url, exchange: n.exchange, queue: n.queue, bindingKeys: ["#"], inbox, concurrency: 4, prefetch: 8, reconnectDelayMs: 100, onError: errs.onError }, fx.handler))._unsafeUnwrap();
    const events = workOrderEvents(100, { partitions: 10 });
    expect((await pub.publish(events.slice(0, 50)))._unsafeUnwrap().every((o) => o.outcome === "published")).toBe(true);
    await waitFor(() => sub.stats().received >= 8, 5000, () => `8 deliveries in flight (have ${sub.stats().received})`);
    const consuming = seen.channels.filter((c) => c !== undefined);
    expect(consuming).toHaveLength(1);
    // An ack of a delivery tag the channel never delivered: the broker closes that channel with 406.
    consuming[0]!.ack({ fields: { deliveryTag: 999_999 } } as unknown as ConsumeMessage);
    await waitFor(() => errs.list.length >= 1, 5000, () => "the channel error reported");
    expect(errs.list[0]).toMatchObject({ info: { final: false, lost: "channel" }, error: { code: "subscribe_failed" } });
    expect(errs.list[0]!.error.message).toContain(n.queue);
    expect(errs.list[0]!.error.message).toMatch(/PRECONDITION/);
    // The connection stayed; a second channel consumes on it.
    await waitFor(() => seen.channels.length >= 2, 5000, () => "a new channel");
    expect(seen.connections).toHaveLength(1);
    open();
    expect((await pub.publish(events.slice(50)))._unsafeUnwrap().every((o) => o.outcome === "published")).toBe(true);
    await waitFor(() => fx.counts.size === 100, 15_000, () => `100 distinct effects (have ${fx.counts.size}, ${JSON.stringify(sub.stats())})`);
    await waitFor(() => sub.stats().inFlight === 0, 5000, () => "idle");
    await new Promise((r) => setTimeout(r, 300));
    expect([...fx.counts.values()].every((c) => c === 1)).toBe(true);
    // The deliveries in flight on the dead channel came again and the inbox absorbed them.
    expect(sub.stats().duplicates).toBeGreaterThan(0);
    // No acknowledgement of the dead channel's deliveries reached the new one (it would close it too).
    expect(errs.list).toHaveLength(1);
    (await pub.close())._unsafeUnwrap();
    (await sub.close())._unsafeUnwrap();
    expect((await channel.checkQueue(n.queue)).messageCount).toBe(0);
  });

  it("fault: the queue is deleted under the consumer (basic.cancel): reported, re-declared and bound, every later effect once", async () => {
    const n = names();
    const fx = effects();
    const errs = errors();
    const sub = (await subscribeAmqp({ url, exchange: n.exchange, queue: n.queue, bindingKeys: ["#"], inbox: fx.inbox, reconnectDelayMs: 100, onError: errs.onError }, fx.handler))._unsafeUnwrap();
    const pub = (await createAmqpPublisher({ url, exchange: n.exchange }))._unsafeUnwrap();
    const events = workOrderEvents(60, { partitions: 6 });
    (await pub.publish(events.slice(0, 30)))._unsafeUnwrap();
    await waitFor(() => fx.counts.size === 30, 5000, () => `30 effects (have ${fx.counts.size})`);
    await channel.deleteQueue(n.queue);
    await waitFor(() => errs.list.length >= 1, 5000, () => "the cancel reported");
    expect(errs.list[0]).toMatchObject({ info: { final: false, lost: "consumer" }, error: { code: "subscribe_failed" } });
    expect(errs.list[0]!.error.message).toContain(n.queue);
    // The subscriber declares its queue: it comes back, bound, with one consumer.
    const until = Date.now() + 5000;
    // A passive declare of a missing queue closes its channel: one throwaway channel per look.
    const consumers = async (): Promise<number> => {
      const look = await admin.createChannel();
      look.on("error", () => undefined);
      const found = await look.checkQueue(n.queue).then((q) => q.consumerCount, () => 0);
      await look.close().catch(() => undefined);
      return found;
    };
    while ((await consumers()) !== 1) {
      if (Date.now() > until) throw new Error("the queue was not consumed again");
      await new Promise((r) => setTimeout(r, 50));
    }
    expect((await pub.publish(events.slice(30)))._unsafeUnwrap().every((o) => o.outcome === "published")).toBe(true);
    await waitFor(() => fx.counts.size === 60, 10_000, () => `60 distinct effects (have ${fx.counts.size})`);
    expect([...fx.counts.values()].every((c) => c === 1)).toBe(true);
    expect(errs.list).toHaveLength(1);
    (await pub.close())._unsafeUnwrap();
    (await sub.close())._unsafeUnwrap();
  });

  it("gives up, naming the queue and the reason, when the queue cannot be declared again", async () => {
    const n = names();
    const fx = effects();
    const errs = errors();
    const sub = (await subscribeAmqp({ url, exchange: n.exchange, queue: n.queue, bindingKeys: ["#"], inbox: fx.inbox, reconnectDelayMs: 300, onError: errs.onError }, fx.handler))._unsafeUnwrap();
    // Deleted and declared again by someone else with other arguments: the subscriber's durable declaration is refused (406).
    await channel.deleteQueue(n.queue);
    await channel.assertQueue(n.queue, { durable: false });
    await waitFor(() => errs.list.some((e) => e.info.final), 5000, () => `the give-up (have ${JSON.stringify(errs.list.map((e) => e.error.message))})`);
    const final = errs.list.find((e) => e.info.final)!;
    expect(final.error).toMatchObject({ code: "subscribe_failed", path: n.queue, value: { queue: n.queue, replyCode: 406 } });
    expect(final.error.message).toContain(`gave up consuming queue "${n.queue}"`);
    expect(final.error.message).toMatch(/PRECONDITION_FAILED|PRECONDITION-FAILED/);
    // It stays given up: no further attempts.
    await new Promise((r) => setTimeout(r, 800));
    expect(errs.list.filter((e) => e.info.final)).toHaveLength(1);
    expect(errs.list).toHaveLength(2);
    (await sub.close())._unsafeUnwrap();
  });

  it("publisher: the broker closes the confirm channel (404, exchange deleted): reported, reopened on the same connection, the publish succeeds", async () => {
    const n = names();
    const seen = spyChannels();
    const errs = errors();
    const pub = (await createAmqpPublisher({ url, exchange: n.exchange, retryDelayMs: 50, onError: errs.onError }))._unsafeUnwrap();
    expect((await pub.publish(workOrderEvents(1)))._unsafeUnwrap()[0]).toMatchObject({ outcome: "published", attempts: 1 });
    await channel.deleteExchange(n.exchange);
    const [outcome] = (await pub.publish(workOrderEvents(1, { run: "1" })))._unsafeUnwrap();
    expect(outcome).toMatchObject({ outcome: "published", attempts: 2 });
    expect(errs.list).toHaveLength(1);
    expect(errs.list[0]).toMatchObject({ info: { final: false, lost: "channel" }, error: { code: "publish_failed" } });
    expect(errs.list[0]!.error.message).toMatch(/NOT_FOUND|NOT-FOUND/);
    // One connection, two channels: the first connection was not abandoned open.
    expect(seen.connections).toHaveLength(1);
    expect(seen.channels).toHaveLength(2);
    // The exchange was declared again by the publisher.
    await channel.checkExchange(n.exchange);
    (await pub.close())._unsafeUnwrap();
  });
});
