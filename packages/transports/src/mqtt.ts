import { hash } from "node:crypto";
import { mqtt3, mqtt5, parseMqtt5Message, type CanonicalEvent, type EventError, type Mqtt3Message, type Mqtt5Message } from "@millwright/events";
import type { Handler, ProcessOptions } from "@millwright/idempotency";
import type { Meter } from "@opentelemetry/api";
import mqtt, { type IClientOptions, type IClientPublishOptions, type IPublishPacket, type MqttClient } from "mqtt";
import { err, errAsync, ok, ResultAsync, type Result } from "neverthrow";
import { createStatsCounter, delay, settleDelivery, type PublishOutcome, type Publisher, type SubscribeOptions, type Subscription } from "./core.js";
import { describeCause, transportError, type TransportError } from "./errors.js";
import { createTransportInstruments } from "./telemetry.js";
import { createTopicTemplate, DEFAULT_TOPIC_TEMPLATE, topicValuesOf, type TopicValues } from "./topic.js";

export { createTopicTemplate, DEFAULT_TOPIC_TEMPLATE, normalizeLevel, topicValuesOf, type TopicTemplate, type TopicValues } from "./topic.js";

/**
 * The broker URL when none is given: the `MILLWRIGHT_MQTT_URL` environment variable, else `mqtt://127.0.0.1:1883`.
 *
 * @returns the URL
 * @example
 * const url = defaultMqttUrl(); // "mqtt://127.0.0.1:1883" unless MILLWRIGHT_MQTT_URL is set
 */
export function defaultMqttUrl(): string {
  return process.env["MILLWRIGHT_MQTT_URL"] ?? "mqtt://127.0.0.1:1883";
}

/** Options shared by the MQTT publisher and subscriber. */
export interface MqttConnectionOptions {
  /** Default {@link defaultMqttUrl}. */
  readonly url?: string;
  /** 5 (default): binary mode with user properties possible; 4 (MQTT 3.1.1): structured mode only. */
  readonly protocolVersion?: 5 | 4;
  /** How long to wait for the first CONNACK. Default 10 s. */
  readonly connectTimeoutMs?: number;
  /** Further mqtt.js options (credentials, TLS, reconnect period). */
  readonly client?: Omit<IClientOptions, "protocolVersion" | "clean" | "clientId">;
}

/** Options of {@link createMqttPublisher}. */
export interface MqttPublisherOptions extends MqttConnectionOptions {
  /** The unified-namespace template. Default {@link DEFAULT_TOPIC_TEMPLATE}. */
  readonly template?: string;
  /** The first level of the default topic values. Default "millwright". */
  readonly enterprise?: string;
  /** The values the template is filled with. Default {@link topicValuesOf}. */
  readonly topicValues?: (event: CanonicalEvent) => TopicValues;
  /** `binary` (default on MQTT 5): attributes as user properties; `structured` (default on MQTT 3.1.1, the only mode it has): the JSON format. `binary` with protocol version 4 is refused as `invalid_options`. */
  readonly mode?: "binary" | "structured";
  /** Which events are retained as the topic's last known value. Default: machine states. */
  readonly retain?: (event: CanonicalEvent) => boolean;
  /** A stable client id keeps unacknowledged publishes across a restart. Default random. */
  readonly clientId?: string;
  /** Where the publisher's metrics go; the global meter by default (see docs/metrics.md). */
  readonly meter?: Meter;
}

/**
 * Tells whether an event is a machine state, which is retained by default as the last known state of its equipment.
 *
 * @param event - the event
 * @returns true for `dev.millwright.machinestate.*` events
 * @example
 * createMqttPublisher({ retain: (e) => isMachineState(e) || e.type === "dev.millwright.qualityhold.placed.v1" });
 */
export function isMachineState(event: CanonicalEvent): boolean {
  return event.type.startsWith("dev.millwright.machinestate.");
}

/** A broker URL as errors show it: user and password removed. */
function withoutCredentials(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/]*@/i, "$1");
}

