// Signed WMS webhooks: HMAC-SHA256 over "<timestamp>.<body>", checked in constant time, with a
// freshness window and a replay cache.
import { createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { preview, readBody } from "@millwright/adapter-kit";
import { fromTraceHeaders } from "@millwright/events";
import { ROOT_CONTEXT, type Context } from "@opentelemetry/api";
import { err, ok, type Result } from "neverthrow";

/** The header with the Unix time (seconds) the sender signed at. */
export const TIMESTAMP_HEADER = "x-wms-timestamp";
/** The header with the signature, `v1=<hex HMAC-SHA256>`. */
export const SIGNATURE_HEADER = "x-wms-signature";

/**
 * Why a webhook was rejected. Answer `missing_header`, `invalid_signature` and `stale_timestamp`
 * with 401, `replayed` with 409, `body_too_large` with 413 and `body_timeout` with 408; after a
 * failed {@link WebhookVerifier.receive} add `Connection: close`, since the body was not read.
 */
export interface WebhookError {
  readonly code: "missing_header" | "invalid_signature" | "stale_timestamp" | "replayed" | "body_too_large" | "body_timeout" | "body_aborted";
  readonly header?: string;
  readonly message: string;
  readonly value?: unknown;
}

/** Header names (lower case) to values, as node:http gives them. */
export type WebhookHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

function signature(secret: string, timestamp: string, body: string | Uint8Array): string {
  const hmac = createHmac("sha256", secret);
  hmac.update(`${timestamp}.`);
  hmac.update(body);
  return `v1=${hmac.digest("hex")}`;
}

/**
 * Signs a webhook body: the headers a sender adds.
 *
 * @param options - the shared secret, the body exactly as sent, and the Unix time in seconds
 * @returns the timestamp and signature headers
 * @example
 * signWebhook({ secret: "s3cret", body: '{"a":1}', timestamp: 1772400000 });
 */
export function signWebhook(options: { readonly secret: string; readonly body: string | Uint8Array; readonly timestamp: number }): Record<string, string> {
  const timestamp = String(Math.floor(options.timestamp));
  return { [TIMESTAMP_HEADER]: timestamp, [SIGNATURE_HEADER]: signature(options.secret, timestamp, options.body) };
}

/** Configuration of a {@link WebhookVerifier}. */
export interface WebhookVerifierOptions {
  /** The shared secret. */
  readonly secret: string;
  /** How far (seconds) a timestamp may be from now, either way; 300 by default. */
  readonly toleranceSeconds?: number;
  /** The clock, in milliseconds since the epoch; `Date.now` by default (injected in tests). */
  readonly now?: () => number;
  /** The largest body {@link WebhookVerifier.receive} reads; 1 MiB by default. */
  readonly maxBodyBytes?: number;
  /** How long {@link WebhookVerifier.receive} waits for the whole body once the headers are in; 5 s by default. */
  readonly bodyTimeoutMs?: number;
}

/** Verifies webhooks and remembers the signatures it accepted until they go stale. */
export interface WebhookVerifier {
  /**
   * Checks one webhook.
   *
   * @param headers - the request headers
   * @param body - the raw body, exactly as received
   * @returns the body as text, or why the webhook is rejected
   */
  readonly verify: (headers: WebhookHeaders, body: string | Uint8Array) => Result<string, WebhookError>;
  /**
   * Checks what can be checked before the body is read: both headers present, the signature in
   * the `v1=<64 hex>` form and the timestamp fresh. A request that fails here cannot pass
   * {@link WebhookVerifier.verify}, so it need not be read.
   *
   * @param headers - the request headers
   * @returns nothing, or why the webhook is rejected
   */
  readonly checkHeaders: (headers: WebhookHeaders) => Result<void, WebhookError>;
  /**
   * Receives one webhook from node:http: {@link WebhookVerifier.checkHeaders} first, then the
   * body, at most `maxBodyBytes` within `bodyTimeoutMs` (a larger or slower one stops being
   * read), then {@link WebhookVerifier.verify}. A client without a valid-looking signature so
   * never gets to hold the server with a slow or endless body.
   *
   * @param request - the incoming request, its body not yet read
   * @returns the body as text, or why the webhook is rejected
   */
  readonly receive: (request: IncomingMessage) => Promise<Result<string, WebhookError>>;
}

function header(headers: WebhookHeaders, name: string): string | undefined {
  const value = headers[name];
  return typeof value === "string" ? value : Array.isArray(value) ? (value as readonly string[])[0] : undefined;
}

/**
 * Creates a webhook verifier: signature (HMAC-SHA256, compared in constant time), freshness
 * (timestamp within the tolerance) and replay (a signature accepted once is rejected while fresh).
 * A sender's retry is signed anew and passes; deduplicating the business event is the inbox's job.
 * Error values show header values as a bounded preview, never raw.
 *
 * @param options - secret, tolerance, clock, and the body limit and deadline of `receive`
 * @returns the verifier
 * @example
 * const verifier = createWebhookVerifier({ secret: process.env.WMS_SECRET ?? "" });
 * createServer(async (req, res) => {
 *   const body = await verifier.receive(req);
 *   if (body.isErr()) return res.writeHead(401, { connection: "close" }).end(body.error.code);
 *   res.writeHead(200).end();
 * });
 */
export function createWebhookVerifier(options: WebhookVerifierOptions): WebhookVerifier {
  const tolerance = options.toleranceSeconds ?? 300;
  const now = options.now ?? Date.now;
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
  const bodyTimeoutMs = options.bodyTimeoutMs ?? 5000;
  // signature → Unix second after which it is stale anyway and can be forgotten.
  const seen = new Map<string, number>();

  const checkHeaders = (headers: WebhookHeaders): Result<{ readonly timestamp: string; readonly given: string }, WebhookError> => {
    const timestamp = header(headers, TIMESTAMP_HEADER);
    const given = header(headers, SIGNATURE_HEADER);
    if (timestamp === undefined) return err({ code: "missing_header", header: TIMESTAMP_HEADER, message: `${TIMESTAMP_HEADER} is missing` });
    if (given === undefined) return err({ code: "missing_header", header: SIGNATURE_HEADER, message: `${SIGNATURE_HEADER} is missing` });
    if (!/^v1=[0-9a-f]{64}$/.test(given)) {
      return err({ code: "invalid_signature", header: SIGNATURE_HEADER, message: `${SIGNATURE_HEADER} is not v1=<64 hex digits> (HMAC-SHA256 over timestamp.body)`, value: preview(given) });
    }
    const current = Math.floor(now() / 1000);
    if (!/^\d{1,12}$/.test(timestamp) || Math.abs(current - Number(timestamp)) > tolerance) {
      return err({ code: "stale_timestamp", header: TIMESTAMP_HEADER, message: `${TIMESTAMP_HEADER} ${preview(timestamp)} is more than ${tolerance} s from now (${current})`, value: preview(timestamp) });
    }
    return ok({ timestamp, given });
  };

  const verify = (headers: WebhookHeaders, body: string | Uint8Array): Result<string, WebhookError> => {
    const checked = checkHeaders(headers);
    if (checked.isErr()) return err(checked.error);
    const { timestamp, given } = checked.value;
    const expected = Buffer.from(signature(options.secret, timestamp, body));
    const actual = Buffer.from(given);
    if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) {
      return err({ code: "invalid_signature", header: SIGNATURE_HEADER, message: `${SIGNATURE_HEADER} does not match the body (HMAC-SHA256 over timestamp.body)`, value: preview(given) });
    }
    const current = Math.floor(now() / 1000);
    for (const [sig, expires] of seen) if (expires < current) seen.delete(sig);
    if (seen.has(given)) return err({ code: "replayed", header: SIGNATURE_HEADER, message: `this signed webhook was already accepted at ${timestamp}`, value: preview(given) });
    seen.set(given, Number(timestamp) + tolerance);
    return ok(typeof body === "string" ? body : Buffer.from(body).toString("utf8"));
  };

  return {
    verify,
    checkHeaders: (headers) => checkHeaders(headers).map(() => undefined),
    receive: async (request) => {
      const checked = checkHeaders(request.headers);
      if (checked.isErr()) return err(checked.error);
      const announced = request.headers["content-length"];
      if (announced !== undefined && /^\d+$/.test(announced) && Number(announced) > maxBodyBytes) {
        return err({ code: "body_too_large", message: `the body exceeds ${maxBodyBytes} bytes`, value: Number(announced) });
      }
      const read = await readBody(request, maxBodyBytes, bodyTimeoutMs);
      if ("failed" in read) {
        const message = read.failed === "body_too_large" ? `the body exceeds ${maxBodyBytes} bytes` : read.failed === "body_timeout" ? `the body did not arrive within ${bodyTimeoutMs} ms` : "the client went away before the body was complete";
        return err({ code: read.failed, message });
      }
      return verify(request.headers, read.body);
    },
  };
}

/**
 * Reads the W3C Trace Context of a webhook (its `traceparent` and `tracestate` headers) into an
 * OpenTelemetry context, so that the canonical events mapped from it join the WMS's trace:
 * `withTraceContext(event, webhookTraceContext(req.headers))`, or start the receiver's span in it.
 * A missing or invalid `traceparent` gives `base` unchanged.
 *
 * @param headers - the request headers, as node:http gives them (lower-case names)
 * @param base - the context to add the trace context to; `ROOT_CONTEXT` by default
 * @returns the context whose remote parent is the webhook's sender
 * @example
 * const parent = webhookTraceContext(req.headers);
 * const event = withTraceContext(createEvent(input)._unsafeUnwrap(), parent);
 */
export function webhookTraceContext(headers: WebhookHeaders, base: Context = ROOT_CONTEXT): Context {
  return fromTraceHeaders({ traceparent: headers["traceparent"], tracestate: headers["tracestate"] }, base);
}
