import { amqp as amqpBinding, type AmqpPropertyValue, type CanonicalEvent } from "@millwright/events";
import type { Handler } from "@millwright/idempotency";
import type { Meter } from "@opentelemetry/api";
import amqplib, { type Channel, type ChannelModel, type ConfirmChannel, type ConsumeMessage } from "amqplib";
import { errAsync, ResultAsync } from "neverthrow";
import { createStatsCounter, createWorkPool, delay, settleDelivery, type PublishOutcome, type Publisher, type SubscribeOptions, type Subscription } from "./core.js";
import { describeCause, transportError, type TransportError } from "./errors.js";
import { createTransportInstruments } from "./telemetry.js";

/**
 * The broker URL when none is given: the `MILLWRIGHT_AMQP_URL` environment variable, else `amqp://guest:guest@127.0.0.1:5672`.
 *
 * @returns the URL
 * @example
 * const url = defaultAmqpUrl(); // "amqp://guest:guest@127.0.0.1:5672" unless MILLWRIGHT_AMQP_URL is set
 */
export function defaultAmqpUrl(): string {
  return process.env["MILLWRIGHT_AMQP_URL"] ?? "amqp://guest:guest@127.0.0.1:5672";
}

/**
 * The default routing key of an event: `<entity>.<action>.<site>`, e.g. `workorder.completed.1710`,
 * so a queue binds `workorder.#` or `*.*.1710`.
 *
 * @param event - the event
 * @returns the routing key
 * @example
 * amqpRoutingKeyOf(event); // "workorder.completed.1710"
 */
