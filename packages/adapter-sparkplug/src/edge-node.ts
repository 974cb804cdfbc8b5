import type { CreatedEvent } from "@millwright/events";
import mqtt, { type MqttClient } from "mqtt";
import { errAsync, okAsync, ResultAsync } from "neverthrow";
import type { SparkplugError } from "./errors.js";
import { decodeSparkplugPayload, encodeSparkplugPayload, type OutgoingMetric } from "./payload.js";
import { SPARKPLUG_NAMESPACE } from "./topic.js";

/** How an edge node runs. */
export interface SparkplugEdgeNodeOptions {
  /** MQTT broker URL, `mqtt://host:port`. */
  readonly brokerUrl: string;
  readonly groupId: string;
  readonly edgeNodeId: string;
  /** The MQTT client id; default `millwright-edge-<group>-<edge node>`. */
  readonly clientId?: string;
  /**
   * The `bdSeq` of the first MQTT session, 0–255 (default 0); each new session counts on by one.
   * Persist `bdSeq` across restarts and pass the next one, so that a host can tell an old will from a new one.
   */
  readonly bdSeq?: number;
  /** Delay before a lost connection is opened again, with a new `bdSeq`, in ms (default 500). */
  readonly reconnectDelayMs?: number;
  /** The clock of payload timestamps; default `Date.now`. */
  readonly now?: () => number;
}

/** A running edge node that publishes canonical facts as Sparkplug metrics. */
export interface SparkplugEdgeNode {
  /**
   * Publishes the metrics a canonical fact sets: a work order's status and revision, a production
   * count's running good and defective totals and order, a quality hold's status. A fact whose
   * metrics the last NBIRTH did not declare makes a new NBIRTH; a fact already published (same
   * event id) changes nothing. While disconnected the values are kept and the next NBIRTH carries them.
   */
  publishFact(event: CreatedEvent): ResultAsync<void, SparkplugError>;
  /** The `bdSeq` of the current (or last) MQTT session. */
  readonly bdSeq: number;
  /** NBIRTH certificates published so far (connects and rebirths). */
  readonly births: number;
  /** Publishes the NDEATH and disconnects. */
  stop(): Promise<void>;
}

interface Metric {
  readonly alias: bigint;
  readonly datatype: OutgoingMetric["datatype"];
  value: OutgoingMetric["value"];
  timestamp: number;
}

type Update = { readonly name: string; readonly datatype: OutgoingMetric["datatype"]; readonly value: OutgoingMetric["value"] | ((previous: OutgoingMetric["value"] | undefined) => OutgoingMetric["value"]) };

const MAX_SEEN = 100_000;

function integerQuantity(value: string, path: string): bigint | SparkplugError {
  if (!/^\d{1,19}(\.0*)?$/.test(value)) return { code: "invalid_fact", message: `${path} ${JSON.stringify(value)} is not a whole number of parts; Sparkplug counts are UInt64` };
  return BigInt(value.split(".")[0] ?? "0");
}

