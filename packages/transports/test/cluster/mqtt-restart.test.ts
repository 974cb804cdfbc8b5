// What a broker restart does to QoS 1 messages and persistent sessions: a Mosquitto of this test on
// a loopback port (never the shared one), killed (SIGKILL) or stopped (SIGTERM) and started again
// with and without persistence; the effects counted in a PostgreSQL database through the inbox.
import type { CanonicalEvent } from "@millwright/events";
import { createInbox } from "@millwright/idempotency";
import type { PgPoolClient } from "@millwright/idempotency/postgres";
import mqtt from "mqtt";
import { afterAll, describe, expect, it } from "vitest";
import { createMqttPublisher, subscribeMqtt } from "../../src/mqtt.js";
import { uniqueName, workOrderEvents } from "../fixtures.js";
import { applyEffect, createEffectsDb, startBroker, type Broker, type EffectsDb } from "./mqtt-peers.js";

const brokers: Broker[] = [];
const dbs: EffectsDb[] = [];
const closers: (() => Promise<unknown>)[] = [];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

afterAll(async () => {
  // The brokers first: nothing below may keep a process of this test alive.
  for (const b of brokers) await b.remove();
  // Clients of a removed broker: closing one may wait for a connection that never comes.
  for (const close of closers) await Promise.race([close().catch(() => undefined), sleep(1000)]);
  for (const db of dbs) await db.drop();
}, 120_000);

/**
 * A plain clean-session client on the same topics: counts its disconnects (the clients saw the
 * restart) and the distinct events it received (what the broker routed, session or not).
 */
async function watcher(url: string, filter: string): Promise<{ closes: () => number; connects: () => number; received: () => number }> {
  const c = await mqtt.connectAsync(url, { protocolVersion: 5, reconnectPeriod: 100 });
  closers.push(() => c.endAsync(true));
  let closes = 0;
  let connects = 0;
  const ids = new Set<string>();
  c.on("close", () => closes++);
  c.on("connect", () => connects++);
  c.on("message", (_t, _p, packet) => ids.add(String(packet.properties?.userProperties?.["id"])));
  await c.subscribeAsync(filter, { qos: 1 });
  return { closes: () => closes, connects: () => connects, received: () => ids.size };
}

async function settledTotal(db: EffectsDb): Promise<number> {
  return Object.values(await db.settled()).reduce((a, b) => a + b, 0);
}

async function waitSettled(db: EffectsDb, n: number, ms: number): Promise<number> {
  const until = Date.now() + ms;
  let have = await settledTotal(db);
  while (have < n && Date.now() < until) {
    await sleep(100);
    have = await settledTotal(db);
  }
  return have;
}

async function setup(options: { persistence: boolean; autosaveSeconds?: number }) {
  const broker = await startBroker(options);
  brokers.push(broker);
  const db = await createEffectsDb();
  dbs.push(db);
  const enterprise = uniqueName("mw");
  const inbox = createInbox<PgPoolClient>(db.store);
  const clientId = uniqueName("sub");
  const subscribe = async () => {
    const sub = (await subscribeMqtt({ url: broker.url, clientId, topics: [`${enterprise}/#`], inbox, retryDelayMs: 50 }, (e, { tx }) => applyEffect(tx, "sub", e)))._unsafeUnwrap();
    closers.push(async () => void (await sub.close()));
    return sub;
  };
  const pub = (await createMqttPublisher({ url: broker.url, enterprise, clientId: uniqueName("pub"), template: "{enterprise}/orders/{order}", topicValues: (e) => ({ enterprise, order: (e.data as { orderId: string }).orderId }), retain: () => false }))._unsafeUnwrap();
  closers.push(async () => void (await pub.close()));
  return { broker, db, subscribe, pub, enterprise };
}

