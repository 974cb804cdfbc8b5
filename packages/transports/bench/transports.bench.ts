// publish → broker → subscribe → inbox → handler with ~2 KB events, against the bare client's own
// publish/subscribe loop on the same broker with the same bytes. Run: pnpm --filter @millwright/transports bench
// (BENCH_EVENTS=N, default 5,000; writes bench/results/transports.json at the root).
// --quick [--out FILE]: the short run of the test command's gate (bench/src/gate.ts), 1,500 events
// per side, the throughput ratios written to FILE as { mqtt, nats, amqp }.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createEvent, mqtt5, nats as natsBinding, amqp as amqpBinding, type CanonicalEvent } from "@millwright/events";
import { createInbox, createMemoryStore, type MemoryTransaction } from "@millwright/idempotency";
import { jetstream, jetstreamManager, AckPolicy } from "@nats-io/jetstream";
import { connect as natsConnect, headers as natsHeaders } from "@nats-io/transport-node";
import amqplib from "amqplib";
import mqtt from "mqtt";
import type { Publisher, Subscription } from "../src/core.js";
import { createAmqpPublisher, defaultAmqpUrl, subscribeAmqp } from "../src/amqp.js";
import { createMqttPublisher, defaultMqttUrl, subscribeMqtt } from "../src/mqtt.js";
import { createNatsPublisher, defaultNatsUrl, ensureNatsStream, subscribeNats } from "../src/nats.js";

const argv = process.argv.slice(2);
const quick = argv.includes("--quick");
const outAt = argv.indexOf("--out");
const OUT = outAt >= 0 ? argv[outAt + 1] : undefined;
const COUNT = Number(process.env["BENCH_EVENTS"] ?? (quick ? 1500 : 5000));
const RUN = `${process.pid}${Date.now().toString(36)}`;
const base = JSON.parse(readFileSync(join(import.meta.dirname, "../../../schemas/examples/work-order/completed-order-with-confirmed-yield-and-scrap.json"), "utf8")) as Record<string, unknown>;
const material = base["material"] as Record<string, unknown>;

function events(): CanonicalEvent[] {
  const out: CanonicalEvent[] = [];
  for (let i = 0; i < COUNT; i++) {
    const data = { ...base, orderId: String(2_000_000 + i), material: { ...material, description: "x".repeat(250) } };
    out.push(createEvent({ type: "dev.millwright.workorder.completed.v1", source: `urn:millwright:bench:${RUN}`, data: data as never, time: "2026-02-25T20:05:12+01:00" })._unsafeUnwrap());
  }
  return out;
}

interface Result { readonly perSecond: number; readonly p99Ms: number }

function summarize(started: number, finished: number, latencies: number[]): Result {
  latencies.sort((a, b) => a - b);
  return { perSecond: Math.round((COUNT / (finished - started)) * 1000), p99Ms: Number((latencies[Math.floor(latencies.length * 0.99)] ?? 0).toFixed(1)) };
}

/** Runs a publisher/subscriber pair: publishes all events in chunks and waits for every handler call. */
async function measure(make: (onEvent: (id: string) => void) => Promise<{ publish: (batch: CanonicalEvent[]) => Promise<void>; close: () => Promise<void> }>, all: CanonicalEvent[]): Promise<Result> {
  const sent = new Map<string, number>();
  const latencies: number[] = [];
  let done: () => void = () => undefined;
  const finished = new Promise<void>((r) => (done = r));
  const pair = await make((id) => {
    const at = sent.get(id);
    if (at !== undefined) latencies.push(performance.now() - at);
    if (latencies.length === COUNT) done();
  });
  const started = performance.now();
  for (let i = 0; i < all.length; i += 250) {
    const batch = all.slice(i, i + 250);
    const now = performance.now();
    for (const e of batch) sent.set(e.id, now);
    await pair.publish(batch);
  }
  await finished;
  const result = summarize(started, performance.now(), latencies);
  await pair.close();
  return result;
}

function millwright(pub: Publisher, sub: Subscription): { publish: (batch: CanonicalEvent[]) => Promise<void>; close: () => Promise<void> } {
  return {
    publish: async (batch) => void (await pub.publish(batch))._unsafeUnwrap(),
    close: async () => {
      (await pub.close())._unsafeUnwrap();
      (await sub.close())._unsafeUnwrap();
    },
  };
}

function inbox(onEvent: (id: string) => void) {
  const box = createInbox<MemoryTransaction, CanonicalEvent>(createMemoryStore());
  return { inbox: box, handler: (e: CanonicalEvent, { tx }: { tx: MemoryTransaction }) => tx.defer(() => onEvent(e.id)) };
}

