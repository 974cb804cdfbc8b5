import { amqp as amqpBinding, type AmqpPropertyValue, type CanonicalEvent } from "@millwright/events";
import type { Handler } from "@millwright/idempotency";
import type { Meter } from "@opentelemetry/api";
import amqplib, { type Channel, type ChannelModel, type ConfirmChannel, type ConsumeMessage } from "amqplib";
import { errAsync, ResultAsync } from "neverthrow";
import { createAckWindow, createStatsCounter, createWorkPool, delay, settleDelivery, type AckWindow, type Delivery, type PublishOutcome, type Publisher, type SubscribeOptions, type Subscription } from "./core.js";
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
  /**
   * Called when the connection drops or the broker closes the confirm channel (`final` is always
   * false: the next attempt reopens it; a publish that runs out of attempts fails in its outcome).
   */
  readonly onError?: (error: TransportError, info: AmqpErrorInfo) => void;
}

function toContent(message: { readonly body: string | Uint8Array }): Buffer {
  return typeof message.body === "string" ? Buffer.from(message.body, "utf8") : Buffer.from(message.body);
}

/**
 * Creates an AMQP 0-9-1 publisher: persistent messages to a durable topic exchange on a confirm
 * channel; an event counts as published when the broker confirmed it. A publish that fails (also
 * on a lost connection) is retried on a fresh connection, or on a fresh channel of the same
 * connection when the broker closed only the channel; a receiver's inbox absorbs the copy.
 *
 * @param options - url, exchange, routing key rule, mode, retries, onError
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
  let connecting: Promise<ChannelModel> | undefined;
  let closed = false;
  const report = (error: TransportError, info: AmqpErrorInfo): void => {
    try {
      options.onError?.(error, info);
    } catch {
      // A throwing listener must not stop the publisher.
    }
  };

  const connect = (): Promise<ChannelModel> => {
    connecting ??= amqplib.connect(url).then((connection) => {
      connection.on("error", () => undefined);
      connection.on("close", (cause?: unknown) => {
        connecting = undefined;
        current = undefined;
        if (!closed) report(transportError("publish_failed", options.exchange, `the connection to the broker was lost: ${describeCause(cause ?? "closed")}; reconnecting on the next attempt`, { cause }), { final: false, lost: "connection" });
      });
      return connection;
    });
    connecting.catch(() => void (connecting = undefined));
    return connecting;
  };

  // A confirm channel the broker closed (e.g. 404 on a deleted exchange) is replaced by a new
  // channel on the same connection at the next attempt; its unconfirmed publishes fail and are
  // retried there, so the connection is neither abandoned open nor the publisher left stuck.
  const open = (): Promise<{ connection: ChannelModel; channel: ConfirmChannel }> => {
    if (current !== undefined) return current;
    const opening: Promise<{ connection: ChannelModel; channel: ConfirmChannel }> = (async () => {
      const connection = await connect();
      const channel = await connection.createConfirmChannel();
      let why: unknown;
      channel.on("error", (e: unknown) => void (why = e));
      channel.on("close", () => {
        // A dropped connection closes its channels first: wait a turn so its own handler reports it.
        setImmediate(() => {
          if (current !== opening || connecting === undefined) return;
          current = undefined;
          if (!closed) report(transportError("publish_failed", options.exchange, `the broker closed the confirm channel: ${describeCause(why ?? "closed")}; reopening it on the next attempt`, { cause: why }), { final: false, lost: "channel" });
        });
      });
      await channel.assertExchange(options.exchange, "topic", { durable: true });
      return { connection, channel };
    })().catch((cause: unknown) => {
      if (current === opening) current = undefined;
      throw cause;
    });
    current = opening;
    return opening;
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
            const connection = await connecting?.catch(() => undefined);
            await connection?.close().catch(() => undefined);
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
  /** How long to wait before each attempt to reopen a lost connection, channel or consumer. Default 250 ms. */
  readonly reconnectDelayMs?: number;
  /**
   * Called when the consumer is lost while the subscription is open: the connection dropped, the
   * broker closed the consuming channel (e.g. `PRECONDITION_FAILED`), or it cancelled the consumer
   * (`basic.cancel`, e.g. the queue was deleted). `final: false`: the subscriber reopens and resumes
   * by itself; `final: true`: it gave up, because the queue could not be declared again (e.g.
   * redeclared with other arguments, access refused), and consumes nothing more until closed.
   * Without it a final error goes to `process.emitWarning`, so a dead consumer is never silent.
   */
  readonly onError?: (error: TransportError, info: AmqpErrorInfo) => void;
}

