import type { StatusSeverity } from "@millwright/adapter-kit";
import type { HostIssue, SessionIssueCode } from "./errors.js";
import { decodeWith, type DatatypeResolver, type MetricValue, type SparkplugDataType, type SparkplugMetric, type SparkplugPayload } from "./payload.js";
import type { SparkplugTopic } from "./topic.js";

/** A metric as its birth declared it. */
interface MetricDef {
  readonly name: string;
  readonly datatype: SparkplugDataType;
}

/** The metrics one birth (NBIRTH or DBIRTH) declared, by alias and by name. */
interface Scope {
  born: boolean;
  readonly aliases: Map<bigint, MetricDef>;
  readonly names: Map<string, SparkplugDataType>;
}

/** What the host knows of one edge node's current session. */
interface NodeSession {
  /** The session's `bdSeq` (decimal), from its NBIRTH; null when the host has seen no birth. */
  bdSeq: string | null;
  node: Scope;
  /** The last sequence number received, 0–255; null when the next message must be an NBIRTH. */
  lastSeq: number | null;
  devices: Map<string, Scope>;
  /** When the host last asked for a rebirth that has not come, ms. */
  rebirthRequestedMs: number | null;
}

/** One metric value resolved to its birth name, with the time and quality it carries. */
export interface ResolvedMetric {
  readonly edgeNodeId: string;
  readonly deviceId?: string;
  readonly name: string;
  readonly datatype: SparkplugDataType;
  readonly value: MetricValue;
  /** ms since the Unix epoch: the metric's timestamp, else the payload's, else the time received. */
  readonly timestampMs: number;
  readonly severity: StatusSeverity;
  /** `Good`, `Sparkplug quality <n>` from the metric's `Quality` property, or `Null`. */
  readonly status: string;
  readonly isHistorical: boolean;
  /** The message type that carried it (births carry every metric's current value). */
  readonly messageType: "NBIRTH" | "DBIRTH" | "NDATA" | "DDATA";
}

/** An edge node (NDEATH: the node and all its devices) or a device that died. */
export interface Death {
  readonly edgeNodeId: string;
  /** Absent for an NDEATH: every line of the edge node died. */
  readonly deviceId?: string;
  /** When the host received the death, ms: an NDEATH is the MQTT will, whose timestamp is the node's connect time. */
  readonly ms: number;
  readonly type: "NDEATH" | "DDEATH";
}

/** What one message did to the sessions. */
export interface SessionOutcome {
  readonly metrics: readonly ResolvedMetric[];
  readonly deaths: readonly Death[];
  /** The edge node to send `Node Control/Rebirth`, when the message broke its session. */
  readonly rebirth?: string;
  readonly issues: readonly HostIssue[];
  readonly payload?: SparkplugPayload;
}

function scopeOf(metrics: readonly SparkplugMetric[]): Scope {
  const aliases = new Map<bigint, MetricDef>();
  const names = new Map<string, SparkplugDataType>();
  for (const m of metrics) {
    if (m.name === undefined) continue;
    names.set(m.name, m.datatype);
    if (m.alias !== undefined) aliases.set(m.alias, { name: m.name, datatype: m.datatype });
  }
  return { born: true, aliases, names };
}

interface Quality {
  readonly severity: StatusSeverity;
  readonly status: string;
}

const NULL_QUALITY: Quality = { severity: "bad", status: "Null" };
const GOOD_QUALITY: Quality = { severity: "good", status: "Good" };

function quality(metric: SparkplugMetric): Quality {
  if (metric.isNull) return NULL_QUALITY;
  if (metric.properties === undefined) return GOOD_QUALITY;
  const q = metric.properties.properties["Quality"]?.value;
  const n = typeof q === "bigint" ? Number(q) : q;
  if (typeof n !== "number") return GOOD_QUALITY;
  // Ignition's and Tahu's quality codes: 192 good, 64 uncertain, 0 bad (OPC DA quality bits).
  return { severity: n >= 192 ? "good" : n >= 64 ? "uncertain" : "bad", status: n >= 192 ? "Good" : `Sparkplug quality ${n}` };
}

/**
 * Looks a data message's metrics up in their birth, once: each metric's definition by alias (undefined
 * for a metric sent by name), and the metrics the birth did not declare, in message order.
 */
function declared(metrics: readonly SparkplugMetric[], scope: Scope): { readonly byAlias: (MetricDef | undefined)[]; readonly unknown: SparkplugMetric[] } {
  const byAlias: (MetricDef | undefined)[] = [];
  const unknown: SparkplugMetric[] = [];
  for (const m of metrics) {
    const def = m.alias !== undefined ? scope.aliases.get(m.alias) : undefined;
    byAlias.push(def);
    if (m.alias !== undefined ? def === undefined : m.name === undefined || !scope.names.has(m.name)) unknown.push(m);
  }
  return { byAlias, unknown };
}

