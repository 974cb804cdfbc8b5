import { createHash, randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { boundedText, readBody } from "@millwright/adapter-kit";
import { http as httpBinding, type CanonicalEvent, type EventError, type HttpMessage } from "@millwright/events";
import type { Handler, Inbox, InboxEvent } from "@millwright/idempotency";
import type { Meter } from "@opentelemetry/api";
import { err, errAsync, ok, ResultAsync, type Result } from "neverthrow";
import { createStatsCounter, createWorkPool, delay, settleDelivery, type DeliveryOutcome, type PublishOutcome, type Publisher, type SubscribeOptions, type Subscription } from "./core.js";
import { describeCause, previewValue, transportError, type TransportError } from "./errors.js";
import { checkSignatureHeader, SIGNATURE_HEADER, signWebhook, verifyWebhook } from "./signature.js";
import { createTransportInstruments } from "./telemetry.js";
import { checkStandardWebhookHeaders, signStandardWebhook, verifyStandardWebhook, webhookKey } from "./webhook-standard.js";

export { SIGNATURE_HEADER, signWebhook, verifyWebhook, type SignatureError } from "./signature.js";
export {
  checkStandardWebhookHeaders,
  createWebhookSecret,
  parseWebhookSecret,
  signStandardWebhook,
  STANDARD_WEBHOOK_HEADERS,
  verifyStandardWebhook,
  type StandardWebhookHeaders,
} from "./webhook-standard.js";

/**
 * How webhooks are signed. `standard` (the default): the Standard Webhooks specification
 * (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64>`, secrets `whsec_<base64>`),
 * which the `standardwebhooks` libraries and many platforms speak. `millwright`: the earlier
 * `millwright-signature: t=…,n=…,v1=<hex>` scheme with a plain shared secret, kept for existing pairs.
 */
export type WebhookSignatureScheme = "standard" | "millwright";

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
  /** The OpenTelemetry meter of the sender's metrics (docs/metrics.md); the global one by default. */
  readonly meter?: Meter;
  /**
   * The shared HMAC-SHA256 secret: `whsec_<base64 key>` with the `standard` scheme, any string with
   * `millwright`. Several while a secret is rotated: each signs, and the header carries every
   * signature, so a receiver that knows either secret accepts the request.
   */
  readonly secret: string | readonly string[];
  /** How requests are signed. Default `standard` (Standard Webhooks). */
  readonly signature?: WebhookSignatureScheme;
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
  /**
   * Follow a 307 or 308 redirect to the same origin (scheme, host and port), at most 5 in a row.
   * Default false: every redirect is a failure, so the body, the signature and the extra headers
   * only ever go to `url`. A redirect to another origin is a failure either way.
   */
  readonly followSameOriginRedirects?: boolean;
}

/** Whether an HTTP status is worth another attempt: 408, 425, 429 and 5xx. */
function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status >= 500;
}

const MAX_REDIRECTS = 5;

/**
 * POSTs with redirects handled here rather than by fetch, which would resend the body and every
 * header (the signature, authorization) to wherever a Location points. A redirect is refused
 * unless it is a 307/308 to the same origin and the caller allowed those; a refusal is final.
 */
async function fetchWithoutForeignRedirects(request: {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly timeoutMs: number;
  readonly followSameOrigin: boolean;
}): Promise<Response | { refused: TransportError }> {
  const signal = AbortSignal.timeout(request.timeoutMs);
  let target = new URL(request.url);
  for (let hop = 0; ; hop++) {
    const response = await fetch(target, { method: "POST", headers: request.headers, body: request.body, redirect: "manual", signal });
    if (response.status < 300 || response.status > 399) return response;
    await response.body?.cancel().catch(() => undefined);
    const location = response.headers.get("location");
    let next: URL | undefined;
    try {
      next = location === null ? undefined : new URL(location, target);
    } catch {
      next = undefined;
    }
    const shown = location === null ? "no Location" : `Location ${previewValue(location)}`;
    const refuse = (why: string): { refused: TransportError } => ({
      refused: transportError("publish_rejected", request.url, `the receiver answered ${response.status} (${shown}); ${why}`, { value: response.status }),
    });
    if (!request.followSameOrigin) return refuse("redirects are not followed unless followSameOriginRedirects is set");
    if (next === undefined || next.origin !== target.origin) return refuse("a redirect to another origin is never followed");
    if (response.status !== 307 && response.status !== 308) return refuse("only 307 and 308 keep the method and body, so only they are followed");
    if (hop + 1 >= MAX_REDIRECTS) return refuse(`more than ${MAX_REDIRECTS} redirects in a row`);
    target = next;
  }
}

