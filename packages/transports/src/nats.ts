import { nats as natsBinding, type CanonicalEvent, type NatsMessage } from "@millwright/events";
import type { Handler } from "@millwright/idempotency";
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type JsMsg } from "@nats-io/jetstream";
import { headers as natsHeaders, nanos, type MsgHdrs, type NatsConnection } from "@nats-io/transport-node";
import type { Meter } from "@opentelemetry/api";
import { errAsync, ResultAsync } from "neverthrow";
import { createSettlementBatch, createStatsCounter, createWorkPool, delay, settleDelivery, type DeliveryOutcome, type PublishOutcome, type Publisher, type SubscribeOptions, type Subscription } from "./core.js";
import { describeCause, transportError, type TransportError } from "./errors.js";
import { createTransportInstruments } from "./telemetry.js";

/**
 * The server URL when none is given: the `MILLWRIGHT_NATS_URL` environment variable, else `nats://127.0.0.1:4222`.
 *
 * @returns the URL
 * @example
 * const url = defaultNatsUrl(); // "nats://127.0.0.1:4222" unless MILLWRIGHT_NATS_URL is set
 */
export function defaultNatsUrl(): string {
  return process.env["MILLWRIGHT_NATS_URL"] ?? "nats://127.0.0.1:4222";
}

/** One subject token: lower case, and `.`, `*`, `>` and blanks replaced by `-`; empty becomes `_`. */
function token(value: string | undefined): string {
  const t = (value ?? "").trim().toLowerCase().replace(/[.*>\s]+/g, "-");
  return t === "" ? "_" : t;
}

/**
 * The default subject of an event: `<prefix>.<entity>.<action>.<site>`, e.g.
 * `millwright.workorder.completed.1710`, so one stream per domain binds `millwright.workorder.>`.
 *
 * @param event - the event
 * @param prefix - the first token. Default "millwright"
 * @returns the subject
 * @example
 * natsSubjectOf(event); // "millwright.workorder.completed.1710"
 */
export function natsSubjectOf(event: CanonicalEvent, prefix = "millwright"): string {
  const [, , entity, action] = event.type.split(".");
  const data = event.data as { readonly site?: { readonly id?: unknown }; readonly equipment?: { readonly site?: { readonly id?: unknown } } };
  const site = data.equipment?.site?.id ?? data.site?.id;
  return [prefix, token(entity), token(action), token(typeof site === "string" ? site : undefined)].join(".");
}

/**
 * Creates or updates a stream: the subjects it binds, file storage, and the duplicate window in
 * which a second publish with the same `Nats-Msg-Id` (the event id) is dropped by the server.
 * On a JetStream cluster, `replicas: 3` keeps the stream (and its consumers) on three servers,
 * so it survives the loss of one, its leader included (see docs/clusters/nats.md).
 *
 * @param nc - the connection
 * @param options - name, subjects, duplicate window (default 2 min), max age (default unlimited), replicas (1–5; the server's default, 1, when absent)
 * @returns nothing once the stream exists with this configuration; `invalid_options` for replicas outside 1–5
 * @example
 * await ensureNatsStream(nc, { name: "MILLWRIGHT_WORKORDER", subjects: ["millwright.workorder.>"], replicas: 3 });
 */
export function ensureNatsStream(
  nc: NatsConnection,
  options: { readonly name: string; readonly subjects: readonly string[]; readonly duplicateWindowMs?: number; readonly maxAgeMs?: number; readonly replicas?: number },
): ResultAsync<void, TransportError> {
  const replicas = options.replicas;
  if (replicas !== undefined && (!Number.isInteger(replicas) || replicas < 1 || replicas > 5)) {
    return errAsync(transportError("invalid_options", `${options.name}.replicas`, `replicas must be an integer from 1 to 5 (JetStream's limit), got ${String(replicas)}`, { value: replicas }));
  }
  const config = {
    name: options.name,
    subjects: [...options.subjects],
    duplicate_window: nanos(options.duplicateWindowMs ?? 120_000),
    max_age: nanos(options.maxAgeMs ?? 0),
    ...(replicas === undefined ? {} : { num_replicas: replicas }),
  };
  return ResultAsync.fromPromise(
    (async () => {
      const jsm = await jetstreamManager(nc);
      try {
        await jsm.streams.info(options.name);
        await jsm.streams.update(options.name, config);
      } catch {
        await jsm.streams.add(config);
      }
    })(),
    (cause) => transportError("connect_failed", options.name, `cannot create the stream: ${describeCause(cause)}`, { cause }),
  );
}

