// Fault tests on the real Mosquitto: each test has its own Sparkplug group, a hand-driven edge
// node (Tahu's encoder) that counts the rebirth requests it receives, and asserts counted = made.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createMemoryCounterStore, createSqliteCounterStore } from "@millwright/adapter-kit";
import { openSqliteDatabase } from "@millwright/idempotency/sqlite";
import mqtt from "mqtt";
import { afterEach, describe, expect, it } from "vitest";
import { BROKER, clearRetainedState, countedGood, expectUniqueIds, lineConfig, RawEdgeNode, startHost, uniqueGroup, waitFor } from "./helpers.js";

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

const LINE = { state: 6, defective: 0, order: "1000123" };
const settle = () => new Promise((r) => setTimeout(r, 150));

describe("sequence numbers", () => {
  it("a missing and an out-of-order seq each request one rebirth; nothing is guessed, and the births count what was made", async () => {
    const groupId = uniqueGroup();
    const t = await startHost(lineConfig(groupId, "e1"), createMemoryCounterStore());
    cleanup.push(() => t.host.stop());
    const node = await RawEdgeNode.connect(groupId, "e1", 0);
    cleanup.push(() => node.close());
    await node.birth(0, { ...LINE, good: 0 });
    await node.good(1, 2);
    await waitFor(() => countedGood(t.events) === 2, "2 parts");
    await node.good(3, 5); // seq 2 is missing
    await waitFor(() => node.rebirths === 1, "a rebirth request at the peer");
    await node.good(4, 6); // still no birth: ignored, no second request within the retry interval
    await settle();
    expect(countedGood(t.events)).toBe(2);
    expect(node.rebirths).toBe(1);
    await node.birth(0, { ...LINE, good: 6 });
    await waitFor(() => countedGood(t.events) === 6, "6 parts after the rebirth");
    await node.good(2, 8); // out of order: 2 before 1
    await node.good(1, 7);
    await waitFor(() => node.rebirths === 2, "a second rebirth request");
    await node.birth(0, { ...LINE, good: 8 });
    await waitFor(() => countedGood(t.events) === 8, "8 parts");
    await t.host.idle();
    expect(countedGood(t.events)).toBe(8);
    expect(t.issues.filter((i) => i.code === "sequence_gap").map((i) => i.value)).toEqual([
      { expected: 2, received: 3 },
      { expected: 1, received: 2 },
    ]);
    expectUniqueIds(t.events);
  });

  it("wraps from 255 to 0 without a rebirth", async () => {
    const groupId = uniqueGroup();
    const t = await startHost(lineConfig(groupId, "e1"), createMemoryCounterStore());
    cleanup.push(() => t.host.stop());
    const node = await RawEdgeNode.connect(groupId, "e1", 0);
    cleanup.push(() => node.close());
    await node.birth(0, { ...LINE, good: 0 });
    for (let i = 1; i <= 260; i++) await node.good(i % 256, i);
    await waitFor(() => countedGood(t.events) === 260, "260 parts");
    expect(node.rebirths).toBe(0);
  });
});

describe("aliases", () => {
  it("an alias of the previous birth is unknown after a rebirth with new aliases: rebirth, not a guess", async () => {
    const groupId = uniqueGroup();
    const t = await startHost(lineConfig(groupId, "e1"), createMemoryCounterStore());
    cleanup.push(() => t.host.stop());
    const node = await RawEdgeNode.connect(groupId, "e1", 0);
    cleanup.push(() => node.close());
    await node.birth(0, { ...LINE, good: 0 });
    await node.good(1, 3);
    await waitFor(() => countedGood(t.events) === 3, "3 parts");
    await node.birth(0, { ...LINE, good: 4 }, [11, 12, 13, 14]);
    await waitFor(() => countedGood(t.events) === 4, "4 parts");
    await node.good(1, 6, 2); // the old alias of Line/Good
    await waitFor(() => node.rebirths === 1, "a rebirth request");
    expect(t.issues.find((i) => i.code === "unknown_alias")?.value).toEqual(["alias 2"]);
    expect(countedGood(t.events)).toBe(4);
    await node.birth(0, { ...LINE, good: 6 }, [11, 12, 13, 14]);
    await node.good(1, 9, 12);
    await waitFor(() => countedGood(t.events) === 9, "9 parts");
    expectUniqueIds(t.events);
  });
});

