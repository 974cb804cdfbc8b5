import type { IncomingMessage, ServerResponse } from "node:http";
import { http as httpBinding, type CanonicalEvent, type EventError, type HttpMessage } from "@millwright/events";
import type { Handler } from "@millwright/idempotency";
import { err, errAsync, ok, ResultAsync, type Result } from "neverthrow";
import { createStatsCounter, createWorkPool, delay, settleDelivery, type DeliveryOutcome, type PublishOutcome, type Publisher, type SubscribeOptions, type Subscription } from "./core.js";
import { describeCause, transportError, type TransportError } from "./errors.js";
import { SIGNATURE_HEADER, signWebhook, verifyWebhook } from "./signature.js";

export { SIGNATURE_HEADER, signWebhook, verifyWebhook, type SignatureError } from "./signature.js";

/** How a webhook sender retries: attempts in all, and exponential backoff with full jitter. */
export interface WebhookRetry {
  /** Attempts in all, including the first. Default 5. */
  readonly maxAttempts?: number;
  /** The first backoff. Default 200 ms. */
  readonly baseDelayMs?: number;
  /** The largest backoff. Default 10 s. */
  readonly maxDelayMs?: number;
}

/** Options of {@link createWebhookSender}. */
export interface WebhookSenderOptions {
  /** The receiver's URL. */
  readonly url: string;
  /** The shared HMAC-SHA256 secret. */
  readonly secret: string;
  /** `structured` (default): one request per event as application/cloudevents+json; `binary`: ce- headers; `batch`: one request for all events. */
  readonly mode?: "structured" | "binary" | "batch";
  /** How long one request may take. Default 10 s. */
  readonly timeoutMs?: number;
  readonly retry?: WebhookRetry;
  /** How many requests run at once. Default 8. */
  readonly concurrency?: number;
  /** Unix time in milliseconds. Default Date.now. */
  readonly now?: () => number;
  /** Uniform numbers in [0, 1) for the jitter. Default Math.random. */
  readonly random?: () => number;
  /** Extra headers on every request (authorization, tracing). */
  readonly headers?: Readonly<Record<string, string>>;
}

/** Whether an HTTP status is worth another attempt: 408, 425, 429 and 5xx. */
function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status >= 500;
}

/**
 * Creates a webhook sender: posts events signed with HMAC-SHA256 and a timestamp, with a timeout
 * per request and retries with exponential backoff on network errors, timeouts, 408/425/429 and
 * 5xx. Other 4xx responses are final. Each attempt is signed afresh.
 *
 * @param options - url, secret, mode, timeout, retry, concurrency
 * @returns a {@link Publisher}
 * @example
 * const sender = createWebhookSender({ url: "https://mes.example/hooks/millwright", secret });
 * const outcomes = await sender.publish([event]);
 */