/**
 * The NATS headers of a message. `append`, not `set`: the binding's names are distinct, and `set`
 * searches the headers twice per name. `Nats-Msg-Id` is set by `js.publish` from its `msgID`.
 */
function toHeaders(message: NatsMessage): MsgHdrs {
  const h = natsHeaders();
  const headers = message.headers;
  if (headers !== undefined) for (const name in headers) {
    const value = headers[name] as string | readonly string[];
    h.append(name, typeof value === "string" ? value : value.join(","));
  }
  return h;
}

/** Options of {@link createNatsPublisher}. */
export interface NatsPublisherOptions {
  /** The subject of an event. Default {@link natsSubjectOf}. */
  readonly subjectOf?: (event: CanonicalEvent) => string;
  /** `binary` (default): `ce-` headers; `structured`: the JSON format. */
  readonly mode?: "binary" | "structured";
  /** How long to wait for the stream's acknowledgement. Default 5 s. */
  readonly timeoutMs?: number;
  /** Attempts per event; a retry carries the same `Nats-Msg-Id`, so the server keeps one copy. Default 5. */
  readonly maxAttempts?: number;
  /** Backoff before a retry. Default 200 ms, doubled each time. */
  readonly retryDelayMs?: number;
  /** How many publishes await their acknowledgement at once. Default 64. */
  readonly concurrency?: number;
  /** Where the publisher's metrics go; the global meter by default (see docs/metrics.md). */
  readonly meter?: Meter;
}

/**
 * Creates a JetStream publisher: each event goes to its subject with `Nats-Msg-Id` = event id, so
 * the stream's duplicate window drops a second copy, and counts as published when the stream
 * acknowledged it. Failed publishes are retried with backoff.
 *
 * @param nc - the connection (the caller owns it)
 * @param options - subject rule, mode, timeout, retries, concurrency
 * @returns the publisher
 * @example
 * const publisher = createNatsPublisher(await connect({ servers: defaultNatsUrl() }));
 * const outcomes = await publisher.publish(events);
 */
export function createNatsPublisher(nc: NatsConnection, options: NatsPublisherOptions = {}): Publisher {
  const js = jetstream(nc);
  const subjectOf = options.subjectOf ?? ((e: CanonicalEvent) => natsSubjectOf(e));
  const maxAttempts = options.maxAttempts ?? 5;
  const retryDelayMs = options.retryDelayMs ?? 200;
  const pool = createWorkPool({ concurrency: options.concurrency ?? 64 });
  const instruments = createTransportInstruments({ system: "nats", meter: options.meter });
  let closed = false;

  async function publishOne(event: CanonicalEvent): Promise<PublishOutcome> {
    const subject = subjectOf(event);
    const startedAt = instruments.now();
    const outcome = await attempts(event, subject);
    instruments.published(outcome, startedAt, subject);
    return outcome;
  }

  async function attempts(event: CanonicalEvent, subject: string): Promise<PublishOutcome> {
    const message = options.mode === "structured" ? natsBinding.structured(event) : natsBinding.binary(event);
    let last: TransportError | undefined;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      try {
        await js.publish(subject, message.data, { msgID: event.id, headers: toHeaders(message), timeout: options.timeoutMs ?? 5000 });
        return { id: event.id, outcome: "published", attempts: attempt };
      } catch (cause) {
        last = transportError("publish_failed", subject, describeCause(cause), { cause });
        if (attempt < maxAttempts) await delay(retryDelayMs * 2 ** (attempt - 1));
      }
    }
    return { id: event.id, outcome: "failed", attempts: maxAttempts, error: last ?? transportError("publish_failed", subject, "no attempt was made") };
  }

  return {
    publish: (events) => {
      if (closed) return errAsync(transportError("closed", "nats", "the publisher is closed"));
      return ResultAsync.fromSafePromise(Promise.all(events.map((e) => new Promise<PublishOutcome>((resolve) => pool.run(() => publishOne(e).then(resolve))))));
    },
    close: () => {
      closed = true;
      return ResultAsync.fromSafePromise(pool.drain());
    },
  };
}

