// OpenTelemetry metrics of the inbox and the outbox relay through @opentelemetry/api only: without a
// registered SDK the default meter is the API's no-op meter, no instrument is created and the
// inbox and relay record nothing (one `undefined` check per delivery).
import { createNoopMeter, metrics, ValueType, type Attributes, type Counter, type Histogram, type Meter } from "@opentelemetry/api";
import packageJson from "../package.json" with { type: "json" };
import type { AttemptError, IdempotencyStore, OutboxRecord } from "./store.js";

/** The names of the metrics the inbox and the outbox relay record. */
export const IDEMPOTENCY_METRICS = {
  /** Counter: deliveries whose effect was applied (`processed`), by `millwright.store`, `cloudevents.event_type`. */
  processed: "millwright.inbox.processed",
  /** Counter: deliveries recognised as repeats, by `millwright.store`, `cloudevents.event_type`, `millwright.inbox.reason`. */
  duplicates: "millwright.inbox.duplicates",
  /** Counter: deliveries refused by the revision guard as older than the entity's revision. */
  stale: "millwright.inbox.stale",
  /** Counter: attempts that failed and will be tried again, by `millwright.store`, `cloudevents.event_type`, `error.type`. */
  retries: "millwright.inbox.retries",
  /** Counter: events and raw payloads put in the dead letters, by `millwright.store`, `millwright.dead_letter.kind`, `error.type`. */
  deadLetters: "millwright.inbox.dead_letters",
  /** Counter: deliveries that ended with nothing stored (the broker must redeliver), by `millwright.store`, `error.type`. */
  unsettled: "millwright.inbox.unsettled",
  /** Counter: outbox records the relay published, by `millwright.store`. */
  published: "millwright.outbox.published",
  /** Counter: publishes of outbox records that failed (the partition backs off), by `millwright.store`. */
  publishFailures: "millwright.outbox.publish_failures",
  /** Histogram, seconds: for each published record, the time from adding it to marking it sent. */
  lag: "millwright.outbox.lag",
  /** Gauge: outbox records not yet sent, by `millwright.store`. */
  pending: "millwright.outbox.pending",
  /** Gauge, seconds: the age of the oldest unsent outbox record (0 when none), by `millwright.store`. */
  oldestAge: "millwright.outbox.oldest_age",
} as const;

/** The outcome of a delivery as the inbox reports it; the shape of `InboxOutcome` that the metrics read. */
type SettledOutcome =
  | { readonly outcome: "processed" }
  | { readonly outcome: "duplicate"; readonly reason: string }
  | { readonly outcome: "stale" }
  | { readonly outcome: "failed"; readonly code: string; readonly errors: readonly AttemptError[] };

/** What the inbox records. */
interface InboxInstruments {
  /** One delivery's outcome. */
  settled(eventType: string, outcome: SettledOutcome): void;
  /** An attempt that failed and will be tried again. */
  retried(eventType: string, error: AttemptError): void;
  /** A payload kept as a raw dead letter. */
  rejected(code: string): void;
  /** Deliveries whose outcome could not be stored (the store failed): one, or the unsettled events of a batch. */
  storeFailed(deliveries?: number): void;
}

/** What the outbox relay records. */
interface RelayInstruments {
  /** Records marked sent at `now`. */
  sent(records: readonly OutboxRecord[], now: number): void;
  /** A publish that failed. */
  failed(): void;
}

/**
 * The prototype of the API's no-op meter: what `metrics.getMeter` gives while no SDK is registered.
 * The metrics API has no proxy meter, so such a meter stays a no-op for good.
 */
const NOOP_METER_PROTOTYPE: unknown = Object.getPrototypeOf(createNoopMeter());

/** The stores whose outbox gauges a meter observes already. */
const observedStores = new WeakMap<Meter, WeakSet<object>>();

/** Bucket boundaries of the outbox lag, in seconds: 5 ms to 1 hour. */
const LAG_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];

/** The meter of this package: the given one, else the global one; undefined when it is the no-op meter. */
function meterOf(meter: Meter | undefined): Meter | undefined {
  const m = meter ?? metrics.getMeter("@millwright/idempotency", packageJson.version);
  return Object.getPrototypeOf(m) === NOOP_METER_PROTOTYPE ? undefined : m;
}

function counter(meter: Meter, name: string, description: string, unit: string): Counter {
  return meter.createCounter(name, { description, unit, valueType: ValueType.INT });
}

/**
 * Creates the inbox's instruments, or undefined when the meter is the no-op meter.
 *
 * @param storeName - the store's name, recorded as `millwright.store`
 * @param meter - the meter; the global one by default
 * @returns the instruments, or undefined when there is nothing to record to
 */