const benches: Record<string, { bare: (all: CanonicalEvent[]) => Promise<Result>; layer: (all: CanonicalEvent[]) => Promise<Result> }> = {
  mqtt: {
    bare: (all) =>
      measure(async (onEvent) => {
        const topic = `bench-${RUN}/bare`;
        const sub = await mqtt.connectAsync(defaultMqttUrl(), { protocolVersion: 5, clientId: `bench-sub-${RUN}`, clean: true });
        sub.on("message", (_t, _p, packet) => onEvent(String(packet.properties?.userProperties?.["id"])));
        await sub.subscribeAsync(topic, { qos: 1 });
        const pub = await mqtt.connectAsync(defaultMqttUrl(), { protocolVersion: 5 });
        return {
          publish: async (batch) => {
            await Promise.all(batch.map((e) => { const m = mqtt5.binary(e); return pub.publishAsync(topic, m.payload as string, { qos: 1, properties: { contentType: m.properties.contentType ?? "application/json", userProperties: m.properties.userProperties as Record<string, string> } }); }));
          },
          close: async () => { await pub.endAsync(); await sub.endAsync(); },
        };
      }, all),
    layer: (all) =>
      measure(async (onEvent) => {
        const { inbox: box, handler } = inbox(onEvent);
        const enterprise = `bench-${RUN}`;
        const sub = (await subscribeMqtt({ clientId: `bench-mw-${RUN}`, sessionExpirySeconds: 0, topics: [`${enterprise}/#`], inbox: box }, handler))._unsafeUnwrap();
        const pub = (await createMqttPublisher({ enterprise }))._unsafeUnwrap();
        return millwright(pub, sub);
      }, all),
  },
  nats: {
    bare: (all) =>
      measure(async (onEvent) => {
        const nc = await natsConnect({ servers: defaultNatsUrl() });
        const name = `BENCH_BARE_${RUN}`.toUpperCase();
        const jsm = await jetstreamManager(nc);
        await jsm.streams.add({ name, subjects: [`${name.toLowerCase()}.>`] });
        await jsm.consumers.add(name, { durable_name: "b", ack_policy: AckPolicy.Explicit });
        const js = jetstream(nc);
        const messages = await (await js.consumers.get(name, "b")).consume({ max_messages: 64 });
        void (async () => { for await (const m of messages) { onEvent(m.headers?.get("ce-id") ?? ""); m.ack(); } })();
        return {
          publish: async (batch) => {
            await Promise.all(batch.map((e) => { const m = natsBinding.binary(e); const h = natsHeaders(); for (const [k, v] of Object.entries(m.headers ?? {})) h.set(k, String(v)); return js.publish(`${name.toLowerCase()}.x`, m.data, { headers: h, msgID: e.id }); }));
          },
          close: async () => { await messages.close(); await jsm.streams.delete(name); await nc.close(); },
        };
      }, all),
    layer: (all) =>
      measure(async (onEvent) => {
        const nc = await natsConnect({ servers: defaultNatsUrl() });
        const name = `BENCH_MW_${RUN}`.toUpperCase();
        (await ensureNatsStream(nc, { name, subjects: [`${name.toLowerCase()}.>`] }))._unsafeUnwrap();
        const { inbox: box, handler } = inbox(onEvent);
        const sub = (await subscribeNats(nc, { stream: name, durable: "mw", inbox: box, concurrency: 32 }, handler))._unsafeUnwrap();
        const pub = createNatsPublisher(nc, { subjectOf: () => `${name.toLowerCase()}.x` });
        const pair = millwright(pub, sub);
        return { publish: pair.publish, close: async () => { await pair.close(); await (await jetstreamManager(nc)).streams.delete(name); await nc.close(); } };
      }, all),
  },
  amqp: {
    bare: (all) =>
      measure(async (onEvent) => {
        const conn = await amqplib.connect(defaultAmqpUrl());
        const ch = await conn.createConfirmChannel();
        const q = `bench-bare-${RUN}`;
        await ch.assertQueue(q, { durable: true });
        const subCh = await conn.createChannel();
        await subCh.prefetch(64);
        await subCh.consume(q, (m) => { if (m === null) return; onEvent(String(m.properties.messageId)); subCh.ack(m); });
        return {
          publish: async (batch) => {
            for (const e of batch) { const m = amqpBinding.binary(e); ch.sendToQueue(q, Buffer.from(m.body as string), { persistent: true, messageId: e.id, contentType: m.contentType ?? "application/json", headers: { ...m.applicationProperties } }); }
            await ch.waitForConfirms();
          },
          close: async () => { await ch.deleteQueue(q); await conn.close(); },
        };
      }, all),
    layer: (all) =>
      measure(async (onEvent) => {
        const { inbox: box, handler } = inbox(onEvent);
        const exchange = `bench-mw-${RUN}`;
        const queue = `bench-mw-${RUN}.q`;
        const sub = (await subscribeAmqp({ exchange, queue, bindingKeys: ["#"], inbox: box, concurrency: 32 }, handler))._unsafeUnwrap();
        const pub = (await createAmqpPublisher({ exchange }))._unsafeUnwrap();
        const pair = millwright(pub, sub);
        return {
          publish: pair.publish,
          close: async () => {
            await pair.close();
            const c = await amqplib.connect(defaultAmqpUrl());
            const ch = await c.createChannel();
            await ch.deleteQueue(queue);
            await ch.deleteExchange(exchange);
            await c.close();
          },
        };
      }, all),
  },
};

const all = events();
console.log(`${COUNT} events of ${Buffer.byteLength(JSON.stringify(all[0]))} bytes (structured JSON)`);
const rows: Record<string, { bare: Result; millwright: Result }> = {};
const ratios: Record<string, number> = {};
for (const [name, b] of Object.entries(benches)) {
  const bare = await b.bare(all);
  const layer = await b.layer(all);
  rows[name] = { bare, millwright: layer };
  ratios[name] = Number((layer.perSecond / bare.perSecond).toFixed(3));
  console.log(`${name.padEnd(5)} bare ${String(bare.perSecond).padStart(6)}/s p99 ${bare.p99Ms} ms | millwright ${String(layer.perSecond).padStart(6)}/s p99 ${layer.p99Ms} ms | throughput ratio ${(layer.perSecond / bare.perSecond).toFixed(2)}`);
}
const record = `${JSON.stringify({ node: process.version, date: new Date().toISOString(), quick, events: COUNT, ...ratios, rows }, null, 2)}\n`;
if (OUT !== undefined) writeFileSync(OUT, record);
if (!quick) writeFileSync(join(import.meta.dirname, "../../../bench/results/transports.json"), record);
process.exit(0);
