import { randomUUID } from "node:crypto";
import type { Meter } from "@opentelemetry/api";
import { ResultAsync } from "neverthrow";
import { systemClock, timerSleep, type Clock, type Sleep } from "./clock.js";
import { describeValue, toStoreError, type StoreError } from "./errors.js";
import { recordId } from "./ids.js";
import { backoffDelay, createRetryPolicy, type RetryPolicy } from "./retry.js";
import type { IdempotencyStore, OutboxRecord } from "./store.js";
import { createRelayInstruments } from "./telemetry.js";

/** What the outbox needs of an event. */
export interface OutboxEvent {
  readonly id: string;
  readonly source: string;
  /** CloudEvents partitioning extension; events without one share the partition "". */
  readonly partitionkey?: string | undefined;
}

/** How to add events. */
export interface OutboxOptions<TEvent extends OutboxEvent> {
  readonly clock?: Clock;
  /** Writes an event for the outbox. Default JSON.stringify (use serializeEvent for canonical member order). */
  readonly serialize?: (event: TEvent) => string;
}

/** The producer side of the outbox. */
export interface Outbox<TEvent extends OutboxEvent, TTx> {
  /** Adds events inside the caller's transaction `tx`: they are published only if it commits. */
  add(tx: TTx, events: readonly TEvent[]): ResultAsync<void, StoreError>;
}

/**
 * Creates the producer side of a transactional outbox.
 *
 * @param store - the store whose transaction type the caller writes with
 * @param options - clock and serializer
 * @returns the outbox
 * @example
 * await store.transaction(async (tx) => {
 *   // … the caller's own writes through tx …
 *   (await outbox.add(tx, [event]))._unsafeUnwrap();
 * });
 */
export function createOutbox<TTx, TEvent extends OutboxEvent = OutboxEvent>(store: IdempotencyStore<TTx>, options: OutboxOptions<TEvent> = {}): Outbox<TEvent, TTx> {
  const clock = options.clock ?? systemClock;
  const serialize = options.serialize ?? ((e: TEvent) => JSON.stringify(e));
  return {
    add: (tx, events) => {
      const now = clock.now();
      const records = events.map((event) => ({
        id: recordId("outbox", [event.source, event.id]),
        source: event.source,
        eventId: event.id,
        partitionKey: event.partitionkey ?? "",
        payload: serialize(event),
        now,
      }));
      return ResultAsync.fromPromise(store.addToOutbox(tx, records), toStoreError("outbox.add"));
    },
  };
}

/** Publishes one outbox record; resolving (or an ok Result) means the broker has it. */
export type Publisher = (record: OutboxRecord) => PromiseLike<unknown>;

/** How a relay behaves. */
export interface RelayOptions {
  readonly publish: Publisher;
  /** Records read per round. Default 100. */
  readonly batchSize?: number;
  /** The relay lease; a crashed relay's lease expires after it. Default 10 s. */
  readonly leaseMs?: number;
  /** Backoff of a partition whose publish failed (maxAttempts is not used: the relay never gives up). */
  readonly retry?: RetryPolicy;
  readonly clock?: Clock;
  readonly sleep?: Sleep;
  readonly random?: () => number;
  /** Identifies this relay in the lease. Default a random UUID. */
  readonly owner?: string;
  /**
   * Where the `millwright.outbox.*` metrics go; `metrics.getMeter("@millwright/idempotency")` by
   * default. Register the SDK's MeterProvider before creating the relay. With none, nothing is
   * recorded and the outbox gauges never query the store.
   */
  readonly meter?: Meter;
}

/** What one relay round did. */
export interface RelayReport {
  /** false when another relay holds the lease. */
  readonly leased: boolean;
  readonly published: number;
  /** Partitions stopped by a failed publish this round; their later records wait. */
  readonly failed: readonly { readonly partitionKey: string; readonly id: string; readonly message: string }[];
}

/**
 * The relay: publishes outbox records in order per partition key and marks them sent. A round
 * starts no publish after its lease has run out; the records left wait for the next round.
 */
export interface Relay {
  /** One round: take the lease, read a batch, publish each partition in order, mark sent. */
  runOnce(): ResultAsync<RelayReport, StoreError>;
  /** Rounds until `signal` aborts; sleeps `idleMs` when there was nothing to do, backs off on errors. */
  run(options: { readonly signal: AbortSignal; readonly idleMs?: number }): Promise<void>;
}