export function createWebhookSender(options: WebhookSenderOptions): Publisher {
  const mode = options.mode ?? "structured";
  const timeoutMs = options.timeoutMs ?? 10_000;
  const maxAttempts = options.retry?.maxAttempts ?? 5;
  const baseDelayMs = options.retry?.baseDelayMs ?? 200;
  const maxDelayMs = options.retry?.maxDelayMs ?? 10_000;
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  let closed = false;
  const pool = createWorkPool({ concurrency: options.concurrency ?? 8 });

  async function post(message: HttpMessage): Promise<{ attempts: number; error?: TransportError }> {
    const body = typeof message.body === "string" ? message.body : Buffer.from(message.body ?? "").toString("utf8");
    let last: TransportError | undefined;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      const headers: Record<string, string> = { ...options.headers };
      for (const [name, value] of Object.entries(message.headers)) if (typeof value === "string") headers[name] = value;
      headers[SIGNATURE_HEADER] = signWebhook({ secret: options.secret, timestamp: Math.floor(now() / 1000), body });
      try {
        const response = await fetch(options.url, { method: "POST", headers, body, signal: AbortSignal.timeout(timeoutMs) });
        const text = await response.text().catch(() => "");
        if (response.ok) return { attempts: attempt };
        last = transportError("publish_rejected", options.url, `the receiver answered ${response.status}: ${text.slice(0, 200)}`, { value: response.status });
        if (!isRetryableStatus(response.status)) return { attempts: attempt, error: last };
      } catch (cause) {
        const timedOut = cause instanceof Error && (cause.name === "TimeoutError" || cause.name === "AbortError");
        last = timedOut
          ? transportError("timeout", options.url, `no response within ${timeoutMs} ms`, { cause })
          : transportError("publish_failed", options.url, `the request failed: ${describeCause(cause)}`, { cause });
      }
      if (attempt < maxAttempts) await delay(Math.floor(random() * Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1))));
    }
    return { attempts: maxAttempts, error: last ?? transportError("publish_failed", options.url, "no attempt was made") };
  }

  const toOutcome = (id: string, sent: { attempts: number; error?: TransportError }): PublishOutcome =>
    sent.error === undefined ? { id, outcome: "published", attempts: sent.attempts } : { id, outcome: "failed", attempts: sent.attempts, error: sent.error };

  function publishAll(events: readonly CanonicalEvent[]): Promise<PublishOutcome[]> {
    if (mode === "batch") {
      if (events.length === 0) return Promise.resolve([]);
      return post(httpBinding.batch(events)).then((sent) => events.map((e) => toOutcome(e.id, sent)));
    }
    return Promise.all(
      events.map(
        (event) =>
          new Promise<PublishOutcome>((resolve) => {
            pool.run(async () => resolve(toOutcome(event.id, await post(mode === "binary" ? httpBinding.binary(event) : httpBinding.structured(event)))));
          }),
      ),
    );
  }

  return {
    publish: (events) => {
      if (closed) return errAsync(transportError("closed", options.url, "the sender is closed"));
      return ResultAsync.fromSafePromise(publishAll(events));
    },
    close: () => {
      closed = true;
      return ResultAsync.fromSafePromise(pool.drain());
    },
  };
}

/** Options of {@link createWebhookReceiver}. */
export interface WebhookReceiverOptions<TTx> extends SubscribeOptions<TTx> {
  /** The shared secrets; more than one while a secret is rotated. */
  readonly secrets: readonly string[];
  /** How far a signed timestamp may be from now. Default 300 s. */
  readonly toleranceSeconds?: number;
  /** The largest body accepted. Default 1 MiB. */
  readonly maxBodyBytes?: number;
  /** Unix time in milliseconds. Default Date.now. */
  readonly now?: () => number;
}

/** A webhook receiver: a `node:http` request listener that feeds the inbox. */
export interface WebhookReceiver extends Subscription {
  /** The request listener: `createServer(receiver.listener)` or mount it on a route of any framework that passes Node's req/res. */
  readonly listener: (request: IncomingMessage, response: ServerResponse) => void;
}

function readBody(request: IncomingMessage, limit: number): Promise<Buffer | "too_large"> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        resolve("too_large");
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on("end", () => resolve(Buffer.concat(chunks)));
    request.on("error", reject);
  });
}

function reply(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (response.headersSent) return;
  response.writeHead(status, { "content-type": "application/json", ...headers });
  response.end(JSON.stringify(body));
}

/**
 * Creates a webhook receiver for `node:http`: verifies the HMAC signature in constant time,
 * refuses stale timestamps (401) and replayed nonces (409), reads structured, binary and batch
 * requests with the events package's HTTP binding, and answers 200 only after every event's
 * effect is stored by the inbox. Unreadable events are kept as dead letters and answered 400.
 * Beyond `concurrency` requests at once, and while closing, it answers 503 with Retry-After, which
 * the sender retries.
 *
 * @param options - secrets, tolerance, body limit, the inbox, concurrency
 * @param handler - the effect of each event, run once per event by the inbox
 * @returns the receiver with its request listener
 * @example
 * const receiver = createWebhookReceiver({ secrets: [secret], inbox }, (event, { tx }) => tx.defer(() => apply(event)));
 * createServer(receiver.listener).listen(8080);
 */