/** What {@link AmqpSubscribeOptions.onError} and {@link AmqpPublisherOptions.onError} learn besides the error. */
export interface AmqpErrorInfo {
  /** True when the subscriber gave up; false when it recovers by itself. */
  readonly final: boolean;
  /** What was lost: `connection`, `channel` (closed by the broker), or `consumer` (cancelled by the broker). */
  readonly lost: "connection" | "channel" | "consumer";
}

/**
 * Reply codes of a channel closed by the broker that the same declaration will meet again: a retry
 * cannot succeed (403 ACCESS_REFUSED, 404 NOT_FOUND, 405 RESOURCE_LOCKED, 406 PRECONDITION_FAILED).
 */
const PERMANENT_CHANNEL_CODES = new Set([403, 404, 405, 406]);

function replyCodeOf(cause: unknown): number | undefined {
  const code = (cause as { readonly code?: unknown } | null | undefined)?.code;
  return typeof code === "number" ? code : undefined;
}

function headersOf(message: ConsumeMessage): Record<string, AmqpPropertyValue> {
  const out: Record<string, AmqpPropertyValue> = {};
  const headers = message.properties.headers as Record<string, unknown> | undefined;
  if (headers === undefined) return out;
  for (const k of Object.keys(headers)) {
    const v = headers[k];
    if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") out[k] = v;
    else if (Buffer.isBuffer(v)) out[k] = v.toString("utf8");
  }
  return out;
}


/** A step of the consumer's setup that the broker refused, with the reply code it closed the channel with. */
class SetupRefused extends Error {
  constructor(
    readonly step: string,
    readonly replyCode: number | undefined,
    cause: unknown,
  ) {
    super(`${step} failed: ${describeCause(cause)}`, { cause });
  }
}

