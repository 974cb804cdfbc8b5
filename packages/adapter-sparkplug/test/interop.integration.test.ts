// Interop with Eclipse Tahu on the real Mosquitto: Tahu's JavaScript edge node client
// (`sparkplug-client`) is the peer our host reads, and Tahu's payload decoder (`sparkplug-payload`)
// reads what our edge node publishes.
import { createMemoryCounterStore } from "@millwright/adapter-kit";
import { createEvent } from "@millwright/events";
import mqtt from "mqtt";
import { newClient } from "sparkplug-client";
import { afterEach, describe, expect, it } from "vitest";
import { startSparkplugEdgeNode, type ResolvedMetric } from "../src/index.js";
import { BROKER, clearRetainedState, countedGood, expectUniqueIds, lineConfig, startHost, tahu, uniqueGroup, waitFor, type TestHost } from "./helpers.js";

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

function tahuNode(groupId: string, edgeNode: string) {
  const client = newClient({ serverUrl: BROKER, username: "", password: "", groupId, edgeNode, clientId: `tahu-${groupId}-${edgeNode}-${Math.random().toString(36).slice(2, 8)}`, version: "spBv1.0", publishDeath: true });
  const connected = new Promise<void>((resolve) => client.on("birth", () => resolve()));
  return { client, connected };
}

type TahuMetric = Parameters<typeof tahu.encodePayload>[0]["metrics"];

function birthMetrics(good: number, state: number): NonNullable<TahuMetric> {
  return [
    { name: "Line/State", alias: 1, type: "Int32", value: state },
    { name: "Line/Good", alias: 2, type: "UInt32", value: good },
    { name: "Line/Defective", alias: 3, type: "UInt32", value: 0 },
    { name: "Line/Order", alias: 4, type: "String", value: "1000123" },
    { name: "Line/Recipe", alias: 5, type: "DataSet", value: { numOfColumns: 1, columns: ["temp"], types: ["Double"], rows: [[180.5]] } },
    { name: "Line/Motor", alias: 6, type: "Template", value: { templateRef: "Motor", isDefinition: false, metrics: [{ name: "rpm", type: "Int32", value: 1450 }], parameters: [] } },
    { name: "Line/Energy", alias: 7, type: "UInt64", value: { low: 1, high: 0x00200000, unsigned: true } },
  ] as NonNullable<TahuMetric>;
}

describe("host application reading Tahu's edge node client", () => {
  it("maps births and data to events, counts every part once across a death, and requests a rebirth Tahu answers", async () => {
    const groupId = uniqueGroup();
    const store = createMemoryCounterStore();
    const metrics: ResolvedMetric[] = [];
    const t: TestHost = await startHost(lineConfig(groupId, "tahu1"), store);
    cleanup.push(() => t.host.stop());
    const peer = tahuNode(groupId, "tahu1");
    cleanup.push(() => peer.client.stop());
    let ncmdRebirths = 0;
    // sparkplug-client's typings list only connection events; "ncmd" is emitted (index.js, 'message' handler).
    (peer.client as unknown as NodeJS.EventEmitter).on("ncmd", (payload: { metrics?: { name?: string; value?: unknown }[] }) => {
      if (payload.metrics?.some((m) => m.name === "Node Control/Rebirth" && m.value === true)) ncmdRebirths += 1;
    });
    await peer.connected;
    let made = 0;
    peer.client.publishNodeBirth({ timestamp: Date.now(), metrics: birthMetrics(made, 6) });
    await waitFor(() => t.events.some((e) => e.type === "dev.millwright.machinestate.changed.v1"), "the executing state");
    for (let i = 0; i < 5; i++) {
      made += 3;
      peer.client.publishNodeData({ timestamp: Date.now(), metrics: [{ name: "Line/Good", alias: 2, type: "UInt32", value: made, timestamp: Date.now() + i }] });
    }
    await waitFor(() => countedGood(t.events) === 15, "15 good parts");
    expect(t.issues.filter((i) => i.code === "unmapped_metric").map((i) => i.signal).sort()).toEqual(["Line/Motor", "Line/Recipe"]);
    // Data from a node whose session the host does not know (Tahu keeps its seq after our restart) → rebirth.
    await t.host.stop();
    const t2 = await startHost(lineConfig(groupId, "tahu1"), store);
    cleanup.push(() => t2.host.stop());
    made += 4;
    peer.client.publishNodeData({ timestamp: Date.now(), metrics: [{ name: "Line/Good", alias: 2, type: "UInt32", value: made }] });
    await waitFor(() => ncmdRebirths === 1, "Tahu to receive the rebirth request");
    expect(t2.issues.map((i) => i.code)).toContain("data_before_birth");
    expect(countedGood(t2.events)).toBe(0);
    peer.client.publishNodeBirth({ timestamp: Date.now(), metrics: birthMetrics(made, 6) });
    await waitFor(() => countedGood(t2.events) === 4, "the 4 parts made while the host was down");
    // The node dies (NDEATH); parts made meanwhile come with the next birth.
    peer.client.stop();
    await waitFor(() => t2.events.some((e) => e.type === "dev.millwright.machinestate.changed.v1" && (e.data as { availability: string }).availability === "not_available"), "state unknown after NDEATH");
    made += 7;
    const again = tahuNode(groupId, "tahu1");
    cleanup.push(() => again.client.stop());
    await again.connected;
    again.client.publishNodeBirth({ timestamp: Date.now(), metrics: birthMetrics(made, 6) });
    await waitFor(() => countedGood(t2.events) === 11, "the 7 parts made while dead");
    await t2.host.idle();
    const all = [...t.events, ...t2.events];
    expect(countedGood(all)).toBe(made);
    expectUniqueIds(all);
    expect(t2.host.rebirthsRequested).toBe(1);
    void metrics;
  });

  it("reports every decoded metric with UInt64 exact and DataSet and Template decoded", async () => {
    const groupId = uniqueGroup();
    const metrics: ResolvedMetric[] = [];
    const config = lineConfig(groupId, "tahu2");
    const { startSparkplugHost } = await import("../src/index.js");
    const host = (await startSparkplugHost({ config, store: createMemoryCounterStore(), handler: () => undefined, onMetric: (m) => void metrics.push(m) }))._unsafeUnwrap();
    cleanup.push(() => clearRetainedState(config.brokerUrl, config.hostId));
    cleanup.push(() => host.stop());
    const peer = tahuNode(groupId, "tahu2");
    cleanup.push(() => peer.client.stop());
    await peer.connected;
    peer.client.publishNodeBirth({ timestamp: Date.now(), metrics: birthMetrics(0, 4) });
    await waitFor(() => metrics.some((m) => m.name === "Line/Energy"), "the birth's metrics");
    const byName = new Map(metrics.map((m) => [m.name, m]));
    expect(byName.get("Line/Energy")?.value).toBe(2n ** 53n + 1n);
    expect(byName.get("Line/Recipe")?.value).toEqual({ kind: "dataset", columns: ["temp"], types: ["Double"], rows: [[180.5]] });
    expect(byName.get("Line/Motor")?.value).toMatchObject({ kind: "template", templateRef: "Motor" });
    expect(byName.get("bdSeq")?.datatype).toBe("UInt64");
  });
});

