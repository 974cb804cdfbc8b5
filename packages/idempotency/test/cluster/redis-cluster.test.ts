// The Redis store on a Redis Cluster of six local processes (3 primaries + 3 replicas, started
// and stopped here): the store contract in the partition layout, the event-slot layout spread over
// every primary, the refusals that keep each script in one slot, MOVED and ASK redirects followed
// through a slot migrated mid-run, and the throughput cost of replicaAcks (WAIT).
import { err } from "neverthrow";
import { createCluster } from "redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createInbox, createOutbox, createOutboxRelay, inboxKey, permanent, type OutboxRecord } from "../../src/index.js";
import { createRedisClusterStore, createRedisStore, type RedisTransaction } from "../../src/redis.js";
import { describeStoreContract } from "../contract.js";
import { workOrderEvent } from "../fixtures.js";
import { connectRedis, uniqueSuffix } from "../services.js";
import { keySlot, startRedisCluster, type RedisClusterHarness } from "./redis-cluster-harness.js";

type Event = ReturnType<typeof workOrderEvent>;
const newCluster = (urls: string[]) => createCluster({ rootNodes: urls.map((url) => ({ url })), defaults: { socket: { connectTimeout: 2000 } } });
type Cluster = ReturnType<typeof newCluster>;

let harness: RedisClusterHarness;
const clients: Cluster[] = [];

async function connectCluster(): Promise<Cluster> {
  const client = newCluster(harness.nodes.map((n) => `redis://127.0.0.1:${n.port}`));
  client.on("error", () => undefined);
  await client.connect();
  clients.push(client);
  return client;
}

beforeAll(async () => {
  harness = await startRedisCluster();
}, 60_000);

afterAll(async () => {
  for (const c of clients) c.destroy();
  await harness?.stop();
});

/** The event without its sequence: the revision guard does not apply (event slots refuse it). */
function unsequenced(order: number): Event {
  const { sequence: _sequence, ...rest } = workOrderEvent(order);
  return rest as Event;
}

describeStoreContract<RedisTransaction>("redis cluster, partition slot (keyPrefix with a hash tag)", async () => {
  const client = await connectCluster();
  const prefix = `{t-${uniqueSuffix()}}:`;
  const effects = `${prefix}effects`;
  return {
    store: createRedisClusterStore(client, { keyPrefix: prefix }),
    peer: async () => createRedisClusterStore(await connectCluster(), { keyPrefix: prefix }),
    effect: (tx, id) => tx.call("HINCRBY", effects, id, "1"),
    effects: async () => {
      const flat = (await client.sendCommand(effects, true, ["HGETALL", effects])) as string[] | Record<string, string>;
      const entries: [string, string][] = Array.isArray(flat) ? flat.flatMap((v, i) => (i % 2 === 0 ? [[v, flat[i + 1]!] as [string, string]] : [])) : Object.entries(flat);
      return new Map(entries.map(([k, v]) => [k, Number(v)]));
    },
    close: async () => undefined,
  };
});