export function createWebhookReceiver<TTx>(options: WebhookReceiverOptions<TTx>, handler: Handler<CanonicalEvent, TTx>): WebhookReceiver {
  const tolerance = options.toleranceSeconds ?? 300;
  const limit = options.maxBodyBytes ?? 1024 * 1024;
  const concurrency = options.concurrency ?? 16;
  const now = options.now ?? Date.now;
  const stats = createStatsCounter();
  // Nonces seen within the tolerance window; older requests are refused as stale anyway.
  const seen = new Map<string, number>();
  let inFlight = 0;
  let closing = false;
  let idle: (() => void)[] = [];

  function remember(nonce: string, timestamp: number, nowSeconds: number): boolean {
    if (seen.size > 10_000) for (const [key, at] of seen) if (at < nowSeconds - tolerance) seen.delete(key);
    if (seen.has(nonce)) return false;
    seen.set(nonce, timestamp);
    return true;
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (request.method !== "POST") return reply(response, 405, { code: "method_not_allowed", message: "webhooks are POSTed" }, { allow: "POST" });
    const body = await readBody(request, limit);
    if (body === "too_large") return reply(response, 413, { code: "body_too_large", message: `the body exceeds ${limit} bytes` });
    const signatureHeader = request.headers[SIGNATURE_HEADER];
    const nowSeconds = now() / 1000;
    const verified = verifyWebhook({ header: typeof signatureHeader === "string" ? signatureHeader : undefined, body, secrets: options.secrets, now: nowSeconds, toleranceSeconds: tolerance });
    if (verified.isErr()) return reply(response, 401, verified.error);
    if (!remember(verified.value.nonce, verified.value.timestamp, nowSeconds)) {
      return reply(response, 409, { code: "replayed", message: "this nonce was already received; a retry is signed afresh with a new nonce" });
    }
    const read = httpBinding.toEvent({ headers: request.headersDistinct, body });
    const inputs: Result<CanonicalEvent, EventError>[] = read.isErr() ? [err(read.error)] : Array.isArray(read.value) ? (read.value as CanonicalEvent[]).map((e) => ok(e)) : [ok(read.value as CanonicalEvent)];
    const outcomes: DeliveryOutcome[] = [];
    for (const input of inputs) {
      stats.received();
      const outcome = await settleDelivery(options.inbox, handler, input, body.toString("utf8"));
      stats.count(outcome);
      options.onOutcome?.(outcome);
      outcomes.push(outcome);
    }
    const retry = outcomes.find((o) => o.action === "retry");
    if (retry !== undefined) {
      // Nothing of this request may be lost: the sender retries with a fresh signature.
      seen.delete(verified.value.nonce);
      return reply(response, 503, { code: "store_failed", message: retry.error.message }, { "retry-after": "1" });
    }
    const rejected = outcomes.find((o): o is Extract<DeliveryOutcome, { rejected: EventError }> => "rejected" in o);
    if (rejected !== undefined) return reply(response, 400, rejected.rejected);
    return reply(response, 200, { outcomes: outcomes.map((o) => ({ id: o.id, outcome: "outcome" in o ? o.outcome.outcome : "rejected" })) });
  }

  return {
    listener: (request, response) => {
      if (closing || inFlight >= concurrency) {
        request.resume();
        reply(response, 503, { code: closing ? "closing" : "busy", message: closing ? "the receiver is shutting down" : "too many requests in flight" }, { "retry-after": "1" });
        return;
      }
      inFlight++;
      handle(request, response)
        .catch((cause: unknown) => reply(response, 500, { code: "internal", message: describeCause(cause) }))
        .finally(() => {
          inFlight--;
          if (inFlight === 0) {
            const waiters = idle;
            idle = [];
            for (const w of waiters) w();
          }
        });
    },
    close: () => {
      closing = true;
      return ResultAsync.fromSafePromise(inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => idle.push(resolve)));
    },
    stats: () => stats.snapshot(inFlight),
  };
}
