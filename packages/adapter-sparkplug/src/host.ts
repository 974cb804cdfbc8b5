import { applyReadings, EMPTY_LINE_STATE, type AdapterEvent, type CounterStateStore, type LineConfig, type SignalReading, type StoredLine } from "@millwright/adapter-kit";
import mqtt, { type MqttClient } from "mqtt";
import { ResultAsync } from "neverthrow";
import { lineKey, toLineConfig, type SparkplugHostConfig, type SparkplugLine } from "./config.js";
import type { HostIssue, SparkplugError } from "./errors.js";
import { encodeSparkplugPayload } from "./payload.js";
import { toLineReadings } from "./mapping.js";
import { SessionTable, type ResolvedMetric } from "./session.js";
import { parseSparkplugTopic, SPARKPLUG_NAMESPACE } from "./topic.js";

/** How the host application runs. */
export interface SparkplugHostOptions {
  readonly config: SparkplugHostConfig;
  /** Durable storage of each line's counter state and unacknowledged events (the OPC UA adapter's store). */
  readonly store: CounterStateStore;
  /**
   * Receives each event, in order; the next message waits until the returned promise settles
   * (backpressure). A rejection is retried with backoff: delivery is at-least-once with stable ids.
   */
  readonly handler: (event: AdapterEvent) => Promise<void> | void;
  /** Receives sequence gaps, unknown aliases, data before births, stale deaths, unmapped DataSets and Templates, and the counter core's issues. */
  readonly onIssue?: (issue: HostIssue) => void;
  /** Receives every decoded metric value of the group, mapped or not. */
  readonly onMetric?: (metric: ResolvedMetric) => void;
  /** The MQTT client id; default `millwright-host-<hostId>`. */
  readonly clientId?: string;
  /** Key prefix of the lines in the store; default `sparkplug/<group>/`. */
  readonly storeKeyPrefix?: string;
  /** The clock of receive times and the STATE timestamp; default `Date.now`. */
  readonly now?: () => number;
}

/** A running host application. */
export interface SparkplugHost {
  /** Resolves when every message received so far is processed and its events delivered. */
  idle(): Promise<void>;
  /** Publishes the offline STATE, waits for the work in hand and disconnects. */
  stop(): Promise<void>;
  /** Rebirth requests sent so far. */
  readonly rebirthsRequested: number;
}

interface Line {
  readonly line: SparkplugLine;
  readonly key: string;
  readonly core: LineConfig;
  stored: StoredLine;
}

const HANDLER_RETRY_MS = { initial: 100, max: 5000 };

/** Whether a STATE payload says `{"online": true}`. */
function isOnline(bytes: Buffer): boolean {
  try {
    const state = JSON.parse(bytes.toString("utf8")) as unknown;
    return typeof state === "object" && state !== null && (state as { online?: unknown }).online === true;
  } catch {
    return false;
  }
}

function toError(code: SparkplugError["code"], cause: unknown): SparkplugError {
  return { code, message: `${code.replace("_", " ")}: ${cause instanceof Error ? cause.message : String(cause)}`, cause };
}

/**
 * Starts a Sparkplug B primary host application: publishes its retained `spBv1.0/STATE/<host id>`
 * birth (with the offline STATE as its will), subscribes to `spBv1.0/<group>/#`, tracks every edge
 * node's session, requests a rebirth (NCMD `Node Control/Rebirth`) on a sequence gap, an unknown
 * alias or data before a birth, and maps the configured metrics through the shared counter core
 * to `machinestate.changed` and `productioncount.counted` events. Line state and pending events
 * are saved in one write before delivery, so nothing is counted twice across rebirths, reconnects
 * and host restarts.
 *
 * @param options - configuration, store, handler and observers
 * @returns the running host once its STATE birth is published, or why it could not start
 * @example
 * ```ts
 * const host = await startSparkplugHost({ config, store: createMemoryCounterStore(), handler: (event) => outbox.add(event) });
 * if (host.isOk()) await host.value.stop();
 * ```
 */
export function startSparkplugHost(options: SparkplugHostOptions): ResultAsync<SparkplugHost, SparkplugError> {
  const { config, store } = options;
  const now = options.now ?? Date.now;
  const prefix = options.storeKeyPrefix ?? `sparkplug/${config.groupId}/`;
  const lines: Line[] = config.lines.map((line) => ({ line, key: lineKey(line), core: toLineConfig(line), stored: { state: EMPTY_LINE_STATE, pending: [] } }));
  const load = Promise.all(
    lines.map(async (l) => {
      l.stored = (await store.load(prefix + l.key)) ?? l.stored;
    }),
  );
  return ResultAsync.fromPromise(load, (cause) => toError("store_failed", cause)).andThen(() => ResultAsync.fromPromise(run(options, lines, prefix, now), (cause) => toError("connect_failed", cause)));
}