export function createInboxInstruments(storeName: string, meter: Meter | undefined): InboxInstruments | undefined {
  const m = meterOf(meter);
  if (m === undefined) return undefined;
  const processed = counter(m, IDEMPOTENCY_METRICS.processed, "Deliveries whose effect the inbox applied", "{delivery}");
  const duplicates = counter(m, IDEMPOTENCY_METRICS.duplicates, "Deliveries the inbox recognised as repeats of a handled event", "{delivery}");
  const stale = counter(m, IDEMPOTENCY_METRICS.stale, "Deliveries the revision guard refused as older than the entity's revision", "{delivery}");
  const retries = counter(m, IDEMPOTENCY_METRICS.retries, "Inbox attempts that failed and will be tried again", "{attempt}");
  const deadLetters = counter(m, IDEMPOTENCY_METRICS.deadLetters, "Events and raw payloads put in the dead letters", "{record}");
  const unsettled = counter(m, IDEMPOTENCY_METRICS.unsettled, "Deliveries that ended with nothing stored; the broker redelivers them", "{delivery}");
  const store = { "millwright.store": storeName };
  return {
    settled: (eventType, outcome) => {
      const attributes: Attributes = { ...store, "cloudevents.event_type": eventType };
      switch (outcome.outcome) {
        case "processed":
          return processed.add(1, attributes);
        case "duplicate":
          return duplicates.add(1, { ...attributes, "millwright.inbox.reason": outcome.reason });
        case "stale":
          return stale.add(1, attributes);
        case "failed": {
          if (outcome.code !== "dead_lettered") return unsettled.add(1, { ...store, "error.type": outcome.code });
          const last = outcome.errors[outcome.errors.length - 1];
          return deadLetters.add(1, { ...store, "millwright.dead_letter.kind": "event", "error.type": last?.code ?? "_OTHER" });
        }
      }
    },
    retried: (eventType, error) => retries.add(1, { ...store, "cloudevents.event_type": eventType, "error.type": error.code }),
    rejected: (code) => deadLetters.add(1, { ...store, "millwright.dead_letter.kind": "raw", "error.type": code }),
    storeFailed: (deliveries = 1) => unsettled.add(deliveries, { ...store, "error.type": "store_failed" }),
  };
}

/**
 * Creates the relay's instruments and the outbox gauges, or undefined when the meter is the no-op
 * meter. The gauges read {@link IdempotencyStore.outboxBacklog} once per collection, registered once
 * per store and meter (the first relay's clock measures the age); a collection during which the
 * store fails observes nothing.
 *
 * @param store - the store whose outbox the gauges measure
 * @param options - the meter (the global one by default) and the gauges' clock
 * @returns the instruments, or undefined when there is nothing to record to
 */
export function createRelayInstruments<TTx>(store: IdempotencyStore<TTx>, options: { readonly meter: Meter | undefined; readonly now: () => number }): RelayInstruments | undefined {
  const m = meterOf(options.meter);
  if (m === undefined) return undefined;
  const attributes = { "millwright.store": store.name };
  const published = counter(m, IDEMPOTENCY_METRICS.published, "Outbox records the relay published and marked sent", "{record}");
  const failures = counter(m, IDEMPOTENCY_METRICS.publishFailures, "Publishes of outbox records that failed; their partition backs off", "{failure}");
  const lag: Histogram = m.createHistogram(IDEMPOTENCY_METRICS.lag, {
    description: "Time from adding an outbox record to marking it sent",
    unit: "s",
    valueType: ValueType.DOUBLE,
    advice: { explicitBucketBoundaries: LAG_BUCKETS },
  });
  // One observation per store and meter, however many relays are created over the store.
  let stores = observedStores.get(m);
  if (stores === undefined) observedStores.set(m, (stores = new WeakSet()));
  if (!stores.has(store)) {
    stores.add(store);
    const pending = m.createObservableGauge(IDEMPOTENCY_METRICS.pending, { description: "Outbox records not yet sent", unit: "{record}", valueType: ValueType.INT });
    const oldestAge = m.createObservableGauge(IDEMPOTENCY_METRICS.oldestAge, { description: "Age of the oldest unsent outbox record; 0 when none", unit: "s", valueType: ValueType.DOUBLE });
    m.addBatchObservableCallback(async (result) => {
      const backlog = await store.outboxBacklog().catch(() => undefined);
      if (backlog === undefined) return;
      result.observe(pending, backlog.pending, attributes);
      result.observe(oldestAge, backlog.oldestAddedAt === undefined ? 0 : Math.max(0, options.now() - backlog.oldestAddedAt) / 1000, attributes);
    }, [pending, oldestAge]);
  }
  return {
    sent: (records, now) => {
      published.add(records.length, attributes);
      for (const r of records) lag.record(Math.max(0, now - r.addedAt) / 1000, attributes);
    },
    failed: () => failures.add(1, attributes),
  };
}