export function amqpRoutingKeyOf(event: CanonicalEvent): string {
  const [, , entity, action] = event.type.split(".");
  const data = event.data as { readonly site?: { readonly id?: unknown }; readonly equipment?: { readonly site?: { readonly id?: unknown } } };
  const site = data.equipment?.site?.id ?? data.site?.id;
  const word = (v: unknown): string => (typeof v === "string" && v.trim() !== "" ? v.trim().toLowerCase().replace(/[.*#\s]+/g, "-") : "_");
  return [word(entity), word(action), word(site)].join(".");
}

/** Options of {@link createAmqpPublisher}. */
export interface AmqpPublisherOptions {
  /** Default {@link defaultAmqpUrl}. */
  readonly url?: string;
  /** The topic exchange; declared durable. */
  readonly exchange: string;
  /** Default {@link amqpRoutingKeyOf}. */
  readonly routingKeyOf?: (event: CanonicalEvent) => string;
  /** `binary` (default): `cloudEvents_` headers; `structured`: the JSON format. */
  readonly mode?: "binary" | "structured";
  /** Attempts per event, reconnecting in between. Default 5. */
  readonly maxAttempts?: number;
  /** Backoff before a retry. Default 200 ms, doubled each time. */
  readonly retryDelayMs?: number;
  /**
   * The longest backoff: doubling stops here, so many attempts span a broker restart at a steady
   * pace (e.g. `maxAttempts: 60, retryDelayMs: 250, maxRetryDelayMs: 1000` ≈ 55 s). Default 30 s.
   */
  readonly maxRetryDelayMs?: number;
  /** Where the publisher's metrics go; the global meter by default (see docs/metrics.md). */
  readonly meter?: Meter;
}

function toContent(message: { readonly body: string | Uint8Array }): Buffer {
  return typeof message.body === "string" ? Buffer.from(message.body, "utf8") : Buffer.from(message.body);
}

/**
 * Creates an AMQP 0-9-1 publisher: persistent messages to a durable topic exchange on a confirm
 * channel; an event counts as published when the broker confirmed it. A publish that fails (also
 * on a lost connection) is retried on a fresh connection; a receiver's inbox absorbs the copy.
 *
 * @param options - url, exchange, routing key rule, mode, retries
 * @returns the publisher once connected and the exchange exists
 * @example
 * const publisher = (await createAmqpPublisher({ exchange: "millwright" }))._unsafeUnwrap();
 * await publisher.publish(events);
 */
export function createAmqpPublisher(options: AmqpPublisherOptions): ResultAsync<Publisher, TransportError> {
  const url = options.url ?? defaultAmqpUrl();
  const routingKeyOf = options.routingKeyOf ?? amqpRoutingKeyOf;
  const maxAttempts = options.maxAttempts ?? 5;
  const retryDelayMs = options.retryDelayMs ?? 200;
  const maxRetryDelayMs = options.maxRetryDelayMs ?? 30_000;
  const instruments = createTransportInstruments({ system: "rabbitmq", meter: options.meter });
  let current: Promise<{ connection: ChannelModel; channel: ConfirmChannel }> | undefined;
  let closed = false;

  const open = (): Promise<{ connection: ChannelModel; channel: ConfirmChannel }> => {
    current ??= (async () => {
      const connection = await amqplib.connect(url);
      const dropped = (): void => {
        current = undefined;
      };
      connection.on("error", dropped);
      connection.on("close", dropped);
      const channel = await connection.createConfirmChannel();
      channel.on("error", dropped);
      channel.on("close", dropped);
      await channel.assertExchange(options.exchange, "topic", { durable: true });
      return { connection, channel };
    })().catch((cause: unknown) => {
      current = undefined;
      throw cause;
    });
    return current;
  };

  async function publishOne(event: CanonicalEvent): Promise<PublishOutcome> {
    const startedAt = instruments.now();
    const outcome = await attempts(event);
    instruments.published(outcome, startedAt, options.exchange);
    return outcome;
  }

  async function attempts(event: CanonicalEvent): Promise<PublishOutcome> {
    const message = options.mode === "structured" ? amqpBinding.structured(event) : amqpBinding.binary(event);
    const routingKey = routingKeyOf(event);
    let last: TransportError | undefined;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      try {
        const { channel } = await open();
        await new Promise<void>((resolve, reject) => {
          channel.publish(
            options.exchange,
            routingKey,
            toContent(message),
            { persistent: true, messageId: event.id, ...(message.contentType === undefined ? {} : { contentType: message.contentType }), headers: { ...message.applicationProperties } },
            (error: unknown) => (error === null || error === undefined ? resolve() : reject(error instanceof Error ? error : new Error("the broker nacked the message"))),
          );
        });
        return { id: event.id, outcome: "published", attempts: attempt };
      } catch (cause) {
        last = transportError("publish_failed", `${options.exchange}/${routingKey}`, describeCause(cause), { cause });
        if (attempt < maxAttempts) await delay(Math.min(retryDelayMs * 2 ** (attempt - 1), maxRetryDelayMs));
      }
    }
    return { id: event.id, outcome: "failed", attempts: maxAttempts, error: last ?? transportError("publish_failed", options.exchange, "no attempt was made") };
  }

  return ResultAsync.fromPromise(open(), (cause) => transportError("connect_failed", url.replace(/\/\/[^@]*@/, "//"), `cannot connect to the AMQP broker: ${describeCause(cause)}`, { cause })).map(
    (): Publisher => ({
      publish: (events) => {
        if (closed) return errAsync(transportError("closed", options.exchange, "the publisher is closed"));
        // In order on one channel: the broker keeps the order of one publisher's messages.
        return ResultAsync.fromSafePromise(Promise.all(events.map(publishOne)));
      },
      close: () => {
        closed = true;
        return ResultAsync.fromPromise(
          (async () => {
            const c = await current?.catch(() => undefined);
            await c?.channel.waitForConfirms().catch(() => undefined);
            await c?.connection.close().catch(() => undefined);
          })(),
          (cause) => transportError("closed", options.exchange, describeCause(cause), { cause }),
        );
      },
    }),
  );
}

/** Options of {@link subscribeAmqp}. */
export interface AmqpSubscribeOptions<TTx> extends SubscribeOptions<TTx> {
  /** Default {@link defaultAmqpUrl}. */
  readonly url?: string;
  /** The topic exchange; declared durable. */
  readonly exchange: string;
  /** The durable queue; declared with the dead-letter exchange. */
  readonly queue: string;
  /**
   * `classic` (default, the broker's default type) or `quorum`: a replicated, Raft-based queue that
   * confirms a message only once a majority of its replicas wrote it to disk (also on one node).
   * A queue's type is fixed when it is first declared; declaring it again with another type fails.
   */
  readonly queueType?: "classic" | "quorum";
  /**
   * Single active consumer: of all consumers of the queue, the broker delivers to one at a time and
   * hands over to the next when it goes, so a queue per partition is consumed in order by one
   * process while others stand by. Default false. Fixed when the queue is first declared.
   */
  readonly singleActiveConsumer?: boolean;
  /** Routing-key patterns the queue binds, e.g. `workorder.#`. */
  readonly bindingKeys: readonly string[];
  /** A fanout exchange that receives dead-lettered and unreadable messages (declared durable, with a durable `<name>.queue`). */
  readonly deadLetterExchange?: string;
  /** Unacknowledged messages the broker may hand over at once. Default 2 × concurrency. */
  readonly prefetch?: number;
  /** Keep the order of events with the same `partitionkey` (else they run concurrently). Default true. */
  readonly orderByPartition?: boolean;
  /** How long to wait before requeueing a message whose outcome could not be stored. Default 500 ms. */
  readonly requeueDelayMs?: number;
  /** How long to wait between reconnection attempts. Default 250 ms. */
  readonly reconnectDelayMs?: number;
}

function headersOf(message: ConsumeMessage): Record<string, AmqpPropertyValue> {
  const out: Record<string, AmqpPropertyValue> = {};
  for (const [k, v] of Object.entries(message.properties.headers ?? {})) {
    if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") out[k] = v;
    else if (Buffer.isBuffer(v)) out[k] = v.toString("utf8");
  }
  return out;
}

/**
 * Subscribes a durable queue bound to a topic exchange, with manual acks and a prefetch limit,
 * and runs each message through the inbox with bounded concurrency (one at a time per
 * `partitionkey` when asked). Acks after the outcome is stored; requeues after a delay when it
 * could not be stored; rejects dead-lettered and unreadable events to the dead-letter exchange.
 * A lost connection is reopened; the broker requeues what was not acknowledged, in order, and
 * the inbox absorbs what had been processed. Closing cancels the consumer, waits for the
 * messages in flight and closes the connection.
 *
 * @param options - url, exchange, queue (its type and single active consumer), binding keys, dead-letter exchange, prefetch, the inbox
 * @param handler - the effect of each event, run once per event by the inbox
 * @returns the subscription once the consumer runs
 * @example
 * const sub = (await subscribeAmqp({ exchange: "millwright", queue: "mes", bindingKeys: ["workorder.#"], inbox }, apply))._unsafeUnwrap();
 */
export function subscribeAmqp<TTx>(options: AmqpSubscribeOptions<TTx>, handler: Handler<CanonicalEvent, TTx>): ResultAsync<Subscription, TransportError> {
  const url = options.url ?? defaultAmqpUrl();
  const concurrency = options.concurrency ?? 16;
  const prefetch = options.prefetch ?? concurrency * 2;
  const orderByPartition = options.orderByPartition ?? true;
  const requeueDelayMs = options.requeueDelayMs ?? 500;
  const reconnectDelayMs = options.reconnectDelayMs ?? 250;
  const queueArguments =
    options.queueType === undefined && options.singleActiveConsumer !== true
      ? undefined
      : { ...(options.queueType === undefined ? {} : { "x-queue-type": options.queueType }), ...(options.singleActiveConsumer === true ? { "x-single-active-consumer": true } : {}) };
  const stats = createStatsCounter();
  const instruments = createTransportInstruments({ system: "rabbitmq", attributes: { "messaging.destination.subscription.name": options.queue }, meter: options.meter });
  const pool = createWorkPool({ concurrency, highWater: Number.MAX_SAFE_INTEGER });
  let closing = false;
  let live: { connection: ChannelModel; channel: Channel; consumerTag: string } | undefined;
  // A channel of its own for the lag: a passive declare that fails closes its channel, never the consumer's.
  let lagChannel: Promise<Channel> | undefined;
  const readLag = async (): Promise<number | undefined> => {
    const connection = live?.connection;
    if (connection === undefined) return undefined;
    lagChannel ??= connection.createChannel().then((c) => {
      c.on("error", () => undefined);
      c.on("close", () => void (lagChannel = undefined));
      return c;
    });
    lagChannel.catch(() => void (lagChannel = undefined));
    return (await (await lagChannel).checkQueue(options.queue)).messageCount;
  };

  const settle = async (channel: Channel, message: ConsumeMessage, startedAt: number): Promise<void> => {
    const input = amqpBinding.toEvent({ ...(message.properties.contentType === undefined ? {} : { contentType: String(message.properties.contentType) }), applicationProperties: headersOf(message), body: message.content });
    const outcome = await settleDelivery(options.inbox, handler, input, message.content.toString("utf8"));
    instruments.settled(outcome, startedAt, message.fields.exchange);
    stats.count(outcome);
    options.onOutcome?.(outcome, { redelivered: message.fields.redelivered });
    // On a closed channel these throw; the broker has requeued the message and the inbox absorbs the copy.
    try {
      if (outcome.action === "retry") {
        await delay(requeueDelayMs);
        channel.nack(message, false, true);
      } else if ("rejected" in outcome || outcome.outcome.outcome === "failed") {
        channel.nack(message, false, false);
      } else {
        channel.ack(message);
      }
    } catch {
      // The channel is gone with its deliveries.
    }
  };

  const start = async (): Promise<void> => {
    const connection = await amqplib.connect(url);
    const channel = await connection.createChannel();
    await channel.assertExchange(options.exchange, "topic", { durable: true });
    if (options.deadLetterExchange !== undefined) {
      await channel.assertExchange(options.deadLetterExchange, "fanout", { durable: true });
      await channel.assertQueue(`${options.deadLetterExchange}.queue`, { durable: true });
      await channel.bindQueue(`${options.deadLetterExchange}.queue`, options.deadLetterExchange, "");
    }
    await channel.assertQueue(options.queue, {
      durable: true,
      ...(options.deadLetterExchange === undefined ? {} : { deadLetterExchange: options.deadLetterExchange }),
      ...(queueArguments === undefined ? {} : { arguments: queueArguments }),
    });
    for (const key of options.bindingKeys) await channel.bindQueue(options.queue, options.exchange, key);
    await channel.prefetch(prefetch);
    const reconnect = (): void => {
      if (live?.connection !== connection) return;
      live = undefined;
      if (closing) return;
      void (async () => {
        while (!closing) {
          await delay(reconnectDelayMs);
          try {
            await start();
            return;
          } catch {
            // Keep trying until the broker is back or the subscription closes.
          }
        }
      })();
    };
    connection.on("error", () => undefined);
    connection.on("close", reconnect);
    channel.on("error", () => undefined);
    const { consumerTag } = await channel.consume(
      options.queue,
      (message) => {
        if (message === null) return;
        stats.received();
        instruments.received(message.fields.exchange);
        const startedAt = instruments.now();
        const partition = orderByPartition ? message.properties.headers?.["cloudEvents_partitionkey"] : undefined;
        pool.run(() => settle(channel, message, startedAt), typeof partition === "string" && partition !== "" ? partition : undefined);
      },
      { noAck: false },
    );
    live = { connection, channel, consumerTag };
  };

  return ResultAsync.fromPromise(start(), (cause) => transportError("subscribe_failed", `${options.exchange}/${options.queue}`, `cannot subscribe: ${describeCause(cause)}`, { cause })).map(
    (): Subscription => {
      // Messages ready in the queue, not yet delivered to any consumer (unacknowledged ones are not counted).
      const stopLag = instruments.observeLag(readLag, { "messaging.destination.name": options.queue });
      return {
        stats: () => stats.snapshot(pool.size()),
        close: () => {
          closing = true;
          stopLag();
          return ResultAsync.fromPromise(
            (async () => {
              const l = live;
              if (l !== undefined) await l.channel.cancel(l.consumerTag).catch(() => undefined);
              await pool.drain();
              if (l !== undefined) await l.connection.close().catch(() => undefined);
            })(),
            (cause) => transportError("closed", options.queue, describeCause(cause), { cause }),
          );
        },
      };
    },
  );
}
