// A second line that speaks MQTT Sparkplug B: a simulated packaging line PKG is a Sparkplug edge
// node (births, aliases, 0–255 seq, its NDEATH as the MQTT will); the Millwright host application
// maps its metrics to canonical events through the counter core the OPC UA line uses, and the
// Millwright edge node publishes the counted facts back to the unified namespace. Midway the line
// drops off the broker while it keeps making parts: the state becomes unknown, and the parts are
// counted once, from the next birth.
import { randomUUID } from "node:crypto";
import { createMemoryCounterStore, encodeSparkplugPayload, parseSparkplugHostConfig, startSparkplugEdgeNode, startSparkplugHost, type OutgoingMetric } from "@millwright/adapter-sparkplug";
import type { CanonicalEvent } from "@millwright/events";
import mqtt, { type MqttClient } from "mqtt";

/** How the Sparkplug line runs inside the demo. */
export interface SparkplugLineOptions {
  /** The broker, `mqtt://127.0.0.1:1883` in the demo. */
  readonly brokerUrl: string;
  /** The order the line works on. */
  readonly orderId: string;
  readonly site: { readonly id: string };
  /** Each canonical event the host produces, with a line of text for the log. */
  readonly deliver: (event: CanonicalEvent, what: string) => Promise<void>;
  readonly log: (who: string, text: string) => void;
}

/** What the Sparkplug line did. */
export interface SparkplugLineSummary {
  readonly made: number;
  readonly counted: number;
  readonly events: number;
  readonly rebirthsRequested: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The simulated line: an edge node with hand-built Sparkplug payloads, as a PLC gateway sends them. */
class SimulatedLine {
  private client: MqttClient | undefined;
  private seq = 0;
  private bdSeq = -1;
  good = 0;
  state = 4;

  constructor(
    private readonly url: string,
    private readonly groupId: string,
    private readonly orderId: string,
  ) {}

  private encode(seq: number | undefined, metrics: OutgoingMetric[]): Buffer {
    const bytes = encodeSparkplugPayload({ timestamp: Date.now(), ...(seq === undefined ? {} : { seq }), metrics });
    if (bytes.isErr()) throw new Error(bytes.error.message);
    return Buffer.from(bytes.value);
  }

  async connect(): Promise<void> {
    this.bdSeq += 1;
    const bdSeq: OutgoingMetric = { name: "bdSeq", datatype: "Int64", value: BigInt(this.bdSeq) };
    const client = await mqtt.connectAsync(this.url, {
      clientId: `plant-demo-pkg-${randomUUID().slice(0, 8)}`,
      clean: true,
      reconnectPeriod: 0,
      will: { topic: `spBv1.0/${this.groupId}/NDEATH/PKG`, payload: this.encode(undefined, [bdSeq]), qos: 1, retain: false },
    });
    client.on("message", () => void this.birth());
    await client.subscribeAsync(`spBv1.0/${this.groupId}/NCMD/PKG`);
    this.client = client;
    await this.birth();
  }

  async birth(): Promise<void> {
    this.seq = 0;
    const metrics: OutgoingMetric[] = [
      { name: "bdSeq", datatype: "Int64", value: BigInt(this.bdSeq) },
      { name: "Node Control/Rebirth", datatype: "Boolean", value: false },
      { name: "PKG/State", alias: 1n, datatype: "Int32", value: this.state },
      { name: "PKG/Good", alias: 2n, datatype: "UInt32", value: this.good },
      { name: "PKG/Order", alias: 3n, datatype: "String", value: this.orderId },
    ];
    await this.client?.publishAsync(`spBv1.0/${this.groupId}/NBIRTH/PKG`, this.encode(0, metrics), { qos: 1 });
  }

  async data(metrics: OutgoingMetric[]): Promise<void> {
    if (this.client === undefined) return;
    this.seq = (this.seq + 1) % 256;
    await this.client.publishAsync(`spBv1.0/${this.groupId}/NDATA/PKG`, this.encode(this.seq, metrics), { qos: 1 });
  }

  setState(state: number): Promise<void> {
    this.state = state;
    return this.data([{ alias: 1n, datatype: "Int32", value: state }]);
  }

