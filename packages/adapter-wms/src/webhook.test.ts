import { describe, expect, it } from "vitest";
import { createWebhookVerifier, signWebhook } from "./webhook.js";

const secret = "s3cret";
const body = '{"taskId":"T-1"}';
const t0 = 1_772_400_000;

describe("signed webhooks", () => {
  it("accepts a fresh, correctly signed body once and rejects its replay", () => {
    const verifier = createWebhookVerifier({ secret, now: () => t0 * 1000 });
    const headers = signWebhook({ secret, body, timestamp: t0 - 10 });
    expect(verifier.verify(headers, body)._unsafeUnwrap()).toBe(body);
    expect(verifier.verify(headers, body)._unsafeUnwrapErr().code).toBe("replayed");
    // A sender's retry is signed anew: it passes; the inbox deduplicates the event itself.
    expect(verifier.verify(signWebhook({ secret, body, timestamp: t0 - 5 }), body).isOk()).toBe(true);
  });

  it("rejects a changed body, a wrong secret, stale and future timestamps and missing headers", () => {
    const verifier = createWebhookVerifier({ secret, now: () => t0 * 1000, toleranceSeconds: 60 });
    const headers = signWebhook({ secret, body, timestamp: t0 });
    expect(verifier.verify(headers, '{"taskId":"T-2"}')._unsafeUnwrapErr().code).toBe("invalid_signature");
    expect(verifier.verify(signWebhook({ secret: "other", body, timestamp: t0 }), body)._unsafeUnwrapErr().code).toBe("invalid_signature");
    expect(verifier.verify({ ...headers, "x-wms-signature": "v1=00" }, body)._unsafeUnwrapErr().code).toBe("invalid_signature");
    expect(verifier.verify(signWebhook({ secret, body, timestamp: t0 - 61 }), body)._unsafeUnwrapErr()).toMatchInlineSnapshot(`
      {
        "code": "stale_timestamp",
        "header": "x-wms-timestamp",
        "message": "x-wms-timestamp 1772399939 is more than 60 s from now (1772400000)",
        "value": "1772399939",
      }
    `);
    expect(verifier.verify(signWebhook({ secret, body, timestamp: t0 + 61 }), body)._unsafeUnwrapErr().code).toBe("stale_timestamp");
    expect(verifier.verify({}, body)._unsafeUnwrapErr().code).toBe("missing_header");
  });

  it("verifies raw bytes as well as text", () => {
    const verifier = createWebhookVerifier({ secret, now: () => t0 * 1000 });
    const bytes = new TextEncoder().encode(body);
    expect(verifier.verify(signWebhook({ secret, body: bytes, timestamp: t0 }), bytes)._unsafeUnwrap()).toBe(body);
  });
});