describe("redis cluster, event slots (keyPrefix without a hash tag)", () => {
  it("spreads events over slots and every primary; the keys of one event share its slot", async () => {
    const client = await connectCluster();
    const p = `ev-${uniqueSuffix()}:`;
    const inbox = createInbox<RedisTransaction, Event>(createRedisClusterStore(client, { keyPrefix: p }), { entityKey: () => undefined });
    const events = Array.from({ length: 300 }, (_, i) => unsequenced(i));
    const effectKeys = new Map<string, string>();
    for (const e of events) {
      const outcome = await inbox.process(e, (event, { tx }) => {
        effectKeys.set(event.id, `${p}seen:${tx.hashTag}`);
        tx.call("SET", `${p}seen:${tx.hashTag}`, event.id);
      });
      expect(outcome._unsafeUnwrap()).toEqual({ outcome: "processed", attempts: 1 });
    }
    const slots = new Set<number>();
    const primaries = new Set<number>();
    for (const e of events.slice(0, 60)) {
      const entry = `${p}inbox:{${inboxKey(e.source, e.id)}}`;
      const effect = effectKeys.get(e.id)!;
      // The server's own CRC16, asked of the node that holds the keys.
      const slot = Number(await client.sendCommand(entry, true, ["CLUSTER", "KEYSLOT", entry]));
      expect(Number(await client.sendCommand(effect, true, ["CLUSTER", "KEYSLOT", effect])), "the effect key is in the event's slot").toBe(slot);
      expect(slot).toBe(keySlot(entry));
      expect(await client.sendCommand(entry, true, ["HGET", entry, "status"])).toBe("processed");
      expect(await client.sendCommand(effect, true, ["GET", effect])).toBe(e.id);
      slots.add(slot);
      primaries.add(await harness.primaryOfSlot(slot));
    }
    expect(new Set(events.map((e) => keySlot(`{${inboxKey(e.source, e.id)}}`))).size, "300 events over (nearly) 300 slots").toBeGreaterThan(290);
    expect(slots.size).toBe(60);
    expect(primaries.size, "the events' keys are on all three primaries").toBe(3);
    // Redelivery: duplicates, from whichever primary holds each entry.
    for (const e of events.slice(0, 20)) expect((await inbox.process(e, () => undefined))._unsafeUnwrap().outcome).toBe("duplicate");
  });

  it("refuses a queued command whose key is outside the event's slot, before any command runs", async () => {
    const client = await connectCluster();
    const p = `ev-${uniqueSuffix()}:`;
    const store = createRedisClusterStore(client, { keyPrefix: p });
    const inbox = createInbox<RedisTransaction, Event>(store, { entityKey: () => undefined, leaseMs: 500 });
    const e = unsequenced(1);
    let own = "";
    const outcome = await inbox.process(e, (_event, { tx }) => {
      own = `${p}own:${tx.hashTag}`;
      tx.call("INCR", own);
      tx.call("INCR", `${p}stock:MAT-1`);
    });
    expect(outcome.isErr()).toBe(true);
    expect(outcome._unsafeUnwrapErr().message).toContain(`key "${p}stock:MAT-1" does not carry this transaction's hash tag`);
    expect(await client.sendCommand(own, true, ["EXISTS", own]), "the command in the event's slot did not run either").toBe(0);
    expect((await store.inboxStatus(inboxKey(e.source, e.id)))?.status).toBe("processing");
  });

  it("refuses the revision guard with event slots, naming the way out", async () => {
    const store = createRedisClusterStore(await connectCluster(), { keyPrefix: `ev-${uniqueSuffix()}:` });
    const outcome = await createInbox<RedisTransaction, Event>(store).process(workOrderEvent(2), () => undefined);
    expect(outcome._unsafeUnwrapErr().message).toContain("entityKey: () => undefined");
  });

  it("dead-letters, lists and replays; the outbox adds and relays, each in its own slot", async () => {
    const client = await connectCluster();
    const p = `ev-${uniqueSuffix()}:`;
    const store = createRedisClusterStore(client, { keyPrefix: p });
    const inbox = createInbox<RedisTransaction, Event>(store, { entityKey: () => undefined });
    const e = unsequenced(3);
    const failed = (await inbox.process(e, () => err(permanent("material MAT-9 is unknown"))))._unsafeUnwrap();
    expect(failed).toMatchObject({ outcome: "failed", code: "dead_lettered" });
    const [record] = (await inbox.deadLetters())._unsafeUnwrap();
    expect(record).toMatchObject({ kind: "event", eventId: e.id, attempts: 1 });
    expect((await store.inboxStatus(inboxKey(e.source, e.id)))?.status).toBe("dead");
    expect((await inbox.replay(record!.id, (event, { tx }) => tx.call("SET", `${p}fixed:${tx.hashTag}`, event.id)))._unsafeUnwrap()).toEqual({ outcome: "processed", attempts: 1 });
    expect((await inbox.deadLetters())._unsafeUnwrap()).toEqual([]);

    const outbox = createOutbox<RedisTransaction, Event>(store);
    const events = [unsequenced(4), unsequenced(5)];
    await store.transaction(async (tx) => (await outbox.add(tx, events))._unsafeUnwrap());
    const published: OutboxRecord[] = [];
    const relay = createOutboxRelay(store, { publish: async (r) => void published.push(r) });
    expect((await relay.runOnce())._unsafeUnwrap()).toMatchObject({ leased: true, published: 2 });
    expect(published.map((r) => r.eventId)).toEqual(events.map((x) => x.id));
    // The outbox cannot join an event's commit: its keys are in another slot.
    const inCommit = await inbox.process(unsequenced(6), async (event, { tx }) => (await outbox.add(tx, [event]))._unsafeUnwrap());
    expect(inCommit._unsafeUnwrapErr().message).toContain("outbox}:log");
  });
});

