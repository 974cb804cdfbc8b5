import { createEvent, mqtt5, parseMqtt5Message, type CanonicalEvent, type Mqtt5Message } from "@millwright/events";
import mqtt, { type IPublishPacket } from "mqtt";
import { afterAll, describe, expect, it } from "vitest";
import { effects, machineStateEvent, uniqueName, waitFor, workOrderEvents } from "../test/fixtures.js";
import { hostPort, startTcpProxy } from "../test/tcp-proxy.js";
import type { DeliveryInfo, DeliveryOutcome } from "./core.js";
import { createMqttPublisher, defaultMqttUrl, subscribeMqtt } from "./mqtt.js";

// A missing broker fails these tests with connect_failed: they never skip.
const url = defaultMqttUrl();
const sessions: string[] = [];

afterAll(async () => {
  // Remove the persistent sessions the tests made.
  for (const clientId of sessions) {
    const c = await mqtt.connectAsync(url, { clientId, clean: true, protocolVersion: 5, properties: { sessionExpiryInterval: 0 } });
    await c.endAsync();
  }
});

/** The protocol level of an MQTT CONNECT packet: 4 for MQTT 3.1.1, 5 for MQTT 5. */
function protocolLevel(connect: Buffer): number | undefined {
  if (connect[0] !== 0x10) return undefined;
  let i = 1;
  while ((connect[i] ?? 0) & 0x80) i++;
  i++;
  // Protocol name: a two-byte length, then "MQTT".
  if (connect.subarray(i, i + 6).toString("latin1") !== "\u0000\u0004MQTT") return undefined;
  return connect[i + 6];
}

/** An event as the publisher sends it in binary mode, as the subscriber receives it (bytes). */
function toMessage(event: CanonicalEvent): Mqtt5Message {
  const m = mqtt5.binary(event);
  return { payload: Buffer.from(m.payload), properties: m.properties };
}

function clientId(): string {
  const id = uniqueName("mw-sub");
  sessions.push(id);
  return id;
}