function connect(
  options: MqttConnectionOptions,
  clientId: string,
  session: { clean: boolean; expirySeconds?: number },
  prepare: (client: MqttClient) => void = () => undefined,
): ResultAsync<MqttClient, TransportError> {
  const url = options.url ?? defaultMqttUrl();
  const protocolVersion = options.protocolVersion ?? 5;
  const client = mqtt.connect(url, {
    reconnectPeriod: 250,
    connectTimeout: options.connectTimeoutMs ?? 10_000,
    ...options.client,
    protocolVersion,
    clientId,
    clean: session.clean,
    ...(protocolVersion === 5 && session.expirySeconds !== undefined ? { properties: { ...options.client?.properties, sessionExpiryInterval: session.expirySeconds } } : {}),
  });
  // Before the first packet: a resumed session delivers right after CONNACK.
  prepare(client);
  // mqtt.js emits 'error' (refused credentials, protocol errors) and reconnects by itself; without a listener Node would throw.
  let lastError: unknown;
  client.on("error", (e) => {
    lastError = e;
  });
  return ResultAsync.fromPromise(
    new Promise<MqttClient>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no CONNACK from ${withoutCredentials(url)} within ${options.connectTimeoutMs ?? 10_000} ms${lastError === undefined ? "" : ` (${describeCause(lastError)})`}`)),
        options.connectTimeoutMs ?? 10_000,
      );
      client.once("connect", () => {
        clearTimeout(timer);
        resolve(client);
      });
    }),
    (cause) => {
      client.end(true);
      return transportError("connect_failed", withoutCredentials(url), `cannot connect to the MQTT broker: ${describeCause(cause)}`, { cause });
    },
  );
}

/**
 * Creates an MQTT publisher: each event goes at QoS 1 to its unified-namespace topic, in binary
 * mode (MQTT 5 user properties) or structured mode (MQTT 3.1.1, or when asked), retained when it
 * is a last known state. A publish counts as published when the broker's PUBACK arrives.
 *
 * @param options - url, protocol version, template, mode, retain rule, client id
 * @returns the publisher once connected, or why it could not connect
 * @example
 * const publisher = (await createMqttPublisher({ enterprise: "acme" }))._unsafeUnwrap();
 * const outcomes = await publisher.publish([event]);
 */
export function createMqttPublisher(options: MqttPublisherOptions = {}): ResultAsync<Publisher, TransportError> {
  const template = createTopicTemplate(options.template ?? DEFAULT_TOPIC_TEMPLATE);
  if (template.isErr()) return errAsync(template.error);
  const toTopic = template.value.toTopic;
  const enterprise = options.enterprise ?? "millwright";
  const valuesOf = options.topicValues ?? ((e: CanonicalEvent) => topicValuesOf(e, enterprise));
  const retain = options.retain ?? isMachineState;
  const v5 = (options.protocolVersion ?? 5) === 5;
  if (!v5 && options.mode === "binary") {
    return errAsync(transportError("invalid_options", "mode", "binary mode needs MQTT 5 user properties; MQTT 3.1.1 (protocolVersion 4) is structured only", { value: options.mode }));
  }
  const binary = v5 && (options.mode ?? "binary") === "binary";
  const clientId = options.clientId ?? `millwright-pub-${Math.random().toString(36).slice(2, 10)}`;
  const instruments = createTransportInstruments({ system: "mqtt", meter: options.meter });
  return connect(options, clientId, { clean: options.clientId === undefined, expirySeconds: options.clientId === undefined ? 0 : 3600 }).map((client): Publisher => {
    let closed = false;
    const publishOne = async (event: CanonicalEvent): Promise<PublishOutcome> => {
      const startedAt = instruments.now();
      const topic = toTopic(valuesOf(event));
      const outcome = topic.isErr() ? ({ id: event.id, outcome: "failed", attempts: 0, error: topic.error } as const) : await send(event, topic.value);
      instruments.published(outcome, startedAt, topic.isOk() ? topic.value : undefined);
      return outcome;
    };
    const send = async (event: CanonicalEvent, topic: string): Promise<PublishOutcome> => {
      const message: Mqtt5Message | Mqtt3Message = v5 ? (binary ? mqtt5.binary(event) : mqtt5.structured(event)) : mqtt3.structured(event);
      const props: Mqtt5Message["properties"] | undefined = "properties" in message ? (message as Mqtt5Message).properties : undefined;
      const properties: IClientPublishOptions["properties"] = {
        ...(props?.contentType === undefined ? {} : { contentType: props.contentType }),
        ...(props?.userProperties === undefined ? {} : { userProperties: props.userProperties as Record<string, string> }),
      };
      try {
        await client.publishAsync(topic, typeof message.payload === "string" ? message.payload : Buffer.from(message.payload), {
          qos: 1,
          retain: retain(event),
          ...(v5 ? { properties } : {}),
        });
        return { id: event.id, outcome: "published", attempts: 1 };
      } catch (cause) {
        return { id: event.id, outcome: "failed", attempts: 1, error: transportError("publish_failed", topic, describeCause(cause), { cause }) };
      }
    };
    return {
      publish: (events) => {
        if (closed) return errAsync(transportError("closed", clientId, "the publisher is closed"));
        return ResultAsync.fromSafePromise(Promise.all(events.map(publishOne)));
      },
      close: () => {
        closed = true;
        return ResultAsync.fromPromise(client.endAsync(false), (cause) => transportError("closed", clientId, describeCause(cause), { cause }));
      },
    };
  });
}

/** Options of {@link subscribeMqtt}. */
export interface MqttSubscribeOptions<TTx> extends MqttConnectionOptions, Omit<SubscribeOptions<TTx>, "concurrency"> {
  /** Topic filters, wildcards allowed, e.g. `acme/1710/#`. */
  readonly topics: readonly string[];
  /** A stable client id: the broker keeps the session (subscriptions and unacknowledged messages) under it. */
  readonly clientId: string;
  /** How long the broker keeps the session while the subscriber is away (MQTT 5). Default 3600 s. */
  readonly sessionExpirySeconds?: number;
  /** How long to wait before running a message again whose outcome could not be stored. Default 500 ms. */
  readonly retryDelayMs?: number;
  /**
   * Joins an MQTT 5 shared subscription: each filter `f` is subscribed as `$share/<shareGroup>/f`,
   * and the broker hands each message to one member of the group, so subscribers in several
   * processes (each with its own `clientId`) split the load. Order then holds only per member:
   * two messages of one topic may go to two members and be applied in either order. To keep a
   * key's order, give each partition its own topic and one subscriber (see docs/clusters/mqtt.md).
   * Letters, digits, `-`, `_` and `.` only. Default: a plain, non-shared subscription.
   */
  readonly shareGroup?: string;
}

/** The properties of a PUBLISH that has none. */
const NO_PROPERTIES: Mqtt5Message["properties"] = Object.freeze({});

/** What a share group name may hold: no `/`, `+` or `#`, which the `$share/<group>/` prefix cannot carry. */
const SHARE_GROUP = /^[A-Za-z0-9._-]+$/;

/**
 * Subscribes with a persistent session (`clean: false`, session expiry on MQTT 5) at QoS 1 and
 * runs each message through the inbox; the PUBACK is sent only after the outcome is stored, so a
 * crash or a cut connection makes the broker redeliver, and the inbox absorbs the redelivery.
 * mqtt.js hands over one message at a time, which keeps each topic's order; a message whose
 * outcome cannot be stored is run again after `retryDelayMs`. Closing stops taking messages,
 * lets the one in flight finish, and leaves the rest in the broker's session. With `shareGroup`
 * the subscriptions are MQTT 5 shared subscriptions: several processes split the messages.
 *
 * @param options - url, client id, topic filters, session expiry, the inbox, share group
 * @param handler - the effect of each event, run once per event by the inbox
 * @returns the subscription once the broker confirmed the subscriptions
 * @example
 * const sub = (await subscribeMqtt({ clientId: "mes-1", topics: ["acme/1710/#"], inbox }, (e, { tx }) => tx.defer(() => apply(e))))._unsafeUnwrap();
 * await sub.close();
 */
export function subscribeMqtt<TTx>(options: MqttSubscribeOptions<TTx>, handler: Handler<CanonicalEvent, TTx>): ResultAsync<Subscription, TransportError> {
  if (options.topics.length === 0) return errAsync(transportError("invalid_options", "topics", "at least one topic filter"));
  const group = options.shareGroup;
  if (group !== undefined && !SHARE_GROUP.test(group)) {
    return errAsync(transportError("invalid_options", "shareGroup", "a share group name holds letters, digits, '-', '_' and '.' only (no '/', '+' or '#')", { value: group }));
  }
  const filters = group === undefined ? [...options.topics] : options.topics.map((topic) => `$share/${group}/${topic}`);
  const v5 = (options.protocolVersion ?? 5) === 5;
  const retryDelayMs = options.retryDelayMs ?? 500;
  const stats = createStatsCounter();
  const instruments = createTransportInstruments({ system: "mqtt", meter: options.meter });
  let closing = false;
  let inFlight = 0;
  let idle: (() => void) | undefined;
  // What one attempt needs of a message: the event (or why it cannot be read) and, when the
  // payload gives it, the fingerprint of the data for the inbox's revision guard.
  interface Delivery {
    readonly packet: IPublishPacket;
    readonly input: Result<CanonicalEvent, EventError>;
    readonly options: ProcessOptions | undefined;
    readonly startedAt: number;
    readonly done: () => void;
  }
  const readPacket = (packet: IPublishPacket, startedAt: number, done: () => void): Delivery => {
    if (!v5) return { packet, input: mqtt3.toEvent({ payload: packet.payload }), options: undefined, startedAt, done };
    // mqtt.js's properties carry the Content Type and user properties as the binding reads them.
    const read = parseMqtt5Message({ payload: packet.payload, properties: packet.properties ?? NO_PROPERTIES });
    if (read.isErr()) return { packet, input: err(read.error), options: undefined, startedAt, done };
    const event = read.value.event;
    // The guard compares data only for events with a sequence; the payload's canonical text, when
    // it gives one, hashes to fingerprint(event.data) without the data being written out again.
    const canonical = event.sequence === undefined ? undefined : read.value.canonicalData();
    const options = canonical === undefined ? undefined : { fingerprint: hash("sha256", canonical, "hex") };
    return { packet, input: ok(event), options, startedAt, done };
  };
  const rawOf = (packet: IPublishPacket) => (): string => (typeof packet.payload === "string" ? packet.payload : Buffer.from(packet.payload).toString("utf8"));
  const finished = (): void => {
    inFlight--;
    if (inFlight === 0) idle?.();
  };
  // One message at a time (mqtt.js reads the next packet after `done`, which sends the PUBACK), so
  // the first attempt runs without an async function's frames; only a retry loops with a delay.
  const attempt = (d: Delivery): void => {
    const packet = d.packet;
    void settleDelivery(options.inbox, handler, d.input, rawOf(packet), d.options).then((outcome) => {
      instruments.settled(outcome, d.startedAt, packet.topic);
      stats.count(outcome);
      options.onOutcome?.(outcome, { redelivered: packet.dup });
      if (outcome.action === "ack") {
        d.done();
        finished();
      } else if (closing) {
        finished();
      } else {
        void delay(retryDelayMs).then(() => attempt(d));
      }
    });
  };
  const handleMessage = (packet: IPublishPacket, done: () => void): void => {
    // Not acknowledged: the broker keeps it in the session for the next connection.
    if (closing) return;
    inFlight++;
    stats.received();
    instruments.received(packet.topic);
    attempt(readPacket(packet, instruments.now(), done));
  };
  const prepare = (client: MqttClient): void => {
    client.handleMessage = handleMessage;
  };
  return connect(options, options.clientId, { clean: false, expirySeconds: options.sessionExpirySeconds ?? 3600 }, prepare).andThen((client) => {
    const subscribed = ResultAsync.fromPromise(client.subscribeAsync(filters, { qos: 1 }), (cause) =>
      transportError("subscribe_failed", filters.join(","), describeCause(cause), { cause }),
    ).andThen((grants) => {
      const refused = grants.find((g) => g.qos > 2);
      return refused === undefined ? ok(undefined) : err(transportError("subscribe_failed", refused.topic, `the broker refused the subscription (reason ${refused.qos})`, { value: refused }));
    });
    return subscribed
      .orElse((e) => ResultAsync.fromSafePromise(client.endAsync(true)).andThen(() => err(e)))
      .map(
        (): Subscription => ({
          stats: () => stats.snapshot(inFlight),
          close: () => {
            closing = true;
            const drained = inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => (idle = resolve));
            // endAsync(false) lets the PUBACK of the last message go out before DISCONNECT.
            return ResultAsync.fromPromise(
              drained.then(() => client.endAsync(false)),
              (cause) => transportError("closed", options.clientId, describeCause(cause), { cause }),
            );
          },
        }),
      );
  });
}
