import type { CanonicalEvent, EventError } from "@millwright/events";
import type { Handler, Inbox, InboxEvent, InboxOutcome, ProcessOptions } from "@millwright/idempotency";
import type { Meter } from "@opentelemetry/api";
import type { Result, ResultAsync } from "neverthrow";
import { describeCause, transportError, type TransportError } from "./errors.js";

/** The outcome of publishing one event: accepted by the broker (or receiver), or failed with its error. */
export type PublishOutcome =
  | { readonly id: string; readonly outcome: "published"; readonly attempts: number }
  | { readonly id: string; readonly outcome: "failed"; readonly attempts: number; readonly error: TransportError };

/** Every transport's publisher: one outcome per event, in the order given. */
export interface Publisher {
  /** Publishes events; the result is err only when nothing could be attempted (closed, bad options). */
  readonly publish: (events: readonly CanonicalEvent[]) => ResultAsync<readonly PublishOutcome[], TransportError>;
  /** Waits for outstanding publishes and closes the connection. */
  readonly close: () => ResultAsync<void, TransportError>;
}

/** Counters of a subscription, read at any time. */
export interface SubscriptionStats {
  readonly received: number;
  readonly processed: number;
  readonly duplicates: number;
  readonly stale: number;
  readonly deadLettered: number;
  readonly rejected: number;
  readonly retried: number;
  readonly inFlight: number;
}

/** Every transport's subscription. */
export interface Subscription {
  /** Stops taking new messages, waits for those in flight to be stored and acknowledged, then disconnects. */
  readonly close: () => ResultAsync<void, TransportError>;
  readonly stats: () => SubscriptionStats;
}

/** What every subscriber takes besides its transport's options. */
export interface SubscribeOptions<TTx> {
  /**
   * The inbox: each event's effect is applied once, and the message is acknowledged only after it
   * is stored. `createInbox(store)` as is (an inbox of any {@link InboxEvent}) or typed for
   * canonical events.
   */
  readonly inbox: Inbox<CanonicalEvent, TTx> | Inbox<InboxEvent, TTx>;
  /** How many messages are processed at once. Default 16 (1 where the transport delivers in order). */
  readonly concurrency?: number;
  /** Called with each delivery's outcome and what the broker said of the delivery, for logs and metrics. */
  readonly onOutcome?: (outcome: DeliveryOutcome, delivery: DeliveryInfo) => void;
  /**
   * Where the transport's metrics go (`messaging.*` and `millwright.*`, see docs/metrics.md);
   * `metrics.getMeter("@millwright/transports")` by default. Register the SDK's MeterProvider
   * before subscribing. With none, nothing is recorded.
   */
  readonly meter?: Meter;
}

/** What a transport knows of one delivery besides its outcome. */
export interface DeliveryInfo {
  /**
   * True when the broker marks the delivery as a repeat of an earlier one: NATS delivery count
   * above 1, AMQP `redelivered`, MQTT DUP. Absent where the transport cannot tell (HTTP).
   */
  readonly redelivered?: boolean;
}

/** What became of one delivery, and what the transport does with the message. */
export type DeliveryOutcome =
  | { readonly action: "ack"; readonly id: string; readonly outcome: InboxOutcome }
  | { readonly action: "ack"; readonly id: undefined; readonly rejected: EventError }
  | { readonly action: "retry"; readonly id: string | undefined; readonly error: TransportError };

/**
 * Runs one delivery through the inbox and decides its settlement: `ack` once the outcome is stored
 * (processed, duplicate, stale or dead-lettered, and unreadable messages once kept as raw dead
 * letters); `retry` when nothing was stored (store down, lease lost), so the broker redelivers.
 *
 * @param inbox - the inbox that applies the effect once
 * @param handler - the effect
 * @param input - the event the binding read from the message, or its error
 * @param raw - the message payload as text, kept when it cannot be read; a function is called only
 *   then, so a readable message's payload is never decoded a second time
 * @param options - passed to `inbox.process` (the data's fingerprint when the transport has it)
 * @returns the delivery outcome; never rejects
 * @example
 * const settled = await settleDelivery(inbox, handler, mqtt5.toEvent(message), () => String(message.payload));
 * if (settled.action === "ack") ack();
 */
