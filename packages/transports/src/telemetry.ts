// OpenTelemetry metrics of the transports through @opentelemetry/api only, named by the
// OpenTelemetry semantic conventions for messaging where they apply. Without a registered SDK the
// default meter is the API's no-op meter: the transports get one shared set of empty functions and
// record nothing, not even a clock reading.
import { createNoopMeter, metrics, ValueType, type Attributes, type Meter, type ObservableResult } from "@opentelemetry/api";
import packageJson from "../package.json" with { type: "json" };
import type { DeliveryOutcome, PublishOutcome } from "./core.js";

/** The names of the metrics the transports record. */
export const TRANSPORT_METRICS = {
  /** Counter (semconv): messages delivered to the subscriber, by `messaging.system`, `messaging.destination.name`, `messaging.operation.name`. */
  consumed: "messaging.client.consumed.messages",
  /** Histogram, seconds (semconv): the time from a message's arrival to its settlement (the inbox's work included), with `error.type` when it was not stored. */
  processDuration: "messaging.process.duration",
  /** Counter (semconv): events the publisher attempted to send, with `error.type` when the broker never accepted one. */
  sent: "messaging.client.sent.messages",
  /** Histogram, seconds (semconv): the duration of each event's publish, retries included, with `error.type` on failure. */
  operationDuration: "messaging.client.operation.duration",
  /** Gauge: messages the broker holds for a consumer and has not yet delivered (NATS JetStream `num_pending`). */
  consumerLag: "millwright.consumer.lag",
  /** Counter: messages handed back to the broker for redelivery because their outcome could not be stored, by `error.type`. */
  redeliveries: "millwright.transport.redeliveries",
  /** Counter: messages that are no valid event of the contract, by the events package's error `code` as `error.type`. */
  contractRejections: "millwright.contract.rejections",
  /** Counter: webhook requests refused before the inbox, by `millwright.webhook.reason` (the reply's `code`). */
  webhookRejections: "millwright.webhook.rejections",
} as const;

/** The `messaging.system` of each transport: `rabbitmq` is the semantic conventions' own value; the others have none there. */
export type MessagingSystem = "nats" | "mqtt" | "rabbitmq" | "webhook";

/** What a transport records. Every function is empty when no SDK is registered. */
export interface TransportInstruments {
  /** The clock of the durations, in ms; returns 0 when nothing is recorded. */
  readonly now: () => number;
  /** A message arrived at a subscriber. */
  readonly received: (destination: string | undefined) => void;
  /** A message was settled: `startedAt` is `now()` at its arrival. */
  readonly settled: (outcome: DeliveryOutcome, startedAt: number, destination: string | undefined) => void;
  /** A publish ended: `startedAt` is `now()` before its first attempt. */
  readonly published: (outcome: PublishOutcome, startedAt: number, destination: string | undefined) => void;
  /** A webhook request was refused with `reason` (the `code` of the reply) before it reached the inbox. */
  readonly webhookRejected: (reason: string) => void;
  /**
   * Observes the consumer lag at each collection; returns the function that stops observing. The
   * callback resolves to undefined when the broker could not be asked.
   */
  readonly observeLag: (read: () => Promise<number | undefined>, attributes: Attributes) => () => void;
}

/** What a transport names in its instruments. */
export interface TransportInstrumentOptions {
  readonly system: MessagingSystem;
  /** Added to every measurement, e.g. `messaging.consumer.group.name` of a durable consumer. */
  readonly attributes?: Attributes;
  /** The meter; `metrics.getMeter("@millwright/transports", version)` by default. */
  readonly meter?: Meter | undefined;
}

/**
 * The prototype of the API's no-op meter: what `metrics.getMeter` gives while no SDK is registered.
 * The metrics API has no proxy meter, so such a meter stays a no-op for good.
 */
const NOOP_METER_PROTOTYPE: unknown = Object.getPrototypeOf(createNoopMeter());

/** The semantic conventions' advice for messaging durations, in seconds. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

const noop = (): void => undefined;
const NOOP_INSTRUMENTS: TransportInstruments = {
  now: () => 0,
  received: noop,
  settled: noop,
  published: noop,
  webhookRejected: noop,
  observeLag: () => noop,
};

/** The `error.type` of a settlement, or undefined when its outcome was stored as a success. */
function errorTypeOf(outcome: DeliveryOutcome): string | undefined {
  if (outcome.action === "retry") return outcome.error.code;
  if ("rejected" in outcome) return outcome.rejected.code;
  return outcome.outcome.outcome === "failed" ? outcome.outcome.code : undefined;
}