  produce(parts: number): Promise<void> {
    this.good += parts;
    return this.data([{ alias: 2n, datatype: "UInt32", value: this.good }]);
  }

  /** Drops off the broker without a DISCONNECT: the broker publishes the NDEATH will. */
  drop(): void {
    this.client?.stream.destroy();
    this.client = undefined;
  }

  async close(): Promise<void> {
    await this.client?.endAsync();
    this.client = undefined;
  }
}

/**
 * Runs line PKG over Sparkplug B against a running broker: host application, simulated edge node
 * and the Millwright edge node that republishes the counts. Takes about two seconds.
 *
 * @param options - broker, order, and where the events go
 * @returns parts made and counted, events delivered and rebirths requested
 */
export async function runSparkplugLine(options: SparkplugLineOptions): Promise<SparkplugLineSummary> {
  const groupId = `plant-demo-${randomUUID().slice(0, 8)}`;
  const config = parseSparkplugHostConfig({
    brokerUrl: options.brokerUrl,
    groupId,
    hostId: `host-${groupId}`,
    lines: [
      {
        edgeNodeId: "PKG",
        equipment: { id: "PKG", level: "production_line", site: options.site },
        signals: [
          { role: "machine_state", metric: "PKG/State", mapping: { kind: "packml" } },
          { role: "good_count", metric: "PKG/Good" },
          { role: "order_number", metric: "PKG/Order" },
        ],
      },
    ],
  });
  if (config.isErr()) throw new Error(config.error.message);
  const facts = await startSparkplugEdgeNode({ brokerUrl: options.brokerUrl, groupId: `${groupId}-facts`, edgeNodeId: "millwright" });
  if (facts.isErr()) throw new Error(`Sparkplug edge node: ${facts.error.message}`);
  let counted = 0;
  let events = 0;
  const host = await startSparkplugHost({
    config: config.value,
    store: createMemoryCounterStore(),
    handler: async (event) => {
      events += 1;
      const data = event.data as unknown as Record<string, any>;
      if (event.type === "dev.millwright.productioncount.counted.v1") {
        counted += Number(data["goodQuantity"]["value"]);
        await facts.value.publishFact(event);
      }
      await options.deliver(
        event,
        event.type === "dev.millwright.machinestate.changed.v1"
          ? `line PKG is ${data["availability"]} (Sparkplug, PackML ${data["packmlState"] ?? "?"})`
          : `line PKG made ${data["goodQuantity"]["value"]} good for order ${data["order"]?.["orderId"] ?? "none"} (Sparkplug)`,
      );
    },
    onIssue: (issue) => options.log("SPB", `${issue.code}: ${issue.message}`),
  });
  if (host.isErr()) throw new Error(`Sparkplug host: ${host.error.message}`);
  const line = new SimulatedLine(options.brokerUrl, groupId, options.orderId);
  try {
    await line.connect();
    options.log("SPB", `line PKG born on spBv1.0/${groupId} (bdSeq 0); host ${config.value.hostId} is primary`);
    await line.setState(6);
    for (const parts of [12, 15]) {
      await sleep(100);
      await line.produce(parts);
    }
    await sleep(150);
    line.drop();
    options.log("SPB", "line PKG dropped off the broker (NDEATH) while it keeps making parts");
    line.good += 9;
    await sleep(200);
    await line.connect();
    options.log("SPB", "line PKG back with bdSeq 1; its birth carries the counter");
    await sleep(100);
    await line.produce(14);
    await line.setState(17);
    await sleep(300);
    await host.value.idle();
  } finally {
    await line.close();
    await host.value.stop();
    await facts.value.stop();
    // The demo's group is new on every run: leave no retained STATE of its host behind.
    const cleaner = await mqtt.connectAsync(options.brokerUrl, { reconnectPeriod: 0 });
    await cleaner.publishAsync(`spBv1.0/STATE/${config.value.hostId}`, "", { retain: true, qos: 1 });
    await cleaner.endAsync();
  }
  return { made: line.good, counted, events, rebirthsRequested: host.value.rebirthsRequested };
}