async function run(options: SparkplugHostOptions, lines: readonly Line[], prefix: string, now: () => number): Promise<SparkplugHost> {
  const { config, store } = options;
  const report = (issue: HostIssue): void => options.onIssue?.(issue);
  const stateTopic = `${SPARKPLUG_NAMESPACE}/STATE/${config.hostId}`;
  // Sparkplug 3.0: the STATE birth and its will carry the same timestamp.
  const stateTimestamp = now();
  const sessions = new SessionTable(config.rebirthRetryMs);
  const byKey = new Map(lines.map((l) => [l.key, l]));
  let rebirthsRequested = 0;
  let stopping = false;
  let chain: Promise<void> = Promise.resolve();

  const save = async (l: Line): Promise<void> => {
    try {
      await store.save(prefix + l.key, l.stored);
    } catch (cause) {
      report({ code: "store_failed", path: "/store", signal: l.key, value: store.name, message: `saving line state failed: ${cause instanceof Error ? cause.message : String(cause)}` });
    }
  };
  const deliver = async (l: Line): Promise<void> => {
    let delay = HANDLER_RETRY_MS.initial;
    while (l.stored.pending.length > 0) {
      const [event, ...rest] = l.stored.pending;
      if (event === undefined) break;
      try {
        await options.handler(event);
      } catch (cause) {
        report({ code: "handler_failed", path: "/handler", signal: l.key, value: event.id, message: `handler rejected event ${event.id}: ${cause instanceof Error ? cause.message : String(cause)}; retried in ${delay} ms` });
        if (stopping) return;
        await new Promise((resolve) => setTimeout(resolve, delay));
        delay = Math.min(delay * 2, HANDLER_RETRY_MS.max);
        continue;
      }
      l.stored = { state: l.stored.state, pending: rest };
      await save(l);
    }
  };
  const step = async (l: Line, readings: readonly SignalReading[]): Promise<void> => {
    const result = applyReadings(l.core, l.stored.state, readings);
    for (const issue of result.issues) report(issue);
    l.stored = { state: result.state, pending: [...l.stored.pending, ...result.events] };
    // State and events in one write before delivery: a crash redelivers the same events, never recomputes them.
    await save(l);
    await deliver(l);
  };

  const client: MqttClient = await mqtt.connectAsync(config.brokerUrl, {
    clientId: options.clientId ?? `millwright-host-${config.hostId}`,
    clean: true,
    reconnectPeriod: 500,
    connectTimeout: 10_000,
    will: { topic: stateTopic, payload: Buffer.from(JSON.stringify({ online: false, timestamp: stateTimestamp })), qos: 1, retain: true },
  });
  const announce = async (): Promise<void> => {
    sessions.reset();
    await client.subscribeAsync([`${SPARKPLUG_NAMESPACE}/${config.groupId}/#`, stateTopic], { qos: 1 });
    await client.publishAsync(stateTopic, JSON.stringify({ online: true, timestamp: stateTimestamp }), { qos: 1, retain: true });
  };
  const requestRebirth = (edgeNodeId: string): void => {
    const payload = encodeSparkplugPayload({ timestamp: now(), metrics: [{ name: "Node Control/Rebirth", datatype: "Boolean", value: true }] });
    if (payload.isErr()) throw new TypeError(payload.error.message);
    rebirthsRequested += 1;
    client.publish(`${SPARKPLUG_NAMESPACE}/${config.groupId}/NCMD/${edgeNodeId}`, Buffer.from(payload.value), { qos: 0 });
  };
  const process = async (topic: string, bytes: Buffer, receivedMs: number): Promise<void> => {
    const parsed = parseSparkplugTopic(topic);
    if (parsed === undefined) return;
    if (parsed.kind === "state") {
      // Another client's will or a stale retained message says this host is offline: say it is not.
      if (parsed.hostId === config.hostId && !stopping && !isOnline(bytes)) {
        await client.publishAsync(stateTopic, JSON.stringify({ online: true, timestamp: stateTimestamp }), { qos: 1, retain: true });
      }
      return;
    }
    if (parsed.groupId !== config.groupId) return;
    const outcome = sessions.apply(parsed, bytes, receivedMs);
    for (const issue of outcome.issues) report(issue);
    if (outcome.rebirth !== undefined) requestRebirth(outcome.rebirth);
    for (const metric of outcome.metrics) options.onMetric?.(metric);
    const mapped = toLineReadings(config.lines, outcome, topic);
    for (const issue of mapped.issues) report(issue);
    for (const [key, batch] of mapped.readings) {
      const l = byKey.get(key);
      if (l !== undefined) await step(l, batch);
    }
  };

  client.on("connect", () => {
    chain = chain.then(announce).catch(() => undefined);
  });
  client.on("message", (topic, payload) => {
    const receivedMs = now();
    chain = chain
      .then(() => process(topic, payload, receivedMs))
      .catch((cause: unknown) => {
        report({ code: "processing_failed", path: topic, signal: topic, value: cause, message: `processing failed: ${cause instanceof Error ? cause.message : String(cause)}` });
      });
  });
  // Events a previous run saved but did not deliver go first.
  chain = chain.then(async () => {
    for (const l of lines) await deliver(l);
  });
  chain = chain.then(announce);
  await chain;

  return {
    idle: async () => {
      let current: Promise<void> | undefined;
      while (current !== chain) {
        current = chain;
        await current;
      }
    },
    stop: async () => {
      if (stopping) return;
      // Set first: a delivery retrying a failing handler gives up, and its events stay pending in the store.
      stopping = true;
      await chain;
      if (client.connected) await client.publishAsync(stateTopic, JSON.stringify({ online: false, timestamp: stateTimestamp }), { qos: 1, retain: true });
      await client.endAsync();
    },
    get rebirthsRequested() {
      return rebirthsRequested;
    },
  };
}