/** Options of {@link subscribeNats}. */
export interface NatsSubscribeOptions<TTx> extends SubscribeOptions<TTx> {
  readonly stream: string;
  /** The durable consumer's name: it keeps its position and unacknowledged messages across restarts. */
  readonly durable: string;
  /** Only these subjects of the stream. */
  readonly filterSubject?: string;
  /** Deliveries per message before it goes to the dead letters. Default 5. */
  readonly maxDeliver?: number;
  /** How long the server waits for an ack before it redelivers. Default 30 s. */
  readonly ackWaitMs?: number;
  /** The delay of a nak: how long before the server redelivers a message whose outcome could not be stored. Default 1 s. */
  readonly nakDelayMs?: number;
  /** A subject bound to a dead-letter stream: messages that exhausted their deliveries, or were dead-lettered or unreadable, are copied there before `term`. */
  readonly deadLetterSubject?: string;
  /** Keep the order of events with the same `partitionkey` (else they run concurrently). Default true. */
  readonly orderByPartition?: boolean;
}

/** A message's headers as the binding reads them: the first value of each name, as `MsgHdrs.get` gives it, in one pass. */
function headersOf(m: JsMsg): Record<string, string> {
  const out: Record<string, string> = {};
  const headers = m.headers;
  if (headers !== undefined) for (const [k, values] of headers as unknown as Iterable<[string, readonly string[]]>) out[k] = values[0] ?? "";
  return out;
}

/**
 * Subscribes a durable pull consumer (explicit acks) and runs each message through the inbox with
 * bounded concurrency, pulling no more than the pool can hold. Acks after the outcome is stored
 * (the acks of one batch together, in one socket write);
 * naks with a delay when it could not be stored; after `maxDeliver` deliveries, and for
 * dead-lettered or unreadable events, copies the message to the dead-letter subject and terms it.
 *
 * @param nc - the connection (the caller owns it)
 * @param options - stream, durable name, filter, max deliveries, ack wait, nak delay, dead-letter subject, the inbox
 * @param handler - the effect of each event, run once per event by the inbox
 * @returns the subscription once the consumer exists
 * @example
 * const sub = (await subscribeNats(nc, { stream: "MILLWRIGHT_WORKORDER", durable: "mes", inbox }, (e, { tx }) => tx.defer(() => apply(e))))._unsafeUnwrap();
 */