export function settleDelivery<TTx>(
  anyInbox: Inbox<CanonicalEvent, TTx> | Inbox<InboxEvent, TTx>,
  handler: Handler<CanonicalEvent, TTx>,
  input: Result<CanonicalEvent, EventError>,
  raw: string | (() => string),
  options?: ProcessOptions,
): Promise<DeliveryOutcome> {
  // The inbox hands the handler the very event it is given, and only canonical events are given
  // here, so an inbox of any InboxEvent serves a handler of canonical events.
  const inbox = anyInbox as Inbox<CanonicalEvent, TTx>;
  try {
    if (input.isErr()) return rejectUnreadable(inbox, input.error, typeof raw === "string" ? raw : raw());
    const event = input.value;
    // `then` of the ResultAsync is its promise's: one continuation, no async function's frames.
    const processed = options === undefined ? inbox.process(event, handler) : inbox.process(event, handler, options);
    return processed.then((result) => settledOf(event.id, result), retryOnThrow) as Promise<DeliveryOutcome>;
  } catch (cause) {
    return Promise.resolve(retryOnThrow(cause));
  }
}

function settledOf(id: string, result: Result<InboxOutcome, { readonly message: string }>): DeliveryOutcome {
  if (result.isErr()) return { action: "retry", id, error: transportError("store_failed", "inbox.process", result.error.message, { cause: result.error }) };
  const outcome = result.value;
  if (outcome.outcome === "failed" && outcome.code !== "dead_lettered") {
    return { action: "retry", id, error: transportError("store_failed", "inbox.process", outcome.message, { value: outcome }) };
  }
  return { action: "ack", id, outcome };
}

function retryOnThrow(cause: unknown): DeliveryOutcome {
  return { action: "retry", id: undefined, error: transportError("store_failed", "inbox", describeCause(cause), { cause }) };
}

async function rejectUnreadable<TTx>(inbox: Inbox<CanonicalEvent, TTx>, error: EventError, raw: string): Promise<DeliveryOutcome> {
  try {
    const kept = await inbox.reject({ payload: raw, code: error.code, message: error.message });
    if (kept.isErr()) return { action: "retry", id: undefined, error: transportError("store_failed", "inbox.reject", kept.error.message, { cause: kept.error }) };
    return { action: "ack", id: undefined, rejected: error };
  } catch (cause) {
    return retryOnThrow(cause);
  }
}

/** Counts delivery outcomes into {@link SubscriptionStats}. */
export interface StatsCounter {
  readonly count: (outcome: DeliveryOutcome) => void;
  readonly received: () => void;
  readonly snapshot: (inFlight: number) => SubscriptionStats;
}

/**
 * Creates a counter of delivery outcomes.
 *
 * @returns the counter
 * @example
 * const stats = createStatsCounter();
 * stats.count(outcome);
 */
export function createStatsCounter(): StatsCounter {
  const s = { received: 0, processed: 0, duplicates: 0, stale: 0, deadLettered: 0, rejected: 0, retried: 0 };
  return {
    received: () => void s.received++,
    count: (o) => {
      if (o.action === "retry") s.retried++;
      else if ("rejected" in o) s.rejected++;
      else if (o.outcome.outcome === "processed") s.processed++;
      else if (o.outcome.outcome === "duplicate") s.duplicates++;
      else if (o.outcome.outcome === "stale") s.stale++;
      else s.deadLettered++;
    },
    snapshot: (inFlight) => ({ ...s, inFlight }),
  };
}

/** A bounded pool of concurrent tasks with backpressure signals. */
export interface WorkPool {
  /** Starts a task; tasks beyond the limit wait in order. Tasks with the same `key` run one after another, in the order given. */
  readonly run: (task: () => Promise<void>, key?: string) => void;
  /** Resolves when no task is running or waiting. */
  readonly drain: () => Promise<void>;
  /** Running plus waiting. */
  readonly size: () => number;
}