/** The metric updates of one canonical fact, or why it has none. */
function updatesOf(event: CreatedEvent): readonly Update[] | SparkplugError {
  const data = event.data as unknown as Record<string, unknown>;
  if (event.type.startsWith("dev.millwright.workorder.")) {
    const orderId = String(data["orderId"]);
    return [
      { name: `Work Orders/${orderId}/Status`, datatype: "String", value: String(data["status"]) },
      { name: `Work Orders/${orderId}/Revision`, datatype: "String", value: String(data["revision"]) },
    ];
  }
  if (event.type === "dev.millwright.qualityhold.placed.v1" || event.type === "dev.millwright.qualityhold.released.v1") {
    return [{ name: `Quality Holds/${String(data["holdId"])}/Status`, datatype: "String", value: String(data["status"]) }];
  }
  if (event.type === "dev.millwright.productioncount.counted.v1") {
    const equipment = data["equipment"] as { readonly id: string; readonly site: { readonly id: string } };
    const good = integerQuantity((data["goodQuantity"] as { value: string }).value, "goodQuantity");
    const defective = integerQuantity((data["defectiveQuantity"] as { value: string }).value, "defectiveQuantity");
    if (typeof good !== "bigint") return good;
    if (typeof defective !== "bigint") return defective;
    const base = `Counts/${equipment.site.id}/${equipment.id}`;
    const order = (data["order"] as { readonly orderId?: string } | undefined)?.orderId ?? "";
    const add = (n: bigint) => (previous: OutgoingMetric["value"] | undefined) => (typeof previous === "bigint" ? previous : 0n) + n;
    return [
      { name: `${base}/Good`, datatype: "UInt64", value: add(good) },
      { name: `${base}/Defective`, datatype: "UInt64", value: add(defective) },
      { name: `${base}/Order`, datatype: "String", value: order },
    ];
  }
  return { code: "invalid_fact", message: `${event.type} has no Sparkplug metrics; the edge node publishes work order status, production counts and quality holds` };
}

/**
 * Starts a Sparkplug B edge node that publishes canonical facts (work order status, production
 * counts, quality holds) as metrics: an NBIRTH with every metric, its alias and datatype, and the
 * `bdSeq`; NDATA by alias with the 0–255 sequence; an NDEATH as the MQTT will; a new NBIRTH on a
 * `Node Control/Rebirth` command. Metrics in NDATA keep their datatype so that decoders without
 * an alias table (Tahu's `sparkplug-payload`) read them.
 *
 * @param options - broker, group and edge node id
 * @returns the edge node once its first NBIRTH is published
 * @example
 * ```ts
 * const node = await startSparkplugEdgeNode({ brokerUrl: "mqtt://127.0.0.1:1883", groupId: "plant1", edgeNodeId: "millwright" });
 * if (node.isOk()) await node.value.publishFact(workOrderReleased);
 * ```
 */
