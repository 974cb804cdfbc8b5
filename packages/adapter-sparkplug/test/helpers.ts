import { randomUUID } from "node:crypto";
import type { AdapterEvent, CounterStateStore } from "@millwright/adapter-kit";
import mqtt, { type MqttClient } from "mqtt";
import { get as getTahuPayload } from "sparkplug-payload";
import { expect } from "vitest";
import { parseSparkplugHostConfig, startSparkplugHost, type HostIssue, type SparkplugHost } from "../src/index.js";

export const BROKER = "mqtt://127.0.0.1:1883";

/** Eclipse Tahu's Sparkplug B payload codec (`sparkplug-payload`), the independent implementation the tests check against. */
const tahuCodec = getTahuPayload("spBv1.0");
if (tahuCodec === null) throw new Error("sparkplug-payload has no spBv1.0 codec");
export const tahu = tahuCodec;

/** A Sparkplug group no other test uses. */
export function uniqueGroup(): string {
  return `mw-test-${randomUUID().slice(0, 8)}`;
}

/** 64 bits as protobufjs takes them, so Tahu's encoder writes them exactly. */
export function bits(value: bigint): { low: number; high: number; unsigned: boolean } {
  const u = BigInt.asUintN(64, value);
  return { low: Number(u & 0xffffffffn) | 0, high: Number(u >> 32n) | 0, unsigned: true };
}

/** Encodes a payload with Eclipse Tahu's encoder (an implementation independent of ours). */
export function tahuEncode(payload: Record<string, unknown>): Buffer {
  return Buffer.from(tahu.encodePayload(payload as never));
}

/** The host configuration of one test line on edge node `edge` (device optional). */
export function lineConfig(groupId: string, edge: string, deviceId?: string, hostId = `host-${groupId}`) {
  return parseSparkplugHostConfig({
    brokerUrl: BROKER,
    groupId,
    hostId,
    rebirthRetryMs: 300,
    lines: [
      {
        edgeNodeId: edge,
        ...(deviceId === undefined ? {} : { deviceId }),
        equipment: { id: "LINE1", level: "production_line", site: { id: "1710" } },
        signals: [
          { role: "machine_state", metric: "Line/State", mapping: { kind: "packml" } },
          { role: "good_count", metric: "Line/Good" },
          { role: "defective_count", metric: "Line/Defective" },
          { role: "order_number", metric: "Line/Order" },
        ],
      },
    ],
  })._unsafeUnwrap();
}

/** A host with its received events and issues. */
export interface TestHost {
  readonly host: SparkplugHost;
  readonly events: AdapterEvent[];
  readonly issues: HostIssue[];
}

export async function startHost(config: ReturnType<typeof lineConfig>, store: CounterStateStore, clientId?: string): Promise<TestHost> {
  const events: AdapterEvent[] = [];
  const issues: HostIssue[] = [];
  const started = await startSparkplugHost({ config, store, handler: (e) => void events.push(e), onIssue: (i) => void issues.push(i), ...(clientId === undefined ? {} : { clientId }) });
  if (started.isErr()) throw new Error(`host did not start (is Mosquitto running at ${config.brokerUrl}?): ${started.error.message}`);
  const inner = started.value;
  // Stopping also removes the retained STATE the host left on the shared broker.
  const host: SparkplugHost = {
    idle: () => inner.idle(),
    stop: async () => {
      await inner.stop();
      await clearRetainedState(config.brokerUrl, config.hostId);
    },
    get rebirthsRequested() {
      return inner.rebirthsRequested;
    },
  };
  return { host, events, issues };
}

/** Removes a host's retained STATE message from the broker. */
export async function clearRetainedState(url: string, hostId: string): Promise<void> {
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 0 });
  await client.publishAsync(`spBv1.0/STATE/${hostId}`, "", { retain: true, qos: 1 });
  await client.endAsync();
}

/** Good parts counted by the events. */
export function countedGood(events: readonly AdapterEvent[]): number {
  return events.filter((e) => e.type === "dev.millwright.productioncount.counted.v1").reduce((sum, e) => sum + Number((e.data as { goodQuantity: { value: string } }).goodQuantity.value), 0);
}

export function expectUniqueIds(events: readonly AdapterEvent[]): void {
  expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
}

export async function waitFor(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * A hand-driven edge node: its own MQTT connection, Tahu's encoder, and full control of bdSeq,
 * seq and aliases, so a test can send what a faulty or restarted node sends. Counts the rebirth
 * requests (NCMD) it receives.
 */
export class RawEdgeNode {
  rebirths = 0;
  private constructor(
    readonly client: MqttClient,
    readonly groupId: string,
    readonly edge: string,
  ) {}

  static async connect(groupId: string, edge: string, bdSeq: number, url = BROKER): Promise<RawEdgeNode> {
    const will = { topic: `spBv1.0/${groupId}/NDEATH/${edge}`, payload: tahuEncode({ timestamp: Date.now(), metrics: [{ name: "bdSeq", type: "UInt64", value: bdSeq }] }), qos: 1 as const, retain: false };
    const client = await mqtt.connectAsync(url, { clientId: `raw-${groupId}-${edge}-${randomUUID().slice(0, 6)}`, clean: true, reconnectPeriod: 0, will });
    const node = new RawEdgeNode(client, groupId, edge);
    client.on("message", (_topic, payload) => {
      const decoded = tahu.decodePayload(payload);
      if (decoded.metrics?.some((m) => m.name === "Node Control/Rebirth" && m.value === true)) node.rebirths += 1;
    });
    await client.subscribeAsync(`spBv1.0/${groupId}/NCMD/${edge}`, { qos: 0 });
    return node;
  }

  async publish(type: string, payload: Record<string, unknown>, device?: string): Promise<void> {
    const topic = `spBv1.0/${this.groupId}/${type}/${this.edge}${device === undefined ? "" : `/${device}`}`;
    await this.client.publishAsync(topic, tahuEncode({ timestamp: Date.now(), ...payload }), { qos: 1 });
  }

  /** NBIRTH of the line metrics with aliases 1–4 (or the given ones). */
  birth(bdSeq: number, values: { state: number; good: number; defective: number; order: string }, aliases = [1, 2, 3, 4]): Promise<void> {
    const [a1, a2, a3, a4] = aliases;
    return this.publish("NBIRTH", {
      seq: 0,
      metrics: [
        { name: "bdSeq", type: "UInt64", value: bdSeq },
        { name: "Node Control/Rebirth", type: "Boolean", value: false },
        { name: "Line/State", alias: a1, type: "Int32", value: values.state },
        { name: "Line/Good", alias: a2, type: "UInt32", value: values.good },
        { name: "Line/Defective", alias: a3, type: "UInt32", value: values.defective },
        { name: "Line/Order", alias: a4, type: "String", value: values.order },
      ],
    });
  }

  /** NDATA of the good counter by alias. */
  good(seq: number, value: number, alias = 2): Promise<void> {
    return this.publish("NDATA", { seq, metrics: [{ alias, type: "UInt32", value }] });
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }

  /** Drops the TCP connection without DISCONNECT, so the broker publishes the will (NDEATH). */
  kill(): void {
    this.client.stream.destroy();
  }
}