describe("edge node read back by Tahu's payload decoder", () => {
  it("publishes a birth with aliases and a will, then NDATA Tahu decodes, and a rebirth on request", async () => {
    const groupId = uniqueGroup();
    const sniffer = await mqtt.connectAsync(BROKER, { clean: true });
    cleanup.push(() => sniffer.endAsync());
    const seen: { type: string; payload: ReturnType<typeof tahu.decodePayload> }[] = [];
    sniffer.on("message", (topic, bytes) => seen.push({ type: topic.split("/")[2] ?? "", payload: tahu.decodePayload(bytes) }));
    await sniffer.subscribeAsync(`spBv1.0/${groupId}/#`, { qos: 1 });
    const node = (await startSparkplugEdgeNode({ brokerUrl: BROKER, groupId, edgeNodeId: "mw", bdSeq: 3 }))._unsafeUnwrap();
    cleanup.push(() => node.stop());
    const count = (good: string, revision: string) =>
      createEvent({
        type: "dev.millwright.productioncount.counted.v1",
        source: "urn:test",
        data: {
          equipment: { id: "LINE1", level: "production_line", site: { id: "1710" } },
          order: { orderId: "1000123" },
          goodQuantity: { value: good, unit: "H87" },
          defectiveQuantity: { value: "0", unit: "H87" },
          windowStart: "2026-03-02T06:00:00Z",
          windowEnd: `2026-03-02T06:0${revision}:00Z`,
          revision,
          sourceRefs: [{ system: "urn:test", kind: "CounterVariable", key: "good" }],
        },
        time: `2026-03-02T06:0${revision}:00Z`,
      })._unsafeUnwrap();
    const first = count("5", "1");
    expect((await node.publishFact(first)).isOk()).toBe(true);
    expect((await node.publishFact(first)).isOk()).toBe(true); // the same event again changes nothing
    expect((await node.publishFact(count("2", "2"))).isOk()).toBe(true);
    await waitFor(() => seen.filter((s) => s.type === "NDATA").length === 1, "one NDATA");
    const births = seen.filter((s) => s.type === "NBIRTH");
    const last = births[births.length - 1]?.payload;
    const good = last?.metrics?.find((m) => m.name === "Counts/1710/LINE1/Good");
    expect(last?.metrics?.find((m) => m.name === "bdSeq")?.value?.toString()).toBe("3");
    expect(good?.type).toBe("UInt64");
    expect(good?.value?.toString()).toBe("5");
    const data = seen.find((s) => s.type === "NDATA")?.payload;
    expect(data?.seq?.toString()).toBe("1");
    const update = data?.metrics?.find((m) => m.alias?.toString() === good?.alias?.toString());
    expect(update?.value?.toString()).toBe("7");
    expect(update?.type).toBe("UInt64");
    // A rebirth request makes a new NBIRTH with the current values.
    const before = node.births;
    await sniffer.publishAsync(`spBv1.0/${groupId}/NCMD/mw`, Buffer.from(tahu.encodePayload({ timestamp: Date.now(), metrics: [{ name: "Node Control/Rebirth", type: "Boolean", value: true }] })));
    await waitFor(() => node.births === before + 1 && seen.filter((s) => s.type === "NBIRTH").length === births.length + 1, "the rebirth");
    const reborn = seen.filter((s) => s.type === "NBIRTH").at(-1)?.payload;
    expect(reborn?.metrics?.find((m) => m.name === "Counts/1710/LINE1/Good")?.value?.toString()).toBe("7");
    // The will: dropping the connection makes the broker publish NDEATH with the session's bdSeq.
    await node.stop();
    await waitFor(() => seen.some((s) => s.type === "NDEATH"), "the NDEATH");
    expect(seen.find((s) => s.type === "NDEATH")?.payload.metrics?.find((m) => m.name === "bdSeq")?.value?.toString()).toBe("3");
  });
});