describe("MQTT over the local broker", () => {
  it.each([
    ["MQTT 5 binary", 5, "binary"],
    ["MQTT 5 structured", 5, "structured"],
    ["MQTT 3.1.1 structured", 4, "structured"],
  ] as const)("%s: publishes at QoS 1 and applies each effect once, also when published twice", async (_name, protocolVersion, mode) => {
    const enterprise = uniqueName("mw");
    const fx = effects();
    const sub = (await subscribeMqtt({ url, protocolVersion, clientId: clientId(), topics: [`${enterprise}/#`], inbox: fx.inbox }, fx.handler))._unsafeUnwrap();
    // What goes over the wire, as a plain MQTT 5 client sees it.
    const raw = await mqtt.connectAsync(url, { protocolVersion: 5 });
    const packets: IPublishPacket[] = [];
    raw.on("message", (_topic, _payload, packet) => packets.push(packet));
    await raw.subscribeAsync(`${enterprise}/#`, { qos: 1 });
    // The publisher connects through a proxy that keeps the first bytes of its CONNECT packet.
    const proxy = await startTcpProxy(hostPort(url, 1883));
    const pub = (await createMqttPublisher({ url: `mqtt://127.0.0.1:${proxy.port}`, protocolVersion, mode, enterprise }))._unsafeUnwrap();
    expect(proxy.openings().map(protocolLevel)).toEqual([protocolVersion]);
    const events = workOrderEvents(50);
    const outcomes = (await pub.publish(events))._unsafeUnwrap();
    expect(outcomes.every((o) => o.outcome === "published")).toBe(true);
    (await pub.publish(events))._unsafeUnwrap();
    await waitFor(() => sub.stats().received === 100, 10_000, () => `100 deliveries (have ${sub.stats().received})`);
    expect(fx.applied).toEqual(events.map((e) => e.id));
    expect(sub.stats()).toMatchObject({ processed: 50, duplicates: 50, rejected: 0 });
    await waitFor(() => packets.length === 100, 10_000, () => `100 raw packets (have ${packets.length})`);
    const first = packets[0]!;
    if (mode === "structured") {
      // The whole event in the payload; MQTT 3.1.1 has no properties to carry attributes in.
      expect(first.properties?.userProperties).toBeUndefined();
      expect(JSON.parse(first.payload.toString())).toMatchObject({ specversion: "1.0", id: events[0]!.id, type: events[0]!.type, source: events[0]!.source, data: events[0]!.data });
      if (protocolVersion === 4) expect(first.properties?.contentType).toBeUndefined();
      else expect(first.properties?.contentType).toMatch(/^application\/cloudevents\+json/);
    } else {
      expect(first.properties?.userProperties).toMatchObject({ specversion: "1.0", id: events[0]!.id, type: events[0]!.type });
      expect(JSON.parse(first.payload.toString())).toEqual(events[0]!.data);
    }
    await raw.endAsync();
    (await pub.close())._unsafeUnwrap();
    (await sub.close())._unsafeUnwrap();
    await proxy.close();
  });

  it("refuses binary mode on MQTT 3.1.1, which has no user properties to carry the attributes", async () => {
    const refused = await createMqttPublisher({ url, protocolVersion: 4, mode: "binary" });
    expect(refused._unsafeUnwrapErr()).toMatchObject({ code: "invalid_options", path: "mode" });
  });

  it("refuses a share group name that the $share/<group>/ prefix cannot carry, naming the field", async () => {
    const fx = effects();
    for (const shareGroup of ["", "a/b", "mes+", "#"]) {
      const refused = await subscribeMqtt({ url, clientId: "never-connects", topics: ["acme/#"], inbox: fx.inbox, shareGroup }, fx.handler);
      expect(refused._unsafeUnwrapErr()).toMatchObject({ code: "invalid_options", path: "shareGroup", value: shareGroup });
    }
  });

  it("shareGroup: two members of one share group split the messages, each applied once, and a plain subscriber still sees all", async () => {
    const enterprise = uniqueName("mw");
    const group = uniqueName("g");
    const shared = effects();
    const members = [
      (await subscribeMqtt({ url, clientId: clientId(), topics: [`${enterprise}/#`], inbox: shared.inbox, shareGroup: group }, shared.handler))._unsafeUnwrap(),
      (await subscribeMqtt({ url, clientId: clientId(), topics: [`${enterprise}/#`], inbox: shared.inbox, shareGroup: group }, shared.handler))._unsafeUnwrap(),
    ];
    const plain = effects();
    const watcher = (await subscribeMqtt({ url, clientId: clientId(), topics: [`${enterprise}/#`], inbox: plain.inbox }, plain.handler))._unsafeUnwrap();
    const pub = (await createMqttPublisher({ url, enterprise }))._unsafeUnwrap();
    const events = workOrderEvents(40);
    (await pub.publish(events))._unsafeUnwrap();
    await waitFor(() => shared.applied.length === 40 && plain.applied.length === 40, 10_000, () => `40 + 40 effects (have ${shared.applied.length} + ${plain.applied.length})`);
    await new Promise((r) => setTimeout(r, 200));
    // Each message went to one member only: no duplicates reached the shared inbox, and both members got some.
    expect(members.map((m) => m.stats().received).reduce((a, b) => a + b)).toBe(40);
    expect(members.every((m) => m.stats().received > 0)).toBe(true);
    expect([...shared.counts.values()].every((n) => n === 1)).toBe(true);
    expect(new Set(shared.applied)).toEqual(new Set(events.map((e) => e.id)));
    expect(plain.applied).toEqual(events.map((e) => e.id));
    for (const s of [...members, watcher]) (await s.close())._unsafeUnwrap();
    (await pub.close())._unsafeUnwrap();
  });

  it("retains the last known machine state for late subscribers", async () => {
    const enterprise = uniqueName("mw");
    const pub = (await createMqttPublisher({ url, enterprise }))._unsafeUnwrap();
    const states = [machineStateEvent(1, "executing"), machineStateEvent(2)];
    (await pub.publish(states))._unsafeUnwrap();
    const fx = effects();
    const sub = (await subscribeMqtt({ url, clientId: clientId(), topics: [`${enterprise}/#`], inbox: fx.inbox }, fx.handler))._unsafeUnwrap();
    await waitFor(() => fx.applied.length === 1, 5000, () => "the retained state");
    await new Promise((r) => setTimeout(r, 200));
    expect(fx.applied).toEqual([states[1]!.id]);
    (await sub.close())._unsafeUnwrap();
    // Clear the retained message: an empty retained payload removes it.
    const c = await mqtt.connectAsync(url, { protocolVersion: 5 });
    await c.publishAsync(`${enterprise}/1710/area-fin/pack1/machinestate/changed`, "", { qos: 1, retain: true });
    await c.endAsync();
    (await pub.close())._unsafeUnwrap();
  });

  it("passes the inbox the data's fingerprint from the payload: the revision guard sees the content the inbox itself would", async () => {
    const enterprise = uniqueName("mw");
    const fx = effects();
    const outcomes: DeliveryOutcome[] = [];
    const sub = (await subscribeMqtt({ url, clientId: clientId(), topics: [`${enterprise}/#`], inbox: fx.inbox, onOutcome: (o) => outcomes.push(o) }, fx.handler))._unsafeUnwrap();
    const pub = (await createMqttPublisher({ url, enterprise }))._unsafeUnwrap();
    const [first] = workOrderEvents(1);
    const event = first!;
    // This payload gives its canonical text, so the subscriber hands the inbox a fingerprint.
    expect(parseMqtt5Message(toMessage(event))._unsafeUnwrap().canonicalData()).toBeDefined();
    // Revision applied directly, the inbox fingerprinting the data itself.
    expect((await fx.inbox.process(event, fx.handler))._unsafeUnwrap().outcome).toBe("processed");
    // Same revision and content under another id, over MQTT: the same fingerprint, so a duplicate.
    const made = (id: string, data: unknown): CanonicalEvent =>
      createEvent({ type: "dev.millwright.workorder.completed.v1", id, source: event.source, data: data as never, time: "2026-02-25T20:05:12+01:00" })._unsafeUnwrap();
    const again = made("same-content-other-id", event.data);
    // Same revision, other content: another fingerprint, so a revision conflict (dead-lettered).
    const changed = made("other-content", { ...event.data, priority: 6 });
    (await pub.publish([again]))._unsafeUnwrap();
    await waitFor(() => outcomes.length === 1, 5000, () => "the first delivery");
    (await pub.publish([changed]))._unsafeUnwrap();
    await waitFor(() => outcomes.length === 2, 5000, () => "the second delivery");
    const [same, other] = outcomes.map((o) => (o.action === "ack" && "outcome" in o ? o.outcome : o));
    expect(same).toMatchObject({ outcome: "duplicate", reason: "same_revision" });
    expect(other).toMatchObject({ outcome: "failed", code: "dead_lettered" });
    expect(fx.applied).toEqual([event.id]);
    const dead = (await fx.inbox.deadLetters())._unsafeUnwrap();
    expect(dead.map((d) => [d.eventId, d.errors.map((e) => e.code)])).toEqual([["other-content", ["revision_conflict"]]]);
    (await sub.close())._unsafeUnwrap();
    (await pub.close())._unsafeUnwrap();
  });

  it("resumes its session: what was published while it was away arrives after it comes back", async () => {
    const enterprise = uniqueName("mw");
    const id = clientId();
    const fx = effects();
    const first = (await subscribeMqtt({ url, clientId: id, topics: [`${enterprise}/#`], inbox: fx.inbox }, fx.handler))._unsafeUnwrap();
    (await first.close())._unsafeUnwrap();
    const pub = (await createMqttPublisher({ url, enterprise }))._unsafeUnwrap();
    const events = workOrderEvents(30);
    (await pub.publish(events))._unsafeUnwrap();
    const again = (await subscribeMqtt({ url, clientId: id, topics: [`${enterprise}/#`], inbox: fx.inbox }, fx.handler))._unsafeUnwrap();
    await waitFor(() => fx.applied.length === 30, 10_000, () => `30 effects (have ${fx.applied.length})`);
    expect(fx.applied).toEqual(events.map((e) => e.id));
    (await again.close())._unsafeUnwrap();
    (await pub.close())._unsafeUnwrap();
  });

  it("refuses an unreachable broker loudly", async () => {
    const result = await createMqttPublisher({ url: "mqtt://127.0.0.1:1", connectTimeoutMs: 500, client: { reconnectPeriod: 0 } });
    expect(result._unsafeUnwrapErr().code).toBe("connect_failed");
    expect(result._unsafeUnwrapErr().message).toMatch(/^cannot connect to the MQTT broker: no CONNACK from mqtt:\/\/127\.0\.0\.1:1 within 500 ms/);
    // Credentials in the URL never reach the error.
    const withSecret = (await createMqttPublisher({ url: "mqtt://plant:s3cr3t@127.0.0.1:1", connectTimeoutMs: 300, client: { reconnectPeriod: 0 } }))._unsafeUnwrapErr();
    expect(withSecret.path).toBe("mqtt://127.0.0.1:1");
    expect(JSON.stringify({ path: withSecret.path, message: withSecret.message })).not.toContain("s3cr3t");
  });

  it("fault: 10,000 events while the connection is cut twice: every effect exactly once, in order per partition", async () => {
    const enterprise = uniqueName("mw");
    const proxy = await startTcpProxy(hostPort(url, 1883));
    const viaProxy = `mqtt://127.0.0.1:${proxy.port}`;
    const fx = effects();
    let redelivered = 0;
    const onOutcome = (_o: DeliveryOutcome, delivery: DeliveryInfo): void => {
      if (delivery.redelivered === true) redelivered++;
    };
    const sub = (await subscribeMqtt({ url: viaProxy, clientId: clientId(), topics: [`${enterprise}/#`], inbox: fx.inbox, retryDelayMs: 50, onOutcome }, fx.handler))._unsafeUnwrap();
    const pubId = clientId();
    const pub = (await createMqttPublisher({ url: viaProxy, enterprise, clientId: pubId }))._unsafeUnwrap();
    // 20 work orders, 500 revisions each: the inbox's revision guard would mark any reordering stale.
    const events = workOrderEvents(10_000, { partitions: 20 });
    const publishing = (async () => {
      for (let i = 0; i < events.length; i += 250) {
        const outcomes = (await pub.publish(events.slice(i, i + 250)))._unsafeUnwrap();
        expect(outcomes.filter((o) => o.outcome !== "published")).toEqual([]);
      }
    })();
    const cut: number[] = [];
    for (const at of [2000, 6000]) {
      await waitFor(() => fx.applied.length >= at, 30_000, () => `${at} effects (have ${fx.applied.length})`);
      cut.push(await proxy.cut());
      await new Promise((r) => setTimeout(r, 300));
      await proxy.reopen();
    }
    await publishing;
    await waitFor(() => fx.counts.size === 10_000, 30_000, () => `10000 distinct effects (have ${fx.counts.size})`);
    expect([...fx.counts.values()].every((n) => n === 1)).toBe(true);
    expect(sub.stats().stale).toBe(0);
    expect(fx.applied).toEqual(events.map((e) => e.id));
    (await pub.close())._unsafeUnwrap();
    (await sub.close())._unsafeUnwrap();
    await proxy.close();
    // The fault happened: each cut destroyed the publisher's and the subscriber's connection, and both reconnected.
    expect(cut).toEqual([2, 2]);
    expect(proxy.connections()).toBeGreaterThanOrEqual(6);
    // Its consequence: the broker resent what was in flight (DUP), and the inbox absorbed every copy.
    expect(redelivered).toBeGreaterThan(0);
    expect(sub.stats().received).toBe(10_000 + sub.stats().duplicates);
  });
});