function reportIssue(issues: HostIssue[], topic: Extract<SparkplugTopic, { kind: "message" }>, code: SessionIssueCode, value: unknown, message: string): void {
  const { type, edgeNodeId, deviceId } = topic;
  const path = [topic.groupId, type, edgeNodeId, ...(deviceId === undefined ? [] : [deviceId])].join("/");
  issues.push({ code, path: `spBv1.0/${path}`, signal: deviceId === undefined ? edgeNodeId : `${edgeNodeId}/${deviceId}`, value, message });
}

/**
 * The host application's table of edge node sessions: per edge node the `bdSeq`, the 0–255
 * sequence, the alias tables of the node's and each device's birth. Deterministic: the same
 * messages with the same receive times give the same outcomes; no I/O, no clock.
 */
export class SessionTable {
  readonly #nodes = new Map<string, NodeSession>();

  constructor(private readonly rebirthRetryMs: number) {}

  /**
   * Applies one message of the group.
   *
   * @param topic - the parsed topic (a `message`, not `state`)
   * @param bytes - the payload bytes
   * @param receivedMs - when the host received it, ms
   * @returns the resolved metric values, deaths, a rebirth to request and the issues
   */
  apply(topic: Extract<SparkplugTopic, { kind: "message" }>, bytes: Uint8Array, receivedMs: number): SessionOutcome {
    const { type, edgeNodeId, deviceId } = topic;
    const session = this.#nodes.get(edgeNodeId);
    const issues: HostIssue[] = [];
    if (type === "NCMD" || type === "DCMD") return { metrics: [], deaths: [], issues };

    if (type === "NBIRTH") {
      const decoded = decodeWith(bytes, undefined);
      if (decoded.isErr()) return this.#rebirth(issues, topic, receivedMs, "invalid_payload", decoded.error, `NBIRTH is not a Sparkplug B payload: ${decoded.error.path} ${decoded.error.message}`);
      const payload = decoded.value;
      const bdSeq = payload.metrics.find((m) => m.name === "bdSeq")?.value;
      const node: NodeSession = {
        bdSeq: typeof bdSeq === "bigint" || typeof bdSeq === "number" ? String(bdSeq) : null,
        node: scopeOf(payload.metrics),
        lastSeq: payload.seq ?? 0,
        devices: new Map(),
        rebirthRequestedMs: null,
      };
      this.#nodes.set(edgeNodeId, node);
      return { metrics: this.#resolve(payload, node.node, topic, "NBIRTH", receivedMs), deaths: [], issues, payload };
    }

    if (type === "NDEATH") {
      const decoded = decodeWith(bytes, undefined);
      const bdSeq = decoded.isOk() ? decoded.value.metrics.find((m) => m.name === "bdSeq")?.value : undefined;
      const deathSeq = typeof bdSeq === "bigint" || typeof bdSeq === "number" ? String(bdSeq) : null;
      // A will of an older connection can arrive after the new NBIRTH: it ends nothing.
      if (session?.bdSeq != null && deathSeq !== null && deathSeq !== session.bdSeq) {
        reportIssue(issues, topic, "stale_death", { bdSeq: deathSeq, current: session.bdSeq }, `NDEATH with bdSeq ${deathSeq} is not of the current session (bdSeq ${session.bdSeq}); ignored`);
        return { metrics: [], deaths: [], issues };
      }
      const node = session ?? this.#fresh(edgeNodeId);
      node.lastSeq = null;
      node.node.born = false;
      node.bdSeq = null;
      node.rebirthRequestedMs = null;
      for (const device of node.devices.values()) device.born = false;
      return { metrics: [], deaths: [{ edgeNodeId, ms: receivedMs, type: "NDEATH" }], issues };
    }

    // NDATA, DBIRTH, DDATA, DDEATH: only within a session whose sequence is unbroken.
    if (session === undefined || !session.node.born || session.lastSeq === null) {
      return this.#rebirth(issues, topic, receivedMs, "data_before_birth", type, `${type} from an edge node without a current NBIRTH`);
    }
    const scope = type === "NDATA" ? session.node : deviceId === undefined ? undefined : session.devices.get(deviceId);
    const misses: string[] = [];
    this.#lookup = { scope, misses };
    const decoded = decodeWith(bytes, this.#resolveDatatype);
    this.#lookup = undefined;
    const payload = decoded.isOk() ? decoded.value : undefined;
    const seq = payload?.seq;
    const expected = (session.lastSeq + 1) % 256;
    if (seq !== expected) {
      return this.#rebirth(issues, topic, receivedMs, "sequence_gap", { expected, received: seq ?? null }, `${type} has seq ${seq ?? "none"}, expected ${expected}`);
    }
    session.lastSeq = expected;
    if (payload === undefined) {
      if (type !== "DBIRTH" && misses.length > 0) return this.#rebirth(issues, topic, receivedMs, "unknown_alias", misses, `${type} names metrics its birth did not declare: ${misses.join(", ")}`);
      const error = decoded.isErr() ? decoded.error : undefined;
      return this.#rebirth(issues, topic, receivedMs, "invalid_payload", error, `${type} is not a valid Sparkplug B payload: ${error?.path ?? ""} ${error?.message ?? ""}`);
    }
    if (type === "DBIRTH") {
      if (deviceId === undefined) return { metrics: [], deaths: [], issues };
      const device = scopeOf(payload.metrics);
      session.devices.set(deviceId, device);
      return { metrics: this.#resolve(payload, device, topic, "DBIRTH", receivedMs), deaths: [], issues, payload };
    }
    if (type === "DDEATH") {
      const device = deviceId === undefined ? undefined : session.devices.get(deviceId);
      if (device !== undefined) device.born = false;
      return { metrics: [], deaths: deviceId === undefined ? [] : [{ edgeNodeId, deviceId, ms: receivedMs, type: "DDEATH" }], issues };
    }
    if (scope === undefined || !scope.born) return this.#rebirth(issues, topic, receivedMs, "data_before_birth", type, `${type} from device ${deviceId ?? ""} without a current DBIRTH`);
    const defs = declared(payload.metrics, scope);
    if (defs.unknown.length > 0) {
      return this.#rebirth(issues, topic, receivedMs, "unknown_alias", defs.unknown.map((m) => (m.alias !== undefined ? `alias ${m.alias}` : `name ${JSON.stringify(m.name)}`)), `${type} names metrics its birth did not declare`);
    }
    return { metrics: this.#resolve(payload, scope, topic, type, receivedMs, defs.byAlias), deaths: [], issues, payload };
  }

  /**
   * Forgets every session: after the host's own reconnect it cannot know what it missed, so the
   * next message of each edge node asks for a rebirth.
   */
  reset(): void {
    this.#nodes.clear();
  }

  /** The scope the message being decoded resolves its datatypes in, and the names it could not. */
  #lookup: { readonly scope: Scope | undefined; readonly misses: string[] } | undefined;

  /** One resolver for every message (see #lookup), not a closure per message. */
  readonly #resolveDatatype: DatatypeResolver = (name, alias) => {
    const lookup = this.#lookup;
    const scope = lookup?.scope;
    const found = alias !== undefined ? scope?.aliases.get(alias)?.datatype : name !== undefined ? scope?.names.get(name) : undefined;
    if (found === undefined) lookup?.misses.push(alias !== undefined ? `alias ${alias}` : `name ${JSON.stringify(name)}`);
    return found;
  };

  #rebirth(issues: HostIssue[], topic: Extract<SparkplugTopic, { kind: "message" }>, receivedMs: number, code: SessionIssueCode, value: unknown, message: string): SessionOutcome {
    const { edgeNodeId } = topic;
    const node = this.#nodes.get(edgeNodeId) ?? this.#fresh(edgeNodeId);
    node.lastSeq = null;
    node.node.born = false;
    for (const device of node.devices.values()) device.born = false;
    const due = node.rebirthRequestedMs === null || receivedMs - node.rebirthRequestedMs >= this.rebirthRetryMs;
    reportIssue(issues, topic, code, value, `${message}; ${due ? "rebirth requested" : "rebirth already requested"}, data ignored until the NBIRTH`);
    if (!due) return { metrics: [], deaths: [], issues };
    node.rebirthRequestedMs = receivedMs;
    return { metrics: [], deaths: [], rebirth: edgeNodeId, issues };
  }

  #fresh(edgeNodeId: string): NodeSession {
    const node: NodeSession = { bdSeq: null, node: { born: false, aliases: new Map(), names: new Map() }, lastSeq: null, devices: new Map(), rebirthRequestedMs: null };
    this.#nodes.set(edgeNodeId, node);
    return node;
  }

  #resolve(
    payload: SparkplugPayload,
    scope: Scope,
    topic: Extract<SparkplugTopic, { kind: "message" }>,
    messageType: ResolvedMetric["messageType"],
    receivedMs: number,
    defs?: readonly (MetricDef | undefined)[],
  ): ResolvedMetric[] {
    const resolved: ResolvedMetric[] = [];
    for (let i = 0; i < payload.metrics.length; i++) {
      const m = payload.metrics[i] as SparkplugMetric;
      // `defs`: the message's lookups in its birth, already made (declared).
      const def = defs !== undefined ? defs[i] : m.alias !== undefined ? scope.aliases.get(m.alias) : undefined;
      const q = quality(m);
      const metric: { -readonly [K in keyof ResolvedMetric]: ResolvedMetric[K] } = {
        edgeNodeId: topic.edgeNodeId,
        name: m.name ?? def?.name ?? "",
        datatype: m.datatype === "Unknown" ? (def?.datatype ?? "Unknown") : m.datatype,
        value: m.value,
        timestampMs: m.timestamp ?? payload.timestamp ?? receivedMs,
        severity: q.severity,
        status: q.status,
        isHistorical: m.isHistorical,
        messageType,
      };
      if (topic.deviceId !== undefined) metric.deviceId = topic.deviceId;
      resolved.push(metric);
    }
    return resolved;
  }
}
