import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { boundedText } from "@millwright/adapter-kit";
import { err, ok, type Result } from "neverthrow";
import type { SignatureError } from "./signature.js";

/**
 * The headers of the Standard Webhooks specification (https://www.standardwebhooks.com): the
 * message id (the same on every retry of one message), the unix time in seconds of this attempt,
 * and one or more space-separated signatures `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`.
 */
export const STANDARD_WEBHOOK_HEADERS = {
  id: "webhook-id",
  timestamp: "webhook-timestamp",
  signature: "webhook-signature",
} as const;

/** The three Standard Webhooks header values of one signed request. */
export interface StandardWebhookHeaders {
  /** The message id, the same on every retry of one message. */
  readonly "webhook-id": string;
  /** The unix time in seconds of this attempt. */
  readonly "webhook-timestamp": string;
  /** Space-separated `v1,<base64 signature>`, one per secret. */
  readonly "webhook-signature": string;
}

const SECRET_PREFIX = "whsec_";
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
// The specification leaves the id's characters open; printable ASCII keeps it a valid header value.
const MESSAGE_ID = /^[\x21-\x7e]{1,255}$/;

/**
 * Reads a Standard Webhooks secret, `whsec_` followed by the base64 of the key (24 to 64 bytes by
 * the specification; we accept any non-empty key, as the reference libraries do).
 *
 * @param secret - the secret as the sender's platform shows it, such as `whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw`
 * @returns the key bytes, or why the secret is not a Standard Webhooks secret
 * @example
 * const key = parseWebhookSecret(process.env.WEBHOOK_SECRET ?? "");
 */
export function parseWebhookSecret(secret: string): Result<Buffer, SignatureError> {
  const path = "/secret";
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : undefined;
  if (encoded === undefined || !BASE64.test(encoded) || encoded.length % 4 === 1) {
    // The secret itself is never shown, not even in part.
    return err({ code: "secret_malformed", path, message: `a Standard Webhooks secret is whsec_<base64 key>; use signature: "millwright" for a plain shared secret` });
  }
  const key = Buffer.from(encoded, "base64");
  if (key.length === 0) return err({ code: "secret_malformed", path, message: "the key of a Standard Webhooks secret is empty" });
  return ok(key);
}

/**
 * Creates a fresh Standard Webhooks secret: `whsec_` and the base64 of 32 random bytes.
 *
 * @returns the secret, to share with the receiver
 * @example
 * const secret = createWebhookSecret(); // whsec_…
 */