export function startSparkplugEdgeNode(options: SparkplugEdgeNodeOptions): ResultAsync<SparkplugEdgeNode, SparkplugError> {
  const now = options.now ?? Date.now;
  const base = `${SPARKPLUG_NAMESPACE}/${options.groupId}`;
  const metrics = new Map<string, Metric>();
  const seen = new Set<string>();
  let nextAlias = 1n;
  let bdSeq = (options.bdSeq ?? 0) % 256;
  let seq = 0;
  let births = 0;
  let stopping = false;
  let client: MqttClient | undefined;
  let chain: Promise<unknown> = Promise.resolve();

  const encode = (payload: Parameters<typeof encodeSparkplugPayload>[0]): Buffer => {
    const bytes = encodeSparkplugPayload(payload);
    if (bytes.isErr()) throw new TypeError(`${bytes.error.path}: ${bytes.error.message}`);
    return Buffer.from(bytes.value);
  };
  const death = (): Buffer => encode({ timestamp: now(), metrics: [{ name: "bdSeq", datatype: "Int64", value: BigInt(bdSeq) }] });
  const birth = async (c: MqttClient): Promise<void> => {
    seq = 0;
    const timestamp = now();
    const all: OutgoingMetric[] = [
      { name: "bdSeq", datatype: "Int64", value: BigInt(bdSeq), timestamp },
      { name: "Node Control/Rebirth", datatype: "Boolean", value: false, timestamp },
      ...[...metrics].map(([name, m]) => ({ name, alias: m.alias, datatype: m.datatype, value: m.value, timestamp: m.timestamp })),
    ];
    births += 1;
    await c.publishAsync(`${base}/NBIRTH/${options.edgeNodeId}`, encode({ timestamp, seq: 0, metrics: all }), { qos: 0 });
  };
  const connect = async (): Promise<MqttClient> => {
    const c = await mqtt.connectAsync(options.brokerUrl, {
      clientId: options.clientId ?? `millwright-edge-${options.groupId}-${options.edgeNodeId}`,
      clean: true,
      // Each MQTT session has its own bdSeq in its will: reconnects are made here, never by mqtt.js.
      reconnectPeriod: 0,
      connectTimeout: 10_000,
      will: { topic: `${base}/NDEATH/${options.edgeNodeId}`, payload: death(), qos: 1, retain: false },
    });
    c.on("message", (topic, payload) => {
      const decoded = decodeSparkplugPayload(payload);
      if (decoded.isErr()) return;
      if (decoded.value.metrics.some((m) => m.name === "Node Control/Rebirth" && m.value === true)) chain = chain.then(() => birth(c)).catch(() => undefined);
    });
    c.on("close", () => {
      if (stopping || client !== c) return;
      client = undefined;
      setTimeout(reconnect, options.reconnectDelayMs ?? 500);
    });
    await c.subscribeAsync(`${base}/NCMD/${options.edgeNodeId}`, { qos: 0 });
    await birth(c);
    return c;
  };
  const reconnect = (): void => {
    if (stopping) return;
    bdSeq = (bdSeq + 1) % 256;
    chain = chain
      .then(connect)
      .then((c) => {
        client = c;
      })
      .catch(() => {
        if (!stopping) setTimeout(reconnect, options.reconnectDelayMs ?? 500);
      });
  };

  const publish = async (event: CreatedEvent, updates: readonly Update[]): Promise<void> => {
    if (seen.has(event.id)) return;
    seen.add(event.id);
    if (seen.size > MAX_SEEN) seen.delete(seen.values().next().value ?? "");
    const timestamp = Date.parse(event.time);
    let declared = true;
    const changed: [string, Metric][] = [];
    for (const u of updates) {
      const previous = metrics.get(u.name);
      const value = typeof u.value === "function" ? u.value(previous?.value) : u.value;
      if (previous === undefined) {
        declared = false;
        const m: Metric = { alias: nextAlias, datatype: u.datatype, value, timestamp };
        nextAlias += 1n;
        metrics.set(u.name, m);
      } else {
        previous.value = value;
        previous.timestamp = timestamp;
        changed.push([u.name, previous]);
      }
    }
    const c = client;
    if (c === undefined || !c.connected) return;
    if (!declared) return birth(c);
    seq = (seq + 1) % 256;
    const payload = encode({ timestamp: now(), seq, metrics: changed.map(([, m]) => ({ alias: m.alias, datatype: m.datatype, value: m.value, timestamp: m.timestamp })) });
    await c.publishAsync(`${base}/NDATA/${options.edgeNodeId}`, payload, { qos: 0 });
  };

  return ResultAsync.fromPromise(connect(), (cause): SparkplugError => ({ code: "connect_failed", message: `edge node ${options.edgeNodeId} could not connect to ${options.brokerUrl}: ${cause instanceof Error ? cause.message : String(cause)}`, cause })).map((c) => {
    client = c;
    const node: SparkplugEdgeNode = {
      publishFact(event) {
        if (stopping) return errAsync({ code: "stopped", message: "the edge node is stopped" });
        const updates = updatesOf(event);
        if (!Array.isArray(updates)) return errAsync(updates as SparkplugError);
        const done = chain.then(() => publish(event, updates as readonly Update[]));
        chain = done.catch(() => undefined);
        return ResultAsync.fromPromise(done, (cause): SparkplugError => ({ code: "publish_failed", message: `publishing ${event.id} failed: ${cause instanceof Error ? cause.message : String(cause)}`, cause })).andThen(() => okAsync(undefined));
      },
      get bdSeq() {
        return bdSeq;
      },
      get births() {
        return births;
      },
      async stop() {
        if (stopping) return;
        stopping = true;
        await chain;
        const c = client;
        client = undefined;
        if (c === undefined) return;
        if (c.connected) await c.publishAsync(`${base}/NDEATH/${options.edgeNodeId}`, death(), { qos: 1 });
        await c.endAsync();
      },
    };
    return node;
  });
}