/**
 * Subscribes a durable queue bound to a topic exchange, with manual acks and a prefetch limit,
 * and runs each message through the inbox with bounded concurrency (one at a time per
 * `partitionkey` when asked). Acks after the outcome is stored, one cumulative ack (`multiple`)
 * per batch of settled deliveries; requeues after a delay when it
 * could not be stored; rejects dead-lettered and unreadable events to the dead-letter exchange.
 * A lost connection is reopened; so is a consuming channel the broker closed or whose consumer it
 * cancelled (`basic.cancel`), on the same connection, with the same declarations and prefetch.
 * Deliveries of a lost channel are never acknowledged on another: the broker requeues what was not
 * acknowledged, in order, and the inbox absorbs what had been processed. Each loss is reported to
 * `onError`; when the queue cannot be declared again the subscriber gives up and says so there.
 * Closing cancels the consumer, waits for the messages in flight and closes the connection.
 *
 * @param options - url, exchange, queue (its type and single active consumer), binding keys, dead-letter exchange, prefetch, the inbox, onError
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
  const where = `${options.exchange}/${options.queue}`;
  const queueArguments =
    options.queueType === undefined && options.singleActiveConsumer !== true
      ? undefined
      : { ...(options.queueType === undefined ? {} : { "x-queue-type": options.queueType }), ...(options.singleActiveConsumer === true ? { "x-single-active-consumer": true } : {}) };
  const stats = createStatsCounter();
  const instruments = createTransportInstruments({ system: "rabbitmq", attributes: { "messaging.destination.subscription.name": options.queue }, meter: options.meter });
  const pool = createWorkPool({ concurrency, highWater: Number.MAX_SAFE_INTEGER });
  let closing = false;
  // Set once close() took the connection to close it: a recovery still running closes its own.
  let released = false;
  // Set once the subscriber gave up: nothing reopens any more.
  let gaveUp = false;
  // Set while a recovery loop runs, so a second loss in the meantime starts no second loop.
  let recovering = false;
  let connection: ChannelModel | undefined;
  // The consuming channel and its acknowledgements; undefined while lost.
  let live: { channel: Channel; consumerTag: string; acks: AckWindow<ConsumeMessage> } | undefined;
  // A channel of its own for the lag: a passive declare that fails closes its channel, never the consumer's.
  let lagChannel: Promise<Channel> | undefined;
  const readLag = async (): Promise<number | undefined> => {
    const c = connection;
    if (c === undefined) return undefined;
    lagChannel ??= c.createChannel().then((lc) => {
      lc.on("error", () => undefined);
      lc.on("close", () => void (lagChannel = undefined));
      return lc;
    });
    lagChannel.catch(() => void (lagChannel = undefined));
    return (await (await lagChannel).checkQueue(options.queue)).messageCount;
  };

  const report = (error: TransportError, info: AmqpErrorInfo): void => {
    try {
      if (options.onError !== undefined) options.onError(error, info);
      else if (info.final) process.emitWarning(error.message, { code: "MILLWRIGHT_AMQP_CONSUMER_GAVE_UP" });
    } catch {
      // A throwing listener must not stop the recovery.
    }
  };

  const settle = (channel: Channel, acks: AckWindow<ConsumeMessage>, delivery: Delivery<ConsumeMessage>, startedAt: number): Promise<void> => {
    const message = delivery.message;
    const contentType = message.properties.contentType as unknown;
    const input = amqpBinding.toEvent(contentType === undefined ? { applicationProperties: headersOf(message), body: message.content } : { contentType: String(contentType), applicationProperties: headersOf(message), body: message.content });
    return settleDelivery(options.inbox, handler, input, () => message.content.toString("utf8")).then((outcome) => {
      instruments.settled(outcome, startedAt, message.fields.exchange);
      stats.count(outcome);
      options.onOutcome?.(outcome, { redelivered: message.fields.redelivered });
      if (outcome.action === "ack" && !("rejected" in outcome) && outcome.outcome.outcome !== "failed") {
        acks.ack(delivery);
        return undefined;
      }
      return nack(channel, acks, delivery, outcome.action === "retry");
    });
  };

  const nack = async (channel: Channel, acks: AckWindow<ConsumeMessage>, delivery: Delivery<ConsumeMessage>, requeue: boolean): Promise<void> => {
    if (requeue) await delay(requeueDelayMs);
    // On a closed channel this throws; the broker has requeued the message and the inbox absorbs the copy.
    try {
      channel.nack(delivery.message, false, requeue);
    } catch {
      // The channel is gone with its deliveries.
    }
    acks.settledOtherwise(delivery);
  };

  const LOST_WHAT: Record<AmqpErrorInfo["lost"], string> = {
    connection: "the connection to the broker was lost",
    channel: "the broker closed the consuming channel",
    consumer: "the broker cancelled the consumer (basic.cancel)",
  };
  let lastLost: AmqpErrorInfo["lost"] = "connection";

  /** The consumer is gone while the subscription is open: report it and reopen, unless a recovery already runs. */
  const lost = (what: AmqpErrorInfo["lost"], cause: unknown): void => {
    const l = live;
    live = undefined;
    if (closing || gaveUp || recovering) return;
    recovering = true;
    lastLost = what;
    report(transportError("subscribe_failed", where, `${LOST_WHAT[what]} of queue "${options.queue}": ${describeCause(cause)}; reopening`, { cause }), { final: false, lost: what });
    // A cancelled consumer's channel is still open: close it, so its unacknowledged deliveries go
    // back to the queue now. Acknowledgements still due on it fail and are dropped, never sent on
    // the new channel (delivery tags belong to their channel); the inbox absorbs the redeliveries.
    if (what === "consumer" && l !== undefined) void l.channel.close().catch(() => undefined);
    void recover();
  };

  const giveUp = (cause: SetupRefused): void => {
    gaveUp = true;
    recovering = false;
    report(
      transportError(
        "subscribe_failed",
        options.queue,
        `gave up consuming queue "${options.queue}" after ${LOST_WHAT[lastLost]}: the queue cannot be declared again, ${cause.message}`,
        { cause, value: { queue: options.queue, step: cause.step, replyCode: cause.replyCode } },
      ),
      { final: true, lost: lastLost },
    );
    const c = connection;
    connection = undefined;
    void c?.close().catch(() => undefined);
  };

  /** Reopens with the subscriber's fixed backoff until consuming again, closed, or refused for good. */
  const recover = async (): Promise<void> => {
    while (!closing) {
      await delay(reconnectDelayMs);
      if (closing) break;
      try {
        await consume(connection ?? (await connect()));
        if (closing) break;
        recovering = false;
        return;
      } catch (cause) {
        if (closing) break;
        // A declaration the broker refuses with a channel error will be refused again: give up.
        if (cause instanceof SetupRefused && cause.replyCode !== undefined && PERMANENT_CHANNEL_CODES.has(cause.replyCode) && connection !== undefined) {
          giveUp(cause);
          return;
        }
        // Otherwise (broker away, connection closing) keep trying until it is back or the subscription closes.
      }
    }
    recovering = false;
    // Closed while reopening: a connection opened after close() took it is closed here (before
    // that, close() takes it and closes it once the messages in flight are settled).
    if (!released) return;
    const c = connection;
    connection = undefined;
    await c?.close().catch(() => undefined);
  };

  const connect = async (): Promise<ChannelModel> => {
    const c = await amqplib.connect(url);
    c.on("error", () => undefined);
    c.on("close", (cause?: unknown) => {
      if (connection !== c) return;
      connection = undefined;
      lagChannel = undefined;
      lost("connection", cause ?? new Error("the connection closed"));
    });
    connection = c;
    return c;
  };

  const consume = async (c: ChannelModel): Promise<void> => {
    const channel = await c.createChannel();
    let why: unknown;
    channel.on("error", (e: unknown) => void (why = e));
    channel.on("close", () => {
      // A dropped connection closes its channels before it says so itself: wait a turn, so the
      // connection's handler reports it as what it is.
      setImmediate(() => {
        if (live?.channel === channel) lost("channel", why ?? new Error("the channel closed"));
      });
    });
    let step = "";
    const run = async <T>(name: string, action: () => Promise<T>): Promise<T> => {
      step = name;
      return action();
    };
    let consumerTag: string;
    const acks = createAckWindow<ConsumeMessage>((message, multiple) => channel.ack(message, multiple));
    try {
      await run(`declaring exchange "${options.exchange}"`, () => channel.assertExchange(options.exchange, "topic", { durable: true }));
      const dlx = options.deadLetterExchange;
      if (dlx !== undefined) {
        await run(`declaring exchange "${dlx}"`, () => channel.assertExchange(dlx, "fanout", { durable: true }));
        await run(`declaring queue "${dlx}.queue"`, () => channel.assertQueue(`${dlx}.queue`, { durable: true }));
        await run(`binding queue "${dlx}.queue"`, () => channel.bindQueue(`${dlx}.queue`, dlx, ""));
      }
      await run(`declaring queue "${options.queue}"`, () =>
        channel.assertQueue(options.queue, {
          durable: true,
          ...(dlx === undefined ? {} : { deadLetterExchange: dlx }),
          ...(queueArguments === undefined ? {} : { arguments: queueArguments }),
        }),
      );
      for (const key of options.bindingKeys) await run(`binding queue "${options.queue}" to "${options.exchange}" with "${key}"`, () => channel.bindQueue(options.queue, options.exchange, key));
      await run("setting the prefetch", () => channel.prefetch(prefetch));
      // One `basic.ack multiple` per batch of deliveries stored by the inbox (see createAckWindow).
      ({ consumerTag } = await run(`consuming queue "${options.queue}"`, () =>
        channel.consume(
          options.queue,
          (message) => {
            if (message === null) {
              // basic.cancel: the broker stopped this consumer (queue deleted, replica failover).
              if (live?.channel === channel) lost("consumer", new Error(`the broker cancelled consumer ${live.consumerTag}`));
              return;
            }
            stats.received();
            instruments.received(message.fields.exchange);
            const startedAt = instruments.now();
            const partition = orderByPartition ? message.properties.headers?.["cloudEvents_partitionkey"] : undefined;
            const delivery = acks.delivered(message);
            pool.run(() => settle(channel, acks, delivery, startedAt), typeof partition === "string" && partition !== "" ? partition : undefined);
          },
          { noAck: false },
        ),
      ));
    } catch (cause) {
      await channel.close().catch(() => undefined);
      throw new SetupRefused(step, replyCodeOf(cause), cause);
    }
    live = { channel, consumerTag, acks };
    // Closed while reopening: undo what was just opened.
    if (closing) await channel.cancel(consumerTag).catch(() => undefined);
  };

  const start = async (): Promise<void> => {
    const c = await connect();
    try {
      await consume(c);
    } catch (cause) {
      connection = undefined;
      await c.close().catch(() => undefined);
      throw cause;
    }
  };

  return ResultAsync.fromPromise(start(), (cause) => transportError("subscribe_failed", where, `cannot subscribe: ${describeCause(cause)}`, { cause })).map(
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
              l?.acks.flush();
              const c = connection;
              connection = undefined;
              released = true;
              if (c !== undefined) await c.close().catch(() => undefined);
            })(),
            (cause) => transportError("closed", options.queue, describeCause(cause), { cause }),
          );
        },
      };
    },
  );
}