describe("sessions and deaths", () => {
  it("a death while parts are being made: state unknown at the death, counted = made after the new session's birth", async () => {
    const groupId = uniqueGroup();
    const t = await startHost(lineConfig(groupId, "e1"), createMemoryCounterStore());
    cleanup.push(() => t.host.stop());
    const first = await RawEdgeNode.connect(groupId, "e1", 0);
    await first.birth(0, { ...LINE, good: 0 });
    let made = 0;
    for (let seq = 1; seq <= 10; seq++) await first.good(seq, (made += 1));
    first.kill(); // the broker publishes the will: NDEATH bdSeq 0
    made += 5; // made while the node is offline
    await waitFor(() => t.events.some((e) => e.type === "dev.millwright.machinestate.changed.v1" && (e.data as { availability: string }).availability === "not_available"), "state unknown");
    const second = await RawEdgeNode.connect(groupId, "e1", 1);
    cleanup.push(() => second.close());
    await second.birth(1, { ...LINE, good: made });
    await waitFor(() => countedGood(t.events) === made, `${made} parts`);
    await t.host.idle();
    const states = t.events.filter((e) => e.type === "dev.millwright.machinestate.changed.v1").map((e) => (e.data as { availability: string }).availability);
    expect(states).toEqual(["executing", "not_available", "executing"]);
    expect(countedGood(t.events)).toBe(made);
    expectUniqueIds(t.events);
  });

  it("an edge node reconnecting with a new bdSeq: the old connection's late will ends nothing", async () => {
    const groupId = uniqueGroup();
    const t = await startHost(lineConfig(groupId, "e1"), createMemoryCounterStore());
    cleanup.push(() => t.host.stop());
    const old = await RawEdgeNode.connect(groupId, "e1", 0);
    await old.birth(0, { ...LINE, good: 0 });
    await old.good(1, 4);
    await waitFor(() => countedGood(t.events) === 4, "4 parts");
    const next = await RawEdgeNode.connect(groupId, "e1", 1);
    cleanup.push(() => next.close());
    await next.birth(1, { ...LINE, good: 6 });
    await waitFor(() => countedGood(t.events) === 6, "6 parts");
    old.kill(); // NDEATH bdSeq 0 arrives after the NBIRTH of bdSeq 1
    await waitFor(() => t.issues.some((i) => i.code === "stale_death"), "the stale death");
    await next.good(1, 9);
    await waitFor(() => countedGood(t.events) === 9, "9 parts");
    expect(t.events.some((e) => e.type === "dev.millwright.machinestate.changed.v1" && (e.data as { availability: string }).availability === "not_available")).toBe(false);
    expect(next.rebirths).toBe(0);
    expectUniqueIds(t.events);
  });
});

describe("host restart", () => {
  it("continues from its SQLite store: one rebirth, counted = made, a pending event redelivered with its id", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mw-sparkplug-"));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    // The SQLite layer picks the driver that loads on this Node (better-sqlite3, or node:sqlite).
    const opened = openSqliteDatabase(join(dir, "host.db"));
    if (opened.isErr()) throw new Error(opened.error.message);
    const db = opened.value;
    cleanup.push(() => void (db as unknown as { close(): void }).close());
    const groupId = uniqueGroup();
    const config = lineConfig(groupId, "e1");
    const node = await RawEdgeNode.connect(groupId, "e1", 0);
    cleanup.push(() => node.close());
    const { startSparkplugHost } = await import("../src/index.js");
    const delivered: { id: string; good: number }[] = [];
    let failing = false;
    const handler = (e: { id: string; type: string; data: unknown }) => {
      if (failing) throw new Error("downstream unavailable");
      if (e.type === "dev.millwright.productioncount.counted.v1") delivered.push({ id: e.id, good: Number((e.data as { goodQuantity: { value: string } }).goodQuantity.value) });
    };
    const first = (await startSparkplugHost({ config, store: createSqliteCounterStore(db, "sparkplug_line_state"), handler }))._unsafeUnwrap();
    await node.birth(0, { ...LINE, good: 0 });
    await node.good(1, 3);
    await waitFor(() => delivered.length === 1, "the first count");
    failing = true;
    await node.good(2, 5);
    await settle();
    await first.stop(); // the count of 2 stays pending in the store
    failing = false;
    await node.good(3, 8); // made while no host runs
    const second = (await startSparkplugHost({ config, store: createSqliteCounterStore(db, "sparkplug_line_state"), handler }))._unsafeUnwrap();
    cleanup.push(() => clearRetainedState(config.brokerUrl, config.hostId));
    cleanup.push(() => second.stop());
    await waitFor(() => delivered.length === 2, "the pending count, redelivered");
    await node.good(4, 9);
    await waitFor(() => node.rebirths === 1, "a rebirth request");
    await node.birth(0, { ...LINE, good: 9 });
    await waitFor(() => delivered.reduce((s, d) => s + d.good, 0) === 9, "9 parts");
    await second.idle();
    expect(delivered.reduce((s, d) => s + d.good, 0)).toBe(9);
    expect(new Set(delivered.map((d) => d.id)).size).toBe(delivered.length);
  });
});

describe("primary host STATE", () => {
  it("is retained online with the birth timestamp while the host runs, offline with the same timestamp after stop", async () => {
    const groupId = uniqueGroup();
    const config = lineConfig(groupId, "e1");
    const t = await startHost(config, createMemoryCounterStore());
    const probe = await mqtt.connectAsync(BROKER, { reconnectPeriod: 0 });
    cleanup.push(() => probe.endAsync());
    const states: { online: boolean; timestamp: number }[] = [];
    probe.on("message", (_topic, payload) => {
      if (payload.length > 0) states.push(JSON.parse(payload.toString()) as { online: boolean; timestamp: number });
    });
    await probe.subscribeAsync(`spBv1.0/STATE/${config.hostId}`, { qos: 1 });
    await waitFor(() => states.length === 1, "the retained STATE");
    expect(states[0]?.online).toBe(true);
    await t.host.stop();
    await waitFor(() => states.length >= 2, "the offline STATE");
    expect(states[1]).toEqual({ online: false, timestamp: states[0]?.timestamp });
  });
});