describe("MQTT QoS 1 and persistent sessions through a broker restart (own Mosquitto)", () => {
  it.each([
    ["persistence, SIGTERM (saved on the way out): all 200 arrive", { persistence: true }, "stop", 200],
    ["persistence, autosave every 1 s, SIGKILL after the save: all 200 arrive", { persistence: true, autosaveSeconds: 1 }, "kill9", 200],
    ["persistence with the default autosave (30 min), SIGKILL: all 200 lost, and the session", { persistence: true }, "kill9", 0],
    ["no persistence, SIGKILL: all 200 lost, and the session", { persistence: false }, "kill9", 0],
  ] as const)("messages queued for an offline persistent session, broker restarted — %s; none twice", { timeout: 90_000 }, async (_name, options, how, expected) => {
    const { broker, db, subscribe, pub } = await setup(options);
    // The session exists, then its subscriber goes away; 200 messages are acknowledged to the publisher and queued for it.
    (await (await subscribe()).close())._unsafeUnwrap();
    const events = workOrderEvents(200, { partitions: 4 });
    expect((await pub.publish(events))._unsafeUnwrap().every((o) => o.outcome === "published")).toBe(true);
    const publishedAt = Date.now();
    // With the 1 s autosave: until a save has begun after the publishes (the file rewritten more than 1 s after them).
    if (options.persistence && "autosaveSeconds" in options) {
      const until = Date.now() + 15_000;
      while (broker.savedAt() < publishedAt + 1000 && Date.now() < until) await sleep(100);
      expect(broker.savedAt()).toBeGreaterThan(publishedAt + 1000);
    } else await sleep(1500);
    const pid = broker.pid();
    await (how === "stop" ? broker.stop() : broker.kill9());
    const saved = broker.saved();
    await broker.start();
    expect(broker.pid()).not.toBe(pid);
    const sub = await subscribe();
    const settled = await waitSettled(db, 200, expected === 0 ? 3000 : 30_000);
    const rows = await db.rows();
    console.log(`mqtt-restart offline ${JSON.stringify({ case: _name, saved, delivered: settled, effects: rows.length, duplicates: sub.stats().duplicates })}`);
    // A persistence file exists exactly when the broker wrote one before it went down.
    expect(saved).toBe(expected > 0);
    expect(settled).toBe(expected);
    expect(new Set(rows.map((r) => r.event_id)).size).toBe(rows.length);
    // The session works again either way: what is published now arrives.
    const after = workOrderEvents(20, { partitions: 4, run: "1" });
    (await pub.publish(after))._unsafeUnwrap();
    expect(await waitSettled(db, expected + 20, 30_000)).toBe(expected + 20);
  });

  it.each([
    ["persistence, autosave every 1 s", { persistence: true, autosaveSeconds: 1 }],
    ["no persistence", { persistence: false }],
  ] as const)("SIGKILL of the broker while 400 QoS 1 messages flow to an online subscriber — %s: the clients see it, nothing applied twice; lost and redelivered counted", { timeout: 120_000 }, async (name, options) => {
    const { broker, db, subscribe, pub, enterprise } = await setup(options);
    const sub = await subscribe();
    const watch = await watcher(broker.url, `${enterprise}/#`);
    const events: CanonicalEvent[] = workOrderEvents(400, { partitions: 4 });
    const acknowledged = new Set<string>();
    const publishing = (async () => {
      for (let i = 0; i < events.length; i += 20) {
        const outcomes = (await pub.publish(events.slice(i, i + 20)))._unsafeUnwrap();
        for (const o of outcomes) if (o.outcome === "published") acknowledged.add(o.id);
      }
    })();
    while ((await settledTotal(db)) < 100) await sleep(20);
    const pid = broker.pid();
    await broker.kill9();
    await sleep(300);
    await broker.start();
    expect(broker.pid()).not.toBe(pid);
    await publishing;
    await waitSettled(db, 400, 20_000);
    await sleep(1000);
    const rows = await db.rows();
    const applied = new Set(rows.map((r) => r.event_id));
    const settled = await db.settled();
    const lost = [...acknowledged].filter((id) => !applied.has(id)).length;
    const measured = { case: name, acknowledged: acknowledged.size, settled, effects: rows.length, lostAfterPuback: lost, redelivered: sub.stats().received - (settled["processed"] ?? 0) - (settled["stale"] ?? 0), duplicatesAbsorbed: sub.stats().duplicates, watcherDisconnects: watch.closes(), watcherReceived: watch.received() };
    console.log(`mqtt-restart midflow ${JSON.stringify(measured)}`);
    // The fault happened: the broker is a new process and a connected client lost its connection and came back.
    expect(watch.closes()).toBeGreaterThanOrEqual(1);
    expect(watch.connects()).toBeGreaterThanOrEqual(1);
    // Every acknowledged publish was applied at most once; the inbox absorbed any redelivery.
    expect(applied.size).toBe(rows.length);
    expect(acknowledged.size).toBe(400);
    // The subscriber resumed after the restart, session or not: what is published now arrives.
    const before = await settledTotal(db);
    (await pub.publish(workOrderEvents(20, { partitions: 4, run: "1" })))._unsafeUnwrap();
    expect(await waitSettled(db, before + 20, 30_000)).toBe(before + 20);
  });
});
