import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { boundedText } from "@millwright/adapter-kit";
import { err, ok, type Result } from "neverthrow";

/** The header that carries a webhook's signature: `t=<unix seconds>,n=<nonce>,v1=<hex HMAC-SHA256>`. */
export const SIGNATURE_HEADER = "millwright-signature";

/** Why a signature was refused; discriminated on `code`. */
export interface SignatureError {
  readonly code: "signature_missing" | "signature_malformed" | "signature_mismatch" | "timestamp_stale" | "secret_malformed";
  readonly path: string;
  readonly message: string;
  readonly value?: string;
}

/**
 * Signs a webhook body: HMAC-SHA256 over `<timestamp>.<nonce>.<body>`, so neither the timestamp
 * nor the nonce can be changed without breaking the signature. The nonce (fresh for every
 * request, retries included) lets a receiver refuse replays.
 *
 * @param input - the shared secret, the unix time in seconds, the exact body bytes or text, and optionally the nonce (default random)
 * @returns the header value `t=<timestamp>,n=<nonce>,v1=<hex>`
 * @example
 * const header = signWebhook({ secret, timestamp: Math.floor(Date.now() / 1000), body });
 */
export function signWebhook(input: { readonly secret: string; readonly timestamp: number; readonly body: string | Uint8Array; readonly nonce?: string }): string {
  const nonce = input.nonce ?? randomBytes(12).toString("base64url");
  if (!NONCE.test(nonce)) throw new RangeError(`a nonce is 1 to 64 of [A-Za-z0-9_-], got ${JSON.stringify(nonce)}`);
  return `t=${input.timestamp},n=${nonce},v1=${hmacHex(input.secret, input.timestamp, nonce, input.body)}`;
}

const NONCE = /^[A-Za-z0-9_-]{1,64}$/;

function hmacHex(secret: string, timestamp: number, nonce: string, body: string | Uint8Array): string {
  return createHmac("sha256", secret).update(`${timestamp}.${nonce}.`).update(body).digest("hex");
}

/**
 * Checks what can be checked of a signature header before the body is read: that it is present,
 * well formed, and that its timestamp is within the tolerance of now. A receiver calls it first,
 * so that a request which cannot pass never gets to send its body.
 *
 * @param input - the header value, now in unix seconds and the tolerance in seconds
 * @returns the signed timestamp, the nonce and the candidate signatures, or why the header is refused
 * @example
 * const header = checkSignatureHeader({ header: req.headers["millwright-signature"], now: Date.now() / 1000 });
 */
export function checkSignatureHeader(input: {
  readonly header: string | undefined;
  readonly now: number;
  readonly toleranceSeconds?: number;
}): Result<{ readonly timestamp: number; readonly nonce: string; readonly signatures: readonly string[] }, SignatureError> {
  const path = `/headers/${SIGNATURE_HEADER}`;
  if (input.header === undefined || input.header === "") return err({ code: "signature_missing", path, message: `the request carries no ${SIGNATURE_HEADER} header` });
  let timestamp: number | undefined;
  let nonce: string | undefined;
  const signatures: string[] = [];
  for (const part of input.header.split(",")) {
    const at = part.indexOf("=");
    const key = part.slice(0, at).trim();
    const value = part.slice(at + 1).trim();
    if (key === "t" && /^\d{1,12}$/.test(value)) timestamp = Number(value);
    else if (key === "n" && NONCE.test(value)) nonce = value;
    else if (key === "v1" && /^[0-9a-f]{64}$/.test(value)) signatures.push(value);
  }
  if (timestamp === undefined || nonce === undefined || signatures.length === 0) {
    return err({ code: "signature_malformed", path, message: "is t=<unix seconds>,n=<nonce>,v1=<64 hex digits>", value: boundedText(input.header, 120) });
  }
  const tolerance = input.toleranceSeconds ?? 300;
  if (Math.abs(input.now - timestamp) > tolerance) {
    return err({ code: "timestamp_stale", path, message: `the signed timestamp ${timestamp} is more than ${tolerance} s from now (${Math.floor(input.now)})`, value: String(timestamp) });
  }
  return ok({ timestamp, nonce, signatures });
}

/**
 * Verifies a webhook signature in constant time and checks that its timestamp is within the
 * tolerance of now. Any of several secrets may match, so secrets can be rotated.
 *
 * @param input - the header value, the exact body, the secrets, now in unix seconds and the tolerance in seconds
 * @returns the signed timestamp and nonce, or why the signature was refused
 * @example
 * const checked = verifyWebhook({ header: req.headers["millwright-signature"], body, secrets: [secret], now: Date.now() / 1000 });
 */
export function verifyWebhook(input: {
  readonly header: string | undefined;
  readonly body: string | Uint8Array;
  readonly secrets: readonly string[];
  readonly now: number;
  readonly toleranceSeconds?: number;
}): Result<{ readonly timestamp: number; readonly nonce: string }, SignatureError> {
  const checked = checkSignatureHeader(input);
  if (checked.isErr()) return err(checked.error);
  const { timestamp, nonce, signatures } = checked.value;
  const path = `/headers/${SIGNATURE_HEADER}`;
  for (const secret of input.secrets) {
    const expected = Buffer.from(hmacHex(secret, timestamp, nonce, input.body), "hex");
    for (const signature of signatures) {
      if (timingSafeEqual(expected, Buffer.from(signature, "hex"))) return ok({ timestamp, nonce });
    }
  }
  return err({ code: "signature_mismatch", path, message: "no v1 signature matches the body with any configured secret" });
}