export function createWebhookSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(32).toString("base64")}`;
}

/** Throws for a secret that is not `whsec_<base64>`: a wrong secret is a programmer error, found at start-up. */
export function webhookKey(secret: string): Buffer {
  const key = parseWebhookSecret(secret);
  if (key.isErr()) throw new RangeError(key.error.message);
  return key.value;
}

function signatureOf(key: Buffer, id: string, timestamp: number, body: string | Uint8Array): string {
  return createHmac("sha256", key).update(`${id}.${timestamp}.`).update(body).digest("base64");
}

/**
 * Signs a webhook as the Standard Webhooks specification says: HMAC-SHA256 with the secret's key
 * over `<id>.<timestamp>.<body>`, base64, versioned `v1`.
 *
 * @param input - the secret (`whsec_…`), the message id (keep it across retries of one message), the unix time in seconds and the exact body
 * @returns the three headers to send
 * @example
 * const headers = signStandardWebhook({ secret, id: event.id, timestamp: Math.floor(Date.now() / 1000), body });
 */
export function signStandardWebhook(input: { readonly secret: string; readonly id: string; readonly timestamp: number; readonly body: string | Uint8Array }): StandardWebhookHeaders {
  if (!MESSAGE_ID.test(input.id)) throw new RangeError(`a webhook-id is 1 to 255 printable ASCII characters, got ${JSON.stringify(boundedText(input.id, 60))}`);
  if (!Number.isSafeInteger(input.timestamp) || input.timestamp < 0) throw new RangeError(`a webhook-timestamp is whole unix seconds, got ${input.timestamp}`);
  return {
    "webhook-id": input.id,
    "webhook-timestamp": String(input.timestamp),
    "webhook-signature": `v1,${signatureOf(webhookKey(input.secret), input.id, input.timestamp, input.body)}`,
  };
}

function single(value: string | readonly string[] | undefined): string | undefined {
  return typeof value === "string" ? value : value?.length === 1 ? value[0] : undefined;
}

/**
 * Checks what can be checked of the Standard Webhooks headers before the body is read: that all
 * three are present and well formed and that the timestamp is within the tolerance of now.
 *
 * @param input - the request's headers (lower-case names, as node:http gives them), now in unix seconds and the tolerance in seconds (default 300)
 * @returns the message id, the timestamp and the `v1` signatures, or why the headers are refused
 * @example
 * const checked = checkStandardWebhookHeaders({ headers: req.headers, now: Date.now() / 1000 });
 */
export function checkStandardWebhookHeaders(input: {
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  readonly now: number;
  readonly toleranceSeconds?: number;
}): Result<{ readonly id: string; readonly timestamp: number; readonly signatures: readonly Buffer[] }, SignatureError> {
  const id = single(input.headers[STANDARD_WEBHOOK_HEADERS.id]);
  const stamp = single(input.headers[STANDARD_WEBHOOK_HEADERS.timestamp]);
  const header = single(input.headers[STANDARD_WEBHOOK_HEADERS.signature]);
  for (const [name, value] of [
    [STANDARD_WEBHOOK_HEADERS.id, id],
    [STANDARD_WEBHOOK_HEADERS.timestamp, stamp],
    [STANDARD_WEBHOOK_HEADERS.signature, header],
  ] as const) {
    if (value === undefined || value === "") return err({ code: "signature_missing", path: `/headers/${name}`, message: `the request carries no single ${name} header` });
  }
  if (!MESSAGE_ID.test(id!)) {
    return err({ code: "signature_malformed", path: `/headers/${STANDARD_WEBHOOK_HEADERS.id}`, message: "is 1 to 255 printable ASCII characters", value: boundedText(id!, 120) });
  }
  if (!/^\d{1,12}$/.test(stamp!)) {
    return err({ code: "signature_malformed", path: `/headers/${STANDARD_WEBHOOK_HEADERS.timestamp}`, message: "is the unix time in whole seconds", value: boundedText(stamp!, 120) });
  }
  // Space-separated `version,signature` pairs; versions other than v1 (v1a: asymmetric) are not ours to check.
  const signatures: Buffer[] = [];
  for (const part of header!.split(" ")) {
    const comma = part.indexOf(",");
    if (part.slice(0, comma) !== "v1") continue;
    const value = part.slice(comma + 1);
    if (BASE64.test(value)) signatures.push(Buffer.from(value, "base64"));
  }
  if (signatures.length === 0) {
    return err({ code: "signature_malformed", path: `/headers/${STANDARD_WEBHOOK_HEADERS.signature}`, message: "holds no v1,<base64> signature", value: boundedText(header!, 120) });
  }
  const timestamp = Number(stamp);
  const tolerance = input.toleranceSeconds ?? 300;
  if (Math.abs(input.now - timestamp) > tolerance) {
    return err({
      code: "timestamp_stale",
      path: `/headers/${STANDARD_WEBHOOK_HEADERS.timestamp}`,
      message: `the signed timestamp ${timestamp} is more than ${tolerance} s from now (${Math.floor(input.now)})`,
      value: String(timestamp),
    });
  }
  return ok({ id: id!, timestamp, signatures });
}

/**
 * Verifies a Standard Webhooks signature in constant time: any `v1` signature of the header may
 * match any of the secrets, so both sides can rotate (the sender signs with old and new keys, the
 * receiver lists both).
 *
 * @param input - the headers, the exact body, the secrets (`whsec_…`), now in unix seconds and the tolerance in seconds (default 300)
 * @returns the message id and timestamp, or why the request was refused
 * @example
 * const checked = verifyStandardWebhook({ headers: req.headers, body, secrets: [secret], now: Date.now() / 1000 });
 */
export function verifyStandardWebhook(input: {
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  readonly body: string | Uint8Array;
  readonly secrets: readonly string[];
  readonly now: number;
  readonly toleranceSeconds?: number;
}): Result<{ readonly id: string; readonly timestamp: number }, SignatureError> {
  const checked = checkStandardWebhookHeaders(input);
  if (checked.isErr()) return err(checked.error);
  const { id, timestamp, signatures } = checked.value;
  for (const secret of input.secrets) {
    const key = parseWebhookSecret(secret);
    if (key.isErr()) return err(key.error);
    const expected = createHmac("sha256", key.value).update(`${id}.${timestamp}.`).update(input.body).digest();
    for (const signature of signatures) {
      if (signature.length === expected.length && timingSafeEqual(expected, signature)) return ok({ id, timestamp });
    }
  }
  return err({ code: "signature_mismatch", path: `/headers/${STANDARD_WEBHOOK_HEADERS.signature}`, message: "no v1 signature matches the body with any configured secret" });
}