function isErrResult(value: unknown): value is { isErr(): true; error: unknown } {
  return typeof value === "object" && value !== null && "isErr" in value && typeof value.isErr === "function" && value.isErr() === true;
}

/**
 * Creates an outbox relay. At-least-once: a record published just before a crash is published
 * again after it; consumers absorb that with the inbox. Records of one partition key go out in
 * order; a failing partition waits (with backoff) without holding up the others.
 *
 * @param store - the store the outbox writes to
 * @param options - the publisher and tuning
 * @returns the relay
 * @example
 * const relay = createOutboxRelay(store, { publish: (r) => producer.send(r.payload) });
 * await relay.run({ signal: controller.signal });
 */
export function createOutboxRelay<TTx>(store: IdempotencyStore<TTx>, options: RelayOptions): Relay {
  const batchSize = options.batchSize ?? 100;
  const leaseMs = options.leaseMs ?? 10_000;
  const retry = options.retry ?? createRetryPolicy({ baseDelayMs: 100, maxDelayMs: 10_000 });
  const clock = options.clock ?? systemClock;
  const sleep = options.sleep ?? timerSleep;
  const random = options.random ?? Math.random;
  const owner = options.owner ?? randomUUID();
  const instruments = createRelayInstruments(store, { meter: options.meter, now: () => clock.now() });
  // Per partition: consecutive failures and when it may be tried again.
  const backoff = new Map<string, { failures: number; until: number }>();

  async function publishPartition(records: OutboxRecord[], failed: RelayReport["failed"][number][], leaseEnd: number): Promise<OutboxRecord[]> {
    const sent: OutboxRecord[] = [];
    for (const record of records) {
      // Past the lease another relay may own the outbox: publishing on would race it.
      if (clock.now() >= leaseEnd) break;
      let problem: string | undefined;
      try {
        const value = await options.publish(record);
        if (isErrResult(value)) problem = typeof value.error === "object" && value.error !== null && "message" in value.error ? describeValue(value.error.message) : describeValue(value.error);
      } catch (cause) {
        problem = describeValue(cause);
      }
      if (problem !== undefined) {
        const b = backoff.get(record.partitionKey) ?? { failures: 0, until: 0 };
        b.failures += 1;
        b.until = clock.now() + backoffDelay(retry, b.failures, random);
        backoff.set(record.partitionKey, b);
        failed.push({ partitionKey: record.partitionKey, id: record.id, message: problem });
        instruments?.failed();
        break;
      }
      backoff.delete(record.partitionKey);
      sent.push(record);
    }
    return sent;
  }

  async function round(): Promise<RelayReport> {
    const leasedAt = clock.now();
    if (!(await store.acquireRelayLease(owner, leasedAt, leaseMs))) return { leased: false, published: 0, failed: [] };
    const records = await store.pendingOutbox(batchSize);
    const partitions = new Map<string, OutboxRecord[]>();
    const now = clock.now();
    for (const record of records) {
      const b = backoff.get(record.partitionKey);
      if (b !== undefined && b.until > now) continue;
      let list = partitions.get(record.partitionKey);
      if (list === undefined) partitions.set(record.partitionKey, (list = []));
      list.push(record);
    }
    const failed: RelayReport["failed"][number][] = [];
    const sent = (await Promise.all([...partitions.values()].map((list) => publishPartition(list, failed, leasedAt + leaseMs)))).flat();
    if (sent.length > 0) {
      const sentAt = clock.now();
      await store.markSent(sent.map((r) => r.id), sentAt);
      instruments?.sent(sent, sentAt);
    }
    return { leased: true, published: sent.length, failed };
  }

  const runOnce = (): ResultAsync<RelayReport, StoreError> => ResultAsync.fromPromise(round(), toStoreError("outbox.relay"));

  return {
    runOnce,
    run: async ({ signal, idleMs = 200 }) => {
      let storeFailures = 0;
      while (!signal.aborted) {
        const report = await runOnce();
        if (report.isErr()) {
          storeFailures += 1;
          await sleep(backoffDelay(retry, storeFailures, random) + 1);
          continue;
        }
        storeFailures = 0;
        if (report.value.published === 0) await sleep(idleMs);
      }
      await store.releaseRelayLease(owner).catch(() => undefined);
    },
  };
}