/**
 * Creates a webhook sender: posts events signed with HMAC-SHA256 and a timestamp, with a timeout
 * per request and retries with exponential backoff on network errors, timeouts, 408/425/429 and
 * 5xx. Other 4xx responses are final, and so are redirects: the body and headers go to `url` only
 * (or, when allowed, to a 307/308 target of the same origin). Each attempt is signed afresh.
 *
 * Requests are signed by the Standard Webhooks specification unless `signature: "millwright"`:
 * `webhook-id` is a digest of the events' source and id (`msg_…`, `batch_…`), the same on every
 * retry, so the receiver can tell a retry from a new message; `webhook-timestamp` is each attempt's.
 *
 * @param options - url, secret, signature scheme, mode, timeout, retry, concurrency
 * @returns a {@link Publisher}
 * @throws RangeError when a secret is not `whsec_<base64>` under the `standard` scheme
 * @example
 * const sender = createWebhookSender({ url: "https://mes.example/hooks/millwright", secret: process.env.WEBHOOK_SECRET! });
 * const outcomes = await sender.publish([event]);
 */
export function createWebhookSender(options: WebhookSenderOptions): Publisher {
  const scheme = options.signature ?? "standard";
  const secrets = typeof options.secret === "string" ? [options.secret] : [...options.secret];
  if (secrets.length === 0) throw new RangeError("createWebhookSender: no secret");
  if (scheme === "standard") for (const secret of secrets) webhookKey(secret);
  const mode = options.mode ?? "structured";
  const instruments = createTransportInstruments({ system: "webhook", meter: options.meter });
  const timeoutMs = options.timeoutMs ?? 10_000;
  const maxAttempts = options.retry?.maxAttempts ?? 5;
  const baseDelayMs = options.retry?.baseDelayMs ?? 200;
  const maxDelayMs = options.retry?.maxDelayMs ?? 10_000;
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  let closed = false;
  const pool = createWorkPool({ concurrency: options.concurrency ?? 8 });

  /** The signature headers of one attempt. */
  function sign(id: string, body: string): Record<string, string> {
    const timestamp = Math.floor(now() / 1000);
    if (scheme === "millwright") {
      // One timestamp and nonce, one v1 per secret: t=…,n=…,v1=…,v1=…
      const nonce = randomBytes(12).toString("base64url");
      const prefix = `t=${timestamp},n=${nonce},`;
      return { [SIGNATURE_HEADER]: prefix + secrets.map((secret) => signWebhook({ secret, timestamp, body, nonce }).slice(prefix.length)).join(",") };
    }
    const signed = secrets.map((secret) => signStandardWebhook({ secret, id, timestamp, body }));
    return { ...signed[0], "webhook-signature": signed.map((h) => h["webhook-signature"]).join(" ") };
  }

  async function post(message: HttpMessage, id: string): Promise<{ attempts: number; error?: TransportError }> {
    const body = typeof message.body === "string" ? message.body : Buffer.from(message.body ?? "").toString("utf8");
    let last: TransportError | undefined;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      const headers: Record<string, string> = { ...options.headers };
      for (const [name, value] of Object.entries(message.headers)) if (typeof value === "string") headers[name] = value;
      Object.assign(headers, sign(id, body));
      try {
        const response = await fetchWithoutForeignRedirects({ url: options.url, headers, body, timeoutMs, followSameOrigin: options.followSameOriginRedirects === true });
        if ("refused" in response) return { attempts: attempt, error: response.refused };
        const text = await response.text().catch(() => "");
        if (response.ok) return { attempts: attempt };
        last = transportError("publish_rejected", options.url, `the receiver answered ${response.status}: ${boundedText(text, 200)}`, { value: response.status });
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
      const startedAt = instruments.now();
      return post(httpBinding.batch(events), messageId(events)).then((sent) =>
        events.map((e) => {
          const outcome = toOutcome(e.id, sent);
          instruments.published(outcome, startedAt, undefined);
          return outcome;
        }),
      );
    }
    return Promise.all(
      events.map(
        (event) =>
          new Promise<PublishOutcome>((resolve) => {
            pool.run(async () => {
              const startedAt = instruments.now();
              const outcome = toOutcome(event.id, await post(mode === "binary" ? httpBinding.binary(event) : httpBinding.structured(event), messageId([event])));
              instruments.published(outcome, startedAt, undefined);
              resolve(outcome);
            });
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

/**
 * The `webhook-id` of a request: a digest of its events' identities (source and id, which together
 * are unique), so a retry or a resend of the same events keeps its id, events of two sources with
 * the same id do not share one, and any event id fits the header's printable ASCII.
 */
function messageId(events: readonly CanonicalEvent[]): string {
  const digest = createHash("sha256");
  for (const e of events) digest.update(`${e.source}\n${e.id}\n`);
  return `${events.length === 1 ? "msg" : "batch"}_${digest.digest("base64url").slice(0, 32)}`;
}

/** Options of {@link createWebhookReceiver}. */
export interface WebhookReceiverOptions<TTx> extends Omit<SubscribeOptions<TTx>, "inbox"> {
  /**
   * The inbox: each event's effect is applied once, and the request is answered only after it is
   * stored. `createInbox(store)` as is (an inbox of any {@link InboxEvent}) or typed for canonical events.
   */
  readonly inbox: Inbox<CanonicalEvent, TTx> | Inbox<InboxEvent, TTx>;
  /**
   * The shared secrets; more than one while a secret is rotated. `whsec_<base64 key>` with the
   * `standard` scheme, any string with `millwright`.
   */
  readonly secrets: readonly string[];
  /** How requests must be signed. Default `standard` (Standard Webhooks). */
  readonly signature?: WebhookSignatureScheme;
  /** How far a signed timestamp may be from now. Default 300 s. */
  readonly toleranceSeconds?: number;
  /** The largest body accepted; a larger one is answered 413. Default 1 MiB. */
  readonly maxBodyBytes?: number;
  /** How long the whole body may take to arrive once the headers are in; a slower one is answered 408. Default 5 s. */
  readonly bodyTimeoutMs?: number;
  /** Unix time in milliseconds. Default Date.now. */
  readonly now?: () => number;
}

/** A webhook receiver: a `node:http` request listener that feeds the inbox. */
export interface WebhookReceiver extends Subscription {
  /** The request listener: `createServer(receiver.listener)` or mount it on a route of any framework that passes Node's req/res. */
  readonly listener: (request: IncomingMessage, response: ServerResponse) => void;
}

/** What an error reply shows of an error value: its code, path and rule, a bounded message and a bounded preview of the value. */
function errorBody(error: { readonly code: string; readonly path?: string; readonly rule?: string; readonly message: string; readonly value?: unknown }): Record<string, string> {
  return {
    code: error.code,
    ...(error.path === undefined ? {} : { path: boundedText(error.path, 200) }),
    ...(error.rule === undefined ? {} : { rule: boundedText(error.rule, 200) }),
    message: boundedText(error.message, 300),
    ...(error.value === undefined ? {} : { value: previewValue(error.value) }),
  };
}

const CLOSE = { connection: "close" } as const;

function reply(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (response.headersSent) {
    // Half a reply cannot be completed; ending the connection tells the client so at once.
    if (!response.writableEnded) response.destroy();
    return;
  }
  // Serialised before the status goes out, so a value that cannot be serialised still gets an answer.
  let text: string;
  let code = status;
  try {
    text = JSON.stringify(body);
  } catch {
    code = 500;
    text = JSON.stringify({ code: "internal", message: "the reply could not be serialised" });
  }
  response.writeHead(code, { "content-type": "application/json", "content-length": String(Buffer.byteLength(text)), ...headers });
  response.end(text);
}

/**
 * Creates a webhook receiver for `node:http`: verifies the HMAC signature in constant time
 * (Standard Webhooks by default, or `signature: "millwright"`), refuses stale timestamps (401)
 * and, with the millwright scheme, replayed nonces (409), reads structured, binary and batch
 * requests with the events package's HTTP binding, and answers 200 only after every event's
 * effect is stored by the inbox. Unreadable events are kept as dead letters and answered 400.
 * Beyond `concurrency` requests at once, and while closing, it answers 503 with Retry-After, which
 * the sender retries.
 *
 * The body is read only once the signature header is present, well formed and fresh (else 401),
 * within `bodyTimeoutMs` (else 408) and up to `maxBodyBytes` (else 413, also when Content-Length
 * announces more). Those replies carry `Connection: close` and the rest of the body is not read,
 * so a client that cannot pass holds no slot and no memory. Error replies show a bounded preview
 * of the offending value, never the raw input.
 *
 * A Standard Webhooks sender keeps `webhook-id` across retries, so a repeated id is not refused:
 * the request reaches the inbox, which answers its events `duplicate` without running the handler.
 *
 * @param options - secrets, signature scheme, tolerance, body limit and deadline, the inbox, concurrency
 * @param handler - the effect of each event, run once per event by the inbox
 * @returns the receiver with its request listener
 * @throws RangeError when a secret is not `whsec_<base64>` under the `standard` scheme
 * @example
 * const receiver = createWebhookReceiver({ secrets: [secret], inbox: createInbox(createMemoryStore()) }, (event, { tx }) => tx.defer(() => apply(event)));
 * createServer(receiver.listener).listen(8080);
 */
export function createWebhookReceiver<TTx>(options: WebhookReceiverOptions<TTx>, handler: Handler<CanonicalEvent, TTx>): WebhookReceiver {
  const scheme = options.signature ?? "standard";
  if (scheme === "standard") for (const secret of options.secrets) webhookKey(secret);
  // The inbox hands the handler the very event it is given, and only canonical events are given
  // here, so an inbox of any InboxEvent serves a handler of canonical events.
  const inbox = options.inbox as Inbox<CanonicalEvent, TTx>;
  const tolerance = options.toleranceSeconds ?? 300;
  const limit = options.maxBodyBytes ?? 1024 * 1024;
  const bodyTimeoutMs = options.bodyTimeoutMs ?? 5000;
  const concurrency = options.concurrency ?? 16;
  const now = options.now ?? Date.now;
  const stats = createStatsCounter();
  const instruments = createTransportInstruments({ system: "webhook", meter: options.meter });
  /** A refusal before the inbox: counted by its code (millwright.webhook.rejections), then answered. */
  const refuse = (response: ServerResponse, status: number, body: Record<string, unknown>, headers?: Record<string, string>): void => {
    instruments.webhookRejected(typeof body["code"] === "string" ? body["code"] : "_OTHER");
    reply(response, status, body, headers);
  };
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

  const signatureOf = (request: IncomingMessage): string | undefined => {
    const header = request.headers[SIGNATURE_HEADER];
    return typeof header === "string" ? header : undefined;
  };

  /** The checks that need no body; a refusal here is answered before any of the body is read. */
  function refuseEarly(request: IncomingMessage, response: ServerResponse): boolean {
    if (request.method !== "POST") {
      refuse(response, 405, { code: "method_not_allowed", message: "webhooks are POSTed" }, { allow: "POST", ...CLOSE });
      return true;
    }
    const header =
      scheme === "standard"
        ? checkStandardWebhookHeaders({ headers: request.headers, now: now() / 1000, toleranceSeconds: tolerance })
        : checkSignatureHeader({ header: signatureOf(request), now: now() / 1000, toleranceSeconds: tolerance });
    if (header.isErr()) {
      refuse(response, 401, errorBody(header.error), CLOSE);
      return true;
    }
    const announced = request.headers["content-length"];
    if (announced !== undefined && /^\d+$/.test(announced) && Number(announced) > limit) {
      refuse(response, 413, { code: "body_too_large", message: `the body exceeds ${limit} bytes` }, CLOSE);
      return true;
    }
    if (closing || inFlight >= concurrency) {
      refuse(response, 503, { code: closing ? "closing" : "busy", message: closing ? "the receiver is shutting down" : "too many requests in flight" }, { "retry-after": "1", ...CLOSE });
      return true;
    }
    return false;
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const read = await readBody(request, limit, bodyTimeoutMs);
    if ("failed" in read) {
      if (read.failed === "body_too_large") return refuse(response, 413, { code: "body_too_large", message: `the body exceeds ${limit} bytes` }, CLOSE);
      if (read.failed === "body_timeout") return refuse(response, 408, { code: "body_timeout", message: `the body did not arrive within ${bodyTimeoutMs} ms` }, CLOSE);
      return;
    }
    const body = read.body;
    const nowSeconds = now() / 1000;
    let nonce: string | undefined;
    if (scheme === "standard") {
      const verified = verifyStandardWebhook({ headers: request.headers, body, secrets: options.secrets, now: nowSeconds, toleranceSeconds: tolerance });
      if (verified.isErr()) return refuse(response, 401, errorBody(verified.error));
    } else {
      const verified = verifyWebhook({ header: signatureOf(request), body, secrets: options.secrets, now: nowSeconds, toleranceSeconds: tolerance });
      if (verified.isErr()) return refuse(response, 401, errorBody(verified.error));
      nonce = verified.value.nonce;
      if (!remember(nonce, verified.value.timestamp, nowSeconds)) {
        return refuse(response, 409, { code: "replayed", message: "this nonce was already received; a retry is signed afresh with a new nonce" });
      }
    }
    const parsed = httpBinding.toEvent({ headers: request.headersDistinct, body });
    const inputs: Result<CanonicalEvent, EventError>[] = parsed.isErr()
      ? [err(parsed.error)]
      : Array.isArray(parsed.value)
        ? (parsed.value as CanonicalEvent[]).map((e) => ok(e))
        : [ok(parsed.value as CanonicalEvent)];
    const outcomes: DeliveryOutcome[] = [];
    for (const input of inputs) {
      stats.received();
      instruments.received(undefined);
      const startedAt = instruments.now();
      const outcome = await settleDelivery(inbox, handler, input, () => body.toString("utf8"));
      instruments.settled(outcome, startedAt, undefined);
      stats.count(outcome);
      options.onOutcome?.(outcome, {});
      outcomes.push(outcome);
    }
    const retry = outcomes.find((o) => o.action === "retry");
    if (retry !== undefined) {
      // Nothing of this request may be lost: the sender retries with a fresh signature.
      if (nonce !== undefined) seen.delete(nonce);
      return reply(response, 503, { code: "store_failed", message: boundedText(retry.error.message) }, { "retry-after": "1" });
    }
    const rejected = outcomes.find((o): o is Extract<DeliveryOutcome, { rejected: EventError }> => "rejected" in o);
    if (rejected !== undefined) return reply(response, 400, errorBody(rejected.rejected));
    return reply(response, 200, { outcomes: outcomes.map((o) => ({ id: o.id, outcome: "outcome" in o ? o.outcome.outcome : "rejected" })) });
  }

  return {
    listener: (request, response) => {
      if (refuseEarly(request, response)) return;
      inFlight++;
      handle(request, response)
        .catch(() => reply(response, 500, { code: "internal", message: "the receiver failed; the request was not stored" }))
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