describe("redis cluster: MOVED and ASK", () => {
  it("follows ASK while a slot migrates and MOVED once it has moved, mid-run", async () => {
    const client = await connectCluster();
    const p = `mv-${uniqueSuffix()}:`;
    const inbox = createInbox<RedisTransaction, Event>(createRedisClusterStore(client, { keyPrefix: p }), { entityKey: () => undefined });
    const e = unsequenced(7);
    const entry = `${p}inbox:{${inboxKey(e.source, e.id)}}`;
    const effect = `${p}n:{${inboxKey(e.source, e.id)}}`;
    const apply = (_event: Event, { tx }: { tx: RedisTransaction }): void => tx.call("INCR", `${p}n:${tx.hashTag}`);
    expect((await inbox.process(e, apply))._unsafeUnwrap().outcome).toBe("processed");

    const slot = keySlot(entry);
    const rows = await harness.clusterNodes();
    const from = await harness.primaryOfSlot(slot);
    const fromId = rows.find((r) => r.port === from)!.id;
    const to = rows.find((r) => r.flags.includes("master") && r.port !== from)!;
    await harness.cli(to.port, "CLUSTER", "SETSLOT", String(slot), "IMPORTING", fromId);
    await harness.cli(from, "CLUSTER", "SETSLOT", String(slot), "MIGRATING", to.id);
    const keys = (await harness.cli(from, "CLUSTER", "GETKEYSINSLOT", String(slot), "100")).trim().split("\n").filter(Boolean);
    // Other tests' keys of the same event (other prefixes) share the slot; all of them move.
    expect(keys).toEqual(expect.arrayContaining([effect, entry]));
    expect((await harness.cli(from, "MIGRATE", "127.0.0.1", String(to.port), "", "0", "5000", "KEYS", ...keys)).trim()).toBe("OK");

    // The old owner still serves the slot, but the keys are gone: it answers ASK.
    expect((await harness.cli(from, "HGET", entry, "status")).trim()).toBe(`ASK ${slot} 127.0.0.1:${to.port}`);
    expect((await inbox.process(e, apply))._unsafeUnwrap().outcome, "read on the importing node after ASK").toBe("duplicate");

    for (const r of rows.filter((x) => x.flags.includes("master"))) await harness.cli(r.port, "CLUSTER", "SETSLOT", String(slot), "NODE", to.id);
    expect((await harness.cli(from, "HGET", entry, "status")).trim()).toBe(`MOVED ${slot} 127.0.0.1:${to.port}`);
    expect((await inbox.process(e, apply))._unsafeUnwrap().outcome, "read on the new owner after MOVED").toBe("duplicate");
    expect(Number(await client.sendCommand(effect, true, ["GET", effect])), "the effect applied once, on the new owner").toBe(1);
    expect(await harness.primaryOfSlot(slot)).toBe(to.port);
  });
});

describe("redis: replicaAcks", () => {
  it("rejects a write no replica acknowledged (a single Redis without replicas), naming the count and the wait", async () => {
    const client = await connectRedis();
    try {
      const p = `millwright-test:${uniqueSuffix()}:`;
      const inbox = createInbox<RedisTransaction, Event>(createRedisStore(client, { keyPrefix: p, replicaAcks: { replicas: 1, timeoutMs: 20 } }));
      const outcome = await inbox.process(unsequenced(8), () => undefined);
      expect(outcome._unsafeUnwrapErr().message).toContain("0 of 1 replicas acknowledged the write");
      await client.sendCommand(["DEL", `${p}inbox:${inboxKey(unsequenced(8).source, unsequenced(8).id)}`]);
    } finally {
      client.destroy();
    }
  });

  it("refuses replicaAcks out of range, naming the field", () => {
    expect(() => createRedisStore({ sendCommand: async () => null }, { replicaAcks: { replicas: 0, timeoutMs: 100 } })).toThrow("replicaAcks must be");
  });

  it("measures the inbox's throughput on the cluster with and without WAIT", async () => {
    const client = await connectCluster();
    const rate = async (replicaAcks?: { replicas: number; timeoutMs: number }): Promise<number> => {
      const p = `tp-${uniqueSuffix()}:`;
      const inbox = createInbox<RedisTransaction, Event>(createRedisClusterStore(client, { keyPrefix: p, ...(replicaAcks === undefined ? {} : { replicaAcks }) }), { entityKey: () => undefined });
      const events = Array.from({ length: 2000 }, (_, i) => unsequenced(i));
      let next = 0;
      const started = performance.now();
      await Promise.all(
        Array.from({ length: 32 }, async () => {
          while (next < events.length) {
            const outcome = await inbox.process(events[next++]!, (event, { tx }) => tx.call("INCR", `${p}n:${tx.hashTag}`));
            expect(outcome._unsafeUnwrap().outcome).toBe("processed");
          }
        }),
      );
      return Math.round(events.length / ((performance.now() - started) / 1000));
    };
    const plain = await rate();
    const waited = await rate({ replicas: 1, timeoutMs: 100 });
    const plainAgain = await rate();
    const waitedAgain = await rate({ replicas: 1, timeoutMs: 100 });
    console.log(`redis-cluster-throughput ${JSON.stringify({ events: 2000, concurrency: 32, perSecond: { plain: [plain, plainAgain], wait: [waited, waitedAgain] } })}`);
    expect(Math.min(plain, waited, plainAgain, waitedAgain)).toBeGreaterThan(0);
  }, 60_000);
});