export function subscribeNats<TTx>(nc: NatsConnection, options: NatsSubscribeOptions<TTx>, handler: Handler<CanonicalEvent, TTx>): ResultAsync<Subscription, TransportError> {
  const concurrency = options.concurrency ?? 16;
  const maxDeliver = options.maxDeliver ?? 5;
  const nakDelayMs = options.nakDelayMs ?? 1000;
  const orderByPartition = options.orderByPartition ?? true;
  const stats = createStatsCounter();
  const instruments = createTransportInstruments({ system: "nats", attributes: { "messaging.consumer.group.name": options.durable }, meter: options.meter });
  const js = jetstream(nc);
  let resume: (() => void) | undefined;
  let paused = false;
  const pool = createWorkPool({
    concurrency,
    highWater: concurrency * 2,
    onPause: () => void (paused = true),
    onResume: () => {
      paused = false;
      resume?.();
    },
  });

  async function deadLetter(m: JsMsg, reason: string): Promise<boolean> {
    if (options.deadLetterSubject === undefined) return true;
    const h = natsHeaders();
    for (const [k, v] of Object.entries(headersOf(m))) if (k !== "Nats-Msg-Id") h.set(k, v);
    h.set("Millwright-Dead-Letter-Reason", reason.slice(0, 500));
    h.set("Millwright-Original-Subject", m.subject);
    h.set("Nats-Msg-Id", `dlq:${options.stream}:${m.seq}`);
    try {
      await js.publish(options.deadLetterSubject, m.data, { headers: h, msgID: `dlq:${options.stream}:${m.seq}` });
      return true;
    } catch {
      return false;
    }
  }

  // Acks of one batch (what the inbox stored while the microtask queue ran) go out together: one
  // socket write for the batch instead of one per message, each ack still after its outcome was stored.
  const acks = createSettlementBatch<JsMsg>((batch) => {
    for (const m of batch) m.ack();
  });

  function settle(m: JsMsg, headers: Record<string, string>, startedAt: number): Promise<void> {
    const input = natsBinding.toEvent({ headers, data: m.data });
    return settleDelivery(options.inbox, handler, input, () => m.string()).then((outcome) => settled(m, startedAt, outcome));
  }

  function settled(m: JsMsg, startedAt: number, outcome: DeliveryOutcome): Promise<void> | undefined {
    instruments.settled(outcome, startedAt, m.subject);
    stats.count(outcome);
    if (options.onOutcome !== undefined) options.onOutcome(outcome, { redelivered: m.info.redelivered });
    if (outcome.action === "retry") return retry(m, outcome.error);
    const reason = "rejected" in outcome ? outcome.rejected.message : outcome.outcome.outcome === "failed" ? outcome.outcome.message : undefined;
    if (reason !== undefined) return terminate(m, reason);
    acks.add(m);
    return undefined;
  }

  async function retry(m: JsMsg, error: TransportError): Promise<void> {
    if (m.info.deliveryCount >= maxDeliver) {
      if (await deadLetter(m, `delivered ${m.info.deliveryCount} times: ${error.message}`)) m.term(error.message.slice(0, 200));
      else m.nak(nakDelayMs);
    } else {
      m.nak(nakDelayMs);
    }
  }

  async function terminate(m: JsMsg, reason: string): Promise<void> {
    if (await deadLetter(m, reason)) m.term(reason.slice(0, 200));
    else m.nak(nakDelayMs);
  }

  const setup = ResultAsync.fromPromise(
    (async () => {
      const jsm = await jetstreamManager(nc);
      await jsm.consumers.add(options.stream, {
        durable_name: options.durable,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        max_deliver: maxDeliver + 1,
        ack_wait: nanos(options.ackWaitMs ?? 30_000),
        max_ack_pending: Math.max(concurrency * 4, 1000),
        ...(options.filterSubject === undefined ? {} : { filter_subject: options.filterSubject }),
      });
      const consumer = await js.consumers.get(options.stream, options.durable);
      const messages = await consumer.consume({ max_messages: concurrency * 2 });
      // The server's count of the stream's messages this consumer has not been delivered yet.
      const stopLag = instruments.observeLag(async () => (await jsm.consumers.info(options.stream, options.durable)).num_pending, { "messaging.destination.name": options.stream });
      return { messages, stopLag };
    })(),
    (cause) => transportError("subscribe_failed", `${options.stream}/${options.durable}`, describeCause(cause), { cause }),
  );

  return setup.map(({ messages, stopLag }): Subscription => {
    let closing = false;
    const loop = (async () => {
      for await (const m of messages) {
        if (closing) {
          // Not acknowledged: redelivered to the next consumer after the nak.
          m.nak();
          continue;
        }
        stats.received();
        instruments.received(m.subject);
        const startedAt = instruments.now();
        const headers = headersOf(m);
        const partition = orderByPartition ? headers["ce-partitionkey"] : undefined;
        pool.run(() => settle(m, headers, startedAt), partition === undefined || partition === "" ? undefined : partition);
        if (paused) await new Promise<void>((resolve) => (resume = resolve));
      }
    })();
    return {
      stats: () => stats.snapshot(pool.size()),
      close: () => {
        closing = true;
        stopLag();
        return ResultAsync.fromPromise(
          (async () => {
            await pool.drain();
            acks.flush();
            await messages.close();
            resume?.();
            await loop;
          })(),
          (cause) => transportError("closed", options.durable, describeCause(cause), { cause }),
        );
      },
    };
  });
}