/**
 * Creates a transport's instruments: the shared no-op set when the meter is the API's no-op meter.
 *
 * @param options - the messaging system, attributes of every measurement, and the meter
 * @returns the instruments
 * @example
 * const instruments = createTransportInstruments({ system: "nats", meter: options.meter });
 * instruments.received("millwright.workorder.completed.1710");
 */
export function createTransportInstruments(options: TransportInstrumentOptions): TransportInstruments {
  const meter = options.meter ?? metrics.getMeter("@millwright/transports", packageJson.version);
  if (Object.getPrototypeOf(meter) === NOOP_METER_PROTOTYPE) return NOOP_INSTRUMENTS;
  const base: Attributes = { ...options.attributes, "messaging.system": options.system };
  const consumed = meter.createCounter(TRANSPORT_METRICS.consumed, { description: "Messages delivered to the subscriber", unit: "{message}", valueType: ValueType.INT });
  const processDuration = meter.createHistogram(TRANSPORT_METRICS.processDuration, {
    description: "Time from a message's arrival to its settlement, the inbox's work included",
    unit: "s",
    valueType: ValueType.DOUBLE,
    advice: { explicitBucketBoundaries: DURATION_BUCKETS },
  });
  const sent = meter.createCounter(TRANSPORT_METRICS.sent, { description: "Events the publisher attempted to send to the broker", unit: "{message}", valueType: ValueType.INT });
  const operationDuration = meter.createHistogram(TRANSPORT_METRICS.operationDuration, {
    description: "Duration of each event's publish, retries included",
    unit: "s",
    valueType: ValueType.DOUBLE,
    advice: { explicitBucketBoundaries: DURATION_BUCKETS },
  });
  const redeliveries = meter.createCounter(TRANSPORT_METRICS.redeliveries, {
    description: "Messages handed back to the broker because their outcome could not be stored",
    unit: "{message}",
    valueType: ValueType.INT,
  });
  const contractRejections = meter.createCounter(TRANSPORT_METRICS.contractRejections, {
    description: "Messages that are no valid event of the contract, by error code",
    unit: "{message}",
    valueType: ValueType.INT,
  });
  const webhookRejections = meter.createCounter(TRANSPORT_METRICS.webhookRejections, {
    description: "Webhook requests refused before the inbox, by reason",
    unit: "{request}",
    valueType: ValueType.INT,
  });
  const lag = meter.createObservableGauge(TRANSPORT_METRICS.consumerLag, {
    description: "Messages the broker holds for a consumer and has not yet delivered",
    unit: "{message}",
    valueType: ValueType.INT,
  });
  const at = (destination: string | undefined, operation: string): Attributes =>
    destination === undefined ? { ...base, "messaging.operation.name": operation } : { ...base, "messaging.destination.name": destination, "messaging.operation.name": operation };
  return {
    now: () => performance.now(),
    received: (destination) => consumed.add(1, at(destination, "receive")),
    settled: (outcome, startedAt, destination) => {
      const attributes = at(destination, "process");
      const errorType = errorTypeOf(outcome);
      processDuration.record((performance.now() - startedAt) / 1000, errorType === undefined ? attributes : { ...attributes, "error.type": errorType });
      if (outcome.action === "retry") redeliveries.add(1, { ...attributes, "error.type": outcome.error.code });
      else if ("rejected" in outcome) contractRejections.add(1, { ...attributes, "error.type": outcome.rejected.code });
    },
    published: (outcome, startedAt, destination) => {
      const attributes = at(destination, "publish");
      const withError = outcome.outcome === "failed" ? { ...attributes, "error.type": outcome.error.code } : attributes;
      sent.add(1, withError);
      operationDuration.record((performance.now() - startedAt) / 1000, withError);
    },
    webhookRejected: (reason) => webhookRejections.add(1, { ...base, "millwright.webhook.reason": reason }),
    observeLag: (read, attributes) => {
      const callback = async (result: ObservableResult): Promise<void> => {
        const value = await read().catch(() => undefined);
        if (value !== undefined) result.observe(value, { ...base, ...attributes });
      };
      lag.addCallback(callback);
      return () => lag.removeCallback(callback);
    },
  };
}