/**
 * Creates a pool that runs at most `concurrency` tasks at once and reports when the backlog
 * reaches `highWater` (pause the source) and falls back under it (resume). A task whose key is
 * busy waits, without a slot, behind the tasks of its key, and joins the queue when the one before
 * it has finished: no promise chain per key, one continuation per task.
 *
 * @param options - concurrency, high-water mark and the pause/resume callbacks
 * @returns the pool
 * @example
 * const pool = createWorkPool({ concurrency: 8, onPause: () => socket.pause(), onResume: () => socket.resume() });
 * pool.run(async () => { await work(); });
 */
export function createWorkPool(options: {
  readonly concurrency: number;
  readonly highWater?: number;
  readonly onPause?: () => void;
  readonly onResume?: () => void;
}): WorkPool {
  if (!Number.isInteger(options.concurrency) || options.concurrency < 1) throw new RangeError(`concurrency must be a positive integer, got ${options.concurrency}`);
  const concurrency = options.concurrency;
  const highWater = options.highWater ?? concurrency * 2;
  // Ready tasks in order, read from `head` (no Array#shift per task).
  let ready: (Entry | undefined)[] = [];
  let head = 0;
  // Per busy key, the tasks given after the one that runs or waits in `ready`.
  const parked = new Map<string, Entry[]>();
  let running = 0;
  let size = 0;
  let paused = false;
  let idle: (() => void)[] = [];
  interface Entry {
    readonly task: () => Promise<void>;
    readonly key: string | undefined;
  }
  const check = (): void => {
    if (!paused && size >= highWater) {
      paused = true;
      options.onPause?.();
    } else if (paused && size < highWater) {
      paused = false;
      options.onResume?.();
    }
    if (size === 0 && idle.length > 0) {
      const waiters = idle;
      idle = [];
      for (const w of waiters) w();
    }
  };
  const finish = (key: string | undefined): void => {
    running--;
    size--;
    if (key !== undefined) {
      const behind = parked.get(key) as Entry[];
      const following = behind.shift();
      if (following === undefined) parked.delete(key);
      else ready.push(following);
    }
    next();
    check();
  };
  const start = (entry: Entry): void => {
    running++;
    const key = entry.key;
    const done = (): void => finish(key);
    let started: Promise<void>;
    try {
      started = entry.task();
    } catch {
      started = Promise.resolve();
    }
    started.then(done, done);
  };
  const next = (): void => {
    while (running < concurrency && head < ready.length) {
      const entry = ready[head] as Entry;
      ready[head++] = undefined;
      if (head === ready.length) {
        ready = [];
        head = 0;
      }
      start(entry);
    }
  };
  return {
    run: (task, key) => {
      size++;
      if (key === undefined) {
        ready.push({ task, key });
      } else {
        const behind = parked.get(key);
        if (behind === undefined) {
          parked.set(key, []);
          ready.push({ task, key });
        } else {
          behind.push({ task, key });
        }
      }
      next();
      check();
    },
    drain: () => (size === 0 ? Promise.resolve() : new Promise<void>((resolve) => idle.push(resolve))),
    size: () => size,
  };
}

/**
 * Collects settlements (acks, naks) made while the current work runs and applies them together
 * once the microtask queue is empty (`process.nextTick` after the batch's continuations): the
 * client library then writes them in one socket write, and a transport that acknowledges
 * cumulatively (AMQP `multiple`) sees the whole batch at once. A settlement is only ever queued
 * after the inbox stored the message's outcome, so deferring it never acknowledges early.
 *
 * @param flush - applies the queued settlements, in the order they were queued
 * @returns the batch: `add` queues one settlement, `flush` applies the queued ones now
 * @example
 * const acks = createSettlementBatch<JsMsg>((batch) => { for (const m of batch) m.ack(); });
 * acks.add(message);
 */
export function createSettlementBatch<T>(flush: (batch: readonly T[]) => void): SettlementBatch<T> {
  let batch: T[] = [];
  const run = (): void => {
    if (batch.length === 0) return;
    const items = batch;
    batch = [];
    flush(items);
  };
  return {
    add: (item) => {
      if (batch.push(item) === 1) process.nextTick(run);
    },
    flush: run,
  };
}

