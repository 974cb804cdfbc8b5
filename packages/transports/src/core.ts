import type { CanonicalEvent, EventError } from "@millwright/events";
import type { Handler, Inbox, InboxEvent, InboxOutcome } from "@millwright/idempotency";
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
 * @param raw - the message payload as text, kept when it cannot be read
 * @returns the delivery outcome; never rejects
 * @example
 * const settled = await settleDelivery(inbox, handler, mqtt5.toEvent(message), String(message.payload));
 * if (settled.action === "ack") ack();
 */
export async function settleDelivery<TTx>(
  anyInbox: Inbox<CanonicalEvent, TTx> | Inbox<InboxEvent, TTx>,
  handler: Handler<CanonicalEvent, TTx>,
  input: Result<CanonicalEvent, EventError>,
  raw: string,
): Promise<DeliveryOutcome> {
  // The inbox hands the handler the very event it is given, and only canonical events are given
  // here, so an inbox of any InboxEvent serves a handler of canonical events.
  const inbox = anyInbox as Inbox<CanonicalEvent, TTx>;
  try {
    if (input.isErr()) {
      const kept = await inbox.reject({ payload: raw, code: input.error.code, message: input.error.message });
      if (kept.isErr()) return { action: "retry", id: undefined, error: transportError("store_failed", "inbox.reject", kept.error.message, { cause: kept.error }) };
      return { action: "ack", id: undefined, rejected: input.error };
    }
    const event = input.value;
    const result = await inbox.process(event, handler);
    if (result.isErr()) return { action: "retry", id: event.id, error: transportError("store_failed", "inbox.process", result.error.message, { cause: result.error }) };
    const outcome = result.value;
    if (outcome.outcome === "failed" && outcome.code !== "dead_lettered") {
      return { action: "retry", id: event.id, error: transportError("store_failed", "inbox.process", outcome.message, { value: outcome }) };
    }
    return { action: "ack", id: event.id, outcome };
  } catch (cause) {
    return { action: "retry", id: undefined, error: transportError("store_failed", "inbox", describeCause(cause), { cause }) };
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
 * reaches `highWater` (pause the source) and falls back under it (resume).
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
  const highWater = options.highWater ?? options.concurrency * 2;
  const waiting: (() => Promise<void>)[] = [];
  let running = 0;
  let paused = false;
  let idle: (() => void)[] = [];
  const tails = new Map<string, Promise<void>>();
  const check = (): void => {
    const size = running + waiting.length;
    if (!paused && size >= highWater) {
      paused = true;
      options.onPause?.();
    } else if (paused && size < highWater) {
      paused = false;
      options.onResume?.();
    }
    if (size === 0) {
      const waiters = idle;
      idle = [];
      for (const w of waiters) w();
    }
  };
  const next = (): void => {
    while (running < options.concurrency && waiting.length > 0) {
      const task = waiting.shift() as () => Promise<void>;
      running++;
      void task()
        .catch(() => undefined)
        .finally(() => {
          running--;
          next();
          check();
        });
    }
  };
  return {
    run: (task, key) => {
      if (key === undefined) {
        waiting.push(task);
      } else {
        // The predecessor started earlier (slots are taken in FIFO order), so waiting on it cannot deadlock.
        const previous = tails.get(key) ?? Promise.resolve();
        const tail = new Promise<void>((resolve) => {
          waiting.push(() => previous.then(task).finally(resolve));
        });
        tails.set(key, tail);
        void tail.then(() => {
          if (tails.get(key) === tail) tails.delete(key);
        });
      }
      next();
      check();
    },
    drain: () => (running + waiting.length === 0 ? Promise.resolve() : new Promise<void>((resolve) => idle.push(resolve))),
    size: () => running + waiting.length,
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
