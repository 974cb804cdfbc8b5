// Signed WMS webhooks: HMAC-SHA256 over "<timestamp>.<body>", checked in constant time, with a
// freshness window and a replay cache.
import { createHmac, timingSafeEqual } from "node:crypto";
import { fromTraceHeaders } from "@millwright/events";
import { ROOT_CONTEXT, type Context } from "@opentelemetry/api";
import { err, ok, type Result } from "neverthrow";

/** The header with the Unix time (seconds) the sender signed at. */
export const TIMESTAMP_HEADER = "x-wms-timestamp";
/** The header with the signature, `v1=<hex HMAC-SHA256>`. */
export const SIGNATURE_HEADER = "x-wms-signature";

/** Why a webhook was rejected. */
export interface WebhookError {
  readonly code: "missing_header" | "invalid_signature" | "stale_timestamp" | "replayed";
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
}

function header(headers: WebhookHeaders, name: string): string | undefined {
  const value = headers[name];
  return typeof value === "string" ? value : Array.isArray(value) ? (value as readonly string[])[0] : undefined;
}

/**
 * Creates a webhook verifier: signature (HMAC-SHA256, compared in constant time), freshness
 * (timestamp within the tolerance) and replay (a signature accepted once is rejected while fresh).
 * A sender's retry is signed anew and passes; deduplicating the business event is the inbox's job.
 *
 * @param options - secret, tolerance and clock
 * @returns the verifier
 * @example
 * const verifier = createWebhookVerifier({ secret: process.env.WMS_SECRET ?? "" });
 * const body = verifier.verify(req.headers, raw);
 */
export function createWebhookVerifier(options: WebhookVerifierOptions): WebhookVerifier {
  const tolerance = options.toleranceSeconds ?? 300;
  const now = options.now ?? Date.now;
  // signature → Unix second after which it is stale anyway and can be forgotten.
  const seen = new Map<string, number>();
  return {
    verify(headers, body) {
      const timestamp = header(headers, TIMESTAMP_HEADER);
      const given = header(headers, SIGNATURE_HEADER);
      if (timestamp === undefined) return err({ code: "missing_header", header: TIMESTAMP_HEADER, message: `${TIMESTAMP_HEADER} is missing` });
      if (given === undefined) return err({ code: "missing_header", header: SIGNATURE_HEADER, message: `${SIGNATURE_HEADER} is missing` });
      const expected = Buffer.from(signature(options.secret, timestamp, body));
      const actual = Buffer.from(given);
      if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) {
        return err({ code: "invalid_signature", header: SIGNATURE_HEADER, message: `${SIGNATURE_HEADER} does not match the body (HMAC-SHA256 over timestamp.body)`, value: given });
      }
      const seconds = Number(timestamp);
      const current = Math.floor(now() / 1000);
      if (!/^\d{1,12}$/.test(timestamp) || Math.abs(current - seconds) > tolerance) {
        return err({ code: "stale_timestamp", header: TIMESTAMP_HEADER, message: `${TIMESTAMP_HEADER} ${timestamp} is more than ${tolerance} s from now (${current})`, value: timestamp });
      }
      for (const [sig, expires] of seen) if (expires < current) seen.delete(sig);
      if (seen.has(given)) return err({ code: "replayed", header: SIGNATURE_HEADER, message: `this signed webhook was already accepted at ${timestamp}`, value: given });
      seen.set(given, seconds + tolerance);
      return ok(typeof body === "string" ? body : Buffer.from(body).toString("utf8"));
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