/** Settlements queued for the end of the current batch. */
export interface SettlementBatch<T> {
  /** Queues one settlement. */
  readonly add: (item: T) => void;
  /** Applies what is queued now (before closing). */
  readonly flush: () => void;
}

/** A delivery in an {@link AckWindow} and what its subscriber decided: `undefined` while the inbox works on it. */
export interface Delivery<M> {
  readonly message: M;
  /** `ack`: to acknowledge; `acked`: acknowledged on its own; `other`: settled otherwise (nack, reject). */
  settled: "ack" | "acked" | "other" | undefined;
}

/** The acknowledgements of one channel, see {@link createAckWindow}. */
export interface AckWindow<M> {
  /** Records a delivery, in delivery-tag order (the order the channel delivers). */
  readonly delivered: (message: M) => Delivery<M>;
  /** Queues the acknowledgement of a delivery whose outcome is stored. */
  readonly ack: (delivery: Delivery<M>) => void;
  /** Records that a delivery was settled otherwise (nacked, rejected), so the window moves past it. */
  readonly settledOtherwise: (delivery: Delivery<M>) => void;
  /** Sends what is queued now (before closing). */
  readonly flush: () => void;
}

/**
 * The acknowledgements of one channel of a transport with cumulative acks (AMQP 0-9-1 `basic.ack`
 * with `multiple`). Deliveries are kept in delivery-tag order; after each batch (see
 * {@link createSettlementBatch}) the longest run of settled deliveries at the front is
 * acknowledged with one cumulative ack on its last acknowledgement not yet sent, which covers
 * exactly that run: every delivery before it is acknowledged by it, was acknowledged already, or
 * was nacked. (RabbitMQ refuses a cumulative ack whose own tag is no longer outstanding, hence
 * "not yet sent".) A delivery settled behind one still in the inbox is acknowledged on its own, so
 * a slow or retried message never holds the others' acknowledgements back.
 *
 * @param send - sends one acknowledgement: of `message` alone, or of every outstanding delivery up to it with `multiple`
 * @returns the window of one channel
 * @example
 * const acks = createAckWindow<ConsumeMessage>((m, multiple) => channel.ack(m, multiple));
 * const delivery = acks.delivered(message); // on arrival
 * acks.ack(delivery); // once the inbox stored its outcome
 */
export function createAckWindow<M>(send: (message: M, multiple: boolean) => void): AckWindow<M> {
  let window: Delivery<M>[] = [];
  let head = 0;
  const batch = createSettlementBatch<Delivery<M>>(() => {
    let last: Delivery<M> | undefined;
    while (head < window.length) {
      const d = window[head] as Delivery<M>;
      if (d.settled === undefined) break;
      if (d.settled === "ack") last = d;
      head++;
    }
    // On a closed channel these throw; the broker has requeued the messages and the inbox absorbs the copies.
    try {
      if (last !== undefined) {
        last.settled = "acked";
        send(last.message, true);
      }
      for (let i = head; i < window.length; i++) {
        const d = window[i] as Delivery<M>;
        if (d.settled === "ack") {
          d.settled = "acked";
          send(d.message, false);
        }
      }
    } catch {
      // The channel is gone with its deliveries.
    }
    if (head === window.length) {
      window = [];
      head = 0;
    } else if (head >= 1024) {
      window = window.slice(head);
      head = 0;
    }
  });
  return {
    delivered: (message) => {
      const d: Delivery<M> = { message, settled: undefined };
      window.push(d);
      return d;
    },
    ack: (d) => {
      d.settled = "ack";
      batch.add(d);
    },
    settledOtherwise: (d) => {
      d.settled = "other";
      batch.add(d);
    },
    flush: batch.flush,
  };
}

/**
 * Waits `ms` milliseconds.
 *
 * @param ms - how long
 * @returns a promise that resolves after the wait
 * @example
 * await delay(100);
 */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
